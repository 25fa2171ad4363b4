"""hzflow's command line: argument parsing only, one subcommand per stage.

Stage names and positional arguments are the reference pipeline's, so an
operator's habits and the parity runner work unchanged.  Every command that
writes has --dry-run.  Errors an operator can act on print one line and exit
non-zero: 2 config or arguments, 3 database, 4 unreadable input, 5 DNS or
geo service unavailable, 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from . import config as cfgmod
from . import rollups

EXIT_CONFIG, EXIT_DB, EXIT_INPUT, EXIT_SERVICE = 2, 3, 4, 5


def _say(text: str) -> None:
    print(text, flush=True)


def _month(text: str) -> str:
    import re
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}")
    return text


def _day(text: str) -> str:
    from datetime import date
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, got {text!r}") from None


def _print_report(report: dict) -> None:
    print(json.dumps(report, indent=2, sort_keys=True, default=str), flush=True)


# ----------------------------------------------------------------- commands
def cmd_init(settings, a):
    from . import schema
    statements = schema.init(settings, dry_run=a.dry_run, reference_data=a.reference_data, say=_say)
    _say(f"metrics database {settings.db.metrics_db}: "
         + ("already at head" if not statements else
            f"{len(statements)} schema statement(s) {'to apply' if a.dry_run else 'applied'}"))
    return 0


def cmd_doctor(settings, a):
    from .doctor import run
    return run(settings, say=_say)


def cmd_status(settings, a):
    from .status import run
    return run(settings, say=_say)


def cmd_import_apache(settings, a):
    from .imports import apache
    _print_report(apache.import_file(settings, a.file, dry_run=a.dry_run))
    return 0


def cmd_import_auth(settings, a):
    from .imports import auth
    _print_report(auth.import_file(settings, a.file, dry_run=a.dry_run))
    return 0


def cmd_identify_bots(settings, a):
    from .imports import bots
    _print_report(bots.identify_file(settings, a.file, dry_run=a.dry_run))
    return 0


def cmd_import_day(settings, a):
    from .imports import days
    days.import_day(settings, a.day, marker=a.marker, dry_run=a.dry_run, say=_say)
    return 0


def cmd_import_month(settings, a):
    from .imports import days
    days.import_month(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=_say)
    return 0


def cmd_archive_logs(settings, a):
    from .imports import days
    days.archive_month(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=_say)
    return 0


def cmd_forget_import(settings, a):
    from . import db
    from .imports import provenance
    conn = db.metrics(settings)
    try:
        removed = provenance.forget(conn, a.file, a.table, dry_run=a.dry_run, say=_say)
    finally:
        conn.close()
    return 1 if removed < 0 else 0


def _database(settings, key: str) -> str:
    return settings.db.metrics_db if key == "metrics" else settings.db.hub_db


def _period(a, **default):
    from .enrich.window import default_bounds
    start, stop = default_bounds(a.date, **default)
    if start is None or stop is None:
        raise cfgmod.ConfigError(f"{a.command} needs a bounded period, not {a.date!r}")
    return start, stop


def cmd_import_hub_data(settings, a):
    from .enrich import hubdata
    hubdata.import_hub_data(settings, dry_run=a.dry_run, say=_say)
    return 0


def cmd_middleware(settings, a):
    from .enrich import hubdata
    hubdata.middleware(settings, a.metric, dry_run=a.dry_run, say=_say)
    return 0


def _enrich(step, settings, a, **window) -> int:
    """Run one enrichment step on a table and window; in-place edits of websessions stale its rollups."""
    start, stop = _period(a, **window)
    database = _database(settings, a.db)
    step(settings, database, a.table, start, stop, dry_run=a.dry_run, say=_say)
    rollups.forget(settings, database, a.table, start, stop, dry_run=a.dry_run)
    return 0


def cmd_resolve_dns(settings, a):
    from .enrich import dns
    return _enrich(dns.resolve_dns, settings, a, days_back=7)


def cmd_fill_domain(settings, a):
    from .enrich import domain
    return _enrich(domain.fill_domain, settings, a)


def cmd_fill_ipcountry(settings, a):
    from .enrich import geo
    return _enrich(geo.fill_ipcountry, settings, a)


def cmd_fill_user_info(settings, a):
    from .enrich import hubdata
    hubdata.fill_user_info(settings, _database(settings, a.db), a.table, dry_run=a.dry_run, say=_say)
    return 0


def cmd_enrich_month(settings, a):
    from .enrich.month import enrich_month
    enrich_month(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=_say)
    return 0


def cmd_logfix_session(settings, a):
    from .sessions import logfix_session
    logfix_session(settings, a.month or _this_month(), dry_run=a.dry_run, say=_say)
    return 0


def cmd_clean_bots(settings, a):
    from .sessions import clean_bots
    start, stop = _period(a)
    clean_bots(settings, a.table, start, stop, dry_run=a.dry_run, say=_say)
    rollups.forget(settings, settings.db.metrics_db, a.table, start, stop, dry_run=a.dry_run)
    return 0


def cmd_backfill_dnload(settings, a):
    from .imports.repair import backfill_dnload
    backfill_dnload(settings, a.start, dry_run=a.dry_run, say=_say)
    return 0


def cmd_rebuild_webhits(settings, a):
    from .imports.repair import rebuild_webhits
    rebuild_webhits(settings, a.month or _this_month(), dry_run=a.dry_run, say=_say)
    return 0


def cmd_tool_stage(settings, a):
    from . import tools
    getattr(tools, a.stage)(settings, a.month or _this_month(), dry_run=a.dry_run, say=_say)
    return 0


def cmd_sessionize_month(settings, a):
    from .sessions import sessionize_month
    sessionize_month(settings, a.month, marker=a.marker, dry_run=a.dry_run, say=_say)
    return 0


def cmd_summarize_month(settings, a):
    from .summary import summarize_month
    summarize_month(settings, a.month, rollups=not a.rescan, dry_run=a.dry_run, say=_say)
    return 0


def cmd_analyze(settings, a):
    """A month's whole analysis chain by hand: enrichment, then sessions and tool statistics."""
    from .enrich.month import enrich_month
    from .sessions import sessionize_month
    month = a.month or _this_month()
    enrich_month(settings, month, dry_run=a.dry_run, say=_say)
    sessionize_month(settings, month, dry_run=a.dry_run, say=_say)
    return 0


