"""`hzflow cron`, `plan` and `rebuild`: Snakemake with hzflow's Snakefile, profile and config.

cron takes a non-blocking flock so overlapping cron ticks never stack up: a
second invocation exits 0 at once.  Only while holding that lock does it
clear what a killed run left (a Snakemake lock, temporary marker files,
hzflow's scratch directory).  Snakemake's own output goes to a run log;
the terminal (or cron's mail) gets one line when all went well, nothing
with -q, and for each failed job its log and its first error line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import coverage, errors, events, markers, months
from .config import WORKFLOW_ROOT, Settings
from .locks import Lock

SNAKEFILE = WORKFLOW_ROOT / "Snakefile"
PROFILE = WORKFLOW_ROOT / "profiles" / "default"
LOCK_NAME = ".hzflow-cron.lock"
# Snakemake options after which nothing was built: such a run is no "last successful run".
NOT_A_RUN = {"-n", "--dry-run", "--dryrun", "--report", "--lint", "--list", "-l", "--summary", "-S",
             "--detailed-summary", "-D", "--dag", "--rulegraph", "--unlock", "--touch", "-t"}
# Snakemake options whose values are targets (files), where hzflow also accepts month names.
TARGET_OPTIONS = {"-R", "--forcerun", "--until", "-U", "--omit-from", "-O", "-P", "--prioritize",
                  "--forcerun-until"}


def snakemake_argv(settings: Settings, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
            "--directory", str(settings.work_dir), "--configfile", str(settings.path),
            "--workflow-profile", str(PROFILE), *extra]


# ------------------------------------------------------------ month names
def target_path(settings, name: str, *, first: bool) -> str:
    """A month name as a marker: 'STAGE/YYYY-MM' is that stage's; a bare month is its first
    stage (first=True: for -R, the whole month and what follows) or its last one built."""
    stage, _, month = name.rpartition("/")
    if stage in markers.MONTH_TARGETS:
        return str(markers.marker(settings, stage, month))
    built = coverage.Coverage(settings).stages(month)
    return str(markers.marker(settings, built[0] if first else built[-1], month))


def _is_month_name(arg: str) -> bool:
    stage, _, month = arg.rpartition("/")
    return months.is_month(month) and (not stage or stage in markers.MONTH_TARGETS)


def translate(settings, args: list[str]) -> list[str]:
    """Snakemake arguments with month names turned into marker paths."""
    out, option = [], None
    for arg in args:
        if arg.startswith("-"):
            option = arg if arg in TARGET_OPTIONS else None
            out.append(arg)
            continue
        if _is_month_name(arg):
            out.append(target_path(settings, arg, first=option in ("-R", "--forcerun")))
        else:
            out.append(arg)
    return out


# ------------------------------------------------------------ the run
def _has_snakemake_lock(work_dir: Path) -> bool:
    locks = work_dir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


def clear_leftovers(settings) -> None:
    """What a killed run leaves behind, and logs past logs.keep_days; safe only under cron's lock."""
    markers.remove_leftovers(settings)
    shutil.rmtree(settings.tmp_dir, ignore_errors=True)
    cutoff = time.time() - int(settings.get("logs", "keep_days")) * 86400
    logs = settings.work_dir / "logs" / settings.site
    for directory, pattern in ((settings.work_dir / ".snakemake" / "log", "*"), (logs, "*/*.log"),
                               (markers.batch_marker(settings, "x").parent, "*.json")):
        if directory.is_dir():
            for old in directory.glob(pattern):
                if old.is_file() and old.stat().st_mtime < cutoff:
                    old.unlink(missing_ok=True)


def run_log_dir(settings) -> Path:
    return settings.work_dir / "logs" / settings.site / "cron"


