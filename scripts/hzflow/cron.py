"""`hzflow cron` and `rebuild`: Snakemake with hzflow's Snakefile, profile and config (plan.py: `plan`).

cron takes a non-blocking flock so overlapping cron ticks never stack up: a
second invocation exits 0 at once.  Only while holding that lock does it
clear what a killed run left (a Snakemake lock, temporary marker files,
hzflow's scratch directory).  Snakemake's own output goes to a run log;
the terminal (or cron's mail) gets one line when all went well, nothing
with -q, and for each failed job its log and its first error line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import coverage, errors, events, markers, preflight, registry
from .config import Settings
from .errors import UsageError
from .failures import failed_since, note_unrecorded_failures
from .failures import failures as on_record
from .invocation import run_dir, service_env, snakemake_argv, translate
from .locks import LOCK_FD_VAR, Lock, hub_lock_path
from .plan import plan

# Snakemake options after which nothing was built: such a run is no "last successful run".
NOT_A_RUN = {"-n", "--dry-run", "--dryrun", "--report", "--lint", "--list", "-l", "--summary", "-S",
             "--detailed-summary", "-D", "--dag", "--rulegraph", "--unlock", "--touch", "-t"}


# ------------------------------------------------------------ the run
def has_snakemake_lock(work_dir: Path) -> bool:
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
    lock_path = hub_lock_path(settings)

    def waiting(path):
        say(f"hzflow: another run holds {path}; waiting up to {wait:.0f} s for it to end")

    lock = Lock(lock_path, wait=wait, on_wait=None if quiet else waiting)
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
        where = run_dir(settings)        # a hub of a fleet file runs in the fleet's directory
        if has_snakemake_lock(where):
            subprocess.run(snakemake_argv(settings, ["--unlock"]), check=False, env=service_env(settings),
                           cwd=where, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        code = _run(settings, targets, quiet=quiet, verbose=verbose, say=say, lock=lock, where=where)
        if checks:
            return errors.most_severe([code, preflight.report(checks, "hzflow cron", say)])
        return code


def run_logged(argv, out, *, env, fds, cwd, verbose: bool) -> int:
    """Snakemake's output into the run log (and the terminal too with -v); its exit status."""
    if not verbose:
        return subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, pass_fds=fds, cwd=cwd).returncode
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            pass_fds=fds, cwd=cwd)
    for line in proc.stdout:
        out.write(line)
        sys.stdout.write(line)
    return proc.wait()


def _run(settings, extra, *, quiet, verbose, say, lock: Lock, where) -> int:
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
        rc = run_logged(argv, out, env=env, fds=(held,), cwd=where, verbose=verbose)
    text = run_log.read_text(errors="replace")
    jobs = jobs_run(settings, began)
    if rc:
        note_unrecorded_failures(settings, began, text, rc)
    failures = failed_since(settings, began)
    seconds = time.time() - began
    code = 0 if rc == 0 else (errors.most_severe(f.get("exit_status", errors.UNEXPECTED) for f in failures)
                              or errors.UNEXPECTED)
    if not NOT_A_RUN.intersection(extra):
        if rc == 0:
            record_success(settings, began, seconds, jobs)
        write_monitoring(settings, began, seconds, code, say)
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
        if f["stage"] not in ("workflow", preflight.STAGE):
            say(f"      log: {f['log']}")
    if any(f["stage"] == "workflow" for f in failures):
        tail = [line for line in text.splitlines() if line.strip()][-8:]
        for line in tail:
            say(f"    {line}")
    say(f"  run log: {run_log}")
    return code


def write_monitoring(settings, began: float, seconds: float, code: int, say) -> None:
    """The Prometheus textfile; a monitoring file that cannot be written is said, never fails the run."""
    cov = coverage.Coverage(settings)
    last = markers.read(markers.last_run(settings)) or {}
    try:
        events.write_prometheus(settings, started=began, seconds=seconds, exit_status=code,
                                last_success=last.get("finished_epoch"), failures=len(on_record(settings)),
                                missing_months=sum(map(cov.missing_input, cov.months)),
                                pending_days=len(cov.pending))
    except OSError as exc:
        say(f"hzflow cron: warning: cannot write logs.prometheus_textfile: {exc}")


def jobs_run(settings, began: float) -> int:
    """The jobs a run did, from the stages' own events (one job may finish two stages: resolve_month)."""
    done = {(registry.BY_NAME[e["stage"]].rule if e["stage"] in registry.BY_NAME else e["stage"], e["unit"])
            for e in events.read(settings, began) if e.get("event") in ("finish", "fail")}
    return len(done)


def record_success(settings, began: float, seconds: float, jobs: int) -> None:
    markers.write(markers.last_run(settings),
                  {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "finished_epoch": round(time.time()),
                   "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(began)),
                   "seconds": round(seconds, 1), "jobs": jobs})




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
