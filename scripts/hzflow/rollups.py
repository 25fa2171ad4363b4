"""Per-month "seen" rollups: the long summary windows without rescanning history.

The visitor cells of summary_user_vals (rows 3, 4, 7, 8) and summary_misc_vals
rows 1-5 depend on websessions and web only through distinct visitor keys
(ip, host, ipcountry, domain) per kind of session, plus session counts and
durations.  `refresh_sessions` and `refresh_downloads` store those keys per month; a window of any
length is then the union of its months' keys, deduplicated once per period.

Windows compare `datetime > first day` and `< first day after`, so a row
stamped exactly at a window's first midnight is outside it.  Rows are
bucketed by the month whose first midnight is the last one at or before
them (MariaDB datetime order, zero days included) and `late` is 0 only for a
row at that very midnight: the window S..M holds months after S up to M,
and month S itself only where late = 1.

Freshness: hzflow_rollup_months keeps, per month, a fingerprint of the
source rows (read from indexes only); summaries rebuild every month whose
fingerprint moved.  Every step that edits websessions in place (a host, a
domain, a country) forgets the months it touched (`forget_months`), which
covers the changes a fingerprint cannot see.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

from . import db as dbmod
from .db import quote_ident as q
from .periods import ALL_TIME_START, MONTH, window

SEEN_COLUMNS = ("ip", "host", "ipcountry", "domain")


def bucket(column: str) -> str:
    """SQL for the 'YYYY-MM' bucket of a datetime column."""
    n = f"(YEAR({column}) * 12 + MONTH({column}) - 1 - (MONTH({column}) > 0 AND DAYOFMONTH({column}) = 0))"
    return f"CONCAT(LPAD({n} DIV 12, 4, '0'), '-', LPAD(MOD({n}, 12) + 1, 2, '0'))"


def late(column: str) -> str:
    """SQL: 1 unless the datetime is exactly its bucket's first midnight."""
    return f"NOT (MONTH({column}) > 0 AND DAYOFMONTH({column}) = 1 AND TIME({column}) = '00:00:00')"


def in_window(month_col: str, late_col: str) -> str:
    """SQL predicate on a (bucket, late) pair; parameters (first month, last month, first month)."""
    return f"({month_col} >= %s AND {month_col} <= %s AND ({late_col} OR {month_col} > %s))"


def fingerprints(cur, met: str, through: str) -> dict[str, str]:
    """Per month from 1995 up to `through`: counts and sums of the source rows.

    Every column read is in one of hzflow's indexes (datetime, jobs,
    duration, ipcountry on websessions; dnload, datetime on web), so this
    reads indexes, not rows.  No window starts before 1995-01-01.
    """
    stop = window(through, MONTH)[1]
    out: dict[str, list] = {}
    cur.execute(f"SELECT {bucket('datetime')} AS b, COUNT(*), SUM(id), SUM(duration), SUM(jobs), "
                f"SUM(CRC32(ipcountry)) FROM {met}.websessions WHERE datetime >= %s AND datetime < %s "
                f"GROUP BY b", (ALL_TIME_START, stop))
    for b, *sums in cur.fetchall():
        out[b] = [*sums, 0, 0]
    cur.execute(f"SELECT {bucket('datetime')} AS b, COUNT(*), SUM(id) FROM {met}.web "
                f"WHERE dnload = 1 AND datetime >= %s AND datetime < %s GROUP BY b", (ALL_TIME_START, stop))
    for b, n, ids in cur.fetchall():
        out.setdefault(b, [0, 0, 0, 0, 0, 0, 0])[-2:] = [n, ids]
    return {b: ":".join(str(v or 0) for v in sums) for b, sums in out.items()}


def stale_months(cur, met: str, through: str) -> tuple[list[str], dict[str, str]]:
    """Months up to `through` whose rollups are missing or built from other rows."""
    now = fingerprints(cur, met, through)
    cur.execute(f"SELECT month, fingerprint FROM {met}.hzflow_rollup_months WHERE month <= %s", (through,))
    stored = dict(cur.fetchall())
    return sorted(m for m in set(now) | set(stored) if now.get(m) != stored.get(m)), now


