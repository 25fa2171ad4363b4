"""`hzflow --fleet F cron` and `plan`: one Snakemake run over every hub and month of a fleet.

The fleet's own lock keeps fleet runs from stacking up (a second one exits
0 at once).  Each hub's lock, the one its own `hzflow cron` takes, is taken
too: a hub whose lock is held (its own cron, a rebuild) sits this run out.
A hub that cannot run (config, database) is left out before Snakemake
starts, with one line saying why; a hub whose jobs fail holds back no
other hub (keep-going).  Afterwards each hub gets what its own cron would
leave: failure records, events, last-run, the Prometheus file.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

from .. import errors, preflight
from ..cron import (
    DRY_RUN_SET,
    NOT_A_RUN,
    clear_leftovers,
    has_snakemake_lock,
    jobs_run,
    record_success,
    run_logged,
    write_monitoring,
)
from ..failures import failed_since, note_unrecorded_failures
from ..invocation import service_env, snakemake_argv
from ..locks import LOCK_FD_VAR, Lock, hub_lock_path
from ..plan import Job, failed_among, pending_jobs, plan_lines, summary_rows
from . import Fleet
from .members import ONLY_VAR


@dataclass
class Outcome:
    """What became of one hub in a fleet run."""

    name: str
    code: int = 0
    problems: list = field(default_factory=list)      # one line each: why the hub failed
    skipped: str = ""

    def line(self) -> str:
        first = self.problems[0] if self.problems else "failed"
        more = f" (and {len(self.problems) - 1} more: hzflow --fleet F --hub {self.name} status)" \
            if len(self.problems) > 1 else ""
        return f"  {self.name}: {errors.NAMES.get(self.code, self.code)} (exit {self.code}): {first}{more}"


def hub_of(path: str) -> str | None:
    """The hub a workflow file belongs to: state/<hub>/…, logs/<hub>/…, report/<hub>/…, fleet/checked/<hub>."""
    parts = path.split("/")
    if parts[:2] == ["fleet", "checked"] and len(parts) == 3:
        return parts[2].removesuffix(".json")
    return parts[1] if len(parts) > 2 and parts[0] in ("state", "logs", "report", "benchmarks") else None


def _fleet_env(fleet: Fleet, hubs: list[str], fds: list[int]) -> dict:
    return {**service_env(fleet), ONLY_VAR: ",".join(hubs), LOCK_FD_VAR: ",".join(map(str, fds))}


def summary(fleet: Fleet, hubs: list[str], extra: list[str]) -> tuple[int, str]:
    """`snakemake --detailed-summary` of the fleet's run over these hubs."""
    fleet.work_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(snakemake_argv(fleet, ["--detailed-summary", *extra]), capture_output=True, text=True,
                       env=_fleet_env(fleet, hubs, []), cwd=fleet.work_dir)
    return r.returncode, r.stdout + ("\n" + r.stderr if r.returncode else "")


def jobs_by_hub(jobs: list[Job]) -> dict[str, list[Job]]:
    out: dict[str, list[Job]] = {}
    for job in jobs:
        out.setdefault(hub_of(job.outputs[0]) or "?", []).append(job)
    return out


def _failed_by_hub(fleet: Fleet, hubs: list[str]) -> dict[str, list[Job]]:
    code, text = summary(fleet, hubs, [])
    if code:
        return {}
    return jobs_by_hub(failed_among(pending_jobs(summary_rows(text))))


def _take_hubs(fleet: Fleet, outcomes: dict[str, Outcome], record: bool) -> dict[str, Lock]:
    """Each runnable hub's lock, held; a hub that cannot run gets its reason in outcomes."""
    from ..adopt import require

    held = {}
    for name in fleet.names:
        out = outcomes[name]
        if name in fleet.problems:
            out.code, out.problems = errors.CONFIG, [f"config error: {fleet.problems[name]}"]
            continue
        settings = fleet.settings[name]
        lock = Lock(hub_lock_path(settings))
        if not lock.__enter__():
            lock.__exit__()
            out.skipped = f"another run holds {lock.path}: this hub sits this run out"
            continue
        try:
            clear_leftovers(settings)
            checks = preflight.run(settings)
            if preflight.blocking(checks):
                out.code = errors.most_severe(c for c, _, _ in checks)
                out.problems = [text for _, _, text in checks]
                lock.__exit__()
                continue
            out.code = errors.most_severe([c for c, _, _ in checks] or [0])
            out.problems = [text for _, _, text in checks]
            require(settings, record=record)
        except Exception as exc:          # this hub cannot run: the others still do
            out.code, message = errors.classify(exc)
            out.problems = [message]
            lock.__exit__()
            continue
        held[name] = lock
    return held


