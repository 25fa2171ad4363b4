"""The workflow's stages: what each job runs, in which order, and the marker it leaves.

Which stage a rule builds, under which command and marker, with which edges
to other stages and months, is hzflow.registry's table; this module has the
steps of each, as (label, step) pairs run in order by `run`, which times
them, writes the marker only after the last one returned, and otherwise
records the failure (markers.failure_record) for status and cron.  The
steps are the reference's month analysis, in its order: its tool-metrics
part (tool_stats; it reads only the hub's tool sessions, so a month whose
logs are missing still gets its tool statistics), its usage part without
sessions (resolve_month; both run on the current month every day), and the
session part it runs once a month is complete (sessionize_month).
`import_days` imports every pending day, oldest first, in one job.
`analyze --month M` runs the three month parts, `summarize --month M` the
summary stage, as the reference's commands of those names.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import partial

import pymysql

from . import clean, coverage, errors, events, markers, months, registry, sessions, summary, tools
from . import db as dbmod
from .enrich import dns, domain, geo, hubdata
from .enrich.born import BornHosts
from .imports import archive, days, repair
from .imports.provenance import recorded

DNS_ATTEMPTS = 5
# In a month stage fill-domain follows reverse DNS at once: the rows get both in one write.
RESOLVE_WITH_DOMAINS = partial(dns.resolve_dns, with_domains=True)


# ---------------------------------------------------------------- the runner
def run(settings, stage: str, unit: str, steps, *, marker=None, dry_run: bool = False,
        finish=None, watch: bool | None = None) -> dict:
    """Run (label, step) pairs in order; the marker comes last, a failure is recorded instead.

    finish(steps) adds what the marker should say about the steps as a whole.
    Events and failure records are kept for workflow jobs (those given a
    marker, or watch=True: the report, whose output is the page itself).
    """
    began, done, label = time.monotonic(), {}, None
    failure = markers.failure_record(settings, stage, unit)
    watched = (bool(marker) if watch is None else watch) and not dry_run
    if watched:
        events.emit(settings, "start", stage, unit)
    try:
        for label, step in steps:
            started = time.monotonic()
            done[label] = {**(step() or {}), "seconds": round(time.monotonic() - started, 2)}
        extra = finish(done) if finish else {}
    except BaseException as exc:
        if watched:
            code, message = record_failure(failure, stage, unit, label, exc)
            events.emit(settings, "fail", stage, unit, step=label, exit_status=code, error=message,
                        seconds=round(time.monotonic() - began, 2))
        raise
    record = {"stage": stage, "site": settings.site, "unit": unit, "steps": done,
              "seconds": round(time.monotonic() - began, 2), **extra}
    if marker and not dry_run:
        markers.write(marker, record)
    if watched:
        failure.unlink(missing_ok=True)
        events.emit(settings, "finish", stage, unit, seconds=record["seconds"])
    return record


# Failure records this process wrote: a job's last line of defence (cli.main) adds none twice.
RECORDED: set = set()


def record_failure(path, stage: str, unit: str, step: str | None, exc: BaseException) -> tuple[int, str]:
    code, message = errors.classify(exc)
    message = message.splitlines()[0] if message else type(exc).__name__
    RECORDED.add(str(path))
    try:
        markers.write(path, {"stage": stage, "unit": unit, "step": step, "exit_status": code, "error": message})
    except OSError:
        pass
    return code, message


def note_job_failure(settings, command: str, args, exc: BaseException) -> None:
    """A workflow job failed before or after its stage's runner: record it like the runner would."""
    stage = registry.STAGE_OF_COMMAND.get(command, command)
    unit = "batch" if command == registry.IMPORT_COMMAND else (
        getattr(args, "month", None) or getattr(args, "month_pos", None) or "run")
    path = markers.failure_record(settings, stage, unit)
    if RECORDED:                       # the runner recorded this failure already, under its own stage
        return
    code, message = record_failure(path, stage, unit, command, exc)
    events.emit(settings, "fail", stage, unit, step=command, exit_status=code, error=message)


def write_day(settings, day: str, record: dict) -> None:
    """A day's marker, once its files committed; any failure on record for the day is over."""
    markers.write(markers.day_marker(settings, day), {"stage": "imported-day", "site": settings.site, **record})
    markers.failure_record(settings, registry.IMPORTED, day).unlink(missing_ok=True)