def refresh_sessions(cur, met: str, month: str) -> None:
    """Rebuild one month's rows of hzflow_seen_sessions."""
    lo, hi = window(month, MONTH)
    keys = ", ".join(SEEN_COLUMNS)
    cur.execute(f"DELETE FROM {met}.hzflow_seen_sessions WHERE month = %s", (month,))
    cur.execute(f"INSERT INTO {met}.hzflow_seen_sessions (month, late, {keys}, interactive, visit, long_visit, "
                f"sessions, duration) SELECT %s, {late('datetime')} AS l, {keys}, "
                f"duration >= 900 AND jobs = 0 AS i, duration >= 0 OR jobs > 0 AS v, "
                f"duration >= 900 OR jobs > 0 AS lv, COUNT(*), SUM(duration) FROM {met}.websessions "
                f"WHERE datetime >= %s AND datetime < %s GROUP BY l, {keys}, i, v, lv", (month, lo, hi))


def refresh_downloads(cur, met: str, month: str) -> None:
    """Rebuild the rows of hzflow_seen_downloads whose session or download falls in the month."""
    lo, hi = window(month, MONTH)
    keys = ", ".join(SEEN_COLUMNS)
    ws_keys = ", ".join(f"ws.{c}" for c in SEEN_COLUMNS)
    cur.execute(f"DELETE FROM {met}.hzflow_seen_downloads WHERE month = %s OR dl_month = %s", (month, month))
    picked = (f"SELECT {bucket('ws.datetime')} AS m, {late('ws.datetime')} AS l, {bucket('w.datetime')} AS dm, "
              f"{late('w.datetime')} AS dl, {ws_keys}, ws.duration < 900 AS short FROM {met}.web w "
              f"JOIN {met}.websessions ws ON ws.id = w.sessionid WHERE w.dnload = 1 AND ws.jobs = 0 "
              f"AND ws.duration >= 0")
    group = f"GROUP BY m, l, dm, dl, {ws_keys}, short"
    cur.execute(f"INSERT INTO {met}.hzflow_seen_downloads (month, late, dl_month, dl_late, {keys}, short) "
                f"{picked} AND ws.datetime >= %s AND ws.datetime < %s {group} "
                f"UNION {picked} AND w.datetime >= %s AND w.datetime < %s {group}", (lo, hi, lo, hi))


def record_month(cur, met: str, month: str, fingerprint: str | None) -> None:
    """The month's rollups are fresh for `fingerprint` (None: the month has no source rows)."""
    if fingerprint is None:
        cur.execute(f"DELETE FROM {met}.hzflow_rollup_months WHERE month = %s", (month,))
    else:
        cur.execute(f"REPLACE INTO {met}.hzflow_rollup_months (month, fingerprint, refreshed_at) "
                    f"VALUES (%s, %s, NOW())", (month, fingerprint))


def _in_transaction(conn, refresh, met: str, month: str) -> None:
    with dbmod.transaction(conn) as cur:
        refresh(cur, met, month)


def bring_up_to_date(conn, met: str, through: str, *, connect, dry_run: bool = False, say=print) -> list[str]:
    """Refresh every stale month up to `through`; returns those months.

    The two rollups of a month are rebuilt at once, each in a transaction
    of its own (the downloads' on a second connection from `connect()`),
    and the month is recorded fresh only after both committed: a run that
    stops between them leaves the month stale, and the next one rebuilds it.
    """
    with conn.cursor() as cur:
        stale, now = stale_months(cur, met, through)
    if dry_run:
        for month in stale:
            say(f"[dry-run] refresh summary rollups of {month}")
        return stale
    if stale:
        with connect() as other, ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollups") as beside:
            for month in stale:
                downloads = beside.submit(_in_transaction, other, refresh_downloads, met, month)
                try:
                    _in_transaction(conn, refresh_sessions, met, month)
                finally:
                    downloads.result()
                with dbmod.transaction(conn) as cur:
                    record_month(cur, met, month, now.get(month))
        say(f"summary rollups refreshed for {len(stale)} month(s): {_span(stale)}")
    return stale


