"""Repair utilities for imported rows: backfill-dnload and rebuild-webhits."""

from __future__ import annotations

from .. import db as dbmod
from .. import months
from . import logparse as lp


def backfill_dnload(settings, start_month: str | None, *, dry_run: bool = False, say=print) -> dict:
    """Set web.dnload for rows that have none (rows imported before the column existed).

    The same rule as the import's, in SQL; a month at a time, in id ranges, so
    each statement stays small.
    """
    rows = 0
    with dbmod.cursor(settings) as cur:
        since = f"{start_month}-01" if start_month else "1000-01-01"
        cur.execute("SELECT DATE_FORMAT(MIN(datetime), '%%Y-%%m'), DATE_FORMAT(MAX(datetime), '%%Y-%%m') "
                    "FROM web WHERE dnload IS NULL AND datetime >= %s", (since,))
        first, last = cur.fetchone()
        for month in (months.between(first, last) if first else []):
            lo_day, hi_day = months.bounds(month)
            cur.execute("SELECT MIN(id), MAX(id) FROM web WHERE dnload IS NULL AND datetime >= %s "
                        "AND datetime < %s", (lo_day, hi_day))
            lo, hi = cur.fetchone()
            if lo is None:
                continue
            if dry_run:
                cur.execute("SELECT COUNT(*) FROM web WHERE dnload IS NULL AND datetime >= %s "
                            "AND datetime < %s", (lo_day, hi_day))
                rows += cur.fetchone()[0]
                continue
            for start in range(lo, hi + 1, 250_000):
                rows += cur.execute(
                    "UPDATE web SET dnload = IF(content LIKE '/resources/%%/download/%%' "
                    "OR content REGEXP %s, 1, 0) WHERE dnload IS NULL AND datetime >= %s "
                    "AND datetime < %s AND id >= %s AND id < %s",
                    (lp.DOWNLOAD_FILE_PATTERN, lo_day, hi_day, start, start + 250_000))
    say(f"backfill-dnload: {'would classify' if dry_run else 'classified'} {rows} rows")
    return {"stage": "backfill-dnload", "rows": rows}


def months_with_web(settings, condition: str = "TRUE") -> list[str]:
    """Every month that has web rows (meeting a fixed SQL condition), oldest first (the --all of
    rebuild-webhits and fill-geo)."""
    with dbmod.cursor(settings) as cur:
        cur.execute(f"SELECT DISTINCT DATE_FORMAT(datetime, '%Y-%m') FROM web WHERE datetime >= '1000-01-01' "
                    f"AND ({condition}) ORDER BY 1")
        return [m for (m,) in cur.fetchall() if m]


def rebuild_webhits(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    """Replace the month's webhits with one row per day counted from the (cleaned) web rows."""
    first, following = months.bounds(month)
    with dbmod.connection(settings) as conn:
        if dry_run:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(DISTINCT DATE(datetime)) FROM web WHERE datetime >= %s "
                            "AND datetime < %s", (first, following))
                n = cur.fetchone()[0]
            say(f"rebuild-webhits {month}: would write {n} days")
            return {"stage": "rebuild-webhits", "days": n, "status": "dry-run"}
        with dbmod.transaction(conn) as cur:
            cur.execute("DELETE FROM webhits WHERE datetime >= %s AND datetime < %s", (first, following))
            n = cur.execute("INSERT INTO webhits (datetime, hits) SELECT DATE(datetime), COUNT(*) FROM web "
                            "WHERE datetime >= %s AND datetime < %s GROUP BY DATE(datetime)",
                            (first, following))
    say(f"rebuild-webhits {month}: {n} days")
    return {"stage": "rebuild-webhits", "days": n}
