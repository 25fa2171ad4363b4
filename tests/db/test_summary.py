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