def cmd_summarize(settings, a):
    from .summary import summarize
    summarize(settings, a.month or _this_month(), marker=a.marker, dry_run=a.dry_run, say=_say)
    return 0


def cmd_whoisonline(settings, a):
    from .whoisonline import run_locked
    return run_locked(settings, dry_run=a.dry_run, say=_say)


def _this_month() -> str:
    from datetime import date
    return f"{date.today():%Y-%m}"


def cmd_cron(settings, a):
    from .workflow import cron
    return cron(settings, a.snakemake_args)


def cmd_plan(settings, a):
    from .workflow import plan
    return plan(settings, a.snakemake_args, say=_say)


def cmd_rebuild_summaries(settings, a):
    from .workflow import rebuild_summaries
    return rebuild_summaries(settings, a.since, a.through, dry_run=a.dry_run, say=_say)


def cmd_note_sources(settings, a):
    from .workflow import note_new_sources
    note_new_sources(settings, a.day, a.marker)
    return 0


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hzflow", description=__doc__.split("\n")[0])
    p.add_argument("--config", metavar="FILE",
                   help=f"hzflow config file (default: ${cfgmod.ENV_VAR})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help, dry_run=True):
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        if dry_run:
            sp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        return sp

    sp = add("init", cmd_init, "create the metrics database, or adopt an existing one in place")
    sp.add_argument("--reference-data", type=Path, metavar="FILE.sql",
                    help="load this SQL dump of reference tables instead of hzflow's defaults")
    add("doctor", cmd_doctor, "check config, database, schema, directories and log sources",
        dry_run=False)
    add("status", cmd_status, "per month: which stage markers exist, which days are pending",
        dry_run=False)
    for name, func, what in (("import-apache", cmd_import_apache, "an Apache access log into web and webhits"),
                             ("import-auth", cmd_import_auth, "a CMS auth log into userlogin"),
                             ("identify-bots", cmd_identify_bots,
                              "add an access log's automated user agents to bot_useragents")):
        sp = add(name, func, ("import " if name.startswith("import") else "") + what)
        sp.add_argument("file", type=Path, help="log file, plain or gzip")
    sp = add("import-day", cmd_import_day, "import every log of one day and write its marker")
    sp.add_argument("day", type=_day)
    sp.add_argument("--marker", type=Path, help="write this day marker after the commit")
    sp = add("import-month", cmd_import_month, "check a month's logs are all imported; write its marker")
    sp.add_argument("month", type=_month)
    sp.add_argument("--marker", type=Path)
    sp = add("archive-logs", cmd_archive_logs, "gzip a month's imported logs and move them to imported/")
    sp.add_argument("month", type=_month)
    sp.add_argument("--marker", type=Path)
    sp = add("forget-import", cmd_forget_import, "remove exactly the rows one imported file brought")
    sp.add_argument("file", help="the file (or its name) as it was imported")
    sp.add_argument("table", nargs="?", default="all", choices=("web", "userlogin", "all"))
    add("import-hub-data", cmd_import_hub_data,
        "copy tool sessions and confirmed user profiles from the hub database")
    for name, metric in (("middleware-wall", "walltime"), ("middleware-cpu", "cputime")):
        sp = add(name, cmd_middleware, f"copy joblog {metric} into toolstart (rounded half up)")
        sp.set_defaults(metric=metric)
    for name, func, what in (
            ("resolve-dns", cmd_resolve_dns, "reverse-DNS the hosts of rows without one (default: last 7 days)"),
            ("fill-domain", cmd_fill_domain, "derive domain from host (default: this month)"),
            ("fill-ipcountry", cmd_fill_ipcountry, "fill the country of each address (default: this month)"),
            ("fill-user-info", cmd_fill_user_info, "fill citizenship, residence, org type from hub profiles")):
        sp = add(name, func, what)
        sp.add_argument("db", choices=("metrics", "hub"), help="which database the table is in")
        sp.add_argument("table")
        sp.add_argument("date", nargs="?", help="YYYY, YYYY-MM, YYYY-MM-DD or A..B")
    sp = add("logfix-session", cmd_logfix_session, "coalesce a month's web rows into websessions")
    sp.add_argument("month", type=_month, nargs="?", help="default: this month")
    sp = add("clean-bots", cmd_clean_bots, "delete rows of excluded domains and hosts (exclude_list)")
    sp.add_argument("table", choices=("web", "websessions"))
    sp.add_argument("date", nargs="?", help="YYYY, YYYY-MM, YYYY-MM-DD or A..B (default: this month)")
    sp = add("backfill-dnload", cmd_backfill_dnload, "set web.dnload where it is missing")
    sp.add_argument("--start", type=_month, help="first month (default: all)")
    sp = add("rebuild-webhits", cmd_rebuild_webhits, "recount a month's webhits from its web rows")
    sp.add_argument("month", type=_month, nargs="?", help="default: this month")
    for name, stage, what in (
            ("gen-tool-stats", "gen_tool_stats", "per-tool usage per period into jos_resource_stats_tools"),
            ("gen-tool-tops", "gen_tool_tops", "each tool's users by country, domain and org type"),
            ("gen-tool-toplists", "gen_tool_toplists", "tools ranked per measure into jos_stats_topvals"),
            ("andmore-usage", "andmore_usage", "visitors of each other resource into jos_resource_stats")):
        sp = add(name, cmd_tool_stage, what)
        sp.set_defaults(stage=stage)
        sp.add_argument("month", type=_month, nargs="?", help="default: this month")
    sp = add("sessionize-month", cmd_sessionize_month,
             "clean, sessionize and enrich a month's sessions, then the tool statistics; then its marker")
    sp.add_argument("month", type=_month)
    sp.add_argument("--marker", type=Path)
    sp = add("summarize-month", cmd_summarize_month, "write a month's summary_*_vals cells for all six periods")
    sp.add_argument("month", type=_month)
    sp.add_argument("--rescan", action="store_true",
                    help="read the whole web/websessions history as the reference does, not the rollups")
    for name, func, what in (("analyze", cmd_analyze, "run a month's enrichment, sessions and tool statistics"),
                             ("summarize", cmd_summarize, "run a month's summaries (summary cells, andmore-usage)")):
        sp = add(name, func, what)
        sp.add_argument("--month", type=_month, help="default: this month")
        sp.add_argument("--force", action="store_true", help="accepted for the reference's habit; "
                        "every hzflow stage recomputes its month")
        if name == "summarize":
            sp.add_argument("--marker", type=Path)
    add("whoisonline", cmd_whoisonline, "refresh jos_session_geo and the who-is-online map XML")
    sp = add("enrich-month", cmd_enrich_month, "every enrichment step of one month, then its marker")
    sp.add_argument("month", type=_month)
    sp.add_argument("--marker", type=Path)
    sp = add("cron", cmd_cron, "run the workflow for every month through the current one (flock-guarded)",
             dry_run=False)
    sp.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="passed on to snakemake")
    sp = add("plan", cmd_plan, "list which days and months a run would build, and why", dry_run=False)
    sp.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="passed on to snakemake")
    sp = add("rebuild-summaries", cmd_rebuild_summaries,
             "redo the summarized stage of months since M (and every later month unless --through)")
    sp.add_argument("--since", type=_month, required=True, metavar="YYYY-MM")
    sp.add_argument("--through", type=_month, metavar="YYYY-MM", help="last month to redo (default: this month)")
    sp = add("note-sources", cmd_note_sources, "(workflow) note that an imported day gained a new log", dry_run=False)
    sp.add_argument("day", type=_day)
    sp.add_argument("--marker", type=Path, required=True)
    return p


