"""summary_simusage_vals: the simulation figures of a month's summary windows.

Rows: 1 simulation users, 2 runs, 3 CPU time, 4 wall time, 5 interaction
time, 6 heavy users (600 s of CPU or more), 7 runs per user, 8 days between
a user's first and last run, per user, in seconds, 9 frequent users (ten
runs or more), 10 users spread over 90 days or more.  All of a month's
windows end on the same day and differ in their first, so each source is
read once for all of them: the tool starts in one pass, the hub's own
`sessionlog` and `joblog` (no index on `start`) in one walk.
"""

from __future__ import annotations

from .enrich.hubdata import not_monitoring


def hub_session_sums(cur, hub, windows, tools) -> dict[tuple[str, str], dict]:
    """Per window, the simulation figures that read the hub's own sessionlog and joblog.

    Those tables have no index on `start`: asking them per period walked
    all their years five times a period.  The month's windows all end on
    the same day and differ in their first, so one walk answers every
    window, each sum adding its rows in the order its own walk would (the
    table's), so even the floating-point sums are the same numbers.
    """
    out = {}
    for stop in sorted({hi for _, hi in windows}):
        los = sorted({lo for lo, hi in windows if hi == stop})
        users, monitoring = not_monitoring("username")
        joined, _ = not_monitoring("s.username")
        cur.execute("SELECT " + ", ".join(
            ["COALESCE(SUM(IF(start > %s AND appname NOT IN %s, cputime, NULL)), 0)"] * len(los)
            + [f"SUM(IF(start > %s AND {users}, walltime, NULL))"] * len(los)
            + [f"SUM(IF(start > %s AND {users}, viewtime, NULL))"] * len(los))
            + f" FROM {hub}.sessionlog WHERE start > %s AND start < %s",
            (*[a for lo in los for a in (lo, tools)], *[a for lo in los for a in (lo, *monitoring)] * 2,
             los[0], stop))
        row = cur.fetchone()
        n = len(los)
        cpu_sessions, wall, view = row[:n], row[n:2 * n], row[2 * n:]
        cur.execute("SELECT " + ", ".join(["COALESCE(SUM(IF(s.start > %s, j.cputime, NULL)), 0)"] * n)
                    + f" FROM {hub}.joblog j JOIN {hub}.sessionlog s ON s.sessnum = j.sessnum "
                      f"WHERE s.start > %s AND s.start < %s AND j.event <> '[waiting]' AND j.job > 0 "
                      f"AND {joined} AND s.appname IN %s", (*los, los[0], stop, *monitoring, tools))
        cpu_jobs = cur.fetchone()
        cur.execute("SELECT " + ", ".join(f"COALESCE(SUM(c{k} >= 600), 0)" for k in range(n))
                    + " FROM (SELECT username, "
                    + ", ".join(f"SUM(IF(start > %s, cputime, NULL)) AS c{k}" for k in range(n))
                    + f" FROM {hub}.sessionlog WHERE start > %s AND start < %s AND {users} GROUP BY username) heavy",
                    (*los, los[0], stop, *monitoring))
        heavy = cur.fetchone()
        for k, lo in enumerate(los):
            out[(lo, stop)] = {"cpu_sessions": cpu_sessions[k], "cpu_jobs": cpu_jobs[k],
                               "walltime": wall[k] if wall[k] is not None else 0,
                               "viewtime": view[k] if view[k] is not None else 0, "heavy": int(heavy[k])}
    return out


