"""Markers and every other file of the state directory: what they are called, and how they are written.

A marker is a small JSON file that says what a stage did, written only
after its commit, to a temporary file in the same directory and renamed
into place, so a reader (or Snakemake) sees either the old marker or the
new one, never half a file.  Every path under the state directory is
decided here, and nowhere else:

    state/<site>/imported/day/YYYY-MM-DD.json   one day's logs imported
    state/<site>/imported/batch/<key>.json      one run's import of every pending day
    state/<site>/<stage>/YYYY-MM.json           a month stage (registry.STAGES: imported, dns-resolved, …)
    state/<site>/failed/<stage>/<unit>.json     the last failure of a stage, until it succeeds
    state/<site>/dns-resolved/YYYY-MM.retry-N.json  a due retry of a month's unanswered lookups
    state/<site>/dirty/YYYY-MM.json             a month's dns-resolved marker set aside by mark-dirty
    state/<site>/last-run.json                  the last successful cron run
    state/<site>/adopted.json                   who took over the database, and its first month

Snakemake is given these paths relative to its working directory (the
config's work_dir), so a month's target is short: state/<site>/summarized/2026-10.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from . import version
from .registry import RESOLVED

TEMP_PREFIX = "."
# Markers quote file names, counts and samples of malformed lines: for the service user's eyes only.
PRIVATE = 0o600
# The mode mask of everything hzflow and its Snakemake runs create (markers, job logs, scratch files).
UMASK = 0o077


def marker(settings, stage: str, month: str) -> Path:
    return settings.site_state / stage / f"{month}.json"


def day_marker(settings, day: str) -> Path:
    return settings.site_state / "imported" / "day" / f"{day}.json"


def batch_marker(settings, key: str) -> Path:
    return settings.site_state / "imported" / "batch" / f"{key}.json"


def failure_record(settings, stage: str, unit: str) -> Path:
    return failed_dir(settings) / stage / f"{unit}.json"


def failed_dir(settings) -> Path:
    return settings.site_state / "failed"


def dirty_dir(settings) -> Path:
    return settings.site_state / "dirty"


def dirty_note(settings, month: str) -> Path:
    return dirty_dir(settings) / f"{month}.json"


def last_run(settings) -> Path:
    return settings.site_state / "last-run.json"


def target(settings, path: str | os.PathLike) -> str:
    """A path as Snakemake names it: state/<site>/… for the hub's state (wherever paths.state_dir puts
    it: the workflow links state/<site> there), else relative to the work directory."""
    path = Path(path)
    for base, name in ((settings.site_state, f"state/{settings.site}"), (settings.work_dir, "")):
        try:
            rest = path.relative_to(base)
        except ValueError:
            continue
        return f"{name}/{rest}" if name else str(rest)
    return str(path)


def dns_retry_note(settings, month: str, attempt: int) -> Path:
    return settings.site_state / RESOLVED / f"{month}.retry-{attempt}.json"


def adoption_marker(settings) -> Path:
    return settings.site_state / "adopted.json"


def adopted_first_month(settings) -> str | None:
    """The first month an adoption set; the workflow reads it here, never from the database."""
    record = read(adoption_marker(settings))
    return record.get("first_month") if record else None


def key_of(lines) -> str:
    """A short stable key for a set of strings (the pending units of an import batch)."""
    return hashlib.sha1("\n".join(sorted(lines)).encode()).hexdigest()[:12]


def write(path: str | os.PathLike, record: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"hzflow_version": version(), "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record}
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(body, out, indent=2, sort_keys=True, default=str)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, PRIVATE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | os.PathLike) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def remove_leftovers(settings) -> int:
    """Delete temporary marker files a killed writer left behind (only ever called under cron's lock)."""
    removed = 0
    if settings.site_state.is_dir():
        for tmp in settings.site_state.rglob(f"{TEMP_PREFIX}*.json.*"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def file_fingerprint(path: Path) -> dict:
    """Size and BLAKE2b hash of a source file as it is on disk."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"path": str(path), "size": path.stat().st_size, "blake2b": h.hexdigest()}
