"""Sessions, bot cleaning and webhits against the real database."""

import pytest


def add_web(hub, rows):
    hub.insert("web", "datetime, ip, host, domain", rows)


def sessions(hub):
    return [(str(d), ip, host, dur, jobs) for d, ip, host, dur, jobs in
            hub.dump("websessions", "datetime, ip, host, duration, jobs", "id")]


def test_gap_rules_midnight_hosts_and_the_unsessionized_days(ready_hub):
    add_web(ready_hub, [
        ("2025-07-02 10:00:00", "192.0.2.1", "a.example.org", "example.org"),
        ("2025-07-02 10:30:00", "192.0.2.1", "a.example.org", "example.org"),   # exactly 1800 s: same session
        ("2025-07-02 11:00:01", "192.0.2.1", "a.example.org", "example.org"),   # 1801 s: new session
        ("2025-07-03 23:50:00", "192.0.2.2", "b.example.org", "example.org"),
        ("2025-07-04 00:10:00", "192.0.2.2", "c.example.org", "example.org"),   # over midnight, other host
        ("2025-07-08 12:00:00", "192.0.2.3", "d.example.org", "example.org"),   # day 8: never sessionized
        ("2025-07-31 23:00:00", "192.0.2.4", "e.example.org", "example.org"),   # still open at the end
    ])
    ready_hub.hzflow("logfix-session", "2025-07")
    assert sessions(ready_hub) == [
        ("2025-07-02 10:00:00", "192.0.2.1", "a.example.org", 1800, 0),
        ("2025-07-02 11:00:01", "192.0.2.1", "a.example.org", 0, 0),
        ("2025-07-03 23:50:00", "192.0.2.2", "b.example.org", 1200, 0)]
    stamped = ready_hub.dump("web", "DAY(datetime), sessionid", "id")
    assert [s for _, s in stamped] == [1, 1, 2, 3, 3, None, None]


def test_jobs_are_counted_stamped_and_capped(ready_hub):
    add_web(ready_hub, [("2025-07-02 10:00:00", "192.0.2.1", "a.example.org", "example.org"),
                        ("2025-07-02 10:10:00", "192.0.2.1", "a.example.org", "example.org"),
                        ("2025-07-05 10:00:00", "192.0.2.9", "z.example.org", "example.org")])
    ready_hub.insert("toolstart", "datetime, ip, host, success",
                     [("2025-07-02 10:20:00", "192.0.2.1", "", 1),
                      ("2025-07-02 10:39:59", "", "a.example.org", 1),        # end + 1799 s: counted
                      ("2025-07-02 10:40:00", "192.0.2.1", "", 1),            # end + 1800 s: not
                      ("2025-07-02 10:05:00", "192.0.2.1", "", 0)]            # failed start: not
                     + [("2025-07-05 10:00:00", "192.0.2.9", "", 1)] * 130)
    ready_hub.hzflow("logfix-session", "2025-07")
    assert [s[4] for s in sessions(ready_hub)] == [2]                          # the 07-05 session is still open
    add_web(ready_hub, [("2025-07-20 10:00:00", "192.0.2.99", "q.example.org", "example.org")])
    ready_hub.hzflow("logfix-session", "2025-07")
    assert [s[4] for s in sessions(ready_hub)] == [2, 127]
    assert ready_hub.query("SELECT sessionid, COUNT(*) FROM toolstart GROUP BY sessionid ORDER BY sessionid") == [
        (None, 2), (1, 2), (2, 130)]


def month_rows(day_from, day_to):
    rows = []
    for day in range(day_from, day_to + 1):
        for k, ip in enumerate(("192.0.2.1", "192.0.2.2", "198.51.100.3")):
            rows.append((f"2025-07-{day:02d} {8 + k}:00:00", ip, f"h{k}.example.org", "example.org"))
            rows.append((f"2025-07-{day:02d} {8 + k}:20:00", ip, f"h{k}.example.org", "example.org"))
    return rows


def state(hub):
    return (hub.dump("websessions", "id, datetime, ip, host, duration, jobs", "id"),
            hub.dump("web", "id, sessionid", "id"))


def test_rebuilding_the_month_is_idempotent_and_a_new_day_equals_one_run(ready_hub, server):
    add_web(ready_hub, month_rows(1, 20))
    ready_hub.hzflow("sessionize-month", "2025-07")
    first = state(ready_hub)
    ready_hub.hzflow("sessionize-month", "2025-07")
    assert state(ready_hub) == first
    add_web(ready_hub, month_rows(21, 31))
    ready_hub.hzflow("sessionize-month", "2025-07")
    daily = state(ready_hub)
    ready_hub.query("DELETE FROM websessions")
    ready_hub.query("UPDATE web SET sessionid = NULL")
    ready_hub.hzflow("logfix-session", "2025-07")
    assert state(ready_hub) == daily


