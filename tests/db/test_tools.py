"""Tool statistics and who-is-online against a real hub database."""

import random
from datetime import datetime

from test_geo import Service

from hzflow import db as dbmod
from hzflow import periods, tools

from test_hubdata import seed_hub


def seed_tools(hub):
    seed_hub(hub)
    hub.hub_query("UPDATE sessionlog SET walltime = 100, viewtime = 10")
    hub.hub_query("INSERT INTO jos_resources (id, title, type, published, standalone, alias) VALUES "
                  "(10, 'Quantum Dot Lab', 7, 1, 1, 'qdot'), (11, 'Abacus', 7, 1, 1, 'abacus'), "
                  "(12, 'Slides', 3, 1, 1, 'slides')")
    hub.hub_query("UPDATE jos_resources SET path = '/resources/12/download/slides.pdf' WHERE id = 12")
    hub.hub_query("INSERT INTO jos_tool_version (id, toolname, instance) VALUES (1, 'qdot', 'qdot_r2'), "
                  "(2, 'qdot', 'qdot_dev')")
    hub.hzflow("import-hub-data")


def test_tool_stats_tops_and_toplists(ready_hub):
    seed_tools(ready_hub)
    for stage in ("gen-tool-stats", "gen-tool-tops", "gen-tool-toplists", "gen-tool-stats"):
        ready_hub.hzflow(stage, "2025-07")
    rows = ready_hub.hub_query("SELECT resid, period, users, sessions, simulations, jobs, tot_wall, avg_wall "
                               "FROM jos_resource_stats_tools WHERE period = 1 ORDER BY resid")
    # qdot: alice, gridstat, hctest7 (the tool statistics count every account); abacus: bob
    # runs (simulations) include the "[waiting]" job; jobs do not
    assert rows == [(10, 1, 3, 3, 4, 3, 300.0, 75.0), (11, 1, 1, 1, 1, 1, 100.0, 100.0)]
    assert ready_hub.hub_query("SELECT COUNT(*) FROM jos_resource_stats_tools")[0][0] == 12   # 2 tools x 6 periods
    assert ready_hub.hub_query("SELECT resid, users, avg_wall FROM jos_resource_stats WHERE period = 1 "
                               "ORDER BY resid") == [(10, 3, 75), (11, 1, 100)]
    toplist = ready_hub.hub_query("SELECT `rank`, name, value FROM jos_stats_topvals WHERE top = 2 AND period = 1 "
                                  "ORDER BY `rank`")
    assert toplist == [(0, "Total Simulation Users", 4), (1, "10 ~ Quantum Dot Lab", 3), (2, "11 ~ Abacus", 1)]
    tops = ready_hub.hub_query("SELECT top, `rank`, name, value FROM jos_resource_stats_tools_topvals t "
                               "JOIN jos_resource_stats_tools s ON s.id = t.id WHERE s.resid = 10 AND s.period = 1 "
                               "ORDER BY top, `rank`")
    assert tops[0] == (1, 0, "Total Users", 3) and (3, 0, "Total Users", 3) in tops


def test_andmore_counts_distinct_visitors_of_a_resource(ready_hub):
    seed_tools(ready_hub)
    ready_hub.insert("web", "datetime, ip, host, content",
                     [("2025-07-02", "192.0.2.1", "a", "/resources/12/download/slides.pdf"),
                      ("2025-07-03", "192.0.2.1", "a", "/resources/12/download/slides.pdf"),
                      ("2025-07-04", "192.0.2.2", "b", "/resources/12/download/slides.pdf"),
                      ("2025-06-04", "192.0.2.3", "c", "/resources/12/download/slides.pdf")])
    ready_hub.hzflow("andmore-usage", "2025-07")
    ready_hub.hzflow("andmore-usage", "2025-07")
    assert ready_hub.hub_query("SELECT period, users FROM jos_resource_stats WHERE resid = 12 ORDER BY period") == [
        (1, 2), (12, 3), (14, 3)]


def test_whoisonline_names_locates_and_draws_the_map(ready_hub, tmp_path):
    maps = tmp_path / "hub" / "app" / "site" / "stats" / "maps"
    maps.mkdir(parents=True)
    service = Service()
    try:
        ready_hub.write_config(geoip={"provider": "service", "url": service.url})
        now = int(datetime.now().timestamp())
        ready_hub.hub_query("INSERT INTO jos_session (session_id, time, ip, username, guest, userid) VALUES "
                            "('a', %s, '8.8.8.8', 'alice', 0, 1), ('b', %s, '8.8.8.8', 'alice', 0, 1), "
                            "('c', %s, '193.0.6.139', '', 1, 0), ('d', %s, '203.0.113.9', '', 1, 0), "
                            "('old', %s, '200.1.2.3', '', 1, 0)",
                            (now - 10, now - 20, now - 30, now - 40, now - 7200))
        ready_hub.hzflow("whoisonline")
        ready_hub.hzflow("whoisonline")
    finally:
        service.close()
    geo = ready_hub.hub_query("SELECT session_id, host, domain, countrySHORT, ipLATITUDE FROM jos_session_geo "
                              "ORDER BY session_id")
    assert geo == [("a", "host-8-8-8-8.hosts.example.net", "example.net", "US", 1.5),
                   ("c", "host-193-0-6-139.hosts.example.net", "example.net", "NL", 1.5),
                   ("d", "host-203-0-113-9.hosts.example.net", "example.net", "-", None)]
    xml = (maps / "whoisonline.xml").read_text()
    assert xml.count("<marker ") == 1 and "Users: 1" in xml and "Guests: 1" in xml


