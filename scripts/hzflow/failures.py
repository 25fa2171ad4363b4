"""Failure records: what failed, where its log is, and whether a later success has made it moot.

A stage's runner records its own failure (stages.run); a job that died
before hzflow ran, or a rule outside the stages (the report), is recorded
from Snakemake's account of the run (note_unrecorded_failures).  A record
stays until the same stage and unit succeed: one older than that success
says nothing any more and is not reported (a failure never outlives its
cause).
"""

from __future__ import annotations

from pathlib import Path

from . import errors, events, markers, months, registry


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


def note_unrecorded_failures(settings, began: float, text: str, rc: int, found=None) -> None:
    """Failures that no job recorded itself (a job that died before hzflow ran, a rule outside the
    stages): each gets a failure record and an event, so status and monitoring see it.

    Which jobs failed is read from Snakemake's machine-readable summary of the DAG (plan.failed_jobs,
    or `found`);
    a run that stopped before any job (a bad argument) is recorded as the workflow's own failure.
    """
    from .plan import failed_jobs

    recorded = {(f.get("stage"), f.get("unit")) for f in failed_since(settings, began)}
    if found is None:           # a fleet run passes each hub's share of its one summary
        found = [] if rc == 2 else failed_jobs(settings)
    if not found and not recorded:
        tail = [line for line in text.splitlines() if line.strip()][-1:] or ["(no output)"]
        message = f"snakemake stopped (exit {rc}) before any job failed: {tail[0].strip()[:300]}"
        code = errors.CONFIG if rc == 2 else errors.UNEXPECTED
        _record(settings, "workflow", "run", "snakemake", code, message)
        return
    for job in found:
        stage = registry.STAGE_OF_RULE.get(job.rule, job.rule)
        unit = "batch" if job.rule == registry.IMPORT_RULE else job.unit
        if job.rule == registry.IMPORT_RULE and any(s == registry.IMPORTED for s, _ in recorded):
            continue      # a day that failed keeps the import pending (its next batch): it is on record already
        if not _ran_since(settings, job.rule, unit, began):
            continue      # not part of this run (a target left out, --until): pending, not failed
        if (stage, unit) in recorded or (job.rule == registry.rule_of(registry.IMPORTED)
                                         and (registry.IMPORTED, unit) in recorded):
            continue
        _record(settings, stage, unit, job.rule, errors.UNEXPECTED, f"job {job.rule} {unit} failed; see its log")


def _ran_since(settings, rule: str, unit: str, began: float) -> bool:
    """Whether a job of this rule and unit started in the run that began then (its log was opened)."""
    folder = settings.work_dir / "logs" / settings.site / rule
    pattern = "*.log" if rule == registry.IMPORT_RULE else f"{unit}.*.log"
    return folder.is_dir() and any(log.stat().st_mtime >= began - 1 for log in folder.glob(pattern))


def _record(settings, stage: str, unit: str, step: str, code: int, error: str) -> None:
    markers.write(markers.failure_record(settings, stage, unit),
                  {"stage": stage, "unit": unit, "step": step, "exit_status": code, "error": error})
    events.emit(settings, "fail", stage, unit, step=step, exit_status=code, error=error)


def failed_since(settings, began: float) -> list[dict]:
    return [f for f in failures(settings) if f["recorded"] >= began - 1]