# ---------------------------------------------------------------- import
def _fatal(exc: BaseException) -> bool:
    """Failures that stop the whole batch (the database or this machine), not just one day."""
    code, _ = errors.classify(exc)
    if isinstance(exc, pymysql.err.Error) and not isinstance(exc, pymysql.err.OperationalError):
        return False                       # the data of one file (a value the server refused)
    return code in (errors.CONFIG, errors.DATABASE, errors.RESOURCES, errors.UNEXPECTED)


def import_days(settings, wanted: list[str] | None = None, *, marker=None, dry_run: bool = False,
                say=print) -> dict:
    """Import every pending day (or the `wanted` ones), strictly oldest first, in one process.

    What one day's logs teach the import (crawler agents) filters the days
    after it, as in the reference.  A day whose log cannot be read is
    recorded as failed and the others go on; its month then fails with the
    reason.  Each day's marker is written once its files committed (and,
    with import.archive, were moved into imported/).
    """
    began = time.monotonic()
    cov = coverage.Coverage(settings, warn=lambda m: say(f"warning: {m}"))
    units = [u for u in cov.pending if wanted is None or u.day in wanted]
    done, failed, rows = [], {}, 0
    if marker and not dry_run:
        events.emit(settings, "start", registry.IMPORTED, "batch", days=len(units))
    resolved = [m for m in cov.months if registry.RESOLVED in cov.stages(m)]     # rows born with a host: these
    with (None if dry_run else BornHosts.for_import(settings, resolved, say)) or nullcontext() as born:
        for unit in units:
            failure = markers.failure_record(settings, registry.IMPORTED, unit.day)
            say(f"--- {unit.day}{' (again: a new log)' if unit.again else ''}")
            archiving = settings.archive_logs and not dry_run
            with archive.Ahead(settings, unit.found.values(), say) if archiving else nullcontext() as ahead:
                try:
                    record = days.import_day(settings, unit.day, unit.found, dry_run=dry_run, born=born, say=say)
                except Exception as exc:
                    if _fatal(exc):
                        raise
                    code, message = errors.classify(exc)
                    failed[unit.day] = message
                    say(f"{unit.day}: FAILED: {message}")
                    if not dry_run:
                        record_failure(failure, registry.IMPORTED, unit.day, "import", exc)
                    continue
                if dry_run:
                    continue
                if archiving:
                    record["archived"] = ahead.finish()
            write_day(settings, unit.day, record)
            done.append(unit.day)
            rows += sum(f.get("rows") or 0 for f in record["files"].values() if f.get("status") == "imported")
    record = {"stage": registry.IMPORTED, "site": settings.site, "unit": "batch", "days": done,
              "failed": failed, "seconds": round(time.monotonic() - began, 2), "rows_imported": rows}
    if marker and not dry_run:
        markers.write(marker, record)
        events.emit(settings, "finish", registry.IMPORTED, "batch", seconds=record["seconds"], days=len(done),
                    failed=len(failed), rows_imported=rows)
    say(f"import-days: {len(done)} day(s) imported" + (f", {len(failed)} failed: "
                                                        + ", ".join(sorted(failed)) if failed else ""))
    return record


