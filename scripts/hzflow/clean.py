"""clean-bots and the stamps it leaves: removing excluded traffic from web and websessions.

clean-bots deletes the rows of a period whose domain equals, or whose host
is LIKE, an exclude_list entry of type 'domain' or 'host'.  Deleting
sessions leaves web and toolstart rows stamped with a session that no
longer exists; `clear_orphan_stamps` sets those back to NULL, as the
reference's month analysis does right after.
"""

from __future__ import annotations

from . import db as dbmod
from .enrich.tables import edited
from .enrich.window import days, legacy_week_window
from .errors import UsageError
from .months import bounds

CLEAN_TABLES = ("web", "websessions")


def clean_bots(settings, table: str, start, stop, *, dry_run: bool = False, say=print) -> dict:
    """Delete the period's excluded rows.

    The window is the legacy week chunks' (start - 1 day, stop]; deletes go a
    day at a time so a big month never holds its whole table's locks.  Each
    day's delete is complete on its own, so an interrupted run is finished by
    running it again.
    """
    if table not in CLEAN_TABLES:
        raise UsageError(f"clean-bots works on {', '.join(CLEAN_TABLES)}, not {table!r}")
    lo, hi = legacy_week_window(start, stop)
    deleted = 0
    with dbmod.cursor(settings) as cur:
        cur.execute("SELECT DISTINCT filter FROM exclude_list WHERE type = 'domain'")
        domains = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT DISTINCT filter FROM exclude_list WHERE type = 'host'")
        hosts = [r[0] for r in cur.fetchall()]
        if not domains and not hosts:
            say(f"clean-bots {table}: exclude_list has no domain or host entries")
            return {"stage": f"clean-bots {table}", "rows": 0}
        match = " OR ".join((["domain IN %s"] if domains else []) + ["host LIKE %s"] * len(hosts))
        args = ([domains] if domains else []) + hosts
        verb = "SELECT COUNT(*)" if dry_run else "DELETE"
        for day_lo, day_hi in days(lo, hi):        # (lo, hi] as (d, d + 1] pieces
            n = cur.execute(f"{verb} FROM {dbmod.quote_ident(table)} WHERE datetime > %s "
                            f"AND datetime <= %s AND ({match})", (day_lo, day_hi, *args))
            deleted += cur.fetchone()[0] if dry_run else n
        if table == "websessions" and deleted and not dry_run:
            edited(settings, cur, settings.db.metrics_db, table, start, stop, deleted)
    say(f"clean-bots {table}: {'would delete' if dry_run else 'deleted'} {deleted} rows "
        f"({len(domains)} domain and {len(hosts)} host entries)")
    return {"stage": f"clean-bots {table}", "rows": deleted}


def clear_orphan_stamps(settings, month: str, *, web: bool = True, dry_run: bool = False, say=print) -> dict:
    """NULL the month's web and toolstart stamps that point at no session (a day at a time).

    web=False leaves out the month's web rows (the walk of all of them): the
    month stage passes it when its rebuild, which clears every web stamp of
    the month without a session, was followed by no session deletes.  Web
    rows are only ever stamped by sessions of their own month, whereas the
    month's first tool starts can hold a stamp of the month before.
    """
    first, following = bounds(month)
    cleared = {"web": 0}
    with dbmod.cursor(settings) as cur:
        for table in ("web", "toolstart") if web else ("toolstart",):
            verb = ("SELECT COUNT(*) FROM {t} x LEFT JOIN websessions s ON s.id = x.sessionid" if dry_run
                    else "UPDATE {t} x LEFT JOIN websessions s ON s.id = x.sessionid SET x.sessionid = NULL")
            n = 0
            for lo, hi in days(first, following):
                count = cur.execute(verb.format(t=table) + " WHERE x.datetime >= %s AND x.datetime < %s "
                                    "AND x.sessionid IS NOT NULL AND x.sessionid <> '0' AND s.id IS NULL",
                                    (lo, hi))
                n += cur.fetchone()[0] if dry_run else count
            cleared[table] = n
    web_part = f"{cleared['web']} web" if web else "(no session deleted since the rebuild: web rows not walked)"
    say(f"clear-orphan-stamps {month}: {'would clear' if dry_run else 'cleared'} "
        f"{web_part} and {cleared['toolstart']} toolstart stamps of vanished sessions")
    return {"stage": "clear-orphan-stamps", **cleared}
