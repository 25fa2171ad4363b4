"""summarize-month against the real database: the row-1 invariant, idempotency, dry-run."""

from test_hubdata import seed_hub


def seed(hub):
    seed_hub(hub)
    hub.hzflow("import-hub-data")
    hub.insert("userlogin", "datetime, user, uidNumber, ip, action",
               [("2025-07-03 10:00:00", "alice", 1, "192.0.2.1", "login"),
                ("2025-07-04 10:00:00", "carol", 3, "192.0.2.7", "login")])
    hub.insert("websessions", "id, datetime, ip, host, domain, ipcountry, duration, jobs",
               [(1, "2025-07-02 10:00:00", "198.51.100.1", "a.example.edu", "example.edu", "US", 1200, 0),
                (2, "2025-07-05 10:00:00", "198.51.100.2", "b.example.com", "example.com", "DE", 100, 0),
                (3, "2025-06-05 10:00:00", "198.51.100.3", "c.example.com", "example.com", "JP", 1000, 0)])
    hub.insert("web", "id, datetime, ip, content, sessionid, dnload",
               [(1, "2025-07-05 10:00:00", "198.51.100.2", "/resources/1/download/a.pdf", 2, 1)])
    hub.query("INSERT INTO domainclass VALUES ('example.edu', 1, 'us', '', 'x') ON DUPLICATE KEY UPDATE class = 1")


def cells(hub, table):
    return hub.dump(table, "rowid, colid, datetime, period, value, valfmt", "rowid, colid, period")


def test_row_one_is_rows_six_seven_and_eight_and_reruns_change_nothing(ready_hub):
    seed(ready_hub)
    ready_hub.hzflow("summarize-month", "2025-07", "--dry-run")
    assert cells(ready_hub, "summary_user_vals") == []
    ready_hub.hzflow("summarize-month", "2025-07")
    user = cells(ready_hub, "summary_user_vals")
    by = {(r, c, p): v for r, c, _, p, v, _ in user}
    periods = {p for _, _, p in by}
    assert periods == {0, 1, 3, 12, 13, 14}
    for p in periods:
        for c in range(1, 12):
            assert by[(1, c, p)] == by[(6, c, p)] + by[(7, c, p)] + by[(8, c, p)], (c, p)
    assert by[(7, 1, 1)] == 1 and by[(8, 1, 1)] == 1 and by[(6, 1, 1)] == 2
    ready_hub.hzflow("summarize-month", "2025-07")
    assert cells(ready_hub, "summary_user_vals") == user
    assert len(cells(ready_hub, "summary_misc_vals")) == 6 * 8


def legacy_hub_figures(cur, hub, win, tools):
    """The reference's own per-window questions, as the oracle for the one-walk sums."""
    from hzflow.enrich.hubdata import MONITORING

    def one(sql, params):
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row and row[0] is not None else 0

    users = "username <> %s AND username NOT LIKE %s"
    return {"cpu_sessions": one(f"SELECT COALESCE(SUM(cputime), 0) FROM {hub}.sessionlog WHERE start > %s "
                                f"AND start < %s AND appname NOT IN %s", (*win, tools)),
            "cpu_jobs": one(f"SELECT COALESCE(SUM(j.cputime), 0) FROM {hub}.joblog j JOIN {hub}.sessionlog s "
                            f"ON s.sessnum = j.sessnum WHERE s.start > %s AND s.start < %s AND j.event <> "
                            f"'[waiting]' AND j.job > 0 AND s.username <> %s AND s.username NOT LIKE %s "
                            f"AND s.appname IN %s", (*win, *MONITORING, tools)),
            "walltime": one(f"SELECT SUM(walltime) FROM {hub}.sessionlog WHERE start > %s AND start < %s "
                            f"AND {users}", (*win, *MONITORING)),
            "viewtime": one(f"SELECT SUM(viewtime) FROM {hub}.sessionlog WHERE start > %s AND start < %s "
                            f"AND {users}", (*win, *MONITORING)),
            "heavy": one(f"SELECT COUNT(*) FROM (SELECT username AS users, SUM(cputime) AS cpu FROM "
                         f"{hub}.sessionlog WHERE start > %s AND start < %s GROUP BY users HAVING cpu >= 600 "
                         f"AND username <> %s AND username NOT LIKE %s) heavy", (*win, *MONITORING))}


