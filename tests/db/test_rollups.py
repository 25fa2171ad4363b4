"""The per-month rollups give the summary cells of a full rescan, to the last cell.

A randomized history over eighteen months, salted with the cases that make
window arithmetic and distinct counts hard: rows at a month's first
midnight and last second, zero days, case and trailing-space variants of
the same visitor, NULL hosts and domains, negative durations and jobs,
downloads in the month after their session, downloads of vanished
sessions, logins from visitor addresses.  Every month is summarized from
the rollups and by the reference's rescan; all cells must agree.
"""

import random

import pytest

from hzflow import rollups, summary
from hzflow.months import between as months_between

MONTHS = months_between("2023-10", "2025-03")
TABLES = ("summary_user_vals", "summary_simusage_vals", "summary_misc_vals")


def moment(rng, month: str) -> str:
    y, m = month.split("-")
    day = rng.choice(["01", "01", "00", "15", "28", "31" if m in ("01", "03", "05", "07", "08", "10", "12") else "28"])
    clock = rng.choice(["00:00:00", "00:00:00", "00:00:01", "12:30:00", "23:59:59"])
    return f"{y}-{m}-{day} {clock}"


def random_history(hub, seed: int, sessions: int = 600, first_id: int = 1, months=MONTHS) -> None:
    rng = random.Random(seed)
    addresses = [f"198.51.100.{i}" for i in range(1, 25)]
    hosts = ["a.example.edu", "A.Example.EDU", "a.example.edu ", "b.example.com", None, "c.example.org"]
    domains = ["example.edu", "EXAMPLE.edu", "example.com", "example.org", None, ""]
    countries = ["US", "us", "DE", "CN", "JP", "BR", "", "-"]
    ws, web = [], []
    for sid in range(first_id, first_id + sessions):
        month = rng.choice(months)
        when = moment(rng, month)
        ws.append((sid, when, rng.choice(addresses), rng.choice(hosts), rng.choice(domains), rng.choice(countries),
                   rng.choice([-5, 0, 10, 899, 900, 901, 4000]), rng.choice([0, 0, 0, 0, 1, 3, -1])))
        for _ in range(rng.choice([0, 0, 1, 2])):
            later = rng.choice([month, month, MONTHS[min(MONTHS.index(month) + 1, len(MONTHS) - 1)]])
            web.append((moment(rng, later), rng.choice([sid, sid, sid, None, 10 ** 9]), rng.choice([1, 1, 0, None])))
    hub.insert("websessions", "id, datetime, ip, host, domain, ipcountry, duration, jobs", ws)
    hub.insert("web", "datetime, sessionid, dnload", web)
    logins = [(moment(rng, rng.choice(months)), f"user{rng.randrange(12)}", rng.randrange(12),
               rng.choice(addresses + ["127.0.0.1", ""]), rng.choice(["login", "login", "simulation", "logout"]))
              for _ in range(sessions // 5)]
    hub.query("INSERT IGNORE INTO userlogin (datetime, user, uidNumber, ip, action) VALUES "
              + ", ".join(["(%s, %s, %s, %s, %s)"] * len(logins)), [v for row in logins for v in row])
    hub.query("INSERT INTO domainclass (domain, class) VALUES ('example.edu', 1), ('example.com', 2), "
              "('example.org', 4), ('', 6) ON DUPLICATE KEY UPDATE class = VALUES(class)")


def cells(hub) -> dict:
    return {t: hub.dump(t, "rowid, colid, datetime, period, value, valfmt", "rowid, colid, datetime, period")
            for t in TABLES}


def summarize_all(hub, months, *, use_rollups: bool) -> dict:
    settings = hub.settings
    for t in TABLES:
        hub.query(f"DELETE FROM {t}")
    for month in months:
        summary.summarize_month(settings, month, rollups=use_rollups, say=lambda _: None)
    return cells(hub)


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_give_the_cells_of_a_full_rescan(ready_hub, seed):
    random_history(ready_hub, seed)
    rescanned = summarize_all(ready_hub, MONTHS, use_rollups=False)
    assert any(v not in (0, "0", "") for _, _, _, _, v, _ in rescanned["summary_user_vals"])
    assert summarize_all(ready_hub, MONTHS, use_rollups=True) == rescanned


def test_quiet_stretches_long_windows_copy_the_short_ones_cells(ready_hub):
    """Sessions in two months only: the long windows select the short ones' rollup rows and copy their
    visitor cells, unless logins elsewhere set them apart; the quarter starting with the month is the
    month's window.  Compared with each period summarized alone by rescan (no copying anywhere)."""
    random_history(ready_hub, 7, sessions=300, months=["2024-04", "2025-02"])
    ready_hub.insert("websessions", "id, datetime, ip, host, domain, ipcountry, duration, jobs",
                     [(5000, "2025-02-10 10:00:00", "203.0.113.9", "x.example.edu", "example.edu", "US", 1000, 0)])
    ready_hub.query("INSERT INTO userlogin (datetime, user, uidNumber, ip, action) VALUES "
                    "('2024-11-03 10:00:00', 'user99', 99, '203.0.113.9', 'login')")
    for t in TABLES:
        ready_hub.query(f"DELETE FROM {t}")
    for month in ("2024-04", "2025-02", "2025-03"):
        for period in summary.LEGACY_ORDER:
            summary.summarize_month(ready_hub.settings, month, period_codes=(period,), rollups=False,
                                    say=lambda _: None)
    want = cells(ready_hub)
    assert summarize_all(ready_hub, ("2024-04", "2025-02", "2025-03"), use_rollups=True) == want


def test_late_rows_in_an_old_month_reach_every_later_long_window(ready_hub):
    random_history(ready_hub, 3)
    summarize_all(ready_hub, MONTHS, use_rollups=True)
    random_history(ready_hub, 4, sessions=80, first_id=10_000)     # late rows all over the history
    ready_hub.query("UPDATE websessions SET ipcountry = 'FR' WHERE MOD(id, 7) = 0")
    fresh = summarize_all(ready_hub, MONTHS[-3:], use_rollups=True)
    assert fresh == summarize_all(ready_hub, MONTHS[-3:], use_rollups=False)


def test_month_buckets_follow_datetime_order_including_zero_days(ready_hub):
    stamps = ["2024-03-00 10:00:00", "2024-00-15 00:00:00", "2024-03-01 00:00:00", "2024-03-01 00:00:01",
              "2024-02-29 23:59:59", "2024-12-31 23:59:59", "2025-01-01 00:00:00"]
    ready_hub.insert("websessions", "id, datetime", list(enumerate(stamps, 1)))
    got = ready_hub.query(f"SELECT {rollups.bucket('datetime')}, {rollups.late('datetime')}, "
                          f"(SELECT MAX(m) FROM (SELECT '2023-12' m UNION SELECT '2024-02' UNION SELECT '2024-03' "
                          f"UNION SELECT '2024-12' UNION SELECT '2025-01') b WHERE CONCAT(m, '-01') <= datetime) "
                          f"FROM websessions ORDER BY id")
    assert [(b, int(late)) for b, late, _ in got] == [
        ("2024-02", 1), ("2023-12", 1), ("2024-03", 0), ("2024-03", 1), ("2024-02", 1), ("2024-12", 1),
        ("2025-01", 0)]
    assert all(b == expected for b, _, expected in got)


def test_rescan_fallback_when_the_rollup_tables_differ_from_websessions(ready_hub):
    random_history(ready_hub, 5, sessions=200)
    rescanned = summarize_all(ready_hub, MONTHS[-2:], use_rollups=False)
    ready_hub.query("ALTER TABLE hzflow_seen_sessions MODIFY host varchar(255) CHARACTER SET latin1")
    assert summarize_all(ready_hub, MONTHS[-2:], use_rollups=True) == rescanned
    assert ready_hub.dump("hzflow_rollup_months", "month", "month") == []


def test_dry_run_refreshes_nothing(ready_hub):
    random_history(ready_hub, 6, sessions=100)
    ready_hub.hzflow("summarize-month", "2025-03", "--dry-run")
    assert ready_hub.dump("hzflow_rollup_months", "month", "month") == []
    assert ready_hub.dump("hzflow_seen_sessions", "month", "month") == []
    ready_hub.hzflow("summarize-month", "2025-03")
    assert len(ready_hub.dump("hzflow_rollup_months", "month", "month")) == len(MONTHS)


def test_a_summary_stopped_between_the_two_rollups_leaves_the_months_stale(ready_hub):
    """The two rollups of a month commit apart (on two connections at once); the month is recorded fresh only
    after both, so a failure in one (here a trigger refusing its rows) makes the next summary rebuild it."""
    random_history(ready_hub, 8, sessions=200)
    summarize_all(ready_hub, MONTHS[-2:], use_rollups=True)
    fresh = ready_hub.dump("hzflow_rollup_months", "month, fingerprint", "month")
    random_history(ready_hub, 9, sessions=60, first_id=10_000)              # new sessions in many months
    ready_hub.query("CREATE TRIGGER refuse_downloads BEFORE INSERT ON hzflow_seen_downloads FOR EACH ROW "
                    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'")
    with pytest.raises(Exception, match="refused"):
        summary.summarize_month(ready_hub.settings, MONTHS[-1], say=lambda _: None)
    assert ready_hub.dump("hzflow_rollup_months", "month, fingerprint", "month") == fresh   # nothing recorded
    ready_hub.query("DROP TRIGGER refuse_downloads")
    assert summarize_all(ready_hub, MONTHS[-2:], use_rollups=True) == summarize_all(ready_hub, MONTHS[-2:],
                                                                                   use_rollups=False)
