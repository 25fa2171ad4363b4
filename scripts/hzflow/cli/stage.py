"""The stage commands, for the workflow's jobs and for operators' habits: the reference's names and arguments.

import-apache FILE, fill-ipcountry metrics web 2025-07, summarize-month
2025-07, …: each does one step of the pipeline by hand; the month stages
(resolve-month, tool-stats, sessionize-month, summarize) are the workflow's
jobs, named in hzflow.registry, and write their marker when given one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import errors, months, registry
from ..enrich.tables import ENRICHABLE
from .common import day, marker_option, month, month_arg, month_or_day, print_report, say, this_month


def cmd_import_file(settings, a):
    from ..imports import apache, auth, bots
    run = {"import-apache": apache.import_file, "import-auth": auth.import_file,
           "identify-bots": bots.identify_file}[a.command]
    if str(a.file) == "-":
        from ..imports.stdin import spooled_stdin
        a.file = spooled_stdin(settings)
    print_report(run(settings, a.file, dry_run=a.dry_run))


def cmd_import_days(settings, a):
    from .. import stages
    record = stages.import_days(settings, a.days or None, marker=a.marker, dry_run=a.dry_run, say=say)
    return errors.INPUT if record["failed"] and a.command == "import-day" else 0


def cmd_import_month(settings, a):
    from .. import stages
    stages.run(settings, registry.IMPORTED, a.month, [("check", lambda: stages.check_imported(
        settings, a.month, dry_run=a.dry_run, say=say))], marker=a.marker, dry_run=a.dry_run)


def cmd_archive_logs(settings, a):
    from .. import db
    from ..coverage import Coverage
    from ..imports import archive
    from ..imports.days import IMPORTERS
    from ..imports.provenance import recorded
    cov = Coverage(settings)
    chosen = [a.month] if a.month else cov.months
    with db.cursor(settings) as cur:
        done = [src for m in chosen for d in cov.days_of(m) for kind, src in cov.found.get(d, {}).items()
                if recorded(cur, src.path, IMPORTERS[kind][1])]
    for src in done:
        dst = archive.archive(settings, src, dry_run=a.dry_run)
        if dst:
            say(f"{'would archive' if a.dry_run else 'archived'} {src.path} -> {dst}")


def cmd_forget_import(settings, a):
    from .. import db
    from ..imports import provenance
    with db.connection(settings) as conn:
        provenance.forget(conn, a.file, a.table, dry_run=a.dry_run, say=say)


def _database(settings, key: str) -> str:
    return settings.db.metrics_db if key == "metrics" else settings.db.hub_db


def _period(a, settings, database: str, **default):
    """The [start, stop) of a date spec (or --all); an open end closed where the table's rows end."""
    from ..enrich.tables import closed
    from ..enrich.window import default_bounds
    if getattr(a, "all", False):
        if a.date:
            raise errors.UsageError(f"{a.command}: give a date or --all, not both")
        a.date = ".."
    start, stop = default_bounds(a.date, **default)
    return closed(settings, database, a.table, start, stop)


def cmd_import_hub_data(settings, a):
    from ..enrich import hubdata
    hubdata.import_hub_data(settings, dry_run=a.dry_run, say=say)


def cmd_middleware(settings, a):
    from ..enrich import hubdata
    hubdata.middleware(settings, a.metric, dry_run=a.dry_run, say=say)


def cmd_enrich(settings, a):
    from ..enrich import dns, domain, geo, hubdata
    if a.command == "fill-user-info":
        hubdata.fill_user_info(settings, _database(settings, a.db), a.table, dry_run=a.dry_run, say=say)
        return
    step = {"resolve-dns": dns.resolve_dns, "fill-domain": domain.fill_domain,
            "fill-ipcountry": geo.fill_ipcountry}[a.command]
    if a.command == "resolve-dns":
        settings = settings.overridden("dns", nameservers=a.nameserver and a.nameserver.replace(",", " ").split(),
                                       concurrency=a.concurrency, timeout=a.timeout)
    elif a.command == "fill-ipcountry":
        settings = settings.overridden("geoip", url=a.url, hub_key=a.hub_key, timeout=a.timeout,
                                       provider="service" if a.url else None)
    database = _database(settings, a.db)
    start, stop = _period(a, settings, database, **({"days_back": 7} if a.command == "resolve-dns" else {}))
    if start is None:
        say(f"{a.command} {a.table}: no rows")
        return
    step(settings, database, a.table, start, stop, dry_run=a.dry_run, say=say)


def cmd_month_stage(settings, a):
    """A workflow stage of one month by hand (or as the workflow's job, with --marker)."""
    from .. import stages
    extra = {"imported_marker": a.imported_marker} if a.stage.name == registry.RESOLVED else {}
    getattr(stages, a.stage.runner)(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=say, **extra)