def test_one_walk_of_the_hub_sessions_gives_every_window_the_legacy_figures(ready_hub):
    """Sessions on window edges, monitoring accounts in several spellings, NULL times, heavy users near
    600 s, jobs of tools and of other apps: every window's figures equal the legacy per-window questions,
    floating-point sums included, to the bit."""
    import random

    from hzflow import periods, simusage

    rng = random.Random(11)
    names = ["alice", "ALICE", "bob", "gridstat", "GridStat", "hctest7", "HCtest9", "carol", "dave"]
    apps = ["qdot", "QDot", "pntoy", "workspace", "other", "abacus_r1"]
    sessions, jobs = [], []
    for sessnum in range(1, 1500):
        month = rng.choice(["2024-07", "2024-10", "2025-01", "2025-03", "2025-06", "2025-07", "1994-12"])
        start = rng.choice([f"{month}-01 00:00:00", f"{month}-01 00:00:01", f"{month}-15 12:{rng.randrange(60):02d}:13"])
        cpu = rng.choice([None, 0.1, 599.999, 600.0, rng.uniform(0, 900) / 3])
        sessions.append((sessnum, rng.choice(names), start, rng.choice(apps),
                         rng.choice([None, rng.uniform(1, 5000) / 7]), rng.choice([None, rng.uniform(1, 900) / 3]), cpu))
        jobs += [(sessnum, job, rng.choice(["simulation", "[waiting]", "application"]), rng.choice([None, rng.uniform(0, 99) / 7]))
                 for job in range(rng.choice([0, 1, 2]))]
    sessions.append((5000, "erin", "2025-07-20 10:00:00", "qdot", 10.0, 10.0, 600.0))      # exactly heavy
    ready_hub.hub_query("INSERT INTO sessionlog (sessnum, username, start, appname, walltime, viewtime, cputime) "
                        "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(sessions)),
                        [v for row in sessions for v in row])
    ready_hub.hub_query("INSERT INTO joblog (sessnum, job, event, cputime) VALUES "
                        + ", ".join(["(%s, %s, %s, %s)"] * len(jobs)), [v for row in jobs for v in row])
    hub, tools = f"`{ready_hub.settings.db.hub_db}`", ("workspace", "qdot", "pntoy", "abacus_r1")
    conn = ready_hub.server.connect()
    try:
        with conn.cursor() as cur:
            windows = [periods.window("2025-07", p) for p in periods.ALL]
            sums = simusage.hub_session_sums(cur, hub, windows, tools)
            for win in windows:
                want = legacy_hub_figures(cur, hub, win, tools)
                assert sums[win] == want and [type(v) for v in sums[win].values()] == [type(v) for v in want.values()]
    finally:
        conn.close()
    assert any(sums[w]["heavy"] for w in windows) and any(sums[w]["cpu_jobs"] for w in windows)


def legacy_start_figures(cur, met, win):
    def one(sql):
        cur.execute(sql, win)
        row = cur.fetchone()
        return row[0] if row and row[0] is not None else 0

    return {"users": int(one(f"SELECT COUNT(DISTINCT user) FROM {met}.toolstart WHERE success = 1 "
                             f"AND datetime > %s AND datetime < %s")),
            "runs": int(one(f"SELECT COUNT(user) FROM {met}.toolstart WHERE success = 1 AND datetime > %s "
                            f"AND datetime < %s")),
            "days": int(one(f"SELECT SUM(TO_DAYS(w.last) - TO_DAYS(a.first)) FROM (SELECT user, MAX(datetime) AS last "
                            f"FROM {met}.toolstart WHERE success = 1 AND datetime > %s AND datetime > '1995-01-01' "
                            f"AND datetime < %s GROUP BY user HAVING COUNT(*) > 1) w JOIN (SELECT user, "
                            f"MIN(datetime) AS first FROM {met}.toolstart WHERE success = 1 AND datetime > '1995-01-01' "
                            f"GROUP BY user) a ON a.user = w.user WHERE TO_DAYS(w.last) > TO_DAYS(a.first)")),
            "frequent": one(f"SELECT COUNT(*) FROM (SELECT user AS users, COUNT(*) AS runs FROM {met}.toolstart "
                            f"WHERE success = 1 AND datetime > %s AND datetime < %s GROUP BY users "
                            f"HAVING runs >= 10) frequent"),
            "spread": one(f"SELECT COUNT(*) FROM (SELECT w.user, TO_DAYS(w.last) - TO_DAYS(a.first) AS spread, "
                          f"TO_DAYS(a.first) AS first_day FROM (SELECT user, MAX(datetime) AS last FROM {met}.toolstart "
                          f"WHERE success = 1 AND datetime > %s AND datetime < %s GROUP BY user) w JOIN (SELECT user, "
                          f"MIN(datetime) AS first FROM {met}.toolstart WHERE success = 1 GROUP BY user) a "
                          f"ON a.user = w.user) s WHERE s.spread >= 90 AND s.first_day > 0")}


