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

from . import coverage, errors, events, markers, months, preflight, registry
from .config import WORKFLOW_ROOT, Settings, config_homes
from .errors import UsageError
from .locks import HUB_LOCK, LOCK_FD_VAR, Lock

SNAKEFILE = WORKFLOW_ROOT / "Snakefile"
PROFILE = WORKFLOW_ROOT / "profiles" / "default"
LOCK_NAME = HUB_LOCK
# Snakemake options after which nothing was built: such a run is no "last successful run".
NOT_A_RUN = {"-n", "--dry-run", "--dryrun", "--report", "--lint", "--list", "-l", "--summary", "-S",
             "--detailed-summary", "-D", "--dag", "--rulegraph", "--unlock", "--touch", "-t"}
# Snakemake options whose values are targets (files), where hzflow also accepts month names.
TARGET_OPTIONS = {"-R", "--forcerun", "--until", "-U", "--omit-from", "-O", "-P", "--prioritize",
                  "--forcerun-until"}


def snakemake_argv(settings: Settings, extra: list[str]) -> list[str]:
    """Exactly the plain Snakemake command an operator would type (docs/snakemake.md), with the
    interpreter that runs hzflow; the config sets the working directory."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--configfile", str(settings.path),
            "--workflow-profile", str(PROFILE), *extra]


def service_env(settings: Settings) -> dict:
    """The environment of Snakemake and its jobs: caches and configs under the work directory.

    A service account's home is often not writable (apache, www-data):
    Snakemake's source cache, matplotlib's font cache and anything else that
    follows the XDG rules must land where hzflow may write.
    """
    import os

    return {**os.environ, **config_homes(settings)}


# ------------------------------------------------------------ month names
def target_path(settings, name: str, *, first: bool) -> str:
    """A month name as a marker: 'STAGE/YYYY-MM' is that stage's; a bare month is its first
    stage (first=True: for -R, the whole month and what follows) or its last one built."""
    stage, _, month = name.rpartition("/")
    if stage not in registry.MONTH_TARGETS:
        built = coverage.Coverage(settings).stages(month)
        stage = built[0] if first else built[-1]
    return markers.target(settings, markers.marker(settings, stage, month))


def _is_month_name(arg: str) -> bool:
    stage, _, month = arg.rpartition("/")
    return months.is_month(month) and (not stage or stage in registry.MONTH_TARGETS)


_MONTHISH = re.compile(r"(?:[\w-]+/)?\d{4}-\d{1,2}")


def translate(settings, args: list[str]) -> list[str]:
    """Snakemake arguments with month names turned into marker paths.

    `--month M` (the reference's habit) names a month as a target.  A word
    that looks like a month and is not one (2026-13) is an argument error,
    not something for Snakemake to guess at.
    """
    out, option, args = [], None, list(args)
    while args:
        arg = args.pop(0)
        if arg in ("--month", "--day") or arg.startswith(("--month=", "--day=")):
            value = arg.split("=", 1)[1] if "=" in arg else (args.pop(0) if args else "")
            month = value[:7] if arg.startswith("--day") else value
            if not months.is_month(month):
                raise UsageError(f"{arg.split('=')[0]}: expected "
                                 f"{'a day as YYYY-MM-DD' if arg.startswith('--day') else 'a month as YYYY-MM'},"
                                 f" got {value!r}")
            args.insert(0, month)
            continue
        if arg.startswith("-"):
            option = arg if arg in TARGET_OPTIONS else None
            out.append(arg)
            continue
        if _is_month_name(arg):
            out.append(target_path(settings, arg, first=option in ("-R", "--forcerun")))
        elif _MONTHISH.fullmatch(arg):
            raise UsageError(f"{arg}: not a month (YYYY-MM, 01 to 12) or STAGE/YYYY-MM with a stage of "
                             f"{', '.join(registry.MONTH_TARGETS)}")
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


DRY_RUN_SET = {"-n", "--dry-run", "--dryrun"}


def cron(settings: Settings, extra: list[str], *, quiet: bool = False, verbose: bool = False,
         say=print, wait: float = 0.0) -> int:
    """The workflow under the hub's lock.

    A cron tick (wait=0) that finds the lock taken exits 0 at once: the run
    holding it does the work.  A command typed by hand (rebuild) waits up to
    `wait` seconds and otherwise fails (exit 7), so that nothing it asked
    for silently did not happen.
    """
    if DRY_RUN_SET.intersection(extra):
        return plan(settings, [a for a in extra if a not in DRY_RUN_SET], say=say)
    targets = translate(settings, extra)
    lock_path = settings.work_dir / LOCK_NAME

    def waiting(path):
        say(f"hzflow: another run holds {path}; waiting up to {wait:.0f} s for it to end")

    lock = Lock(settings, LOCK_NAME, wait=wait, on_wait=None if quiet else waiting)
    with lock as held:
        if not held:
            if wait:
                raise errors.Busy(f"another run held {lock_path} for more than {wait:.0f} s; nothing was done: "
                                  f"run the command again once it has ended (hzflow status shows the runs), "
                                  f"or give --wait more seconds")
            if not quiet:
                say(f"hzflow cron: another run holds {lock_path}; nothing to do")
            return 0
        clear_leftovers(settings)
        checks = preflight.run(settings)
        if preflight.blocking(checks):
            return preflight.report(checks, "hzflow cron", say)
        # imported here, not at the top: plan and status need no adoption check
        from .adopt import require

        require(settings, record=not NOT_A_RUN.intersection(extra))
        if _has_snakemake_lock(settings.work_dir):
            subprocess.run(snakemake_argv(settings, ["--unlock"]), check=False, env=service_env(settings),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        code = _run(settings, targets, quiet=quiet, verbose=verbose, say=say, lock=lock)
        if checks:
            return errors.most_severe([code, preflight.report(checks, "hzflow cron", say)])
        return code


def _run(settings, extra, *, quiet, verbose, say, lock: Lock) -> int:
    began, started = time.time(), time.strftime("%Y%m%d-%H%M%S")
    log_dir = run_log_dir(settings)
    log_dir.mkdir(parents=True, exist_ok=True)
    run_log = log_dir / f"{started}.log"
    argv = snakemake_argv(settings, extra)
    held = lock.file.fileno()              # the run holds the hub's lock through hzflow's (locks.for_workflow)
    env = {**service_env(settings), LOCK_FD_VAR: str(held)}
    with open(run_log, "w") as out:
        out.write(f"# hzflow cron {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv[2:])}\n")
        out.flush()
        if verbose:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                    pass_fds=(held,))
            for line in proc.stdout:
                out.write(line)
                sys.stdout.write(line)
            rc = proc.wait()
        else:
            rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, pass_fds=(held,)).returncode
    text = run_log.read_text(errors="replace")
    jobs = len([j for j in parse_dry_run(text) if j["rule"] != "all"])
    if rc:
        note_unrecorded_failures(settings, began, text, rc)
    failures = failed_since(settings, began)
    seconds = time.time() - began
    code = 0 if rc == 0 else (errors.most_severe(f.get("exit_status", errors.UNEXPECTED) for f in failures)
                              or errors.UNEXPECTED)
    if not NOT_A_RUN.intersection(extra):
        if rc == 0:
            _record_success(settings, began, seconds, jobs)
        _monitor(settings, began, seconds, code, say)
    if rc == 0:
        workflow_failure = markers.failure_record(settings, "workflow", "run")
        workflow_failure.unlink(missing_ok=True)
        if not quiet:
            say(f"hzflow cron: {'nothing to do' if 'Nothing to be done' in text else 'done'} "
                f"in {seconds:.1f} s (log: {run_log})")
        return 0
    say(f"hzflow cron: FAILED ({errors.NAMES.get(code, code)}, exit status {code}) after {seconds:.1f} s")
    for f in failures:
        say(f"  {f['stage']} {f['unit']}: {f.get('error', '?')}")
        if f["stage"] != "workflow":
            say(f"      log: {f['log']}")
    if any(f["stage"] == "workflow" for f in failures):
        tail = [line for line in text.splitlines() if line.strip()][-8:]
        for line in tail:
            say(f"    {line}")
    say(f"  run log: {run_log}")
    return code


def _monitor(settings, began: float, seconds: float, code: int, say) -> None:
    """The Prometheus textfile; a monitoring file that cannot be written is said, never fails the run."""
    cov = coverage.Coverage(settings)
    last = markers.read(markers.last_run(settings)) or {}
    try:
        events.write_prometheus(settings, started=began, seconds=seconds, exit_status=code,
                                last_success=last.get("finished_epoch"), failures=len(failures(settings)),
                                missing_months=sum(map(cov.missing_input, cov.months)),
                                pending_days=len(cov.pending))
    except OSError as exc:
        say(f"hzflow cron: warning: cannot write logs.prometheus_textfile: {exc}")


def _record_success(settings, began: float, seconds: float, jobs: int) -> None:
    markers.write(markers.last_run(settings),
                  {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "finished_epoch": round(time.time()),
                   "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(began)),
                   "seconds": round(seconds, 1), "jobs": jobs})




def job_log(settings, stage: str, unit: str) -> Path:
    """The newest log of the job that runs a stage (each run's logs are kept, named by its start)."""
    rule = (registry.IMPORT_RULE if stage == registry.IMPORTED and len(unit) == 10
            else registry.BY_NAME[stage].rule if stage in registry.BY_NAME else stage)
    folder = settings.work_dir / "logs" / settings.site / rule
    pattern = "*.log" if rule == registry.IMPORT_RULE else f"{unit}.*.log"
    logs = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    return logs[-1] if logs else folder


def _outlived(settings, stage: str, unit: str, recorded: float) -> bool:
    """A failure record older than the success of the same stage and unit says nothing any more."""
    if stage in registry.MONTH_TARGETS and months.is_month(unit):
        done = markers.marker(settings, stage, unit)
    elif stage == registry.IMPORTED and len(unit) == 10:
        done = markers.day_marker(settings, unit)
    elif stage == registry.REPORT_RULE:
        done = settings.work_dir / "report" / settings.site / "index.html"
    else:
        return False
    try:
        return done.stat().st_mtime > recorded
    except OSError:
        return False


def failures(settings) -> list[dict]:
    """Every failure on record that its stage has not since overcome, oldest first."""
    root = markers.failed_dir(settings)
    out = []
    if root.is_dir():
        for path in sorted(root.glob("*/*.json")):
            record = markers.read(path)
            if not record:
                continue
            stage, unit = record.get("stage", path.parent.name), record.get("unit", path.stem)
            recorded = path.stat().st_mtime
            if _outlived(settings, stage, unit, recorded):
                continue
            record["log"] = record.get("log") or str(job_log(settings, stage, unit))
            record["recorded"] = recorded
            out.append(record)
    return sorted(out, key=lambda r: r["recorded"])


_ERROR_IN_RULE = re.compile(r"^Error in rule (\w+):\s*$")


def _unit_of_job(rule: str, log: str) -> str:
    """A job's unit from its log's name (<unit>.<run start>.log), as the stages record it."""
    if rule == registry.IMPORT_RULE:
        return "batch"
    if rule == registry.REPORT_RULE:
        return "index"
    return Path(log).name.split(".")[0] if log else "run"


def note_unrecorded_failures(settings, began: float, text: str, rc: int) -> None:
    """Failures Snakemake saw that no job recorded itself (a job that died before hzflow ran, a rule
    outside the stages): each gets a failure record and an event, so status and monitoring see it."""
    recorded = {(f.get("stage"), f.get("unit")) for f in failed_since(settings, began)}
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _ERROR_IN_RULE.match(line)
        if not m:
            continue
        fields = {}
        for follow in lines[i + 1:i + 12]:
            f = _FIELD.match(follow)
            if f:
                fields.setdefault(f.group(1), f.group(2).strip())
        log = fields.get("log", "").split(" (check")[0]
        found.append((m.group(1), _unit_of_job(m.group(1), log), log))
    if not found and not recorded:
        tail = [line for line in lines if line.strip()][-1:] or ["(no output)"]
        found.append(("workflow", "run", ""))
        message = f"snakemake stopped (exit {rc}) before any job failed: {tail[0].strip()[:300]}"
    else:
        message = None
    for rule, unit, log in found:
        stage = registry.STAGE_OF_RULE.get(rule, rule)
        if (stage, unit) in recorded or (rule == registry.rule_of(registry.IMPORTED)
                                         and (registry.IMPORTED, unit) in recorded):
            continue
        error = message or f"job {rule} {unit} failed; see its log"
        code = errors.CONFIG if message and rc == 2 else errors.UNEXPECTED
        markers.write(markers.failure_record(settings, stage, unit),
                      {"stage": stage, "unit": unit, "step": rule, "exit_status": code, "error": error,
                       **({"log": str(settings.work_dir / log)} if log else {})})
        events.emit(settings, "fail", stage, unit, step=rule, exit_status=code, error=error)


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
    """A readable `snakemake -n`: one line per job that a run would do, with the reason.

    The checks every run makes come first: a missing log directory or a
    database that refuses the login is said, and decides the exit status,
    even when the plan itself has nothing to do.
    """
    checks = preflight.run(settings)
    if markers.read(markers.adoption_marker(settings)) is None:
        say("note: no adoption on record: cron runs only while hzflow imported every row the database "
            "holds (run `hzflow adopt` for a database the legacy scripts or hzmetrics.py filled)")
    r = subprocess.run(snakemake_argv(settings, ["--dry-run", *translate(settings, extra)]),
                       capture_output=True, text=True, env=service_env(settings))
    output = r.stdout + r.stderr
    if r.returncode:
        say(output.rstrip())
        code = errors.CONFIG if r.returncode == 2 else errors.UNEXPECTED
        return errors.most_severe([code, preflight.report(checks, "hzflow plan", say)])
    jobs = [j for j in parse_dry_run(output) if j["rule"] != "all"]
    if not jobs:
        say("nothing to do: every day and month is up to date" if not checks else
            "nothing to do for the days and months hzflow can see now")
    else:
        say(f"{len(jobs)} job(s) would run:")
        for line in plan_lines(jobs):
            say("  " + line)
    return preflight.report(checks, "hzflow plan", say) if checks else 0


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
            dry_run: bool = False, quiet: bool = False, say=print, wait: float = 600.0) -> int:
    """Force one stage of months month..through, and what depends on it (later summaries).

    Without --through only `month` is forced; its summary's newer marker then
    rebuilds the later months' summaries too (their long windows include
    it).  With --through, the run stops after that month; the next cron
    redoes the later months' summaries.  A running cron is waited for (up
    to `wait` seconds): a rebuild never silently does not happen.
    """
    if through and through < month:
        raise UsageError(f"rebuild {month} --through {through}: --through must not be before the month")
    cov = coverage.Coverage(settings)
    last = through or month
    if month < cov.months[0] or last > cov.months[-1]:
        raise UsageError(f"rebuild {month}{' .. ' + last if through else ''}: the workflow builds "
                         f"{cov.months[0]} .. {cov.months[-1]} (start_month, or the adopted first month, "
                         f"through the current one)")
    chosen = [m for m in cov.months if month <= m <= last]
    unbuildable = [m for m in chosen if stage not in cov.stages(m)]
    if unbuildable:
        raise UsageError(f"rebuild: {', '.join(unbuildable)} has no {stage} stage now "
                         f"({cov.status_of(unbuildable[0])})")
    def target(stage_name, m):
        return markers.target(settings, markers.marker(settings, stage_name, m))

    forced = [target(stage, m) for m in chosen]
    targets = [target(s, m) for m in cov.months if m <= last for s in cov.stages(m)] if through else []
    extra = [*targets, "--forcerun", *forced]
    say(f"rebuild {stage} of {len(chosen)} month(s): {chosen[0]} .. {chosen[-1]}")
    if dry_run:
        return plan(settings, extra, say=say)
    return cron(settings, extra, quiet=quiet, say=say, wait=wait)