@pytest.mark.parametrize("bots_in_july", [True, False])
def test_the_month_stage_leaves_no_stamp_of_a_deleted_session(ready_hub, bots_in_july):
    """clean-bots deletes bot sessions; their web rows and tool starts lose the stamp in the same stage, and
    a tool start of July's first half hour that June's deleted bot session stamped loses it in July's."""
    ready_hub.query("INSERT INTO exclude_list (filter, type) VALUES ('%%.scan.example.com', 'host')")
    last = [("2025-06-30 23:55:00", "192.0.2.99", "last.example.edu", "example.edu"),     # the open sessions,
            ("2025-07-30 10:00:00", "192.0.2.99", "last.example.edu", "example.edu")]     # never written
    add_web(ready_hub, [("2025-06-30 23:50:00", "192.0.2.9", "bot.scan.example.com", "example.com"), *last,
                        ("2025-07-02 10:00:00", "192.0.2.3", "www.example.edu", "example.edu"),
                        ("2025-07-02 10:05:00", "192.0.2.3", "www.example.edu", "example.edu")]
            + [("2025-07-03 11:00:00", "192.0.2.2", "a.scan.example.com", "example.com"),
               ("2025-07-03 11:01:00", "192.0.2.2", "a.scan.example.com", "example.com")] * bots_in_july)
    ready_hub.insert("toolstart", "datetime, ip, host, success",
                     [("2025-07-01 00:10:00", "192.0.2.9", "", 1), ("2025-07-03 11:02:00", "192.0.2.2", "", 1),
                      ("2025-07-02 10:06:00", "192.0.2.3", "", 1)])
    ready_hub.hzflow("sessionize-month", "2025-06")
    ready_hub.hzflow("sessionize-month", "2025-07")
    sessions_left = {sid for sid, in ready_hub.query("SELECT id FROM websessions")}
    kept, = ready_hub.query("SELECT id FROM websessions WHERE ip = '192.0.2.3'")
    assert len(sessions_left) == 1 and not ready_hub.query("SELECT id FROM websessions WHERE host LIKE '%%scan%%'")
    assert [(ip, sid) for ip, sid in ready_hub.dump("web", "ip, sessionid", "id")] == [
        ("192.0.2.9", None), ("192.0.2.99", None), ("192.0.2.99", None), ("192.0.2.3", kept[0]),
        ("192.0.2.3", kept[0])] + [
        ("192.0.2.2", None), ("192.0.2.2", None)] * bots_in_july
    assert [(ip, sid) for ip, sid in ready_hub.dump("toolstart", "ip, sessionid", "id")] == [
        ("192.0.2.9", None), ("192.0.2.2", None), ("192.0.2.3", kept[0])]


def test_clean_bots_deletes_excluded_domains_and_hosts_in_the_window(ready_hub):
    ready_hub.query("INSERT INTO exclude_list (filter, type) VALUES ('crawler.example.net', 'domain'), "
                    "('%%.scan.example.com', 'host')")
    add_web(ready_hub, [("2025-06-30 12:00:00", "192.0.2.1", "x.crawler.example.net", "crawler.example.net"),
                        ("2025-07-10 12:00:00", "192.0.2.2", "a.scan.example.com", "example.com"),
                        ("2025-07-10 12:00:00", "192.0.2.3", "www.example.edu", "example.edu"),
                        ("2025-08-01 00:00:00", "192.0.2.4", "y.crawler.example.net", "crawler.example.net"),
                        ("2025-08-01 00:00:01", "192.0.2.5", "z.crawler.example.net", "crawler.example.net")])
    ready_hub.hzflow("clean-bots", "web", "2025-07", "--dry-run")
    assert len(ready_hub.dump("web")) == 5
    ready_hub.hzflow("clean-bots", "web", "2025-07")
    assert [r[0] for r in ready_hub.dump("web", "ip", "id")] == ["192.0.2.3", "192.0.2.5"]


def test_rebuild_webhits_recounts_the_cleaned_month(ready_hub):
    add_web(ready_hub, month_rows(1, 2))
    ready_hub.query("INSERT INTO webhits VALUES ('2025-07-01', 99), ('2025-07-01', 1), ('2025-06-30', 5)")
    ready_hub.hzflow("rebuild-webhits", "2025-07")
    assert [(str(d), n) for d, n in ready_hub.dump("webhits", "datetime, hits", "datetime")] == [
        ("2025-06-30 00:00:00", 5), ("2025-07-01 00:00:00", 6), ("2025-07-02 00:00:00", 6)]


@pytest.mark.parametrize("first, most", [(4, 4), (1, 8)])
def test_chunks_loaded_while_coalescing_leave_what_one_load_leaves(ready_hub, monkeypatch, first, most):
    """Sessions go to the server in chunks as they are built (growing from `first` to `most` sessions);
    the chunk sizes change no cell."""
    from hzflow import sessions as sessionsmod

    add_web(ready_hub, month_rows(1, 31))
    ready_hub.insert("toolstart", "datetime, ip, host, success",
                     [(f"2025-07-{d:02d} 08:10:00", "192.0.2.1", "", 1) for d in range(1, 29, 3)])
    ready_hub.hzflow("sessionize-month", "2025-07")
    whole = state(ready_hub), ready_hub.dump("toolstart", "id, sessionid", "id")
    sizes = []
    load_chunk = sessionsmod._load_chunk
    monkeypatch.setattr(sessionsmod, "_load_chunk", lambda cur, sessions_tsv, *rest: sizes.append(
        sum(1 for _ in open(sessions_tsv))) or load_chunk(cur, sessions_tsv, *rest))
    monkeypatch.setattr(sessionsmod, "FIRST_CHUNK_SESSIONS", first)
    monkeypatch.setattr(sessionsmod, "CHUNK_SESSIONS", most)
    sessionsmod.logfix_session(ready_hub.settings, "2025-07", rebuild=True, say=lambda _: None)
    assert (state(ready_hub), ready_hub.dump("toolstart", "id, sessionid", "id")) == whole
    assert len(whole[0][0]) > most * 3
    assert sizes[:-1] == [min(first << k, most) for k in range(len(sizes) - 1)] and sum(sizes) == len(whole[0][0])