def forget_months(cur, met: str, lo: str, hi: str) -> int:
    """Mark the months lo..hi as stale, so the next summary rebuilds their rollups."""
    return cur.execute(f"DELETE FROM {met}.hzflow_rollup_months WHERE month BETWEEN %s AND %s", (lo, hi))


def compatible(cur, database: str) -> bool:
    """Rollup key columns compare like websessions' (same types and collations)."""
    cur.execute("SELECT table_name, column_name, column_type, COALESCE(collation_name, '') "
                "FROM information_schema.columns WHERE table_schema = %s AND column_name IN %s "
                "AND table_name IN ('websessions', 'hzflow_seen_sessions', 'hzflow_seen_downloads')",
                (database, SEEN_COLUMNS))
    shapes: dict[str, set] = {}
    for table, column, ctype, coll in cur.fetchall():
        shapes.setdefault(table, set()).add((column.lower(), ctype.lower(), coll))
    source = shapes.get("websessions")
    return bool(source) and len(source) == len(SEEN_COLUMNS) and all(
        shapes.get(t) == source for t in ("hzflow_seen_sessions", "hzflow_seen_downloads"))


def _span(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} .. {months[-1]}"


class WindowVisitors:
    """The distinct visitor keys and session totals of one period window, from the rollups."""

    SESSIONS, DOWNLOADS = "hz_win_sessions", "hz_win_downloads"

    def __init__(self, cur, met: str, start: str, stop_month: str):
        self.cur, self.met = cur, met
        first = start[:7]
        self.window = (first, stop_month, first)
        keys = ", ".join(SEEN_COLUMNS)
        for table in (self.SESSIONS, self.DOWNLOADS):
            cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TEMPORARY TABLE {self.SESSIONS} (INDEX (ip)) SELECT {keys}, "
                    f"MAX(interactive) AS interactive, MAX(visit) AS visit FROM {met}.hzflow_seen_sessions "
                    f"WHERE {in_window('month', 'late')} GROUP BY {keys}", self.window)
        cur.execute(f"CREATE TEMPORARY TABLE {self.DOWNLOADS} (INDEX (ip)) SELECT {keys}, short, "
                    f"MAX({in_window('dl_month', 'dl_late')}) AS dl_in FROM {met}.hzflow_seen_downloads "
                    f"WHERE {in_window('month', 'late')} GROUP BY {keys}, short", self.window * 2)

    def totals(self) -> tuple:
        """(sessions with duration >= 900 or jobs, their duration or None, sessions with duration >= 0 or jobs)."""
        self.cur.execute(f"SELECT COALESCE(SUM(IF(long_visit, sessions, 0)), 0), "
                         f"SUM(IF(long_visit, duration, NULL)), COALESCE(SUM(IF(visit, sessions, 0)), 0) "
                         f"FROM {self.met}.hzflow_seen_sessions WHERE {in_window('month', 'late')}", self.window)
        return self.cur.fetchone()


def ensure(settings, conn, through: str, *, dry_run: bool = False, say=print) -> bool:
    """Rollups usable and fresh up to `through`; False (with a warning) means rescan instead."""
    met = q(settings.db.metrics_db)
    with conn.cursor() as cur:
        if not compatible(cur, settings.db.metrics_db):
            say("warning: summary rollup tables do not match websessions' column types; "
                "summarizing by full rescan (run `hzflow init` to bring the schema to head)")
            return False
    bring_up_to_date(conn, met, through, connect=partial(dbmod.connection, settings), dry_run=dry_run, say=say)
    return True
