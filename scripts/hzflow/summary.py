"""summarize-month: the summary_*_vals cells of one month, for all six periods.

Rows and columns follow the reference (`docs/usage-tables.md` there decodes
them).  summary_user_vals rows: 1 total (= 6 + 7 + 8), 2 simulation users,
3 and 7 interactive users (with and without the registered-user share), 4
and 8 download users (likewise), 6 registered users; columns 1 all, 2-6 by
residence (any, US, Asia, Europe, other), 7-11 by organisation (any,
education, industry, government, other).  summary_simusage_vals rows 1-10
and summary_misc_vals rows 1-8 are one column each.

Legacy quirks kept because they are the published numbers: windows compare
`> first day` (the first midnight of a period is outside) except the hits
cell, which counts the first day; the registered-user shares of rows 3 and
4 look up logins of the period's addresses with no date bound on the
logins; "other" org-type cells count users of domain classes 6 only.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import db as dbmod
from . import periods, simusage
from . import rollups as rollupmod
from .db import quote_ident as q

EDUCATION = ("universityundergraduate", "universitygraduate", "universityfaculty", "universitystaff",
             "precollegestudent", "precollegefacultystaff", "university", "educational", "precollege")
NAMED_ORGTYPES = EDUCATION + ("government", "industry")
USER_FORMATS = {1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 2, 7: 1, 8: 2, 9: 2, 10: 2, 11: 2}
CLASS_COLUMN = {1: 8, 2: 9, 3: 10, 6: 11}      # domainclasses id -> org-type column
LEGACY_ORDER = (periods.ROLLING_12, periods.MONTH, periods.CALENDAR_YEAR, periods.QUARTER,
                periods.FISCAL_YEAR, periods.ALL_TIME)


class Writer:
    """Replaces summary cells (each cell's old row goes, its new one comes), as HUBzero's readers expect.

    Cells are collected and written per table in two statements at `flush`
    (the month's summary runs in one transaction, so readers see no gap).
    """

    def __init__(self, cur, met: str, stamp: str, period: int):
        self.cur, self.met, self.stamp, self.period = cur, met, stamp, period
        self.pending: dict[str, dict[tuple[int, int], tuple]] = {}
        self.written: dict[str, dict[tuple[int, int], tuple]] = {}

    def cell(self, table: str, rowid: int, colid: int, value, valfmt: int) -> None:
        self.pending.setdefault(table, {})[(rowid, colid)] = (value, valfmt)

    def flush(self) -> None:
        for table, cells in self.pending.items():
            t = f"{self.met}.{q(table)}"
            keys = sorted(cells)
            self.cur.execute(f"DELETE FROM {t} WHERE datetime = %s AND period = %s AND (rowid, colid) IN "
                             f"({', '.join(['(%s, %s)'] * len(keys))})",
                             (self.stamp, self.period, *[k for key in keys for k in key]))
            self.cur.executemany(f"INSERT INTO {t} (rowid, colid, datetime, period, value, valfmt) "
                                 f"VALUES (%s, %s, %s, %s, %s, %s)",
                                 [(r, c, self.stamp, self.period, *cells[(r, c)]) for r, c in keys])
            self.written.setdefault(table, {}).update(cells)
        self.pending = {}

    def copy_to(self, period: int) -> None:
        """The same cells under another period whose window is this one's."""
        twin = Writer(self.cur, self.met, self.stamp, period)
        twin.pending = {table: dict(cells) for table, cells in self.written.items()}
        twin.flush()


def _text(cur, sql, params=()):
    """A value as the reference stores it: '' where SQL gives NULL."""
    cur.execute(sql, params)
    row = cur.fetchone()
    return row[0] if row and row[0] is not None else ""


def _one(cur, sql, params=()):
    cur.execute(sql, params)
    row = cur.fetchone()
    return row[0] if row and row[0] is not None else 0


def continents(cur, met: str) -> dict[str, tuple]:
    out = {}
    for label, where in (("AS", "continent = 'AS'"), ("EU", "continent = 'EU'"),
                         ("OTHER", "continent NOT IN ('EU', 'AS')")):
        cur.execute(f"SELECT country FROM {met}.country_continent WHERE {where}")
        out[label] = tuple(r[0] for r in cur.fetchall() if r[0]) or ("",)
    return out


def residence_filters(column: str, cont: dict) -> list[tuple[int, str, tuple]]:
    """Columns 1-6: (colid, extra SQL, its parameters) on a country column."""
    return [(1, "", ()), (2, f"{column} <> ''", ()), (3, f"{column} = 'US'", ()),
            (4, f"{column} IN %s", (cont["AS"],)), (5, f"{column} IN %s", (cont["EU"],)),
            (6, f"{column} <> '' AND {column} IN %s AND {column} <> 'US'", (cont["OTHER"],))]


def orgtype_filters(column: str) -> list[tuple[int, str, tuple]]:
    """Columns 7-11 on an org-type column."""
    return [(7, f"{column} <> ''", ()), (8, f"{column} IN %s", (EDUCATION,)),
            (9, f"{column} = 'industry'", ()), (10, f"{column} = 'government'", ()),
            (11, f"{column} NOT IN %s AND {column} <> ''", (NAMED_ORGTYPES,))]


def ip_residence_filters(cont: dict) -> list[tuple[int, str, tuple]]:
    """Columns 1-6 on a session's ipcountry ('-' is no country)."""
    return [(1, "", ()), (2, "ipcountry <> '' AND ipcountry <> '-'", ()), (3, "ipcountry = 'US'", ()),
            (4, "ipcountry IN %s", (cont["AS"],)), (5, "ipcountry IN %s", (cont["EU"],)),
            (6, "ipcountry IN %s AND ipcountry <> 'US'", (cont["OTHER"],))]


class VisitorCells:
    """The visitor cells of the periods summarized so far, by everything they are computed from.

    Those cells (`_visitors_from_rollups`) read only the rollup rows a window
    selects (by their month and `late` flag, the download rows' own flags
    following from those) and the addresses of the window's logins.  On a
    young hub, or after a quiet stretch, the long windows select the rows
    of the short ones, and their cells are copied, not recomputed.
    """

    def __init__(self, cur, met: str):
        self.buckets = []
        for table in ("hzflow_seen_sessions", "hzflow_seen_downloads"):
            cur.execute(f"SELECT DISTINCT month, late FROM {met}.{table}")
            self.buckets.append(sorted((m, bool(late)) for m, late in cur.fetchall()))
        self.cells: dict[tuple, dict[tuple, tuple]] = {}

    def key(self, cur, start: str, month: str) -> tuple:
        first = start[:7]
        cur.execute("SELECT DISTINCT ip FROM hz_login_ips")
        logins = tuple(sorted({ip for (ip,) in cur.fetchall()}))
        selected = tuple(tuple(b for b in buckets if first <= b[0] <= month and (b[1] or b[0] > first))
                         for buckets in self.buckets)
        return month, selected, logins

    def write(self, cur, w: Writer, start: str, month: str, compute) -> None:
        key = self.key(cur, start, month)
        if key not in self.cells:
            recorder = _Recorder(w)
            compute(recorder)
            self.cells[key] = recorder.cells
            return
        for (table, rowid, colid), (value, valfmt) in self.cells[key].items():
            w.cell(table, rowid, colid, value, valfmt)


class _Recorder:
    """A Writer's cell() that also keeps what it was given."""

    def __init__(self, w: Writer):
        self.w, self.cells = w, {}

    def cell(self, table: str, rowid: int, colid: int, value, valfmt: int) -> None:
        self.cells[(table, rowid, colid)] = (value, valfmt)
        self.w.cell(table, rowid, colid, value, valfmt)


def _and(extra: str) -> str:
    return f" AND {extra}" if extra else ""


def tool_names(cur, settings, apps_dir: Path = Path("/apps")) -> tuple:
    """'workspace', the tools installed under /apps, and every non-development instance of them."""
    seeds = ["workspace"]
    if apps_dir.is_dir():
        for tool in sorted(apps_dir.iterdir()):
            if tool.name in ("share", "share64") or not tool.is_dir():
                continue
            if any(any(tool.glob(p)) for p in ("tool.xml", "*/tool.xml", "*/*/tool.xml")):
                seeds.append(tool.name)
    seeds = list(dict.fromkeys(seeds))
    cur.execute(f"SELECT DISTINCT instance FROM {q(settings.db.hub_db)}.{q(settings.db.prefix + 'tool_version')} "
                f"WHERE toolname IN %s AND instance NOT LIKE %s", (tuple(seeds), "%\\_dev"))
    return tuple(seeds + [i for (i,) in cur.fetchall() if i])


def _class_counts(cur, sql, params) -> tuple[int, dict]:
    cur.execute(sql, params)
    counts, identified = {}, 0
    for n, cls in cur.fetchall():
        n = int(n or 0)
        if cls is not None and int(cls) in CLASS_COLUMN:
            counts[CLASS_COLUMN[int(cls)]] = n
        identified += n
    return identified, counts


def _write_classes(w: Writer, rowid: int, identified: int, counts: dict) -> None:
    w.cell("summary_user_vals", rowid, 7, identified, 1)
    for colid in (8, 9, 10, 11):
        w.cell("summary_user_vals", rowid, colid, counts.get(colid, 0), 2)


def _registered_share(cur, met, ip_sql, params) -> int:
    """Users who logged in (ever) from any of the addresses the query returns, 127.0.0.1 included."""
    cur.execute(ip_sql, params)
    ips = ("127.0.0.1",) + tuple(r[0] for r in cur.fetchall() if r[0])
    return int(_one(cur, f"SELECT COUNT(DISTINCT user) FROM {met}.userlogin_lite ul "
                         f"WHERE (ul.action = 'login' OR ul.action = 'simulation') AND ul.ip IN %s", (ips,)))


def summarize_period(settings, cur, month: str, period: int, cont: dict, tools: tuple, *,
                     rollups: bool = True, known_visitors: VisitorCells | None = None,
                     figures=None, sim_users: str | None = None) -> Writer:
    """Every cell of one period; returns the writer, which knows the cells it wrote."""
    met, d = q(settings.db.metrics_db), settings.db
    hub = q(d.hub_db)
    start, stop = periods.window(month, period)
    w = Writer(cur, met, f"{month}-00", period)
    win = (start, stop)
    users = "summary_user_vals"

    # addresses of registered users in the period (and the loopback), excluded from rows 7 and 8
    cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_login_ips")
    cur.execute("CREATE TEMPORARY TABLE hz_login_ips (ip VARCHAR(45), INDEX (ip)) DEFAULT CHARSET=utf8mb3")
    cur.execute("INSERT INTO hz_login_ips VALUES ('127.0.0.1')")
    cur.execute(f"INSERT INTO hz_login_ips SELECT DISTINCT ip FROM {met}.userlogin_lite "
                f"WHERE action IN ('login', 'simulation') AND datetime > %s AND datetime < %s AND ip <> ''", win)

    # row 6: registered users (logins)
    w.cell(users, 6, 1, _one(cur, f"SELECT COUNT(DISTINCT user) FROM {met}.userlogin_lite WHERE datetime > %s "
                                  f"AND datetime < %s AND action IN ('login', 'simulation')", win), 1)
    _user_cells(cur, w, 6, residence_filters("countryresident", cont)[1:] + orgtype_filters("orgtype"),
                f"SELECT DISTINCT ul.user, u.countryresident, u.orgtype FROM {met}.userlogin_lite ul "
                f"JOIN {met}.{q(d.prefix + 'xprofiles_metrics')} u ON u.username = ul.user "
                f"WHERE ul.datetime > %s AND ul.datetime < %s AND ul.action IN ('login', 'simulation')", win)

    if rollups:
        seen = known_visitors or VisitorCells(cur, met)
        seen.write(cur, w, start, month, lambda out: _visitors_from_rollups(cur, out, met, start, month, cont))
    else:
        _visitors_by_rescan(cur, w, met, win, cont)

    # row 1: the sum of rows 6, 7 and 8, cell by cell
    w.flush()
    for colid in range(1, 12):
        fmt = 1 if colid in (1, 2, 7) else 2
        total = _one(cur, f"SELECT SUM(value) FROM {met}.summary_user_vals WHERE valfmt = %s AND colid = %s "
                          f"AND period = %s AND datetime = %s AND rowid IN (6, 7, 8)",
                     (fmt, colid, period, f"{month}-00"))
        w.cell(users, 1, colid, total, fmt)

    # row 2: simulation users
    if sim_users:
        users_sql, params = f"SELECT user, countryresident, orgtype FROM {sim_users} WHERE last > %s", (start,)
    else:
        users_sql, params = (f"SELECT DISTINCT user, countryresident, orgtype FROM {met}.toolstart "
                             f"WHERE success = 1 AND datetime > %s AND datetime < %s", win)
    _user_cells(cur, w, 2, residence_filters("countryresident", cont) + orgtype_filters("orgtype"),
                users_sql, params)

    simusage.simulation_usage(cur, w, met, hub, win, tools, figures)
    _misc_usage(cur, w, met, d.prefix, win, start, stop)
    w.flush()
    return w


def _user_cells(cur, w: Writer, rowid: int, filters, users_sql: str, params) -> None:
    """COUNT(DISTINCT user) under each column's filter, from one pass collecting (user, residence, org type)."""
    cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_win_users")
    cur.execute(f"CREATE TEMPORARY TABLE hz_win_users {users_sql}", params)
    for colid, extra, args in filters:
        w.cell("summary_user_vals", rowid, colid, _one(cur, f"SELECT COUNT(DISTINCT user) FROM hz_win_users"
                                                            f"{' WHERE ' + extra if extra else ''}", args),
               USER_FORMATS[colid])


LOGIN_IPS = "SELECT ip FROM hz_login_ips"
SESSION_CLASSES = ("LEFT JOIN {met}.domainclass dc ON ws.domain = dc.domain "
                   "LEFT JOIN {met}.domainclasses dcs ON dc.class = dcs.class")


def _visitors_by_rescan(cur, w: Writer, met, win, cont) -> None:
    """Rows 7, 3, 8 and 4 and summary_misc_vals rows 1-5 with the reference's own queries over the window."""
    users, login_ips = "summary_user_vals", LOGIN_IPS
    cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_dl_users")
    cur.execute(f"CREATE TEMPORARY TABLE hz_dl_users SELECT DISTINCT ws.ip, ws.host, ws.ipcountry "
                f"FROM {met}.web w JOIN {met}.websessions ws ON ws.id = w.sessionid WHERE w.dnload = 1 "
                f"AND ws.datetime > %s AND ws.datetime < %s AND ws.duration >= 0 AND ws.duration < 900 "
                f"AND ws.jobs = 0 AND ws.ip NOT IN ({login_ips})", win)
    # rows 7 and 3: interactive users
    for colid, extra, args in ip_residence_filters(cont):
        v7 = _one(cur, f"SELECT COUNT(DISTINCT ip, host) FROM {met}.websessions WHERE datetime > %s "
                       f"AND datetime < %s AND duration >= 900 AND jobs = 0 AND ip NOT IN ({login_ips})"
                       f"{_and(extra)}", (*win, *args))
        w.cell(users, 7, colid, v7, USER_FORMATS[colid])
        share = _registered_share(cur, met, f"SELECT DISTINCT ip FROM {met}.websessions WHERE datetime > %s "
                                            f"AND datetime < %s AND jobs = 0 AND duration >= 900{_and(extra)}",
                                  (*win, *args))
        w.cell(users, 3, colid, v7 + share, USER_FORMATS[colid])
    classes = SESSION_CLASSES.format(met=met)
    _write_classes(w, 7, *_class_counts(
        cur, f"SELECT COUNT(DISTINCT ws.ip, ws.host), dc.class AS class FROM {met}.websessions ws {classes} "
             f"WHERE ws.duration >= 900 AND ws.jobs = 0 AND ws.datetime > %s AND ws.datetime < %s "
             f"AND dc.class > 0 AND dc.class <> 4 AND ws.ip NOT IN ({login_ips}) GROUP BY class ORDER BY class",
        win))
    _write_classes(w, 3, *_class_counts(
        cur, f"SELECT COUNT(DISTINCT ul.user), dc.class AS class FROM {met}.userlogin_lite ul "
             f"LEFT JOIN {met}.websessions ws ON ul.ip = ws.ip {classes} WHERE ws.jobs = 0 AND ws.duration >= 900 "
             f"AND ws.datetime > %s AND ws.datetime < %s AND dc.class > 0 AND dc.class <> 4 "
             f"AND (ul.action = 'login' OR ul.action = 'simulation') GROUP BY class ORDER BY class", win))

    # rows 8 and 4: download users
    for colid, extra, args in ip_residence_filters(cont):
        v8 = _one(cur, "SELECT COUNT(DISTINCT ip, host) FROM hz_dl_users"
                       + (f" WHERE {extra}" if extra else ""), args)
        w.cell(users, 8, colid, v8, USER_FORMATS[colid])
        share = _registered_share(
            cur, met, f"SELECT DISTINCT ws.ip FROM {met}.websessions ws JOIN {met}.web w ON w.sessionid = ws.id "
                      f"WHERE w.dnload = 1 AND ws.datetime > %s AND ws.datetime < %s AND ws.duration >= 0 "
                      f"AND ws.jobs = 0{_and(extra.replace('ipcountry', 'ws.ipcountry'))}", (*win, *args))
        w.cell(users, 4, colid, v8 + share, USER_FORMATS[colid])
    cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_dl_sessions")
    cur.execute("CREATE TEMPORARY TABLE hz_dl_sessions (id BIGINT, INDEX (id))")
    have = cur.execute(f"INSERT INTO hz_dl_sessions SELECT DISTINCT sessionid FROM {met}.web WHERE dnload = 1 "
                       f"AND datetime > %s AND datetime < %s AND sessionid IS NOT NULL", win)
    empty = (0, {})
    _write_classes(w, 8, *(_class_counts(
        cur, f"SELECT COUNT(DISTINCT ws.ip, ws.host), dc.class AS class FROM {met}.websessions ws {classes} "
             f"WHERE ws.duration >= 0 AND ws.duration < 900 AND ws.jobs = 0 AND ws.datetime > %s "
             f"AND ws.datetime < %s AND dc.class > 0 AND dc.class <> 4 AND ws.ip NOT IN ({login_ips}) "
             f"AND ws.id IN (SELECT id FROM hz_dl_sessions) GROUP BY class ORDER BY class", win) if have else empty))
    _write_classes(w, 4, *(_class_counts(
        cur, f"SELECT COUNT(DISTINCT ul.user), dc.class AS class FROM {met}.userlogin_lite ul "
             f"LEFT JOIN {met}.websessions ws ON ul.ip = ws.ip {classes} WHERE ws.jobs = 0 AND ws.duration >= 0 "
             f"AND ws.datetime > %s AND ws.datetime < %s AND dc.class > 0 AND dc.class <> 4 "
             f"AND ws.id IN (SELECT id FROM hz_dl_sessions) AND (ul.action = 'login' OR ul.action = 'simulation') "
             f"GROUP BY class ORDER BY class", win) if have else empty))

    sessions = f"FROM {met}.websessions WHERE datetime > %s AND datetime < %s"
    misc = "summary_misc_vals"
    w.cell(misc, 1, 1, _one(cur, f"SELECT COUNT(DISTINCT domain) {sessions}", win), 1)
    w.cell(misc, 2, 1, _one(cur, f"SELECT COUNT(datetime) {sessions} AND (duration >= 900 OR jobs > 0)", win), 1)
    w.cell(misc, 3, 1, _text(cur, f"SELECT SUM(duration) {sessions} AND (duration >= 900 OR jobs > 0)", win), 5)
    w.cell(misc, 4, 1, _one(cur, f"SELECT COUNT(DISTINCT ip, host) {sessions} AND (duration >= 0 OR jobs > 0)",
                            win), 1)
    w.cell(misc, 5, 1, _one(cur, f"SELECT COUNT(datetime) {sessions} AND (duration >= 0 OR jobs > 0)", win), 1)


def _visitors_from_rollups(cur, w: Writer, met, start: str, month: str, cont) -> None:
    """The cells of `_visitors_by_rescan`, from the window's distinct visitor keys in the rollups."""
    visitors = rollupmod.WindowVisitors(cur, met, start, month)
    sessions, downloads = visitors.SESSIONS, visitors.DOWNLOADS
    users, not_login = "summary_user_vals", f"ip NOT IN ({LOGIN_IPS})"
    columns = ip_residence_filters(cont)
    args = tuple(a for _, _, column_args in columns for a in column_args)
    for table, (visitor_row, share_row), visitor_kind, share_kind in (
            (sessions, (7, 3), "interactive", "interactive"), (downloads, (8, 4), "short", "TRUE")):
        counted = _one_row(cur, "SELECT " + ", ".join(f"COUNT(DISTINCT IF({extra or 'TRUE'}, ip, NULL), host)"
                                                      for _, extra, _ in columns)
                           + f" FROM {table} WHERE {visitor_kind} AND {not_login}", args)
        shares = _login_shares(cur, met, table, share_kind, columns)
        for (colid, _, _), visitors_cell, share in zip(columns, counted, shares, strict=True):
            w.cell(users, visitor_row, colid, visitors_cell, USER_FORMATS[colid])
            w.cell(users, share_row, colid, visitors_cell + share, USER_FORMATS[colid])

    classes = f"LEFT JOIN {met}.domainclass dc ON v.domain = dc.domain"
    known, logins = "dc.class > 0 AND dc.class <> 4", "ul.action IN ('login', 'simulation')"
    by_class = "GROUP BY class ORDER BY class"
    for rowid, table, where in ((7, sessions, "v.interactive"), (8, downloads, "v.short AND v.dl_in")):
        _write_classes(w, rowid, *_class_counts(
            cur, f"SELECT COUNT(DISTINCT v.ip, v.host), dc.class AS class FROM {table} v {classes} "
                 f"WHERE {where} AND {known} AND v.{not_login} {by_class}", ()))
    for rowid, table, where in ((3, sessions, "v.interactive"), (4, downloads, "v.dl_in")):
        _write_classes(w, rowid, *_class_counts(
            cur, f"SELECT COUNT(DISTINCT ul.user), dc.class AS class FROM {met}.userlogin_lite ul "
                 f"JOIN {table} v ON ul.ip = v.ip {classes} WHERE {where} AND {known} AND {logins} {by_class}", ()))

    misc = "summary_misc_vals"
    long_sessions, long_duration, visits = visitors.totals()
    w.cell(misc, 1, 1, _one(cur, f"SELECT COUNT(DISTINCT domain) FROM {sessions}"), 1)
    w.cell(misc, 2, 1, long_sessions, 1)
    w.cell(misc, 3, 1, "" if long_duration is None else long_duration, 5)
    w.cell(misc, 4, 1, _one(cur, f"SELECT COUNT(DISTINCT ip, host) FROM {sessions} WHERE visit"), 1)
    w.cell(misc, 5, 1, visits, 1)


def _login_shares(cur, met, table: str, where: str, columns) -> list[int]:
    """Per residence column, users who ever logged in from one of its addresses or from 127.0.0.1.

    The reference asks once per column with the column's non-empty
    addresses as a list; one join over flagged addresses gives the same.
    """
    flags = ", ".join(f"MAX({extra or 'TRUE'}) AS f{colid}" for colid, extra, _ in columns)
    cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_share_ips")
    cur.execute(f"CREATE TEMPORARY TABLE hz_share_ips (INDEX (ip)) SELECT ip, {flags} FROM {table} "
                f"WHERE {where} AND LENGTH(ip) > 0 GROUP BY ip",
                tuple(a for _, _, args in columns for a in args))
    cur.execute("INSERT INTO hz_share_ips VALUES ('127.0.0.1'" + ", TRUE" * len(columns) + ")")
    return [int(v or 0) for v in _one_row(
        cur, "SELECT " + ", ".join(f"COUNT(DISTINCT IF(s.f{colid}, ul.user, NULL))" for colid, _, _ in columns)
        + f" FROM {met}.userlogin_lite ul JOIN hz_share_ips s ON ul.ip = s.ip "
          f"WHERE ul.action = 'login' OR ul.action = 'simulation'")]


def _one_row(cur, sql, params=()) -> tuple:
    cur.execute(sql, params)
    return cur.fetchone()


def _misc_usage(cur, w: Writer, met, prefix, win, start, stop) -> None:
    """summary_misc_vals rows 6-8: registrations, the busiest login day, hits."""
    misc = "summary_misc_vals"
    w.cell(misc, 6, 1, _text(cur, f"SELECT COUNT(DISTINCT uidNumber) FROM {met}.{q(prefix + 'xprofiles_metrics')} "
                            f"WHERE registerDate > %s AND registerDate < %s", win), 1)
    cur.execute(f"SELECT LEFT(datetime, 10) AS day, COUNT(DISTINCT user) AS logins FROM {met}.userlogin_lite "
                f"WHERE datetime > %s AND datetime < %s AND action IN ('login', 'simulation') "
                f"GROUP BY day ORDER BY logins DESC, day LIMIT 1", win)
    best = cur.fetchone()
    w.cell(misc, 7, 1, f"{best[1]} users on {best[0]}" if best else " users on ", 6)
    w.cell(misc, 8, 1, _text(cur, f"SELECT SUM(hits) FROM {met}.webhits WHERE datetime >= %s AND datetime < %s",
                            (start, stop)), 1)


LOGIN_ACTIONS = ("login", "simulation")


def refresh_userlogin_lite(cur, met: str) -> bool:
    """userlogin_lite: the logins and simulations of userlogin, indexed for the summaries.

    Rebuilt beside the old copy and swapped in with one RENAME (readers never
    see it missing), and only when userlogin's logins changed since.
    """
    source = f"FROM {met}.userlogin WHERE action IN %s"
    cur.execute(f"SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) {source}", (LOGIN_ACTIONS,))
    wanted = cur.fetchone()
    cur.execute("SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = %s "
                "AND table_name = 'userlogin_lite' AND index_name = 'ip_user_action'", (met.strip("`"),))
    if cur.fetchone()[0]:
        cur.execute(f"SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM {met}.userlogin_lite")
        if cur.fetchone() == wanted:
            return False
    cur.execute(f"DROP TABLE IF EXISTS {met}.userlogin_lite_new, {met}.userlogin_lite_old")
    cur.execute(f"CREATE TABLE {met}.userlogin_lite_new (INDEX uidNumber (uidNumber), "
                f"INDEX datetime_user (datetime, user), INDEX ip_user_action (ip, user, action)) "
                f"ENGINE=InnoDB SELECT * {source}", (LOGIN_ACTIONS,))
    cur.execute(f"CREATE TABLE IF NOT EXISTS {met}.userlogin_lite LIKE {met}.userlogin_lite_new")
    cur.execute(f"RENAME TABLE {met}.userlogin_lite TO {met}.userlogin_lite_old, "
                f"{met}.userlogin_lite_new TO {met}.userlogin_lite")
    cur.execute(f"DROP TABLE {met}.userlogin_lite_old")
    return True


def summarize_month(settings, month: str, *, period_codes=LEGACY_ORDER, rollups: bool = True,
                    dry_run: bool = False, say=print) -> dict:
    """All summary cells of `month`, in one transaction; `rollups=False` rescans the history as the reference does."""
    met = q(settings.db.metrics_db)
    with dbmod.connection(settings) as conn:
        from_rollups = rollups and rollupmod.ensure(settings, conn, month, dry_run=dry_run, say=say)
        if dry_run:
            for p in period_codes:
                say(f"[dry-run] summarize {month} period {p}: {' .. '.join(periods.window(month, p))}")
            return {"stage": "summarize-month", "status": "dry-run"}
        with conn.cursor() as cur:
            refreshed = refresh_userlogin_lite(cur, met)
        with dbmod.transaction(conn) as cur:
            tools = tool_names(cur, settings)
            cont = continents(cur, met)
            by_window: dict[tuple[str, str], tuple[int, Writer]] = {}
            known_visitors = VisitorCells(cur, met) if from_rollups else None
            figures = simusage.month_figures(met, q(settings.db.hub_db), [periods.window(month, p) for p in period_codes],
                                    tools)
            sim_users = simusage.simulation_users(cur, met, periods.window(month, periods.MONTH)[1])
            for period in period_codes:
                began, win = time.monotonic(), periods.window(month, period)
                if win in by_window:          # a quarter's first month: the month's own window
                    first, writer = by_window[win]
                    writer.copy_to(period)
                    say(f"  period {period} ({' .. '.join(win)}): the window of period {first}, its cells")
                    continue
                by_window[win] = period, summarize_period(settings, cur, month, period, cont, tools,
                                                          rollups=from_rollups, known_visitors=known_visitors,
                                                          figures=figures, sim_users=sim_users)
                say(f"  period {period} ({' .. '.join(win)}): {time.monotonic() - began:.1f} s")
    say(f"summarize-month {month}: periods {', '.join(map(str, period_codes))}"
        f"{'' if from_rollups else ' (full rescan)'}{'; userlogin_lite rebuilt' if refreshed else ''}")
    return {"stage": "summarize-month", "month": month, "source": "rollups" if from_rollups else "rescan",
            "userlogin_lite_rebuilt": refreshed}