def main(argv=None) -> int:
    import pymysql

    from .db import DatabaseError
    from .enrich.dns import ResolverUnavailable
    from .enrich.geo import GeoLookupFailed
    from .imports.logparse import UnreadableLog

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command not in ("cron", "plan"):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.snakemake_args = [*args.snakemake_args, *unknown]
    try:
        settings = cfgmod.load(args.config)
        return args.func(settings, args) or 0
    except cfgmod.ConfigError as e:
        print(f"hzflow: config error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseError as e:
        print(f"hzflow: database error: {e}", file=sys.stderr)
        return EXIT_DB
    except pymysql.err.Error as e:
        print(f"hzflow: database error during {args.command}: {e}; the open transaction was "
              f"rolled back", file=sys.stderr)
        return EXIT_DB
    except (ResolverUnavailable, GeoLookupFailed) as e:
        print(f"hzflow: {e}", file=sys.stderr)
        return EXIT_SERVICE
    except UnreadableLog as e:
        print(f"hzflow: input error: {e}; nothing was committed, the next run retries it",
              file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("hzflow: interrupted; the open transaction was rolled back", file=sys.stderr)
        return 130
    except Exception as e:  # the last line of defence: say what failed, keep the traceback for the log
        traceback.print_exc()
        print(f"hzflow: {args.command} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