def cmd_logfix_session(settings, a):
    from ..sessions import logfix_session
    logfix_session(settings, this_month(a), dry_run=a.dry_run, say=say)


def cmd_clean_bots(settings, a):
    from ..clean import clean_bots
    start, stop = _period(a, settings, settings.db.metrics_db)
    if start is None:
        say(f"clean-bots {a.table}: no rows")
        return
    clean_bots(settings, a.table, start, stop, dry_run=a.dry_run, say=say)


def cmd_backfill_dnload(settings, a):
    from ..imports.repair import backfill_dnload
    backfill_dnload(settings, a.start, dry_run=a.dry_run, say=say)


def cmd_rebuild_webhits(settings, a):
    from ..imports.repair import months_with_web, rebuild_webhits
    if a.all and a.month:
        raise errors.UsageError("rebuild-webhits: give a month or --all, not both")
    for m in months_with_web(settings) if a.all else [this_month(a)]:
        rebuild_webhits(settings, m, dry_run=a.dry_run, say=say)


def cmd_tool_step(settings, a):
    from .. import tools
    getattr(tools, a.step)(settings, this_month(a), dry_run=a.dry_run, say=say)


SUMMARY_SECTIONS = ("reg", "int", "dl", "total", "sim", "sim-usage", "misc")


def cmd_summarize_month(settings, a):
    from .. import periods
    from ..summary import LEGACY_ORDER, summarize_month
    if a.only and set(a.only.replace(" ", "").split(",")) != set(SUMMARY_SECTIONS):
        raise errors.UsageError("summarize-month --only: hzflow writes a month's sections together, in one "
                                "transaction, so that the total (row 1) always equals its parts; drop --only")
    chosen = LEGACY_ORDER
    if a.periods:
        try:
            asked = {int(p) for p in a.periods.split(",") if p.strip()}
        except ValueError:
            raise errors.UsageError(f"--periods: expected codes like 1,3,14, got {a.periods!r}") from None
        if asked - set(periods.ALL):
            raise errors.UsageError(f"--periods: unknown code(s) {sorted(asked - set(periods.ALL))}; "
                                    f"codes are {', '.join(map(str, periods.ALL))}")
        chosen = tuple(p for p in LEGACY_ORDER if p in asked)
    chosen_month = a.month or months.preceding(months.current())
    summarize_month(settings, chosen_month, period_codes=chosen, rollups=not a.rescan, dry_run=a.dry_run, say=say)


def cmd_analyze(settings, a):
    from .. import stages
    stages.analyze(settings, this_month(a), dry_run=a.dry_run, say=say)


def cmd_summarize(settings, a):
    from .. import stages
    stages.summarize(settings, this_month(a), marker=a.marker, dry_run=a.dry_run, say=say)


def cmd_note_dns_retry(settings, a):
    from .. import stages
    stages.note_dns_retry(settings, a.month, a.attempt, a.marker)


