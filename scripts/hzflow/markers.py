"""Atomic JSON markers: what a stage did, written only after its commit.

A marker is written to a temporary file in the same directory and renamed
into place, so a reader (or Snakemake) sees either the old marker or the
new one, never half a file.  Its content changes with what was done, so
Snakemake's checksum comparison notices a real change.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from .schema import hzflow_version


def write(path: str | os.PathLike, record: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = dict(record)
    body.setdefault("hzflow_version", hzflow_version())
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(body, out, indent=2, sort_keys=True, default=str)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
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


def file_fingerprint(path: Path) -> dict:
    """Size and BLAKE2b hash of a source file as it is on disk."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"path": str(path), "size": path.stat().st_size, "blake2b": h.hexdigest()}


def run_stage(settings, stage: str, month: str, steps, *, marker=None, dry_run: bool = False) -> dict:
    """Run a month stage's (label, step) pairs in order, timing each; the marker comes last.

    A step that raises stops the stage before its marker is written, so the
    next run does the whole month again.
    """
    began, done = time.monotonic(), {}
    for label, step in steps:
        started = time.monotonic()
        done[label] = {**step(), "seconds": round(time.monotonic() - started, 2)}
    record = {"stage": stage, "site": settings.site, "month": month, "steps": done,
              "seconds": round(time.monotonic() - began, 2)}
    if marker and not dry_run:
        write(marker, record)
    return record
