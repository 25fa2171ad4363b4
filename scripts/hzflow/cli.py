"""hzflow's command line: argument parsing only, one subcommand per stage.

Stage names and positional arguments are the reference pipeline's, so an
operator's habits and the parity runner work unchanged.  Every command that
writes has --dry-run.  Errors an operator can act on print one line and exit
non-zero (hzflow.errors lists the codes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from datetime import date
from pathlib import Path

from . import config as cfgmod
from . import errors, markers, months, refcli, version
from .enrich.tables import ENRICHABLE
from .markers import MONTH_STAGES


def _say(text: str) -> None:
    print(text, flush=True)


def _month(text: str) -> str:
    if not months.is_month(text):
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}")
    return text


def _month_or_day(text: str) -> str:
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}"
    return _month(text)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return n


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, got {text!r}") from None


def _print_report(report: dict) -> None:
    print(json.dumps(report, indent=2, sort_keys=True, default=str), flush=True)


def _this_month(a) -> str:
    return getattr(a, "month", None) or getattr(a, "month_pos", None) or months.current()


# ----------------------------------------------------------------- commands
def cmd_init(settings, a):
    from . import schema
    statements = schema.init(settings, dry_run=a.dry_run, reference_data=a.reference_data, say=_say)
    _say(f"metrics database {settings.db.metrics_db}: "
         + ("already at head" if not statements else
            f"{len(statements)} schema statement(s) {'to apply' if a.dry_run else 'applied'}"))


def cmd_adopt(settings, a):
    from .adopt import adopt
    from .locks import exclusive
    with exclusive(settings, "adopt", a.wait, say=_say):
        adopt(settings, dry_run=a.dry_run, since=a.since, first_month=a.first_month, accept=a.accept,
              accept_partial=a.accept_partial, discard=a.discard, say=_say)


def cmd_migrate(settings, a):
    from .locks import exclusive
    from .migrate import run
    if not a.apply or a.dry_run:
        return run(settings, apply=a.apply, dry_run=a.dry_run, say=_say)
    with exclusive(settings, "migrate --apply", a.wait, say=_say):
        return run(settings, apply=True, say=_say)


def cmd_audit(settings, a):
    from .audit import audit
    return audit(settings, month=a.month, last_months=a.months, every=a.all, floor=a.floor, as_json=a.json,
                 marker=a.marker, say=_say)


def cmd_doctor(settings, a):
    from .doctor import run
    if a.fix:
        from . import schema
        schema.init(settings, say=_say)
    return run(settings, say=_say)


def cmd_import_file(settings, a):
    from .imports import apache, auth, bots
    run = {"import-apache": apache.import_file, "import-auth": auth.import_file,
           "identify-bots": bots.identify_file}[a.command]
    if str(a.file) == "-":
        from .refcli import spooled_stdin
        a.file = spooled_stdin(settings)
    _print_report(run(settings, a.file, dry_run=a.dry_run))


def cmd_import_days(settings, a):
    from . import stages
    record = stages.import_days(settings, a.days or None, marker=a.marker, dry_run=a.dry_run, say=_say)
    return errors.INPUT if record["failed"] and a.command == "import-day" else 0


def cmd_import_month(settings, a):
    from . import stages
    stages.run(settings, "imported", a.month, [("check", lambda: stages.check_imported(
        settings, a.month, dry_run=a.dry_run, say=_say))], marker=a.marker, dry_run=a.dry_run)


def cmd_archive_logs(settings, a):
    from . import db
    from .coverage import Coverage
    from .imports import archive
    from .imports.days import IMPORTERS
    from .imports.provenance import recorded
    cov = Coverage(settings)
    chosen = [a.month] if a.month else cov.months
    with db.cursor(settings) as cur:
        done = [src for month in chosen for day in cov.days_of(month) for kind, src in cov.found.get(day, {}).items()
                if recorded(cur, src.path, IMPORTERS[kind][1])]
    for src in done:
        dst = archive.archive(settings, src, dry_run=a.dry_run)
        if dst:
            _say(f"{'would archive' if a.dry_run else 'archived'} {src.path} -> {dst}")


def cmd_forget_import(settings, a):
    from . import db
    from .imports import provenance
    with db.connection(settings) as conn:
        provenance.forget(conn, a.file, a.table, dry_run=a.dry_run, say=_say)


def _database(settings, key: str) -> str:
    return settings.db.metrics_db if key == "metrics" else settings.db.hub_db


def _period(a, settings, database: str, **default):
    """The [start, stop) of a date spec (or --all); an open end closed where the table's rows end."""
    from .enrich.tables import closed
    from .enrich.window import default_bounds
    if getattr(a, "all", False):
        if a.date:
            raise errors.UsageError(f"{a.command}: give a date or --all, not both")
        a.date = ".."
    start, stop = default_bounds(a.date, **default)
    return closed(settings, database, a.table, start, stop)