def cron(fleet: Fleet, extra: list[str], *, quiet: bool = False, verbose: bool = False, say=print) -> int:
    if DRY_RUN_SET.intersection(extra):
        return plan(fleet, [a for a in extra if a not in DRY_RUN_SET], say=say)
    with Lock(fleet.lock_path) as free:
        if not free:
            if not quiet:
                say(f"hzflow fleet cron: another fleet run holds {fleet.lock_path}; nothing to do")
            return 0
        real = not NOT_A_RUN.intersection(extra)
        outcomes = {name: Outcome(name) for name in fleet.names}
        held = _take_hubs(fleet, outcomes, record=real)
        try:
            began, rc, log = _run(fleet, held, extra, verbose)
            if held:
                _account(fleet, held, outcomes, began, rc, log, real, say)
        finally:
            for lock in held.values():
                lock.__exit__()
    return _report(fleet, outcomes, began, rc, log, quiet, say)


def _run(fleet: Fleet, held: dict[str, Lock], extra: list[str], verbose: bool):
    began = time.time()
    log_dir = fleet.work_dir / "fleet" / "logs" / "cron"
    log_dir.mkdir(parents=True, exist_ok=True)
    run_log = log_dir / f"{time.strftime('%Y%m%d-%H%M%S')}.log"
    if not held:
        run_log.write_text("# no hub could run\n")
        return began, 0, run_log
    if has_snakemake_lock(fleet.work_dir):
        subprocess.run(snakemake_argv(fleet, ["--unlock"]), check=False, env=_fleet_env(fleet, list(held), []),
                       cwd=fleet.work_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fds = [lock.file.fileno() for lock in held.values()]
    argv = snakemake_argv(fleet, extra)
    env = _fleet_env(fleet, list(held), fds)
    with open(run_log, "w") as out:
        out.write(f"# hzflow fleet cron {time.strftime('%Y-%m-%d %H:%M:%S')}: hubs {', '.join(held)}\n")
        out.flush()
        rc = run_logged(argv, out, env=env, fds=fds, cwd=fleet.work_dir, verbose=verbose)
    return began, rc, run_log


def _account(fleet, held, outcomes, began, rc, run_log, real, say) -> None:
    """Each hub's share of the run: its failures on record, its last run, its monitoring file."""
    text = run_log.read_text(errors="replace")
    failed = _failed_by_hub(fleet, list(held)) if rc else {}
    for name in held:
        settings, out = fleet.settings[name], outcomes[name]
        if failed.get(name):
            note_unrecorded_failures(settings, began, text, rc, found=failed[name])
        records = failed_since(settings, began)
        if records:
            out.code = errors.most_severe([out.code] + [r.get("exit_status") or errors.UNEXPECTED for r in records])
            out.problems += [f"{r['stage']} {r['unit']}: {r.get('error', '?')}" for r in records]
        seconds = time.time() - began
        if real:
            if not records:
                record_success(settings, began, seconds, jobs_run(settings, began))
            write_monitoring(settings, began, seconds, out.code, say)
    if rc and not any(outcomes[n].code for n in held):
        for name in held:            # Snakemake failed with no job to blame: every hub's run failed
            outcomes[name].code = errors.UNEXPECTED
            outcomes[name].problems.append(f"snakemake stopped (exit {rc}); see {run_log}")


def _report(fleet, outcomes, began, rc, run_log, quiet, say) -> int:
    failed = [o for o in outcomes.values() if o.code]
    seconds = time.time() - began
    if not failed:
        if not quiet:
            skipped = [o for o in outcomes.values() if o.skipped]
            say(f"hzflow fleet cron: {len(outcomes) - len(skipped)} hub(s) done in {seconds:.1f} s "
                f"(log: {run_log})")
            for o in skipped:
                say(f"  {o.name}: {o.skipped}")
        return 0
    code = errors.most_severe(o.code for o in failed)
    built = [o for o in outcomes.values() if not o.code and not o.skipped]
    say(f"hzflow fleet cron: {len(failed)} of {len(outcomes)} hub(s) FAILED (exit status {code}) "
        f"after {seconds:.1f} s" + ("; the others were built" if built else ""))
    for o in failed:
        say(o.line())
    for o in outcomes.values():
        if o.skipped:
            say(f"  {o.name}: {o.skipped}")
    say(f"  run log: {run_log}")
    return code


def plan(fleet: Fleet, extra: list[str], say=print) -> int:
    """What a fleet run would do, hub by hub, and each hub that could not run and why."""
    codes = []
    for name, problem in fleet.problems.items():
        say(f"{name}: cannot run: config error: {problem}")
        codes.append(errors.CONFIG)
    runnable = []
    for name, settings in fleet.settings.items():
        checks = preflight.check(settings)
        for code, _, text in checks:
            say(f"{name}: {text}")
            codes.append(code)
        if not preflight.blocking(checks):
            runnable.append(name)
    if runnable:
        code, text = summary(fleet, runnable, extra)
        if code:
            say(text.rstrip())
            return errors.CONFIG if code == 2 else errors.UNEXPECTED
        by_hub = jobs_by_hub(pending_jobs(summary_rows(text)))
        for name in runnable:
            jobs = by_hub.get(name, [])
            say(f"{name}: " + (f"{len(jobs)} job(s) would run:" if jobs else "nothing to do"))
            for line in plan_lines(jobs):
                say("    " + line)
    return errors.most_severe(codes) if codes else 0
