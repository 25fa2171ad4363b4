"""hzflow status: per month and stage, built / failed / waiting, and how the last run went.

Read from the markers and failure records (no Snakemake), after the checks
every run makes (log directories, one database login), so it answers at
once and never says "all well" while cron cannot work.  Exit status: that
of the most severe failure on record (3 for a database that refuses the
login, 4 for a missing log directory, …), 1 for a month missing input, else 0.
"""

from __future__ import annotations

import json

from . import coverage, errors, markers, preflight, registry
from .failures import failures

CELL = {"built": "yes", "failed": "FAILED", "waiting": "-", "not now": "."}


def month_states(settings, cov: coverage.Coverage, failed: dict) -> list[dict]:
    out = []
    for month in cov.months:
        stages, cells = cov.stages(month), {}
        for stage in registry.MONTH_STAGES:
            if (stage, month) in failed:
                cells[stage] = "failed"
            elif markers.marker(settings, stage, month).exists():
                cells[stage] = "built"
            else:
                cells[stage] = "waiting" if stage in stages else "not now"
        days = cov.days_of(month)
        record = markers.read(markers.marker(settings, registry.RESOLVED, month)) or {}
        audited = markers.read(markers.marker(settings, registry.AUDIT, month))
        out.append({"month": month, "stages": cells, "days_with_logs": len(days),
                    "days_pending": sorted(d for d in days if d in cov.pending_days),
                    "days_failed": sorted(d for (s, d) in failed if s == "imported" and d.startswith(month)
                                          and len(d) == 10),
                    "dns_unanswered": record.get("dns_unanswered", 0),
                    "audit_findings": len(audited["findings"]) if audited else None,
                    "state": cov.status_of(month)})
    return out


def exit_status(records: list[dict], missing_input: bool) -> int:
    """The most severe failure on record decides (a wrong password is 3 here as in cron); 1 otherwise."""
    if not records and not missing_input:
        return 0
    return errors.most_severe([r.get("exit_status") or errors.UNEXPECTED for r in records]) or 1


def run(settings, *, as_json: bool = False, say=print) -> int:
    warnings = []
    cov = coverage.Coverage(settings, warn=warnings.append)
    preflight.run(settings)
    records = failures(settings)
    failed = {(r.get("stage"), r.get("unit")): r for r in records}
    rows = month_states(settings, cov, failed)
    last = markers.read(markers.last_run(settings))
    code = exit_status(records, any(cov.missing_input(m) for m in cov.months))
    if as_json:
        say(json.dumps({"site": settings.site, "months": rows, "failures": records, "warnings": warnings,
                        "last_successful_run": last, "ok": not code, "exit_status": code},
                       indent=2, default=str))
        return code
    for text in warnings:
        say(f"warning: {text}")
    say(f"site {settings.site}: {len(cov.days)} day(s) with logs, months {cov.months[0]} .. "
        f"{cov.months[-1]}, {len(cov.pending)} day(s) waiting for import")
    say("last successful run: " + (f"{last['finished_at']} ({last['seconds']} s, {last['jobs']} jobs)"
                                   if last else "none yet"))
    say(f"{'month':<8} " + " ".join(f"{s:<12}" for s in registry.MONTH_STAGES) + " days  state")
    for row in rows:
        notes = [row["state"]]
        if row["days_pending"]:
            notes.append(f"{len(row['days_pending'])} day(s) to import")
        if row["days_failed"]:
            notes.append("import failed: " + ", ".join(d[8:] for d in row["days_failed"]))
        if row["audit_findings"]:
            notes.append(f"{row['audit_findings']} audit finding(s): hzflow audit --month {row['month']}")
        if row["dns_unanswered"]:
            notes.append(f"{row['dns_unanswered']} addresses without a DNS answer yet")
        say(f"{row['month']:<8} " + " ".join(f"{CELL[row['stages'][s]]:<12}" for s in registry.MONTH_STAGES)
            + f" {row['days_with_logs']:>4}  " + "; ".join(notes))
    for r in records:
        say(f"FAILED {r.get('stage')} {r.get('unit')} (exit {r.get('exit_status')}): {r.get('error')}")
        if r.get("stage") not in (preflight.STAGE, "workflow"):
            say(f"       log: {r['log']}")
    return code