def test_whoisonline_escapes_hostile_names_in_the_map(ready_hub, tmp_path):
    import xml.etree.ElementTree as ET

    from hzflow_dev.ptrserver import PtrServer

    maps = tmp_path / "hub" / "app" / "site" / "stats" / "maps"
    maps.mkdir(parents=True)
    hostile = 'plain.x<script>alert(1)</script>.org'
    service = Service()
    try:
        with PtrServer({"8.8.8.8": hostile, "193.0.6.139": 'a"b&c.example.org'}) as dns:
            ready_hub.write_config(geoip={"provider": "service", "url": service.url},
                                   dns={"nameservers": [dns.nameserver], "timeout": 0.5})
            now = int(datetime.now().timestamp())
            ready_hub.hub_query("INSERT INTO jos_session (session_id, time, ip, username, guest, userid) VALUES "
                                "('a', %s, '8.8.8.8', %s, 0, 1), ('c', %s, '193.0.6.139', '', 1, 0)",
                                (now - 10, 'eve"/><marker lat="0"', now - 30))
            ready_hub.hzflow("whoisonline")
    finally:
        service.close()
    root = ET.fromstring((maps / "whoisonline.xml").read_text())      # well-formed, nothing injected
    assert root.tag == "markers" and {m.tag for m in root} == {"marker"} and len(root) == 1
    assert set(root[0].attrib) == {"lat", "lng", "info", "bot"}
    assert "<script>alert" in root[0].get("info") and "</script>.org" in root[0].get("info")  # text, not markup


def test_the_default_offline_provider_draws_a_map_out_of_the_box(ready_hub, tmp_path):
    """No geo service, no key: every located address is on the map, at its country's centre."""
    import xml.etree.ElementTree as ET

    maps = tmp_path / "hub" / "app" / "site" / "stats" / "maps"
    maps.mkdir(parents=True)
    ready_hub.write_config()                                       # geoip: the default (offline)
    now = int(datetime.now().timestamp())
    ready_hub.hub_query("INSERT INTO jos_session (session_id, time, ip, username, guest, userid) VALUES "
                        "('a', %s, '8.8.8.8', 'alice', 0, 1), ('b', %s, '8.8.4.4', '', 1, 0), "
                        "('c', %s, '81.2.69.160', '', 1, 0), ('d', %s, '203.0.113.9', '', 1, 0)",
                        (now - 10, now - 20, now - 30, now - 40))
    ready_hub.hzflow("whoisonline")
    geo = dict((s, (c, lat, lng)) for s, c, lat, lng in ready_hub.hub_query(
        "SELECT session_id, countrySHORT, ipLATITUDE, ipLONGITUDE FROM jos_session_geo"))
    assert geo["a"][0] == "US" and 24 < geo["a"][1] < 50 and -125 < geo["a"][2] < -66      # inside the US
    assert geo["c"][0] == "GB" and 49 < geo["c"][1] < 61 and -9 < geo["c"][2] < 2          # inside Britain
    assert geo["d"] == ("-", None, None)                                                   # documentation range
    root = ET.fromstring((maps / "whoisonline.xml").read_text())
    assert len(root) == 2                           # two places: the US's two addresses on one marker
    assert {(round(float(m.get("lat"))), round(float(m.get("lng")))) for m in root} == {
        (round(geo["a"][1]), round(geo["a"][2])), (round(geo["c"][1]), round(geo["c"][2]))}


def _legacy_tops(hub, month):
    """{(stats row id, top): ranked rows} as the legacy question per tool, period and breakdown answers."""
    settings = hub.settings
    t = tools._Hub(settings)
    out = {}
    with dbmod.cursor(settings, None) as cur:
        cur.execute(f"SELECT st.id, res.alias, st.users, st.period FROM {t('resource_stats_tools')} st "
                    f"JOIN {t('resources')} res ON st.resid = res.id WHERE res.standalone = '1' "
                    f"AND st.datetime = %s", (f"{month}-00 00:00:00",))
        for stat_id, alias, users, period in cur.fetchall():
            for top in (tools.TOP_COUNTRY, tools.TOP_DOMAIN, tools.TOP_ORGTYPE):
                rows = tools._top_rows(cur, t, top, tools.tool_aliases(cur, t, alias),
                                       *periods.window(month, period))
                if top == tools.TOP_COUNTRY and not rows:
                    rows = [("Unknown", users)]
                out[stat_id, top] = [(0, "Total Users", users)] + [(rank, *row) for rank, row in
                                                                     enumerate(rows, start=1)]
    return out


