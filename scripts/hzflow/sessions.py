"""logfix-session: coalesce a month's `web` rows into visitor sessions (`websessions`).

The legacy rules, kept to the letter because the summaries count their
output:

* The month is read in four fixed windows: days 1-7, 9-15, 17-23 and 25 to
  the end of the month (each window's end is exclusive), so days 8, 16 and
  24 are never sessionized.
* Rows come ordered by (ip, host, datetime).  A session ends when the
  address changes (or, for rows without an address, the host), or after a
  gap of more than 1800 seconds.  Its state carries over from one window to
  the next, and the session still open after the last window is never
  written.
* A session's jobs are the successful `toolstart` rows of its address or
  host between its start and 1799 s after its last event; those rows get the
  session's id (a later session overwrites an earlier one's stamp).  `jobs`
  is a TINYINT and stops at 127; `webevents` is always 0.

`logfix-session MONTH` adds sessions for rows not stamped yet, like the
reference.  The month stage instead rebuilds the month: it drops the month's
sessions and their stamps and sessionizes every row again, in one
transaction, so rerunning it never splits a session.  A rebuild leaves the
stamp of a tool start that a later month's session holds (the first half
hour of the next month): in date order that later session stamped it last.
"""

from __future__ import annotations

import os
import tempfile
import time
from bisect import bisect_left, bisect_right
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial

import pymysql.cursors

from . import db as dbmod
from .enrich.window import days
from .months import bounds as month_bounds
from .progress import Progress

GAP = 1800
JOB_SLACK = 1799
MAX_JOBS = 127


def windows(month: str) -> list[tuple[str, str]]:
    """The four legacy windows of a month: [01, 08), [09, 16), [17, 24), [25, next 01)."""
    _, following = month_bounds(month)
    return [(f"{month}-01", f"{month}-08"), (f"{month}-09", f"{month}-16"),
            (f"{month}-17", f"{month}-24"), (f"{month}-25", f"{following}")]


@dataclass
class Session:
    start: object
    start_ts: int
    ip: str = ""
    host: str = ""
    domain: str = ""
    end: object = None
    end_ts: int = 0
    events: list[int] = field(default_factory=list)


def coalesce(rows):
    """Yield finished sessions from (id, datetime, ip, host, domain, unix_ts) rows in legacy order."""
    current: Session | None = None
    for rid, when, ip, host, domain, ts in rows:
        ip, host, domain = ip or "", host or "", domain or ""
        if current is not None and (
                (current.ip and current.ip != ip) or (not current.ip and current.host and current.host != host)
                or ((current.ip or current.host) and ts - current.end_ts > GAP and ts > GAP)):
            yield current
            current = None
        if current is None:
            current = Session(when, ts)
        current.ip = current.ip or ip
        current.host = current.host or host
        current.domain = current.domain or domain
        current.end, current.end_ts = when, ts
        current.events.append(rid)


class JobIndex:
    """The month's successful tool starts, found by address and by host like the legacy query."""

    def __init__(self, rows):
        self.by_ip: dict[str, list[tuple[int, int]]] = {}
        self.by_host: dict[str, list[tuple[int, int]]] = {}
        for tid, ts, ip, host in rows:
            if ip:
                self.by_ip.setdefault(ip.lower(), []).append((ts, tid))
            if host:
                self.by_host.setdefault(host.lower(), []).append((ts, tid))
        for index in (self.by_ip, self.by_host):
            for entries in index.values():
                entries.sort()

    @staticmethod
    def _between(entries, lo, hi):
        if not entries:
            return []
        return [tid for _, tid in entries[bisect_left(entries, (lo, -1)):bisect_right(entries, (hi, 2**63))]]

    def jobs(self, s: Session) -> set[int]:
        """Tool starts of the session's address or host from its start to 1799 s after its end."""
        lo, hi = s.start_ts, s.end_ts + JOB_SLACK
        found = set()
        if s.ip:
            found.update(self._between(self.by_ip.get(s.ip.lower()), lo, hi))
        if s.host:
            found.update(self._between(self.by_host.get(s.host.lower()), lo, hi))
        return found


SESSION_COLUMNS = ("id", "datetime", "ip", "host", "duration", "domain", "jobs", "webevents")

