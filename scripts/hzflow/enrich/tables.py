"""The tables the enrichment steps fill, their date column, and what an edit of them means.

Every enrichment command (resolve-dns, fill-domain, fill-ipcountry,
fill-user-info) works on these four tables; sessionlog_metrics is dated by
its `start`, the others by `datetime`.  Editing websessions in place (a
host, a domain, a country) is invisible to the summary rollups'
fingerprints, so each such edit marks the months it touched as stale.
"""

from __future__ import annotations

from datetime import timedelta

from ..db import quote_ident
from ..errors import UsageError
from ..rollups import forget_months

ENRICHABLE = ("web", "websessions", "toolstart", "sessionlog_metrics")


def date_column(table: str) -> str:
    return "start" if table == "sessionlog_metrics" else "datetime"


def check(table: str, command: str) -> None:
    if table not in ENRICHABLE:
        raise UsageError(f"{command} works on {', '.join(ENRICHABLE)}, not {table!r}")


def by_address(cur, database: str, table: str, batch: str, joined: str) -> str:
    """The join of a batch table of addresses to a table's rows, batch first when the rows have an
    index on ip (else the optimizer's choice: forcing the batch first would walk the rows per address)."""
    cur.execute("SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = %s "
                "AND table_name = %s AND column_name = 'ip' AND seq_in_index = 1", (database, table))
    if cur.fetchone()[0]:
        return f"{batch} STRAIGHT_JOIN {joined}"
    return f"{batch} JOIN {joined}"


def closed(settings, database: str, table: str, start, stop):
    """An open-ended period ([start, None), (None, stop), everything) closed where the table's rows end.

    (None, None) when the table has no dated rows.
    """
    if start is not None and stop is not None:
        return start, stop
    from .. import db as dbmod
    col = quote_ident(date_column(table))
    with dbmod.cursor(settings) as cur:
        cur.execute(f"SELECT DATE(MIN({col})), DATE(MAX({col})) + INTERVAL 1 DAY FROM {quote_ident(database)}."
                    f"{quote_ident(table)} WHERE {col} >= '1000-01-01'")
        first, following = cur.fetchone()
    if first is None:
        return None, None
    return start or first, stop or following


def edited(settings, cur, database: str, table: str, start, stop, rows: int) -> None:
    """After an in-place edit of `rows` rows in [start, stop): stale the rollups of those months.

    A day either side is included because the legacy windows reach that far.
    """
    if not rows or table != "websessions" or database != settings.db.metrics_db:
        return
    lo = f"{start - timedelta(days=1):%Y-%m}" if start else "0000-00"
    hi = f"{stop:%Y-%m}" if stop else "9999-12"
    forget_months(cur, quote_ident(settings.db.metrics_db), lo, hi)
