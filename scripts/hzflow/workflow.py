"""`hzflow cron` and `hzflow plan`: Snakemake with hzflow's Snakefile, profile and config.

cron takes a non-blocking flock so overlapping cron ticks never stack up: a
second invocation exits 0 at once.  Only while holding that lock may it
clear a Snakemake lock, which can then only be a stale one from a killed run.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
from pathlib import Path

from . import markers, sources
from .config import REPO_ROOT, Settings
from .layout import day_marker, marker, target_months

SNAKEFILE = REPO_ROOT / "Snakefile"
PROFILE = REPO_ROOT / "profiles" / "default"


def snakemake_argv(settings: Settings, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
            "--directory", str(settings.work_dir), "--configfile", str(settings.path),
            "--workflow-profile", str(PROFILE), *extra]


def _has_snakemake_lock(work_dir: Path) -> bool:
    locks = work_dir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


def cron(settings: Settings, extra: list[str], *, lock_name: str = ".hzflow-cron.lock") -> int:
    work_dir = settings.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    lock_file = open(work_dir / lock_name, "a")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"hzflow cron: another run holds {work_dir / lock_name}; nothing to do", flush=True)
        return 0
    try:
        if _has_snakemake_lock(work_dir):
            print("hzflow cron: clearing the Snakemake lock a killed run left behind", flush=True)
            subprocess.run(snakemake_argv(settings, ["--unlock", "--quiet", "all"]), check=False,
                           stdout=subprocess.DEVNULL)
        return subprocess.run(snakemake_argv(settings, extra)).returncode
    finally:
        lock_file.close()


_JOB = re.compile(r"^(?:localrule|rule) (\w+):\s*$")
_FIELD = re.compile(r"^\s+(\w+): (.*)$")


def parse_dry_run(text: str) -> list[dict]:
    """The jobs of a `snakemake -n` listing: rule, wildcards, reason."""
    jobs, current = [], None
    for line in text.splitlines():
        m = _JOB.match(line)
        if m:
            current = {"rule": m.group(1)}
            jobs.append(current)
            continue
        f = _FIELD.match(line)
        if current is not None and f:
            current.setdefault(f.group(1), f.group(2).strip())
        elif not line.strip():
            current = None
    return jobs


_REASONS = (("Missing output files", "not built yet"),
            ("Input files updated by another job", "after"),
            ("Updated input files", "newer input"),
            ("Forced execution", "forced"),
            ("Set of input files has changed", "input set changed"),
            ("Incomplete output files", "left incomplete by a killed run"))


def short_reason(reason: str) -> str:
    """'Input files updated by another job: …/day/2025-07-10.json' -> 'after 2025-07-10'."""
    parts = []
    for clause in reason.split("; "):
        head, _, files = clause.partition(": ")
        phrase = dict(_REASONS).get(head, head)
        if phrase in ("after", "newer input"):
            units = sorted({Path(f).name.split(".")[0] for f in files.split(", ") if f})
            phrase += " " + (", ".join(units) if len(units) <= 3 else f"{len(units)} inputs")
        parts.append(phrase)
    return "; ".join(parts)


def plan(settings: Settings, extra: list[str], say=print) -> int:
    """A readable `snakemake -n`: one line per job that a run would do, with the reason."""
    r = subprocess.run(snakemake_argv(settings, ["--dry-run", *extra]),
                       capture_output=True, text=True)
    output = r.stdout + r.stderr
    if r.returncode:
        say(output)
        return r.returncode
    jobs = [j for j in parse_dry_run(output) if j["rule"] != "all"]
    if not jobs:
        say("nothing to do: every day and month is up to date")
        return 0
    say(f"{len(jobs)} job(s) would run:")
    for line in plan_lines(jobs):
        say("  " + line)
    return 0


def plan_lines(jobs: list[dict], spell_out: int = 6) -> list[str]:
    """One line per job, or per rule and reason when many jobs share them (a backlog)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for job in jobs:
        unit = ", ".join(v.split("=", 1)[-1] for v in job.get("wildcards", "").split(", ") if v)
        reason = short_reason(job.get("reason", ""))
        if reason.startswith("not built yet"):
            reason = "not built yet"
        groups.setdefault((job["rule"], reason), []).append(unit)
    lines = []
    for (rule, reason), units in groups.items():
        units.sort()
        if len(units) <= spell_out:
            lines += [f"{rule:<18} {u:<12} {reason}" for u in units]
        else:
            lines.append(f"{rule:<18} {len(units)} of them, {units[0]} .. {units[-1]}: {reason}")
    return lines


def rebuild_summaries(settings: Settings, since: str, through: str | None = None, *,
                      dry_run: bool = False, say=print) -> int:
    """Rebuild the `summarized` targets of months since..through (default: through the current month).

    The markers are both Snakemake's targets and forced, so each month's
    summaries are redone in DAG order, oldest first; later months are left
    alone only when --through stops short of them.
    """
    known = target_months(settings, list(sources.discover_all(settings)))
    months = [m for m in known if since <= m <= (through or known[-1])]
    if not months:
        say(f"nothing to rebuild: the workflow's months are {known[0]} .. {known[-1]}")
        return 0
    targets = [str(marker(settings, "summarized", m)) for m in months]
    extra = [*targets, "--forcerun", *targets]
    say(f"rebuild summaries of {len(months)} month(s): {months[0]} .. {months[-1]}")
    return plan(settings, extra, say=say) if dry_run else cron(settings, extra)


def note_new_sources(settings: Settings, day: str, note: Path) -> None:
    """Record which logs of an imported day are new (the input that makes the day re-import)."""
    recorded = markers.read(day_marker(settings, day)) or {}
    known = {sources.canonical_name(f["file"]) for f in recorded.get("files", {}).values()}
    found = sources.discover_all(settings).get(day, {})
    new = sorted(str(s.path) for s in found.values() if s.name not in known)
    markers.write(note, {"day": day, "new_sources": new})
    print(f"{day}: new logs since the last import: {', '.join(new) or 'none'}")