# FORCE INDEX: read the window by date and sort it, rather than walk the whole
# table in address order (what the optimizer picks for ORDER BY ip otherwise).
# The datetime comes as its text: a session's start is only ever written back, and text needs no parsing.
_ROWS = ("SELECT w.id, CAST(w.datetime AS CHAR), w.ip, w.host, w.domain, UNIX_TIMESTAMP(w.datetime) "
         "FROM web w FORCE INDEX (web_dt_ip) {join} "
         "WHERE w.datetime >= %s AND w.datetime < %s AND ({free}) "
         "AND (w.ip <> '' OR (w.host <> '' AND w.host <> '?' AND w.host IS NOT NULL)) "
         "ORDER BY w.ip, w.host, w.datetime")
_UNSTAMPED = "w.sessionid = '0' OR w.sessionid IS NULL"
# Seen from before the rebuild's own transaction: rows of the month's old
# sessions and rows whose session no longer exists count as unstamped too.
_REBUILT = (_UNSTAMPED + " OR s.id IS NULL OR (s.datetime >= %s AND s.datetime < %s)")


def _month_rows(conn, month: str, rebuild: bool):
    first, following = month_bounds(month)
    sql = _ROWS.format(join="LEFT JOIN websessions s ON s.id = w.sessionid" if rebuild else "",
                       free=_REBUILT if rebuild else _UNSTAMPED)
    for lo, hi in windows(month):
        cur = conn.cursor(pymysql.cursors.SSCursor)
        try:
            cur.execute(sql, (lo, hi, first, following) if rebuild else (lo, hi))
            yield from cur
        finally:
            cur.close()


def _clear_month(cur, month: str) -> int:
    """Drop the month's sessions and every stamp that pointed at them (or at no session)."""
    first, following = month_bounds(month)
    dropped = cur.execute("DELETE FROM websessions WHERE datetime >= %s AND datetime < %s",
                          (first, following))
    for lo, hi in days(first, following):
        cur.execute("UPDATE web w LEFT JOIN websessions s ON s.id = w.sessionid SET w.sessionid = NULL "
                    "WHERE w.datetime >= %s AND w.datetime < %s AND w.sessionid IS NOT NULL "
                    "AND w.sessionid <> 0 AND s.id IS NULL", (lo, hi))
    cur.execute("UPDATE toolstart t LEFT JOIN websessions s ON s.id = t.sessionid SET t.sessionid = NULL "
                "WHERE t.datetime >= %s AND t.datetime < %s + INTERVAL 1 DAY AND t.sessionid IS NOT NULL "
                "AND s.id IS NULL", (first, following))
    return dropped


# Sessions per chunk: the server loads one chunk while the next is coalesced.  The server's writes are the
# slower half, so the first chunk is small (they start at once) and each next one twice as big.
CHUNK_SESSIONS = 40_000
FIRST_CHUNK_SESSIONS = 5_000


class _Chunk:
    """A chunk of built sessions and the stamps of their web rows, written as two files for the server."""

    def __init__(self, directory: str, number: int):
        self.paths = (os.path.join(directory, f"sessions-{number}.tsv"),
                      os.path.join(directory, f"stamps-{number}.tsv"))
        self.sessions: list[tuple] = []
        self.stamps = open(self.paths[1], "w")
        self.size = min(FIRST_CHUNK_SESSIONS << number, CHUNK_SESSIONS)      # sessions it takes

    def add(self, row: tuple, events: list[int]) -> None:
        self.sessions.append(row)
        self.stamps.writelines(f"{rid}\t{row[0]}\n" for rid in events)

    def close(self, country=None) -> tuple[str, str, tuple]:
        """Write the sessions (with their country, if `country` maps addresses); (files, columns)."""
        self.stamps.close()
        columns = SESSION_COLUMNS
        rows = self.sessions
        if country is not None:
            known = country([row[2] for row in rows])
            rows, columns = [(*row, known[row[2]]) for row in rows], (*SESSION_COLUMNS, "ipcountry")
        with open(self.paths[0], "w") as out:
            out.writelines(dbmod.tsv_row((str(sid), start, ip, host, str(duration), domain, str(jobs), str(webevents),
                                          *extra)) for sid, start, ip, host, duration, domain, jobs, webevents, *extra in rows)
        return (*self.paths, columns)


def _load_chunk(cur, sessions_tsv: str, stamps_tsv: str, columns) -> None:
    """Load a chunk's sessions and stamp its web rows (in the caller's transaction)."""
    dbmod.load_file(cur, "websessions", columns, sessions_tsv, ignore_duplicates=True)
    cur.execute("DELETE FROM hz_web_session")
    dbmod.load_file(cur, "hz_web_session", ("id", "sid"), stamps_tsv)
    cur.execute("UPDATE web w JOIN hz_web_session x ON w.id = x.id SET w.sessionid = x.sid")
    for path in (sessions_tsv, stamps_tsv):
        os.unlink(path)