def cron(settings: Settings, extra: list[str], *, quiet: bool = False, verbose: bool = False,
         say=print) -> int:
    with Lock(settings, LOCK_NAME) as held:
        if not held:
            if not quiet:
                say(f"hzflow cron: another run holds {settings.work_dir / LOCK_NAME}; nothing to do")
            return 0
        clear_leftovers(settings)
        # imported here, not at the top: plan and status need no database driver
        from .adopt import require

        require(settings, record=not NOT_A_RUN.intersection(extra))
        if _has_snakemake_lock(settings.work_dir):
            subprocess.run(snakemake_argv(settings, ["--unlock"]), check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return _run(settings, translate(settings, extra), quiet=quiet, verbose=verbose, say=say)


def _run(settings, extra, *, quiet, verbose, say) -> int:
    began, started = time.time(), time.strftime("%Y%m%d-%H%M%S")
    log_dir = run_log_dir(settings)
    log_dir.mkdir(parents=True, exist_ok=True)
    run_log = log_dir / f"{started}.log"
    argv = snakemake_argv(settings, extra)
    with open(run_log, "w") as out:
        out.write(f"# hzflow cron {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv[2:])}\n")
        out.flush()
        if verbose:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                out.write(line)
                sys.stdout.write(line)
            rc = proc.wait()
        else:
            rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode
    text = run_log.read_text(errors="replace")
    steps = re.findall(r"(\d+) of (\d+) steps", text)
    jobs = int(steps[-1][0]) if steps else 0
    failures = failed_since(settings, began)
    seconds = time.time() - began
    code = 0 if rc == 0 else (errors.most_severe(f.get("exit_status", errors.UNEXPECTED) for f in failures)
                              or errors.UNEXPECTED)
    if not NOT_A_RUN.intersection(extra):
        if rc == 0:
            _record_success(settings, began, seconds, jobs)
        _monitor(settings, began, seconds, code, say)
    if rc == 0:
        if not quiet:
            say(f"hzflow cron: {'nothing to do' if 'Nothing to be done' in text else 'done'} "
                f"in {seconds:.1f} s (log: {run_log})")
        return 0
    say(f"hzflow cron: FAILED ({errors.NAMES.get(code, code)}, exit status {code}) after {seconds:.1f} s")
    for f in failures:
        say(f"  {f['stage']} {f['unit']}: {f.get('error', '?')}")
        say(f"      log: {f['log']}")
    if not failures:
        tail = [line for line in text.splitlines() if line.strip()][-8:]
        say("  snakemake stopped before any job failed:")
        for line in tail:
            say(f"    {line}")
    say(f"  run log: {run_log}")
    return code


def _monitor(settings, began: float, seconds: float, code: int, say) -> None:
    """The Prometheus textfile; a monitoring file that cannot be written is said, never fails the run."""
    cov = coverage.Coverage(settings)
    last = markers.read(settings.site_state / "last-run.json") or {}
    try:
        events.write_prometheus(settings, started=began, seconds=seconds, exit_status=code,
                                last_success=last.get("finished_epoch"), failures=len(failures(settings)),
                                missing_months=sum(map(cov.missing_input, cov.months)),
                                pending_days=len(cov.pending))
    except OSError as exc:
        say(f"hzflow cron: warning: cannot write logs.prometheus_textfile: {exc}")


def _record_success(settings, began: float, seconds: float, jobs: int) -> None:
    markers.write(settings.site_state / "last-run.json",
                  {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "finished_epoch": round(time.time()),
                   "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(began)),
                   "seconds": round(seconds, 1), "jobs": jobs})


RULE_OF_STAGE = {"imported": "resolve_month", "dns-resolved": "resolve_month", "tool-stats": "tool_stats",
                 "sessionized": "sessionize_month", "summarized": "summarize"}


def job_log(settings, stage: str, unit: str) -> Path:
    """The newest log of the job that runs a stage (each run's logs are kept, named by its start)."""
    rule = "import_days" if stage == "imported" and len(unit) == 10 else RULE_OF_STAGE.get(stage, stage)
    folder = settings.work_dir / "logs" / settings.site / rule
    pattern = "*.log" if rule == "import_days" else f"{unit}.*.log"
    logs = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    return logs[-1] if logs else folder


def failures(settings) -> list[dict]:
    """Every stage failure on record (cleared when the stage next succeeds), oldest first."""
    root = settings.site_state / "failed"
    out = []
    if root.is_dir():
        for path in sorted(root.glob("*/*.json")):
            record = markers.read(path)
            if record:
                record["log"] = str(job_log(settings, record.get("stage", path.parent.name),
                                            record.get("unit", path.stem)))
                record["recorded"] = path.stat().st_mtime
                out.append(record)
    return sorted(out, key=lambda r: r["recorded"])


def failed_since(settings, began: float) -> list[dict]:
    return [f for f in failures(settings) if f["recorded"] >= began - 1]


# ------------------------------------------------------------ plan
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
            units = sorted({Path(f).name.split(".")[0] if Path(f).parent.name != "batch" else "import"
                            for f in files.split(", ") if f})
            phrase += " " + (", ".join(units) if len(units) <= 3 else f"{len(units)} inputs")
        parts.append(phrase)
    return "; ".join(parts)


def plan(settings: Settings, extra: list[str], say=print) -> int:
    """A readable `snakemake -n`: one line per job that a run would do, with the reason."""
    if markers.read(markers.adoption_marker(settings)) is None:
        say("note: no adoption on record: cron runs only while hzflow imported every row the database "
            "holds (run `hzflow adopt` for a database the legacy scripts or hzmetrics.py filled)")
    r = subprocess.run(snakemake_argv(settings, ["--dry-run", *translate(settings, extra)]),
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
        if job["rule"] == "import_days":
            unit = "pending days"
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


# ------------------------------------------------------------ rebuild
def rebuild(settings: Settings, month: str, stage: str = "imported", through: str | None = None, *,
            dry_run: bool = False, quiet: bool = False, say=print) -> int:
    """Force one stage of months month..through, and what depends on it (later summaries).

    Without --through only `month` is forced; its summary's newer marker then
    rebuilds the later months' summaries too (their long windows include
    it).  With --through, the run stops after that month; the next cron
    redoes the later months' summaries.
    """
    cov = coverage.Coverage(settings)
    last = through or month
    chosen = [m for m in cov.months if month <= m <= last]
    unbuildable = [m for m in chosen if stage not in cov.stages(m)]
    if not chosen or unbuildable:
        say(f"hzflow rebuild: {', '.join(unbuildable) or month} has no {stage} stage now "
            f"({cov.status_of(unbuildable[0]) if unbuildable else 'outside ' + cov.months[0] + ' .. ' + cov.months[-1]})")
        return errors.CONFIG
    forced = [str(markers.marker(settings, stage, m)) for m in chosen]
    targets = [str(markers.marker(settings, s, m)) for m in cov.months if m <= last
               for s in cov.stages(m)] if through else []
    extra = [*targets, "--forcerun", *forced]
    say(f"rebuild {stage} of {len(chosen)} month(s): {chosen[0]} .. {chosen[-1]}")
    return plan(settings, extra, say=say) if dry_run else cron(settings, extra, quiet=quiet, say=say)