def test_one_pass_over_the_tool_starts_gives_every_window_the_legacy_figures(ready_hub):
    """Users in several spellings, starts before 1995, on zero days, after the month, failed starts,
    users with one start, with ten, spread over more than 90 days: the same figures per window."""
    import random

    from hzflow import periods, simusage

    rng = random.Random(12)
    names = ["alice", "ALICE", "bob", "carol", "Carol", "dave", "erin", "frank", "", "grace"]
    stamps = ["1994-06-01 10:00:00", "1995-01-01 00:00:00", "0000-00-00 00:00:00", "2024-07-31 23:59:59",
              "2024-08-01 00:00:00", "2024-08-01 00:00:01", "2025-01-15 10:00:00", "2025-07-01 00:00:00",
              "2025-07-20 10:00:00", "2025-08-01 00:00:00", "2025-09-03 10:00:00", "2023-03-03 03:03:03"]
    rows = [(rng.choice(stamps), rng.choice(names), rng.choice([1, 1, 1, 0])) for _ in range(400)]
    rows += [("2025-07-0%d 10:00:00" % (1 + i % 9), "heidi", 1) for i in range(10)]      # exactly ten runs
    ready_hub.insert("toolstart", "datetime, user, success", rows)
    met = f"`{ready_hub.settings.db.metrics_db}`"
    conn = ready_hub.server.connect()
    try:
        with conn.cursor() as cur:
            windows = [periods.window("2025-07", p) for p in periods.ALL]
            got = simusage.tool_start_figures(cur, met, windows)
            for win in windows:
                assert got[win] == legacy_start_figures(cur, met, win), win
    finally:
        conn.close()
    assert all(got[w]["days"] and got[w]["frequent"] for w in windows if w[0] < "2025-07-01")


def test_simulation_users_from_one_pass_equal_each_periods_own(ready_hub, monkeypatch):
    """Row 2 (simulation users by residence and org type) from the month's one pass equals each
    period's own walk of the tool starts, spellings and empty values included."""
    import random

    from hzflow import simusage, summary

    rng = random.Random(13)
    rows = [(rng.choice(["1994-06-01 10:00:00", "2024-08-01 00:00:00", "2024-11-05 10:00:00", "2025-02-02 10:00:00",
                         "2025-07-01 00:00:00", "2025-07-09 10:00:00", "2025-08-01 00:00:00"]),
             rng.choice(["alice", "ALICE", "bob", "carol", "dave"]), rng.choice([1, 1, 0]),
             rng.choice(["US", "us", "DE", "CN", "", None]),
             rng.choice(["university", "industry", "government", "other", "", None]))
            for _ in range(300)]
    ready_hub.insert("toolstart", "datetime, user, success, countryresident, orgtype", rows)

    def row_two():
        ready_hub.query("DELETE FROM summary_user_vals")
        summary.summarize_month(ready_hub.settings, "2025-07", say=lambda _: None)
        return ready_hub.dump("summary_user_vals", "rowid, colid, period, value", "rowid, colid, period")

    once = row_two()
    monkeypatch.setattr(simusage, "simulation_users", lambda cur, met, stop: None)
    assert row_two() == once
    assert any(v for r, c, p, v in once if r == 2 and c > 1)
