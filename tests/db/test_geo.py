"""fill-ipcountry: the hub cache, the offline and service providers, every IPv4 address."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from hzflow.enrich.geo import ip_number

ANSWERS = {"8.8.8.8": ("US", "United States"), "200.1.2.3": ("BR", "Brazil"),
           "193.0.6.139": ("NL", "Netherlands")}


class Service:
    """A stand-in for the HUBzero ipinfo service on loopback; counts the addresses it is asked."""

    def __init__(self, fail=False):
        self.asked, self.fail = [], fail
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if owner.fail:
                    self.send_error(503)
                    return
                numbers = parse_qs(urlsplit(self.path).query)["n_ips"][0].split(",")
                owner.asked += numbers
                sets = []
                for n in numbers:
                    ip = ".".join(str((int(n) >> s) & 255) for s in (24, 16, 8, 0))
                    if ip in ANSWERS:
                        code, name = ANSWERS[ip]
                        sets.append(f"<ipset><status>_SUCCESS_</status><n_ip>{n}</n_ip><countryCode>{code}"
                                    f"</countryCode><countryName>{name}</countryName><region>R</region>"
                                    f"<city>C</city><lat>1.5</lat><long>2.5</long></ipset>")
                    else:
                        sets.append(f"<ipset><status>_NO_IP_GEO_DATA_FOUND_</status><n_ip>{n}</n_ip></ipset>")
                body = f"<ipinfo><status>_SUCCESS_</status>{''.join(sets)}</ipinfo>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ipinfo/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def service():
    s = Service()
    yield s
    s.close()


def seed(hub):
    hub.insert("web", "datetime, ip, content, ipcountry", [
            ("2025-07-02 00:00:00", "8.8.8.8", "/a", None),
            ("2025-07-03 00:00:00", "200.1.2.3", "/b", ""),        # above the legacy cache's signed INT
            ("2025-07-04 00:00:00", "192.168.1.9", "/c", None),    # private
            ("2025-07-05 00:00:00", "203.0.113.77", "/d", None),   # no answer
            ("2025-07-06 00:00:00", "2001:db8::1", "/e", None),    # IPv6
            ("2025-07-07 00:00:00", "1.2.3.4", "/f", None),        # fresh in the hub cache
            ("2025-07-08 00:00:00", "8.8.8.8", "/g", "US"),        # already filled
            ("2025-08-09 00:00:00", "8.8.8.8", "/h", None),        # other month, same address
            ("2025-08-09 00:00:00", "192.168.1.9", "/i", None)])   # other month, private: untouched
    hub.hub_query("INSERT INTO jos_metrics_ipgeo_cache (ip, countrySHORT, countryLONG, lookup_datetime) "
                  "VALUES (%s, 'AU', 'Australia', NOW())", (ip_number("1.2.3.4"),))


def countries(hub):
    return [r[0] for r in hub.dump("web", "ipcountry", "id")]


def test_service_provider_with_the_hub_cache_and_high_addresses(ready_hub, service):
    ready_hub.write_config(geoip={"provider": "service", "url": service.url})
    seed(ready_hub)
    ready_hub.hzflow("fill-ipcountry", "metrics", "web", "2025-07")
    assert countries(ready_hub) == ["US", "BR", "-", "-", "-", "AU", "US", "US", None]
    assert sorted(service.asked) == sorted(str(ip_number(i)) for i in ("8.8.8.8", "200.1.2.3", "203.0.113.77"))
    legacy = ready_hub.hub_query("SELECT ip, countrySHORT FROM jos_metrics_ipgeo_cache ORDER BY ip")
    assert legacy == [(ip_number("1.2.3.4"), "AU"), (ip_number("8.8.8.8"), "US")]
    assert ready_hub.dump("hzflow_ipgeo_cache", "ip, countrySHORT", "ip") == [(ip_number("200.1.2.3"), "BR")]
    ready_hub.query("UPDATE web SET ipcountry = NULL WHERE content IN ('/a', '/b')")
    service.asked.clear()
    ready_hub.hzflow("fill-ipcountry", "metrics", "web", "2025-07")
    assert service.asked == [] and countries(ready_hub)[:2] == ["US", "BR"]     # both from the caches


def test_a_stale_hub_cache_entry_is_asked_again(ready_hub, service):
    ready_hub.write_config(geoip={"provider": "service", "url": service.url})
    seed(ready_hub)
    ready_hub.hub_query("UPDATE jos_metrics_ipgeo_cache SET lookup_datetime = NOW() - INTERVAL 91 DAY")
    ready_hub.hzflow("fill-ipcountry", "metrics", "web", "2025-07")
    assert str(ip_number("1.2.3.4")) in service.asked and countries(ready_hub)[5] == "-"


def test_offline_provider_needs_no_network(ready_hub):
    seed(ready_hub)
    ready_hub.hzflow("fill-ipcountry", "metrics", "web", "2025-07")
    got = countries(ready_hub)
    assert got[0] == "US" and len(got[1]) == 2 and got[1] != "-"   # the bundled database knows both
    assert got[2:5] == ["-", "-", "-"] and got[5] == "AU"
    assert ready_hub.dump("hzflow_ipgeo_cache", order="ip") == []   # offline answers are not cached


def test_a_service_outage_leaves_rows_unfilled_for_the_next_run(ready_hub):
    down = Service(fail=True)
    try:
        ready_hub.write_config(geoip={"provider": "service", "url": down.url})
        seed(ready_hub)
        r = ready_hub.hzflow("fill-ipcountry", "metrics", "web", "2025-07", check=False)
    finally:
        down.close()
    assert r.returncode == 5 and "stay unfilled" in r.stderr
    assert countries(ready_hub) == [None, "", "-", None, "-", "AU", "US", None, None]


SESSION_ADDRESSES = ["8.8.8.8", "1.2.3.4", "200.1.2.3", "192.168.1.9", "", "2001:db8::1", "8.8.4.4 ", "9.9.9.9",
                     "1.1.1.1"]


def session_history(hub):
    """July's web rows, the sessions around July (unfilled, some sharing July's addresses), a bot."""
    for table in ("web", "websessions", "exclude_list"):
        hub.query(f"DELETE FROM {table}")
    hub.insert("web", "datetime, ip, host, domain", [
        (f"2025-07-{2 + i:02d} 10:00:00", ip, f"h{i}.example.org", "bots.example" if ip == "9.9.9.9" else "example.org")
        for i, ip in enumerate(SESSION_ADDRESSES)])
    hub.insert("websessions", "id, datetime, ip, host, domain, ipcountry", [
        (900, "2025-06-30 10:00:00", "1.1.1.1", "x", "example.org", ""),    # the window's day before July
        (901, "2025-06-10 10:00:00", "8.8.8.8", "x", "example.org", ""),    # elsewhere, July's address
        (902, "2025-08-20 10:00:00", "8.8.4.4", "x", "example.org", ""),      # the same, spelt without a space
        (903, "2025-08-21 10:00:00", "9.9.9.9", "x", "example.org", ""),    # the bot's: July's goes
        (904, "2025-08-22 10:00:00", "192.168.1.9", "x", "example.org", ""),  # private, elsewhere
        (905, "2025-05-01 10:00:00", "4.4.4.4", "x", "example.org", "")])   # nobody's
    hub.query("INSERT INTO exclude_list (type, filter) VALUES ('domain', 'bots.example')")
    hub.hub_query("INSERT INTO jos_metrics_ipgeo_cache (ip, countrySHORT, countryLONG, lookup_datetime) "
                  "VALUES (%s, 'AU', 'Australia', NOW()) ON DUPLICATE KEY UPDATE countrySHORT = 'AU'",
                  (ip_number("1.2.3.4"),))


def test_sessions_born_with_their_country_end_as_the_fill_leaves_them(ready_hub, monkeypatch):
    """The month stage writes each new session's country with it; with the fill after it, every session
    (the month's, the window's day before, other months' of the same addresses, a deleted bot's
    address) ends as logfix-session then fill-ipcountry leave it."""
    from hzflow import stages
    from hzflow.enrich import geo

    def sessionize():
        session_history(ready_hub)
        for _, step in stages.session_steps(ready_hub.settings, "2025-07", False, lambda _: None):
            step()
        return ready_hub.dump("websessions", "datetime, ip, ipcountry", "datetime, ip")

    born = sessionize()
    monkeypatch.setattr(geo.SessionCountries, "for_month_stage", classmethod(lambda cls, settings: None))
    assert sessionize() == born
    assert [c for _, ip, c in born if ip == "8.8.8.8"] == ["US", "US"]            # June's too
    assert [c for d, ip, c in born if ip == "9.9.9.9"] == [""]                   # the bot went first
    assert {ip for d, ip, _ in born if d.month == 7} >= {"8.8.8.8", "1.2.3.4", "200.1.2.3", "192.168.1.9"}


def web_history(hub):
    """July's web rows as an import leaves them (some of one address already named and placed by an
    earlier run, under another host), rows around July without a country, a crawler named by DNS."""
    for table in ("web", "exclude_list", "hzflow_dns_cache", "hzflow_born_country"):
        hub.query(f"DELETE FROM {table}")
    fresh = ["8.8.8.8", "8.8.8.8", "1.2.3.4", "200.1.2.3", "192.168.1.9", "", "9.9.9.9", "9.9.9.9", "5.5.5.5",
             "6.6.6.6", "6.6.6.6"]
    hub.insert("web", "datetime, ip", [(f"2025-07-{2 + i:02d} 10:00:00", ip) for i, ip in enumerate(fresh)])
    hub.insert("web", "datetime, ip, host, domain, ipcountry", [
        ("2025-07-20 10:00:00", "9.9.9.9", "old.example.org", "example.org", "US"),  # an earlier run's
        ("2025-06-30 10:00:00", "1.1.1.1", "x", "example.org", None),    # the window's day before July
        ("2025-06-10 10:00:00", "8.8.8.8", "x", "example.org", ""),      # elsewhere, July's address
        ("2025-08-20 10:00:00", "200.1.2.3", "x", "example.org", None),
        ("2025-08-21 10:00:00", "9.9.9.9", "x", "example.org", None),    # the crawler's: its July rows go
        ("2025-08-22 10:00:00", "192.168.1.9", "x", "example.org", None),  # private, elsewhere
        ("2025-05-01 10:00:00", "4.4.4.4", "x", "example.org", None),      # nobody's
        ("2025-08-23 10:00:00", "5.5.5.5", "x", "example.org", None),
        ("2025-07-21 10:00:00", "6.6.6.6", "old.example.org", "example.org", "FR"),  # cached crawler, as 9.9.9.9
        ("2025-08-24 10:00:00", "6.6.6.6", "x", "example.org", None),
        ("2025-07-12 10:00:00", "7.7.7.7", None, None, "DE"),            # placed already, no host yet:
        ("2025-06-11 10:00:00", "7.7.7.7", "x", "example.org", None),    # not the fill's, so neither is this
        ("2025-07-13 10:00:00", "3.3.3.3", None, None, "DE"),            # the same, answered from the cache
        ("2025-06-12 10:00:00", "3.3.3.3", "x", "example.org", None)])
    hub.query("INSERT INTO hzflow_dns_cache (ip, host, status, resolved_at) VALUES "   # answered before: not asked
              "('5.5.5.5', 'five.example.org', 'name', NOW()), ('6.6.6.6', 'crawl.bots.example', 'name', NOW()), "
              "('3.3.3.3', 'three.example.org', 'name', NOW())")
    hub.query("INSERT INTO exclude_list (type, filter) VALUES ('host', 'host-9-9-9-9.%%'), ('host', 'crawl.%%')")
    hub.hub_query("INSERT INTO jos_metrics_ipgeo_cache (ip, countrySHORT, countryLONG, lookup_datetime) "
                  "VALUES (%s, 'AU', 'Australia', NOW()) ON DUPLICATE KEY UPDATE countrySHORT = 'AU'",
                  (ip_number("1.2.3.4"),))


def test_web_rows_born_with_their_country_end_as_the_fill_leaves_them(ready_hub, monkeypatch):
    """The month stage gives July's web rows their country with their host, before clean-bots; with the
    fill after it every row (July's, the window's day before, other months' of the same addresses, those
    of an address whose new rows clean-bots deleted) ends as resolve-dns, clean-bots, fill leave it."""
    from hzflow import stages
    from hzflow.enrich import geo

    def resolve():
        web_history(ready_hub)
        for _, step in stages.resolve_steps(ready_hub.settings, "2025-07", False, lambda _: None):
            step()
        assert ready_hub.dump("hzflow_born_country", "ip", "ip") == []
        return ready_hub.dump("web", "datetime, ip, host, domain, ipcountry", "datetime, ip, host")

    born = resolve()
    monkeypatch.setattr(geo.SessionCountries, "for_month_stage", classmethod(lambda cls, settings: None))
    assert resolve() == born
    country = {(str(d)[:10], ip): c for d, ip, _, _, c in born}
    assert country[("2025-06-10", "8.8.8.8")] == "US" and country[("2025-08-20", "200.1.2.3")] not in (None, "", "-")
    assert country[("2025-08-21", "9.9.9.9")] is None                 # the crawler's July rows went first
    assert country[("2025-07-04", "1.2.3.4")] == "AU" and country[("2025-07-06", "192.168.1.9")] == "-"
    assert [ip for d, ip, *_ in born if d.month == 7].count("9.9.9.9") == 1
    assert country[("2025-08-23", "5.5.5.5")] not in (None, "", "-")     # a cached address reaches as far
    assert country[("2025-08-24", "6.6.6.6")] is None
    assert [(h, c) for d, ip, h, _, c in born if ip == "6.6.6.6" and d.month == 7] == [("old.example.org", "FR")]
    assert country[("2025-06-11", "7.7.7.7")] is None and country[("2025-06-12", "3.3.3.3")] is None