def cmd_import_hub_data(settings, a):
    from .enrich import hubdata
    hubdata.import_hub_data(settings, dry_run=a.dry_run, say=_say)


def cmd_middleware(settings, a):
    from .enrich import hubdata
    hubdata.middleware(settings, a.metric, dry_run=a.dry_run, say=_say)


def cmd_enrich(settings, a):
    from .enrich import dns, domain, geo, hubdata
    if a.command == "fill-user-info":
        hubdata.fill_user_info(settings, _database(settings, a.db), a.table, dry_run=a.dry_run, say=_say)
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
        _say(f"{a.command} {a.table}: no rows")
        return
    step(settings, database, a.table, start, stop, dry_run=a.dry_run, say=_say)


def cmd_resolve_month(settings, a):
    from . import stages
    stages.resolve_month(settings, a.month, imported_marker=a.imported_marker, marker=a.marker,
                         dry_run=a.dry_run, say=_say)


def cmd_logfix_session(settings, a):
    from .sessions import logfix_session
    logfix_session(settings, _this_month(a), dry_run=a.dry_run, say=_say)


def cmd_clean_bots(settings, a):
    from .clean import clean_bots
    start, stop = _period(a, settings, settings.db.metrics_db)
    if start is None:
        _say(f"clean-bots {a.table}: no rows")
        return
    clean_bots(settings, a.table, start, stop, dry_run=a.dry_run, say=_say)


def cmd_backfill_dnload(settings, a):
    from .imports.repair import backfill_dnload
    backfill_dnload(settings, a.start, dry_run=a.dry_run, say=_say)


def cmd_rebuild_webhits(settings, a):
    from .imports.repair import months_with_web, rebuild_webhits
    if a.all and a.month:
        raise errors.UsageError("rebuild-webhits: give a month or --all, not both")
    for month in months_with_web(settings) if a.all else [_this_month(a)]:
        rebuild_webhits(settings, month, dry_run=a.dry_run, say=_say)


def cmd_tool_stage(settings, a):
    from . import tools
    getattr(tools, a.stage)(settings, _this_month(a), dry_run=a.dry_run, say=_say)


def cmd_tool_stats(settings, a):
    from . import stages
    stages.tool_stats(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=_say)


def cmd_sessionize_month(settings, a):
    from . import stages
    stages.sessionize_month(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=_say)


SUMMARY_SECTIONS = ("reg", "int", "dl", "total", "sim", "sim-usage", "misc")


def cmd_summarize_month(settings, a):
    from . import periods
    from .summary import LEGACY_ORDER, summarize_month
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
    month = a.month or months.preceding(months.current())
    summarize_month(settings, month, period_codes=chosen, rollups=not a.rescan, dry_run=a.dry_run, say=_say)


def cmd_analyze(settings, a):
    from . import stages
    stages.analyze(settings, _this_month(a), dry_run=a.dry_run, say=_say)