def check_imported(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    """Every log of the month imported (importing any the ledger lacks, as after forget-import)."""
    cov = coverage.Coverage(settings)
    if cov.missing_input(month):
        raise errors.MissingInput(
            f"{month} has no logs at all (looked for {settings.site}-access*log* under "
            f"{settings.apache_daily} and cmsauth*log* under {settings.hub_daily}); restore them, or "
            f"list the month under months.no_data if the hub really had no traffic")
    with dbmod.cursor(settings) as cur:
        todo = [day for day in cov.days_of(month) if day not in cov.records or any(
            not recorded(cur, src.path, days.IMPORTERS[kind][1]) for kind, src in cov.found.get(day, {}).items())]
    for day in todo:
        record = days.import_day(settings, day, cov.found.get(day, {}), dry_run=dry_run, say=say)
        if not dry_run:
            write_day(settings, day, record)
    rows = {}
    with dbmod.cursor(settings) as cur:
        first, following = months.bounds(month)
        for table in ("web", "userlogin"):
            cur.execute(f"SELECT COUNT(*) FROM {table} WHERE datetime >= %s AND datetime < %s",
                        (first, following))
            rows[table] = cur.fetchone()[0]
    say(f"{month}: {len(cov.days_of(month))} day(s) with logs, all imported"
        + (f" ({len(todo)} just now)" if todo else "")
        + f"; web {rows['web']}, userlogin {rows['userlogin']} rows in the month")
    return {"days": cov.days_of(month), "imported_now": todo, "rows_in_month": rows,
            "no_data": cov.is_no_data(month)}


# ---------------------------------------------------------------- month steps
def _dated(settings, month, dry_run, say):
    start, stop = months.bounds(month)
    met = settings.db.metrics_db

    def dated(step, table):
        return lambda: step(settings, met, table, start, stop, dry_run=dry_run, say=say)

    return dated


def tool_steps(settings, month: str, dry_run: bool, say):
    """The reference's tool-metrics part of the month analysis, in its order."""
    dated, met = _dated(settings, month, dry_run, say), settings.db.metrics_db
    return [
        ("import-hub-data", lambda: hubdata.import_hub_data(settings, dry_run=dry_run, say=say)),
        ("resolve-dns sessionlog_metrics", dated(RESOLVE_WITH_DOMAINS, "sessionlog_metrics")),
        ("fill-domain sessionlog_metrics", dated(domain.fill_domain, "sessionlog_metrics")),
        ("fill-user-info sessionlog_metrics",
         lambda: hubdata.fill_user_info(settings, met, "sessionlog_metrics", dry_run=dry_run, say=say)),
        ("fill-ipcountry sessionlog_metrics", dated(geo.fill_ipcountry, "sessionlog_metrics")),
        ("gen-tool-stats", lambda: tools.gen_tool_stats(settings, month, dry_run=dry_run, say=say)),
        ("gen-tool-tops", lambda: tools.gen_tool_tops(settings, month, dry_run=dry_run, say=say)),
        ("gen-tool-toplists", lambda: tools.gen_tool_toplists(settings, month, dry_run=dry_run, say=say)),
    ]


def resolve_steps(settings, month: str, dry_run: bool, say):
    """The reference's usage part of the month analysis without sessions, in its order."""
    start, stop = months.bounds(month)
    dated, met = _dated(settings, month, dry_run, say), settings.db.metrics_db
    countries = geo.SessionCountries.for_month_stage(settings)     # web rows get their country with their host
    return [
        ("import-hub-data", lambda: hubdata.import_hub_data(settings, dry_run=dry_run, say=say)),
        ("middleware-wall", lambda: hubdata.middleware(settings, "walltime", dry_run=dry_run, say=say)),
        ("middleware-cpu", lambda: hubdata.middleware(settings, "cputime", dry_run=dry_run, say=say)),
        ("resolve-dns web", dated(partial(RESOLVE_WITH_DOMAINS, countries=countries), "web")),
        ("resolve-dns toolstart", dated(RESOLVE_WITH_DOMAINS, "toolstart")),
        ("fill-domain web", dated(domain.fill_domain, "web")),
        ("fill-domain toolstart", dated(domain.fill_domain, "toolstart")),
        ("clean-bots web", lambda: clean.clean_bots(settings, "web", start, stop, dry_run=dry_run, say=say)),
        ("rebuild-webhits", lambda: repair.rebuild_webhits(settings, month, dry_run=dry_run, say=say)),
        ("fill-user-info toolstart",
         lambda: hubdata.fill_user_info(settings, met, "toolstart", dry_run=dry_run, say=say)),
        ("fill-ipcountry web", dated(partial(geo.fill_ipcountry, born_noted=countries is not None), "web")),
        ("fill-ipcountry toolstart", dated(geo.fill_ipcountry, "toolstart")),
    ]


def session_steps(settings, month: str, dry_run: bool, say):
    """The reference's session part of the month analysis, as a rebuild of the month."""
    start, stop = months.bounds(month)
    sessions_dated = _dated(settings, month, dry_run, say)
    countries = geo.SessionCountries.for_month_stage(settings)     # the sessions are born with their country

    def dated(step):
        return sessions_dated(step, "websessions")

    cleaned = {}

    def clean_sessions():
        cleaned.update(clean.clean_bots(settings, "websessions", start, stop, dry_run=dry_run, say=say))
        return cleaned

    def clear_stamps():
        # After the rebuild only this run's session deletes can leave a web row of the month stamped in vain.
        return clean.clear_orphan_stamps(settings, month, web=dry_run or cleaned.get("rows") != 0,
                                         dry_run=dry_run, say=say)

    return [
        ("logfix-session", lambda: sessions.logfix_session(settings, month, rebuild=True, countries=countries,
                                                           dry_run=dry_run, say=say)),
        ("clean-bots websessions", clean_sessions),
        ("clear-orphan-stamps", clear_stamps),
        ("resolve-dns websessions", dated(RESOLVE_WITH_DOMAINS)),
        ("fill-domain websessions", dated(domain.fill_domain)),
        ("fill-ipcountry websessions", dated(partial(geo.fill_ipcountry, born_filled=countries is not None))),
    ]


def summary_steps(settings, month: str, dry_run: bool, say):
    return [
        ("import-hub-data", lambda: hubdata.import_hub_data(settings, dry_run=dry_run, say=say)),
        ("summarize-month", lambda: summary.summarize_month(settings, month, dry_run=dry_run, say=say)),
        ("andmore-usage", lambda: tools.andmore_usage(settings, month, dry_run=dry_run, say=say)),
    ]


# ---------------------------------------------------------------- month stages
def resolve_month(settings, month: str, *, imported_marker=None, marker=None, dry_run: bool = False,
                  say=print) -> dict:
    """The imported and dns-resolved markers of a month: its logs all in, then enriched."""
    run(settings, registry.IMPORTED, month, [("check", lambda: check_imported(settings, month, dry_run=dry_run,
                                                                       say=say))],
        marker=imported_marker, dry_run=dry_run)
    previous = markers.read(markers.marker(settings, registry.RESOLVED, month)) or {}
    return run(settings, registry.RESOLVED, month, resolve_steps(settings, month, dry_run, say),
               marker=marker, dry_run=dry_run, finish=lambda steps: dns_retry(settings, previous, steps))


def dns_retry(settings, previous: dict, steps: dict) -> dict:
    """How many addresses went unanswered, and when the month asks them again.

    `previous` is the month's last dns-resolved marker (read before Snakemake
    removed it for this run): the attempts count on from there.
    """
    unanswered = sum(s.get("failed", 0) for label, s in steps.items() if label.startswith("resolve-dns"))
    if not unanswered:
        return {"dns_unanswered": 0}
    attempt = previous.get("dns_attempt", -1) + 1 if previous.get("dns_unanswered") else 0
    wait = timedelta(minutes=int(settings.get("dns", "retry_minutes")) * 2 ** attempt)
    out = {"dns_unanswered": unanswered, "dns_attempt": attempt}
    if attempt < DNS_ATTEMPTS:
        out["dns_retry_after"] = (datetime.now() + wait).strftime("%Y-%m-%dT%H:%M:%S")  # as months.now_iso
    return out


def tool_stats(settings, month: str, *, marker=None, dry_run: bool = False, say=print) -> dict:
    return run(settings, registry.TOOLS, month, tool_steps(settings, month, dry_run, say),
               marker=marker, dry_run=dry_run)


def sessionize_month(settings, month: str, *, marker=None, dry_run: bool = False, say=print) -> dict:
    return run(settings, registry.SESSIONS, month, session_steps(settings, month, dry_run, say),
               marker=marker, dry_run=dry_run)


def summarize(settings, month: str, *, marker=None, dry_run: bool = False, say=print) -> dict:
    return run(settings, registry.SUMMARY, month, summary_steps(settings, month, dry_run, say),
               marker=marker, dry_run=dry_run)


def analyze(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    """The reference's `analyze --month M` by hand: tool statistics, enrichment, then sessions."""
    return run(settings, "analyze", month, tool_steps(settings, month, dry_run, say)
               + resolve_steps(settings, month, dry_run, say) + session_steps(settings, month, dry_run, say),
               dry_run=dry_run)


def note_dns_retry(settings, month: str, attempt: int, note) -> None:
    previous = markers.read(markers.marker(settings, registry.RESOLVED, month)) or {}
    markers.write(note, {"month": month, "attempt": attempt,
                         "unanswered": previous.get("dns_unanswered", 0)})
