"""The reference's own extra commands, given a meaning in hzflow: fill-geo, tick, and the ones with nothing to do.

Its spellings of hzflow's own commands (setup-db, run, process, …) are
translated before parsing, by hzflow.refcli.
"""

from __future__ import annotations

import argparse

from .. import months
from .common import month, say


def _note(text: str) -> None:
    import sys
    print(f"hzflow: {text}", file=sys.stderr)


def fill_geo(settings, chosen_month: str | None, *, every: bool = False, dry_run: bool = False, say=print) -> int:
    """The country of every row of a month (or of each month that lacks some), in all four tables."""
    from ..enrich import geo
    from ..enrich.tables import ENRICHABLE
    from ..imports.repair import months_with_web
    chosen = months_with_web(settings, "ipcountry IS NULL OR ipcountry = ''") if every else [chosen_month]
    if not chosen:
        say("no month has rows without a country")
    for m in chosen:
        first, following = months.bounds(m)
        for table in ENRICHABLE:
            geo.fill_ipcountry(settings, settings.db.metrics_db, table, first, following, dry_run=dry_run, say=say)
    return 0

NOTHING_TO_DO = {
    "fetch-logs": "hzflow reads each day's logs where logrotate leaves them (paths.apache_daily, "
                  "paths.hub_daily); nothing is staged. `hzflow plan` lists the days it found.",
    "repair-imported-sources": "hzflow records each import's id range from the rows it loaded, in the "
                               "same transaction; there is nothing to repair. `hzflow audit` checks every range.",
}

def tick(settings, a) -> int:
    """whoisonline always, then the workflow (flock-guarded and cheap when there is nothing to do)."""
    from ..cron import cron
    from ..plan import plan
    from ..whoisonline import run_locked
    online = run_locked(settings, dry_run=a.dry_run, say=lambda _text: None) or 0
    workflow = plan(settings, [], say=print) if a.dry_run else cron(settings, [], quiet=True, say=print)
    return online or workflow or 0


def register(add) -> None:
    sp = add("fill-geo", lambda s, a: fill_geo(s, a.month, every=a.all, dry_run=a.dry_run, say=say),
             "fill missing countries of a month's rows (or of every month missing some)")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", type=month)
    which.add_argument("--all", action="store_true")
    add("tick", tick, "the reference's five-minute cron entry: whoisonline, then cron -q")
    for name, text in NOTHING_TO_DO.items():
        sp = add(name, lambda s, a: _note(NOTHING_TO_DO[a.command]) or 0, f"(the reference's) {text}")
        sp.add_argument("words", nargs="*", help=argparse.SUPPRESS)
        sp.add_argument("--apply", action="store_true", help=argparse.SUPPRESS)