def cmd_summarize(settings, a):
    from . import stages
    stages.summarize(settings, _this_month(a), marker=a.marker, dry_run=a.dry_run, say=_say)


def cmd_report(settings, a):
    from . import report
    chosen = report.chosen_months(settings, a.months)
    if a.publish:
        if a.out or a.months:
            raise errors.UsageError("report --publish rewrites the published report of every summarized "
                                    "month: give it neither --out nor --months")
        from . import stages
        stages.run(settings, "report", "index", [("report", lambda: {"page": str(report.build(
            settings, chosen, None, say=_say))})], watch=True)
        return
    report.build(settings, chosen, a.out or report.by_hand_dir(settings), say=_say)


def cmd_show(settings, a):
    from . import report
    return report.show(settings, a.month, say=_say)


def cmd_whoisonline(settings, a):
    from .whoisonline import run_locked
    return run_locked(settings, dry_run=a.dry_run, say=_say if a.verbose else lambda _text: None)


def cmd_cron(settings, a):
    from .cron import cron
    return cron(settings, a.snakemake_args, quiet=a.quiet, verbose=a.verbose, say=_say)


def cmd_status(settings, a):
    from .status import run
    return run(settings, as_json=a.json, say=_say)


def cmd_plan(settings, a):
    from .cron import plan
    return plan(settings, a.snakemake_args, say=_say)


def cmd_rebuild(settings, a):
    from .cron import rebuild
    return rebuild(settings, a.month, a.stage, a.through, dry_run=a.dry_run, quiet=a.quiet, say=_say, wait=a.wait)


def cmd_rebuild_summaries(settings, a):
    from .cron import rebuild
    if a.periods:
        print("hzflow: rebuild-summaries --periods: a month's summary is rebuilt whole (all six periods)",
              file=sys.stderr)
    return rebuild(settings, a.since, "summarized", a.through, dry_run=a.dry_run, say=_say, wait=a.wait)


def cmd_note_dns_retry(settings, a):
    from . import stages
    stages.note_dns_retry(settings, a.month, a.attempt, a.marker)