def _ask_countries(conn, countries, ips) -> dict[str, str]:
    with conn.cursor() as cur:
        return countries(cur, ips)


def logfix_session(settings, month: str, *, rebuild: bool = False, countries=None, dry_run: bool = False,
                   say=print) -> dict:
    """Sessionize `month`; with rebuild, replace its sessions instead of adding to them.

    countries (geo.SessionCountries, the month stage's) gives each new
    session its ipcountry as it is written.
    """
    began = time.monotonic()
    first, following = month_bounds(month)
    stats = {"stage": "logfix-session", "month": month, "sessions": 0, "events": 0, "jobs": 0,
             "dropped": 0}
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with dbmod.connection(settings) as reader, dbmod.connection(settings) as writer, \
            (nullcontext() if countries is None else dbmod.connection(settings)) as looker, \
            tempfile.TemporaryDirectory(prefix="sessions-", dir=settings.tmp_dir) as tmp:
        with reader.cursor() as cur:
            cur.execute("SELECT id, UNIX_TIMESTAMP(datetime), ip, host FROM toolstart "
                        "WHERE datetime >= %s AND datetime < %s + INTERVAL %s SECOND AND success = '1'",
                        (first, following, JOB_SLACK + 1))
            jobs = JobIndex(cur.fetchall())
        if dry_run:
            n = sum(1 for _ in coalesce(_month_rows(reader, month, rebuild)))
            say(f"logfix-session {month}: would write {n} sessions")
            return {**stats, "sessions": n, "status": "dry-run"}
        with dbmod.transaction(writer) as cur, ThreadPoolExecutor(1, thread_name_prefix="loader") as loader:
            if rebuild:
                stats["dropped"] = _clear_month(cur, month)
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM websessions")
            next_id = cur.fetchone()[0]
            cur.execute("CREATE TEMPORARY TABLE hz_web_session (id BIGINT NOT NULL PRIMARY KEY, "
                        "sid BIGINT NOT NULL) ENGINE=InnoDB")
            job_stamps: dict[int, int] = {}
            loads = []
            country = None if countries is None else partial(_ask_countries, looker, countries)
            try:
                chunk = _Chunk(tmp, len(loads))
                progress = Progress(say, "sessions built")
                for s in coalesce(_month_rows(reader, month, rebuild)):
                    next_id += 1
                    if not next_id % 5000:
                        progress.tick(stats["sessions"])
                    matched = jobs.jobs(s)
                    for tid in matched:
                        job_stamps[tid] = next_id
                    chunk.add((next_id, s.start, s.ip, s.host, s.end_ts - s.start_ts, s.domain,
                               min(len(matched), MAX_JOBS), 0), s.events)
                    stats["sessions"] += 1
                    stats["events"] += len(s.events)
                    if len(chunk.sessions) >= chunk.size:
                        if loads and loads[-1].done():
                            loads[-1].result()            # a failed load stops the month here
                        loads.append(loader.submit(_load_chunk, cur, *chunk.close(country)))
                        chunk = _Chunk(tmp, len(loads))
                loads.append(loader.submit(_load_chunk, cur, *chunk.close(country)))
                for load in loads:
                    load.result()
            except BaseException:
                for load in loads:
                    load.cancel()
                raise
            stats["jobs"] = len(job_stamps)
            cur.execute("DROP TEMPORARY TABLE hz_web_session")
            if job_stamps and rebuild:
                cur.executemany("UPDATE toolstart t LEFT JOIN websessions s ON s.id = t.sessionid "
                                "SET t.sessionid = %s WHERE t.id = %s AND (s.id IS NULL OR s.datetime < %s)",
                                [(sid, tid, following) for tid, sid in job_stamps.items()])
            elif job_stamps:
                cur.executemany("UPDATE toolstart SET sessionid = %s WHERE id = %s",
                                [(sid, tid) for tid, sid in job_stamps.items()])
    stats["seconds"] = round(time.monotonic() - began, 2)
    say(f"logfix-session {month}: {stats['sessions']} sessions of {stats['events']} web rows, "
        f"{stats['jobs']} tool starts linked" + (f"; replaced {stats['dropped']} sessions" if rebuild else "")
        + f" ({stats['seconds']} s)")
    return stats