def test_tool_tops_of_every_period_at_once_equal_the_legacy_question_per_period(ready_hub, monkeypatch):
    """Each breakdown is one question for all tools and periods; every ranked row must be the one
    the legacy question per tool and period gives.  The sessions sit on the periods' first
    midnights (outside a window that starts there, inside a longer one) and on the month's stop;
    users differ only in case (one user to the collation); more than ten groups tie on their
    counts; domains are empty or missing; and abacus spells one domain and one org type two
    ways, so its breakdowns take the legacy questions."""
    seed_tools(ready_hub)
    ready_hub.hub_query("INSERT INTO jos_resources (id, title, type, published, standalone, alias) VALUES "
                        "(13, 'Mosfet', 7, 1, 1, 'mosfet')")
    ready_hub.hzflow("gen-tool-stats", "2025-07")
    rng = random.Random(7)
    instants = ["2025-07-01 00:00:00", "2025-01-01 00:00:00", "2024-08-01 00:00:00", "2024-10-01 00:00:00",
                "2025-08-01 00:00:00", "1995-01-01 00:00:00", "1995-01-01 00:00:01"]
    users = ["Bob", "bob", "alice", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    domains = [f"site{i}.edu" for i in range(14)] + ["Zeta.org", "Alpha.org", None, ""]   # ties: a-Z, not A-Z-a-z
    sessions = []
    for sessnum in range(100, 700):
        start = rng.choice(instants) if rng.random() < 0.3 else (
            f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 12:00:00")
        sessions.append((sessnum, rng.choice(users), start, rng.choice(["qdot", "qdot_r2", "QDOT", "qdot_dev"]),
                         rng.choice(domains), rng.choice(["US", "us", "DE", "FR", "ZZ", None, ""])))
    for sessnum in range(700, 760):
        sessions.append((sessnum, rng.choice(["ann", "ben", "cid"]), f"2025-0{rng.randint(1, 7)}-15 08:00:00",
                         "abacus", rng.choice(["Purdue.edu", "purdue.edu", "mit.edu"]), "US"))
    ready_hub.insert("sessionlog_metrics", "sessnum, user, start, appname, domain, countryresident", sessions)
    ready_hub.query("DELETE FROM jos_xprofiles_metrics")
    ready_hub.insert("jos_xprofiles_metrics", "uidNumber, username, orgtype",
                     [(i, name, org) for i, (name, org) in enumerate(
                         [("bob", "university"), ("alice", "industry"), ("carol", "university"),
                          ("dave", ""), ("erin", "government"), ("ann", "University"), ("ben", "university"),
                          ("cid", "industry")], start=1)])
    expected = _legacy_tops(ready_hub, "2025-07")
    assert {key: rows for key, rows in expected.items() if len(rows) > 10}   # the LIMIT is exercised

    ready_hub.hzflow("gen-tool-tops", "2025-07")
    written = {}
    for stat_id, top, rank, name, value in ready_hub.hub_query(
            "SELECT id, top, `rank`, name, value FROM jos_resource_stats_tools_topvals ORDER BY id, top, `rank`"):
        written.setdefault((stat_id, top), []).append((rank, name, value))
    assert written == expected
    assert _asked_one_by_one(ready_hub, monkeypatch, "2025-07") == {
        (tools.TOP_DOMAIN, "abacus"), (tools.TOP_ORGTYPE, "abacus")}


def _asked_one_by_one(hub, monkeypatch, month):
    """The (breakdown, tool) pairs that the all-periods question leaves to the legacy question."""
    asked = set()
    legacy = tools._top_rows

    def recording(cur, t, top, aliases, start, stop):
        asked.add((top, aliases[0]))
        return legacy(cur, t, top, aliases, start, stop)

    monkeypatch.setattr(tools, "_top_rows", recording)
    settings = hub.settings
    t = tools._Hub(settings)
    with dbmod.cursor(settings, None) as cur:
        names = {alias: tools.tool_aliases(cur, t, alias) for alias in ("qdot", "abacus", "mosfet")}
        table = tools._tool_names(cur, f"{t.met}.hz_top_names", f"{t.met}.sessionlog_metrics",
                                  [(i, names[alias]) for i, alias in enumerate(sorted(names))])
        for top in (tools.TOP_COUNTRY, tools.TOP_DOMAIN, tools.TOP_ORGTYPE):
            tools._tops(cur, t, top, names, table, [periods.window(month, p) for p in periods.ALL])
    return asked