# ------------------------------------------------------------------ parser
class _Version(argparse.Action):
    """--version, looked up only when asked (importlib.metadata is slow to load)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"hzflow {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hzflow", description=__doc__.split("\n")[0])
    p.add_argument("--version", action=_Version, nargs=0, help="print hzflow's version and exit")
    p.add_argument("--config", metavar="FILE", help=f"hzflow config file (default: ${cfgmod.ENV_VAR})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help, dry_run=True, aliases=()):
        sp = sub.add_parser(name, help=help, description=help, aliases=list(aliases))
        sp.set_defaults(func=func)
        sp.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if dry_run:
            sp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        return sp

    def month_arg(sp, what="default: this month"):
        sp.add_argument("month", type=_month, nargs="?", help=what)

    def month_stage(name, func, help, **kw):
        """A workflow stage by hand: one month, and the marker to write when it is done."""
        sp = add(name, func, help, **kw)
        sp.add_argument("month", type=_month)
        sp.add_argument("--marker", type=Path, help="write this marker when the stage is done")
        return sp

    sp = add("init", cmd_init, "create the metrics database, or adopt an existing one in place")
    sp.add_argument("--reference-data", type=Path, metavar="FILE.sql",
                    help="load this SQL dump of reference tables instead of hzflow's defaults")
    sp = add("adopt", cmd_adopt, "take over a metrics database other tools filled: record the logs whose rows "
             "are there, so none is imported twice, and the first month hzflow builds")
    sp.add_argument("--since", type=_month, metavar="YYYY-MM", help="examine only logs of this month and later")
    sp.add_argument("--first-month", type=_month, metavar="YYYY-MM",
                    help="the first month the workflow builds (default: from the newest data)")
    sp.add_argument("--accept", action="append", default=[], metavar="FILE",
                    help="record a partly present log as it is (repeatable)")
    sp.add_argument("--accept-partial", action="store_true", help="record every partly present log as it is")
    sp.add_argument("--discard", action="append", default=[], metavar="FILE",
                    help="remove a partly present log's rows and import it again, whole (repeatable)")
    sp.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                    help="wait this long for a running cron to end (default 600); then exit 7, nothing done")
    sp = add("migrate", cmd_migrate, "list the data migrations a legacy database needs (InnoDB, the reference's "
             "data fixes) and, with --apply, do them")
    sp.add_argument("--apply", action="store_true", help="apply the pending steps")
    sp.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                    help="wait this long for a running cron to end (default 600); then exit 7, nothing done")
    sp.add_argument("--required-only", action="store_true", help=argparse.SUPPRESS)
    sp = add("audit", cmd_audit, "check the data month by month (gaps, enrichment, sessions, summaries, ledger); "
             "each finding with the command that repairs it; exit 1 if anything was found", dry_run=False)
    which = sp.add_mutually_exclusive_group()
    which.add_argument("--months", type=_positive, default=24, metavar="N",
                       help="the last N finished months (default 24)")
    which.add_argument("--all", action="store_true", help="every month with data")
    which.add_argument("--month", type=_month, help="one month")
    sp.add_argument("--floor", type=float, default=0.05,
                    help="share of rows without host/domain/country that is a finding even at a high median")
    sp.add_argument("--json", action="store_true", help="the findings as JSON")
    sp.add_argument("--marker", type=Path, help="(workflow) write the findings of --month here; exit 0")
    sp = add("doctor", cmd_doctor, "check config, database, schema, directories, log sources, resolvers",
             dry_run=False)
    sp.add_argument("--fix", action="store_true", help="first bring the database to head (what init does)")
    sp = add("status", cmd_status, "per month and stage: built, failed, waiting; the last run",
             dry_run=False)
    sp.add_argument("--json", action="store_true", help="the same, as JSON (for monitoring)")
    for name, what in (("import-apache", "import an Apache access log into web and webhits"),
                       ("import-auth", "import a CMS auth log into userlogin"),
                       ("identify-bots", "add an access log's automated user agents to bot_useragents")):
        sp = add(name, cmd_import_file, what)
        sp.add_argument("file", type=Path, help="log file, plain or gzip; - reads standard input")
    sp = add("import-days", cmd_import_days, "import every pending day (or those named), oldest first")
    sp.add_argument("days", type=_day, nargs="*", metavar="DAY")
    sp.add_argument("--marker", type=Path, help="write this batch marker at the end")
    sp = add("import-day", cmd_import_days, "import one day's logs and write its marker")
    sp.add_argument("days", type=_day, nargs=1, metavar="DAY")
    sp.add_argument("--marker", type=Path, help=argparse.SUPPRESS)
    month_stage("import-month", cmd_import_month, "check that every log of a month is imported (importing "
                "any the ledger lacks)")
    sp = add("archive-logs", cmd_archive_logs, "gzip a month's imported logs (default: every month's) and "
             "move them to imported/")
    sp.add_argument("month", type=_month_or_day, nargs="?", help="YYYY-MM (or a day as YYYYMMDD: its month)")
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
    sp = month_stage("resolve-month", cmd_resolve_month, "a month's logs all imported, then its rows enriched "
                     "(the workflow's resolve stage; the marker is dns-resolved)", aliases=("enrich-month",))
    sp.add_argument("--imported-marker", type=Path, help="write the imported marker after the check")
    sp = add("logfix-session", cmd_logfix_session, "coalesce a month's web rows into websessions")
    month_arg(sp)
    sp = add("clean-bots", cmd_clean_bots, "delete rows of excluded domains and hosts (exclude_list)")
    sp.add_argument("table", choices=("web", "websessions"))
    sp.add_argument("date", nargs="?", help="YYYY, YYYY-MM, YYYY-MM-DD or A..B (default: this month)")
    sp.add_argument("--all", action="store_true", help="every row, whatever its date")
    sp = add("backfill-dnload", cmd_backfill_dnload, "set web.dnload where it is missing")
    sp.add_argument("--start", type=_month, help="first month (default: all)")
    sp = add("rebuild-webhits", cmd_rebuild_webhits, "recount a month's webhits from its web rows")
    month_arg(sp)
    sp.add_argument("--all", action="store_true", help="every month that has web rows")
    for name, stage, what in (
            ("gen-tool-stats", "gen_tool_stats", "per-tool usage per period into jos_resource_stats_tools"),
            ("gen-tool-tops", "gen_tool_tops", "each tool's users by country, domain and org type"),
            ("gen-tool-toplists", "gen_tool_toplists", "tools ranked per measure into jos_stats_topvals"),
            ("andmore-usage", "andmore_usage", "visitors of each other resource into jos_resource_stats")):
        sp = add(name, cmd_tool_stage, what)
        sp.set_defaults(stage=stage)
        month_arg(sp)
    month_stage("tool-stats", cmd_tool_stats, "a month's tool sessions enriched, then its tool statistics "
                "(the workflow's tool-stats stage)")
    month_stage("sessionize-month", cmd_sessionize_month, "rebuild a month's sessions and enrich them "
                "(the workflow's sessionize stage)")
    sp = add("summarize-month", cmd_summarize_month, "write a month's summary_*_vals cells for all six periods")
    sp.add_argument("month", type=_month, nargs="?", help="default: last month")
    sp.add_argument("--periods", metavar="LIST", help="only these period codes (0,1,3,12,13,14)")
    sp.add_argument("--only", metavar="LIST", help=argparse.SUPPRESS)
    sp.add_argument("--rescan", action="store_true",
                    help="read the whole web/websessions history as the reference does, not the rollups")
    for name, func, what in (("analyze", cmd_analyze, "a month's enrichment, tool statistics and sessions"),
                             ("summarize", cmd_summarize, "a month's summaries: summary cells, andmore-usage "
                              "(the workflow's summarize stage)")):
        sp = add(name, func, what)
        sp.add_argument("month_pos", type=_month, nargs="?", metavar="MONTH")
        sp.add_argument("--month", type=_month, help="default: this month")
        sp.add_argument("--force", action="store_true", help="accepted for the reference's habit; "
                        "hzflow runs any month asked for")
        if name == "summarize":
            sp.add_argument("--marker", type=Path)
    sp = add("report", cmd_report, "write the usage report: one HTML page with charts, and CSV files",
             dry_run=False)
    sp.add_argument("--months", metavar="A..B", help="the months to show (default: every summarized month)")
    sp.add_argument("--out", type=Path, help="directory (default: <work_dir>/report/<site>.by-hand)")
    sp.add_argument("--publish", action="store_true",
                    help="rewrite the published report (<work_dir>/report/<site>), as cron does")
    sp = add("show", cmd_show, "a month's headline numbers in the terminal, with what each one counts",
             dry_run=False)
    sp.add_argument("month", type=_month)
    sp = add("whoisonline", cmd_whoisonline, "refresh jos_session_geo and the who-is-online map XML")
    sp.add_argument("-v", "--verbose", action="store_true", help="say what was done (silent by default)")
    sp = add("rebuild", cmd_rebuild, "force one stage of a month (or months through --through) and what "
             "depends on it")
    sp.add_argument("month", type=_month)
    sp.add_argument("--stage", choices=MONTH_STAGES, default="imported",
                    help="the stage to redo (default: imported, i.e. the whole month)")
    sp.add_argument("--through", type=_month, metavar="YYYY-MM", help="also every month up to this one")
    sp.add_argument("-q", "--quiet", action="store_true")
    sp.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                    help="wait this long for a running cron to end (default 600); then exit 7, nothing done")
    sp = add("rebuild-summaries", cmd_rebuild_summaries,
             "redo the summarized stage of months since M (and every later month unless --through)")
    sp.add_argument("--since", type=_month, required=True, metavar="YYYY-MM")
    sp.add_argument("--through", type=_month, metavar="YYYY-MM", help="last month to redo")
    sp.add_argument("--periods", metavar="LIST", help=argparse.SUPPRESS)
    sp.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                    help="wait this long for a running cron to end (default 600)")
    sp = add("note-dns-retry", cmd_note_dns_retry, "(workflow) note that a month's unanswered lookups are due",
             dry_run=False)
    sp.add_argument("month", type=_month)
    sp.add_argument("attempt", type=int)
    sp.add_argument("--marker", type=Path, required=True)
    refcli.register(add, _month)
    for name, func, what in (("cron", cmd_cron, "run the workflow for every month through the current one "
                              "(flock-guarded; silent with -q unless something failed)"),
                             ("plan", cmd_plan, "list which days and months a run would build, and why")):
        sp = add(name, func, what, dry_run=False)
        sp.add_argument("-q", "--quiet", action="store_true", help="print nothing unless a job failed")
        sp.add_argument("-v", "--verbose", action="store_true", help="show Snakemake's own output")
        sp.add_argument("snakemake_args", nargs="*", metavar="SNAKEMAKE_ARG",
                        help="passed on to snakemake; month names (2026-11, summarized/2026-11) "
                             "may stand for markers")
    return p


_PASSTHROUGH = ("cron", "plan")
_OWN_OPTIONS = {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}


def _split_passthrough(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """For cron and plan: hzflow's own words, and everything else verbatim for snakemake."""
    words, i, command_at = list(argv), 0, None
    while i < len(words):
        if words[i] == "--config":
            i += 2
            continue
        if words[i].startswith("--config="):
            i += 1
            continue
        command_at = i
        break
    if command_at is None or words[command_at] not in _PASSTHROUGH:
        return words, None
    own, rest, j = words[:command_at + 1], [], command_at + 1
    while j < len(words):
        w = words[j]
        if w == "--config" and j + 1 < len(words):
            own += [w, words[j + 1]]
            j += 2
            continue
        if w.startswith("--config="):
            own.append(w)
        elif w in _OWN_OPTIONS:
            own.append(w)
        else:
            rest.append(w)
        j += 1
    return own, rest


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv = refcli.translate(argv)
    except errors.UsageError as e:
        print(f"hzflow: {e}", file=sys.stderr)
        return errors.CONFIG
    own, passthrough = _split_passthrough(argv)
    parser = build_parser()
    args = parser.parse_args(own)
    if passthrough is not None:
        args.snakemake_args = passthrough
    if getattr(args, "marker", None):          # a workflow job: its log says what ran, and which hzflow
        print(f"=== hzflow {version()}: {' '.join(own)} ({time.strftime('%Y-%m-%d %H:%M:%S')})", flush=True)
    settings = None
    umask, environment = os.umask(markers.UMASK), dict(os.environ)
    try:
        settings = cfgmod.load(args.config)
        os.environ.update(cfgmod.config_homes(settings))
        return args.func(settings, args) or 0
    except KeyboardInterrupt:
        print("hzflow: interrupted; an open transaction was rolled back", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    except Exception as e:  # the last line of defence: say what failed in one line
        code, message = errors.classify(e)
        if code == errors.UNEXPECTED and not isinstance(e, errors.UsageError):
            traceback.print_exc()
        print(f"hzflow: {args.command}: {message}", file=sys.stderr)
        if settings is not None and getattr(args, "marker", None):
            from . import stages
            stages.note_job_failure(settings, args.command, args, e)
        return code
    finally:                        # called in-process (tests, tick): leave the caller's process as it was
        os.umask(umask)
        os.environ.clear()
        os.environ.update(environment)


def _reader_went_away() -> int:
    """`hzflow status | head`: the reader closed the pipe; stop quietly, as a pipe's writer does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