def tool_start_figures(cur, met, windows) -> dict[tuple[str, str], dict]:
    """Per window, the simulation figures of the tool starts (summary_simusage_vals rows 1, 2, 8-10).

    One pass over the successful tool starts, grouped by user (as each
    legacy query groups or joins them), answers every window of the month:
    they all end on the same day, so a user's last start in a window is
    their last start before that day whenever the window holds one.
    Counts and day numbers only, so the order of the rows cannot matter.
    """
    out = {}
    for stop in sorted({hi for _, hi in windows}):
        los = sorted({lo for lo, hi in windows if hi == stop})
        n = len(los)
        per_user = ", ".join(
            [f"COUNT(IF(datetime > %s AND datetime < %s, 1, NULL)) AS n{k}" for k in range(n)]
            + [f"COUNT(IF(datetime > %s AND datetime > '1995-01-01' AND datetime < %s, 1, NULL)) AS m{k}"
               for k in range(n)])
        known = "user IS NOT NULL"
        figures = ", ".join(
            [f"COALESCE(SUM({known} AND n{k} > 0), 0)" for k in range(n)]
            + [f"COALESCE(SUM(IF({known}, n{k}, 0)), 0)" for k in range(n)]
            + [f"COALESCE(SUM(IF({known} AND m{k} > 1 AND TO_DAYS(last95) > TO_DAYS(first95), "
               f"TO_DAYS(last95) - TO_DAYS(first95), 0)), 0)" for k in range(n)]
            + [f"COALESCE(SUM(n{k} >= 10), 0)" for k in range(n)]
            + [f"COALESCE(SUM({known} AND n{k} > 0 AND TO_DAYS(last0) - TO_DAYS(first0) >= 90 "
               f"AND TO_DAYS(first0) > 0), 0)" for k in range(n)])
        cur.execute(f"SELECT {figures} FROM (SELECT user, {per_user}, MAX(IF(datetime < %s, datetime, NULL)) AS last0, "
                    f"MAX(IF(datetime > '1995-01-01' AND datetime < %s, datetime, NULL)) AS last95, "
                    f"MIN(datetime) AS first0, MIN(IF(datetime > '1995-01-01', datetime, NULL)) AS first95 "
                    f"FROM {met}.toolstart WHERE success = 1 GROUP BY user) starts",
                    (*[a for lo in los for a in (lo, stop)] * 2, stop, stop))
        row = [int(v) for v in cur.fetchone()]
        for k, lo in enumerate(los):
            out[(lo, stop)] = {"users": row[k], "runs": row[n + k], "days": row[2 * n + k],
                               "frequent": row[3 * n + k], "spread": row[4 * n + k]}
    return out


class AllWindows:
    """A figure function of the month's windows, asked for all of them the first time a period needs one."""

    def __init__(self, figures, windows):
        self.figures, self.windows, self.values = figures, list(windows), None

    def __call__(self, cur, win) -> dict:
        if self.values is None:
            self.values = self.figures(cur, self.windows)
        return self.values[tuple(win)]


def month_figures(met, hub, windows, tools) -> tuple[AllWindows, AllWindows]:
    """The tool starts' and the hub sessions' figures of the month's windows (each asked once, when needed)."""
    return (AllWindows(lambda cur, wins: tool_start_figures(cur, met, wins), windows),
            AllWindows(lambda cur, wins: hub_session_sums(cur, hub, wins, tools), windows))


def simulation_usage(cur, w, met, hub, win, tools, figures=None) -> None:
    """summary_simusage_vals rows 1-10 of one window (w: the period's summary.Writer)."""
    sims = "summary_simusage_vals"
    starts, sessions = figures or month_figures(met, hub, [win], tools)
    start_figures = starts(cur, win)
    users = start_figures["users"]
    w.cell(sims, 1, 1, users, 3)
    if not users:
        return
    runs = start_figures["runs"]
    w.cell(sims, 2, 1, runs, 4)
    hub_figures = sessions(cur, win)
    w.cell(sims, 3, 1, hub_figures["cpu_sessions"] + hub_figures["cpu_jobs"], 5)
    for rowid, column in ((4, "walltime"), (5, "viewtime")):
        w.cell(sims, rowid, 1, hub_figures[column], 5)
    w.cell(sims, 6, 1, hub_figures["heavy"], 3)
    w.cell(sims, 7, 1, runs / users, 4)
    w.cell(sims, 8, 1, start_figures["days"] / users * 86400, 5)
    w.cell(sims, 9, 1, start_figures["frequent"], 3)
    w.cell(sims, 10, 1, start_figures["spread"], 3)


def simulation_users(cur, met, stop: str) -> str:
    """Every (user, residence, org type) of a successful tool start before `stop`, with its last start.

    A period's simulation users (row 2) are those whose last start is after
    its first day: the month's windows all end at `stop`, so one pass
    serves them all, where each period walked the tool starts again.
    """
    cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_sim_users")
    cur.execute(f"CREATE TEMPORARY TABLE hz_sim_users (INDEX (last)) SELECT user, countryresident, orgtype, "
                f"MAX(datetime) AS last FROM {met}.toolstart WHERE success = 1 AND datetime < %s "
                f"GROUP BY user, countryresident, orgtype", (stop,))
    return "hz_sim_users"
