"""The operator's commands: set-up, checks, the workflow under its lock, rebuilds, the numbers.

init, adopt, migrate, audit, doctor, status, cron, plan, rebuild, report,
show, whoisonline, mark-dirty / clear-dirty / rebuild-from: what a person
(or cron) runs, as opposed to the stage commands the workflow's jobs run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import errors, registry
from .common import marker_option, month, positive, say, wait_option


def cmd_init(settings, a):
    from .. import schema
    statements = schema.init(settings, dry_run=a.dry_run, reference_data=a.reference_data, say=say)
    say(f"metrics database {settings.db.metrics_db}: "
        + ("already at head" if not statements else
           f"{len(statements)} schema statement(s) {'to apply' if a.dry_run else 'applied'}"))


def cmd_adopt(settings, a):
    from ..adopt import adopt
    from ..locks import exclusive
    with exclusive(settings, "adopt", a.wait, say=say):
        adopt(settings, dry_run=a.dry_run, since=a.since, first_month=a.first_month, accept=a.accept,
              accept_partial=a.accept_partial, discard=a.discard, say=say)


def cmd_migrate(settings, a):
    from ..locks import exclusive
    from ..migrate import run
    if not a.apply or a.dry_run:
        return run(settings, apply=a.apply, dry_run=a.dry_run, say=say)
    with exclusive(settings, "migrate --apply", a.wait, say=say):
        return run(settings, apply=True, say=say)


def cmd_audit(settings, a):
    from ..audit import audit
    return audit(settings, month=a.month, last_months=a.months, every=a.all, floor=a.floor, as_json=a.json,
                 marker=a.marker, say=say)


def cmd_doctor(settings, a):
    from ..doctor import run
    if a.fix:
        from .. import schema
        schema.init(settings, say=say)
    return run(settings, say=say)


def cmd_status(settings, a):
    from ..status import run
    return run(settings, as_json=a.json, say=say)


def cmd_report(settings, a):
    from .. import report
    chosen = report.chosen_months(settings, a.months)
    if a.publish:
        if a.out or a.months:
            raise errors.UsageError("report --publish rewrites the published report of every summarized "
                                    "month: give it neither --out nor --months")
        from .. import stages
        stages.run(settings, "report", "index", [("report", lambda: {"page": str(report.build(
            settings, chosen, None, say=say))})], watch=True)
        return
    report.build(settings, chosen, a.out or report.by_hand_dir(settings), say=say)


def cmd_show(settings, a):
    from .. import report
    return report.show(settings, a.month, say=say)


def cmd_whoisonline(settings, a):
    from ..whoisonline import run_locked
    return run_locked(settings, dry_run=a.dry_run, say=say if a.verbose else lambda _text: None)


def cmd_check_config(settings, a):
    from .. import markers
    say(f"hub {settings.site}: config {settings.path} is valid (work_dir {settings.work_dir})")
    if a.marker:
        markers.write(a.marker, {"site": settings.site, "config": str(settings.path)})


def cmd_cron(settings, a):
    from ..cron import cron
    return cron(settings, a.snakemake_args, quiet=a.quiet, verbose=a.verbose, say=say)


def cmd_plan(settings, a):
    from ..plan import plan
    return plan(settings, a.snakemake_args, say=say)


def cmd_rebuild(settings, a):
    from ..cron import rebuild
    return rebuild(settings, a.month, a.stage, a.through, dry_run=a.dry_run, quiet=a.quiet, say=say, wait=a.wait)


def cmd_rebuild_summaries(settings, a):
    from ..cron import rebuild
    if a.periods:
        print("hzflow: rebuild-summaries --periods: a month's summary is rebuilt whole (all six periods)",
              file=sys.stderr)
    return rebuild(settings, a.since, registry.SUMMARY, a.through, dry_run=a.dry_run, say=say, wait=a.wait)


def cmd_mark_dirty(settings, a):
    from ..dirty import mark_dirty
    return mark_dirty(settings, a.months, dry_run=a.dry_run, say=say)


def cmd_clear_dirty(settings, a):
    from ..dirty import clear_dirty
    return clear_dirty(settings, a.months, every=a.all, dry_run=a.dry_run, say=say)


def cmd_rebuild_from(settings, a):
    from ..dirty import rebuild_from
    return rebuild_from(settings, a.month, dry_run=a.dry_run, say=say)


PASSTHROUGH = ("cron", "plan")


def register(add) -> None:
    sp = add("init", cmd_init, "create the metrics database, or adopt an existing one in place")
    sp.add_argument("--reference-data", type=Path, metavar="FILE.sql",
                    help="load this SQL dump of reference tables instead of hzflow's defaults")
    sp = add("adopt", cmd_adopt, "take over a metrics database other tools filled: record the logs whose rows "
             "are there, so none is imported twice, and the first month hzflow builds")
    sp.add_argument("--since", type=month, metavar="YYYY-MM", help="examine only logs of this month and later")
    sp.add_argument("--first-month", type=month, metavar="YYYY-MM",
                    help="the first month the workflow builds (default: from the newest data)")
    sp.add_argument("--accept", action="append", default=[], metavar="FILE",
                    help="record a partly present log as it is (repeatable)")
    sp.add_argument("--accept-partial", action="store_true", help="record every partly present log as it is")
    sp.add_argument("--discard", action="append", default=[], metavar="FILE",
                    help="remove a partly present log's rows and import it again, whole (repeatable)")
    wait_option(sp)
    sp = add("migrate", cmd_migrate, "list the data migrations a legacy database needs (InnoDB, the reference's "
             "data fixes) and, with --apply, do them")
    sp.add_argument("--apply", action="store_true", help="apply the pending steps")
    wait_option(sp)
    sp.add_argument("--required-only", action="store_true", help=argparse.SUPPRESS)
    sp = add("audit", cmd_audit, "check the data month by month (gaps, enrichment, sessions, summaries, ledger); "
             "each finding with the command that repairs it; exit 1 if anything was found", dry_run=False)
    which = sp.add_mutually_exclusive_group()
    which.add_argument("--months", type=positive, default=24, metavar="N",
                       help="the last N finished months (default 24)")
    which.add_argument("--all", action="store_true", help="every month with data")
    which.add_argument("--month", type=month, help="one month")
    sp.add_argument("--floor", type=float, default=0.05,
                    help="share of rows without host/domain/country that is a finding even at a high median")
    sp.add_argument("--json", action="store_true", help="the findings as JSON")
    marker_option(sp, "(workflow) write the findings of --month here; exit 0")
    sp = add("doctor", cmd_doctor, "check config, database, schema, directories, log sources, resolvers",
             dry_run=False)
    sp.add_argument("--fix", action="store_true", help="first bring the database to head (what init does)")
    sp = add("check-config", cmd_check_config, "check the config (a fleet's: every hub's) and say what is wrong",
             dry_run=False)
    marker_option(sp, "(workflow) write this marker when the config is valid")
    sp = add("status", cmd_status, "per month and stage: built, failed, waiting; the last run", dry_run=False)
    sp.add_argument("--json", action="store_true", help="the same, as JSON (for monitoring)")
    sp = add("report", cmd_report, "write the usage report: one HTML page with charts, and CSV files",
             dry_run=False)
    sp.add_argument("--months", metavar="A..B", help="the months to show (default: every summarized month)")
    sp.add_argument("--out", type=Path, help="directory (default: <work_dir>/report/<site>.by-hand)")
    sp.add_argument("--publish", action="store_true",
                    help="rewrite the published report (<work_dir>/report/<site>), as cron does")
    sp = add("show", cmd_show, "a month's headline numbers in the terminal, with what each one counts",
             dry_run=False)
    sp.add_argument("month", type=month)
    sp = add("whoisonline", cmd_whoisonline, "refresh jos_session_geo and the who-is-online map XML")
    sp.add_argument("-v", "--verbose", action="store_true", help="say what was done (silent by default)")
    sp = add("rebuild", cmd_rebuild, "force one stage of a month (or months through --through) and what "
             "depends on it")
    sp.add_argument("month", type=month)
    sp.add_argument("--stage", choices=registry.MONTH_STAGES, default=registry.IMPORTED,
                    help="the stage to redo (default: imported, i.e. the whole month)")
    sp.add_argument("--through", type=month, metavar="YYYY-MM", help="also every month up to this one")
    sp.add_argument("-q", "--quiet", action="store_true")
    wait_option(sp)
    sp = add("rebuild-summaries", cmd_rebuild_summaries,
             "redo the summarized stage of months since M (and every later month unless --through)")
    sp.add_argument("--since", type=month, required=True, metavar="YYYY-MM")
    sp.add_argument("--through", type=month, metavar="YYYY-MM", help="last month to redo")
    sp.add_argument("--periods", metavar="LIST", help=argparse.SUPPRESS)
    wait_option(sp)
    sp = add("mark-dirty", cmd_mark_dirty, "have the next cron rework these months (enrich, sessions, summaries)")
    sp.add_argument("months", type=month, nargs="+", metavar="YYYY-MM")
    sp = add("clear-dirty", cmd_clear_dirty,
             "undo mark-dirty for these months (no month, or --all: every month marked dirty)")
    sp.add_argument("months", type=month, nargs="*", metavar="YYYY-MM")
    sp.add_argument("--all", action="store_true", help="every month marked dirty")
    sp = add("rebuild-from", cmd_rebuild_from, "have the next cron rework every month from this one on")
    sp.add_argument("month", type=month, metavar="YYYY-MM")
    for name, func, what in (("cron", cmd_cron, "run the workflow for every month through the current one "
                              "(flock-guarded; silent with -q unless something failed)"),
                             ("plan", cmd_plan, "list which days and months a run would build, and why")):
        sp = add(name, func, what, dry_run=False)
        sp.add_argument("-q", "--quiet", action="store_true", help="print nothing unless a job failed")
        sp.add_argument("-v", "--verbose", action="store_true", help="show Snakemake's own output")
        sp.add_argument("snakemake_args", nargs="*", metavar="SNAKEMAKE_ARG",
                        help="passed on to snakemake; month names (2026-11, summarized/2026-11) "
                             "may stand for markers")