def register(add) -> None:
    for name, what in (("import-apache", "import an Apache access log into web and webhits"),
                       ("import-auth", "import a CMS auth log into userlogin"),
                       ("identify-bots", "add an access log's automated user agents to bot_useragents")):
        sp = add(name, cmd_import_file, what)
        sp.add_argument("file", type=Path, help="log file, plain or gzip; - reads standard input")
    sp = add(registry.IMPORT_COMMAND, cmd_import_days, "import every pending day (or those named), oldest first")
    sp.add_argument("days", type=day, nargs="*", metavar="DAY")
    marker_option(sp, "write this batch marker at the end")
    sp = add("import-day", cmd_import_days, "import one day's logs and write its marker")
    sp.add_argument("days", type=day, nargs=1, metavar="DAY")
    sp.add_argument("--marker", type=Path, help=argparse.SUPPRESS)
    sp = add("import-month", cmd_import_month, "check that every log of a month is imported (importing any the "
             "ledger lacks)")
    sp.add_argument("month", type=month)
    marker_option(sp)
    sp = add("archive-logs", cmd_archive_logs, "gzip a month's imported logs (default: every month's) and "
             "move them to imported/")
    sp.add_argument("month", type=month_or_day, nargs="?", help="YYYY-MM (or a day as YYYYMMDD: its month)")
    sp = add("forget-import", cmd_forget_import, "remove exactly the rows one imported file brought")
    sp.add_argument("file", help="the file (or its name) as it was imported")
    sp.add_argument("table", nargs="?", default="all", choices=("web", "userlogin", "all"))
    add("import-hub-data", cmd_import_hub_data, "copy tool sessions and confirmed user profiles from the hub")
    for name, metric in (("middleware-wall", "walltime"), ("middleware-cpu", "cputime")):
        sp = add(name, cmd_middleware, f"copy joblog {metric} into toolstart (rounded half up)")
        sp.set_defaults(metric=metric)
    for name, what in (("resolve-dns", "reverse-DNS the hosts of rows without one (default: last 7 days)"),
                       ("fill-domain", "derive domain from host (default: this month)"),
                       ("fill-ipcountry", "fill the country of each address (default: this month)"),
                       ("fill-user-info", "fill citizenship, residence, org type from hub profiles")):
        sp = add(name, cmd_enrich, what)
        sp.add_argument("db", choices=("metrics", "hub"), help="which database the table is in")
        sp.add_argument("table", choices=ENRICHABLE)
        sp.add_argument("date", nargs="?", help="YYYY, YYYY-MM, YYYY-MM-DD or A..B (either side open)")
        sp.add_argument("--all", action="store_true", help="every row, whatever its date")
        if name == "resolve-dns":
            sp.add_argument("-n", "--nameserver", help="resolver address(es), for this run (dns.nameservers)")
            sp.add_argument("-c", "--concurrency", type=int, help="queries in flight (dns.concurrency)")
            sp.add_argument("-t", "--timeout", type=float, help="seconds per query (dns.timeout)")
        if name == "fill-ipcountry":
            sp.add_argument("--url", help="the country service (geoip.provider service, geoip.url)")
            sp.add_argument("--hub-key", help="the key sent to it (geoip.hub_key)")
            sp.add_argument("--timeout", type=float, help="seconds per request (geoip.timeout)")
    for stage in (registry.BY_NAME[name] for name in (registry.RESOLVED, registry.TOOLS, registry.SESSIONS)):
        sp = add(stage.command, cmd_month_stage, f"a month's {stage.what} (the workflow's {stage.rule} job; "
                 f"marker {stage.name})", aliases=("enrich-month",) if stage.name == registry.RESOLVED else ())
        sp.set_defaults(stage=stage)
        sp.add_argument("month", type=month)
        marker_option(sp)
        if stage.name == registry.RESOLVED:
            sp.add_argument("--imported-marker", type=Path, help="write the imported marker after the check")
    sp = add("logfix-session", cmd_logfix_session, "coalesce a month's web rows into websessions")
    month_arg(sp)
    sp = add("clean-bots", cmd_clean_bots, "delete rows of excluded domains and hosts (exclude_list)")
    sp.add_argument("table", choices=("web", "websessions"))
    sp.add_argument("date", nargs="?", help="YYYY, YYYY-MM, YYYY-MM-DD or A..B (default: this month)")
    sp.add_argument("--all", action="store_true", help="every row, whatever its date")
    sp = add("backfill-dnload", cmd_backfill_dnload, "set web.dnload where it is missing")
    sp.add_argument("--start", type=month, help="first month (default: all)")
    sp = add("rebuild-webhits", cmd_rebuild_webhits, "recount a month's webhits from its web rows")
    month_arg(sp)
    sp.add_argument("--all", action="store_true", help="every month that has web rows")
    for name, step, what in (
            ("gen-tool-stats", "gen_tool_stats", "per-tool usage per period into jos_resource_stats_tools"),
            ("gen-tool-tops", "gen_tool_tops", "each tool's users by country, domain and org type"),
            ("gen-tool-toplists", "gen_tool_toplists", "tools ranked per measure into jos_stats_topvals"),
            ("andmore-usage", "andmore_usage", "visitors of each other resource into jos_resource_stats")):
        sp = add(name, cmd_tool_step, what)
        sp.set_defaults(step=step)
        month_arg(sp)
    sp = add("summarize-month", cmd_summarize_month, "write a month's summary_*_vals cells for all six periods")
    sp.add_argument("month", type=month, nargs="?", help="default: last month")
    sp.add_argument("--periods", metavar="LIST", help="only these period codes (0,1,3,12,13,14)")
    sp.add_argument("--only", metavar="LIST", help=argparse.SUPPRESS)
    sp.add_argument("--rescan", action="store_true",
                    help="read the whole web/websessions history as the reference does, not the rollups")
    for name, func, what in (("analyze", cmd_analyze, "a month's enrichment, tool statistics and sessions"),
                             (registry.BY_NAME[registry.SUMMARY].command, cmd_summarize,
                              "a month's summaries: summary cells, andmore-usage (the workflow's "
                              f"{registry.BY_NAME[registry.SUMMARY].rule} job)")):
        sp = add(name, func, what)
        sp.add_argument("month_pos", type=month, nargs="?", metavar="MONTH")
        sp.add_argument("--month", type=month, help="default: this month")
        sp.add_argument("--force", action="store_true", help="accepted for the reference's habit; "
                        "hzflow runs any month asked for")
        if name != "analyze":
            marker_option(sp)
    sp = add("note-dns-retry", cmd_note_dns_retry, "(workflow) note that a month's unanswered lookups are due",
             dry_run=False)
    sp.add_argument("month", type=month)
    sp.add_argument("attempt", type=int)
    sp.add_argument("--marker", type=Path, required=True)
