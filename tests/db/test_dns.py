"""resolve-dns with real aiodns queries against PTR servers on loopback."""

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from hzflow.enrich import dns as dnsmod
from hzflow_dev.ptrserver import PtrServer

MONTH = "2025-07"


def seed(hub, rows):
    hub.insert("web", "datetime, ip, content, host", rows)


def hosts(hub):
    return hub.dump("web", "ip, host", "id")


ROWS = [("2025-07-01 00:00:00", "192.0.2.10", "/a", None),
        ("2025-07-15 10:00:00", "198.51.100.7", "/b", None),
        ("2025-07-31 23:59:59", "10.1.2.3", "/c", ""),
        ("2025-07-20 10:00:00", "203.0.113.5", "/d", "kept.example.org"),
        ("2025-08-01 00:00:00", "198.51.100.7", "/e", None),      # next month: untouched
        ("2025-06-30 23:59:59", "198.51.100.7", "/f", None)]      # previous month: untouched


def use(hub, server_or_address, **dns):
    address = server_or_address if isinstance(server_or_address, str) else server_or_address.nameserver
    hub.write_config(dns={"nameservers": [address], "concurrency": 20, "timeout": 0.5, **dns})


def test_names_no_names_and_the_month_window(ready_hub, ptr):
    seed(ready_hub, ROWS)
    ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
    assert hosts(ready_hub) == [("192.0.2.10", "www.example.edu"),
                                ("198.51.100.7", "host-198-51-100-7.hosts.example.net"),
                                ("10.1.2.3", "?"), ("203.0.113.5", "kept.example.org"),
                                ("198.51.100.7", None), ("198.51.100.7", None)]
    cache = ready_hub.dump("hzflow_dns_cache", "ip, host, status", "ip")
    assert ("10.1.2.3", "", "none") in cache and len(cache) == 3


def test_the_cache_makes_a_second_month_send_no_queries(ready_hub):
    with PtrServer(synthetic="example.net") as dns:
        use(ready_hub, dns)
        seed(ready_hub, ROWS)
        ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
        asked = dns.queries
        ready_hub.hzflow("resolve-dns", "metrics", "web", "2025-08")
        ready_hub.hzflow("resolve-dns", "metrics", "web", "2025-06")
        assert asked == 3 and dns.queries == asked
        assert hosts(ready_hub)[4][1] == "host-198-51-100-7.example.net"


def test_an_expired_answer_is_asked_again(ready_hub):
    with PtrServer(synthetic="example.net") as dns:
        use(ready_hub, dns, ttl_days=30, negative_ttl_days=7)
        seed(ready_hub, ROWS[:3])
        ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
        ready_hub.query("UPDATE hzflow_dns_cache SET resolved_at = NOW() - INTERVAL 31 DAY WHERE ip = '192.0.2.10'")
        ready_hub.query("UPDATE hzflow_dns_cache SET resolved_at = NOW() - INTERVAL 6 DAY WHERE ip = '10.1.2.3'")
        ready_hub.query("UPDATE web SET host = NULL")
        before = dns.queries
        ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
        assert dns.queries - before == 1                       # only the expired name


def test_a_silent_resolver_fails_the_stage_writes_no_question_marks_and_is_retried(ready_hub):
    seed(ready_hub, ROWS[:3])
    with PtrServer(silent=True) as dns:
        use(ready_hub, dns)
        r = ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH, check=False)
    assert r.returncode == 5 and "got an answer" in r.stderr and "reachable" in r.stderr
    assert [h for _, h in hosts(ready_hub)] == [None, None, ""]
    assert ready_hub.dump("hzflow_dns_cache", "ip", "ip") == []
    with PtrServer(synthetic="example.net") as dns:
        use(ready_hub, dns)
        ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
    assert [h for _, h in hosts(ready_hub)] == ["host-192-0-2-10.example.net",
                                                "host-198-51-100-7.example.net", "?"]


def test_a_silent_resolver_is_found_out_after_its_first_few_addresses_not_a_batch(ready_hub):
    from hzflow.enrich.dns import PROBE

    seed(ready_hub, [(f"2025-07-02 10:{i // 60:02d}:{i % 60:02d}", f"198.51.{i // 200}.{i % 200 + 1}", "/a", None)
                     for i in range(300)])
    with PtrServer(silent=True) as dns:
        use(ready_hub, dns, tries=1, timeout=0.2)
        r = ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH, check=False)
    assert r.returncode == 5 and "reachable" in r.stderr
    assert dns.queries <= PROBE + 2                  # the first few, then the two probes of alive()


def test_no_server_at_all_is_a_clear_failure(ready_hub):
    seed(ready_hub, ROWS[:2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    use(ready_hub, closed)
    r = ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH, check=False)
    assert r.returncode == 5 and "reachable" in r.stderr and "Traceback" not in r.stderr
    assert [h for _, h in hosts(ready_hub)] == [None, None]


def test_dry_run_asks_and_writes_nothing(ready_hub):
    with PtrServer(synthetic="example.net") as dns:
        use(ready_hub, dns)
        seed(ready_hub, ROWS)
        before = hosts(ready_hub)
        ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH, "--dry-run")
        assert dns.queries == 0 and hosts(ready_hub) == before


def test_a_resolver_that_answers_some_queries_fills_those_and_leaves_the_rest_for_later(ready_hub):
    seed(ready_hub, ROWS[:3])
    with PtrServer(synthetic="example.net", unanswered={"198.51.100.7"}) as dns:
        use(ready_hub, dns, tries=1)
        r = ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
    assert "1 addresses got no answer" in r.stdout
    assert [h for _, h in hosts(ready_hub)] == ["host-192-0-2-10.example.net", None, "?"]
    assert ("198.51.100.7",) not in ready_hub.dump("hzflow_dns_cache", "ip", "ip")
    with PtrServer(synthetic="example.net") as dns:
        use(ready_hub, dns)
        ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
        assert dns.queries == 1                                  # only the one that was unanswered
    assert hosts(ready_hub)[1][1] == "host-198-51-100-7.example.net"


def test_reverse_dns_can_be_switched_off(ready_hub, ptr):
    seed(ready_hub, ROWS[:3])
    use(ready_hub, ptr, enabled=False)
    ready_hub.hzflow("resolve-dns", "metrics", "web", MONTH)
    assert [h for _, h in hosts(ready_hub)] == [None, None, ""] and ptr.queries == ptr.queries


def test_every_enrichable_table_with_or_without_an_address_index(ready_hub, ptr):
    """Rows get their host as their batch is answered: through the ip index where the table has one
    (web, websessions, toolstart), by the optimizer's own plan where it has none (sessionlog_metrics)."""
    ready_hub.insert("websessions", "datetime, ip", [("2025-07-15 10:00:00", "198.51.100.7")])
    ready_hub.insert("toolstart", "datetime, ip", [("2025-07-15 10:00:00", "198.51.100.8")])
    ready_hub.insert("sessionlog_metrics", "sessnum, start, ip", [(1, "2025-07-15 10:00:00", "198.51.100.9"),
                                                                  (2, "2025-08-01 10:00:00", "198.51.100.9")])
    for table in ("websessions", "toolstart", "sessionlog_metrics"):
        ready_hub.hzflow("resolve-dns", "metrics", table, MONTH)
    assert ready_hub.dump("websessions", "host", "id") == [("host-198-51-100-7.hosts.example.net",)]
    assert ready_hub.dump("toolstart", "host", "id") == [("host-198-51-100-8.hosts.example.net",)]
    assert ready_hub.dump("sessionlog_metrics", "host", "sessnum") == [("host-198-51-100-9.hosts.example.net",),
                                                                       (None,)]


NAMES = {"198.51.100.1": "WWW.Physics.Purdue.EDU", "198.51.100.2": "café.example.fr", "198.51.100.3": "cafe.example.fr",
         "198.51.100.4": "nodots", "198.51.100.5": "a-b-c-d-e.ac.uk", "198.51.100.6": "host.co.jp",
         "198.51.100.7": "x.k12.in.us", "198.51.100.8": "sp ace.example.org", "198.51.100.10": "under_score.example.com"}


def hostile_rows(hub, table):
    rows = []
    for i, ip in enumerate([*NAMES, "198.51.100.9"]):                   # .9 has no name: '?'
        for j, domain in enumerate((None, "", "?", "kept.example.org")):
            rows.append((f"2025-07-{1 + i:02d} 0{j}:00:00", ip, None, domain))
    rows += [("2025-06-30 12:00:00", "198.51.100.3", "cafe.example.fr", None),   # the day before: fill-domain's
             ("2025-07-20 12:00:00", "198.51.100.1", "Upper.Example.ORG", None)]  # already named, upper case
    hub.query(f"DELETE FROM {table}")
    hub.insert(table, "id, datetime, ip, host, domain", [(n, *row) for n, row in enumerate(rows, 1)])


def test_domains_written_with_the_hosts_are_fill_domains_own(ready_hub):
    """A month stage's reverse DNS gives plain hosts' rows their domain in the same write; with
    fill-domain after it, every row ends as resolve-dns then fill-domain leave it, hostile names too."""
    from hzflow import stages
    from hzflow.enrich import dns, domain

    settings, met = ready_hub.settings, ready_hub.settings.db.metrics_db
    start, stop = date(2025, 7, 1), date(2025, 8, 1)
    with PtrServer(NAMES) as server:
        use(ready_hub, server)
        settings = ready_hub.settings
        for table in ("web", "websessions"):
            ends = []
            for resolve in (dns.resolve_dns, stages.RESOLVE_WITH_DOMAINS):
                hostile_rows(ready_hub, table)
                ready_hub.query("DELETE FROM hzflow_dns_cache")
                resolve(settings, met, table, start, stop, say=lambda _: None)
                between = ready_hub.dump(table, "ip, host, domain", "id")
                domain.fill_domain(settings, met, table, start, stop, say=lambda _: None)
                ends.append((between, ready_hub.dump(table, "ip, host, domain", "id")))
            (alone, reference), (together, ours) = ends
            assert ours == reference
            assert sum(1 for a, b in zip(alone, together, strict=True) if a != b) >= 8    # domains came with hosts


def _receive_buffers(port: int) -> list[int]:
    """SO_RCVBUF of this process's UDP sockets connected to 127.0.0.1:port."""
    sizes = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            with socket.socket(fileno=os.dup(int(fd))) as s:
                if s.type == socket.SOCK_DGRAM and s.getpeername() == ("127.0.0.1", port):
                    sizes.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        except OSError:
            continue
    return sizes


def test_the_resolver_socket_holds_a_round_of_answers():
    """A fast resolver answers a whole round at once: the socket must hold them while the asking process is
    off the CPU, or c-ares asks the lost ones again after its timeout (seen as re-sent queries under load).
    c-ares closes an idle socket, so it is looked at while a slow answer is awaited."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:      # what this kernel allows
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, dnsmod.RECEIVE_BUFFER)
        if probe.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < dnsmod.RECEIVE_BUFFER:
            pytest.skip("net.core.rmem_max is below the resolver's receive buffer")
    with PtrServer(synthetic="example.net", delay=2.0) as server:
        resolver = dnsmod.Resolver([server.nameserver], concurrency=20, timeout=5.0)
        with ThreadPoolExecutor(1) as asking:
            answers = asking.submit(resolver.resolve, ["198.51.100.7"])
            sizes, waited = [], 0.0
            while not sizes and waited < 1.5:
                time.sleep(0.05)
                waited += 0.05
                sizes = _receive_buffers(server.port)
            assert answers.result()[0][1] == "name"
        resolver.close()
    assert sizes and min(sizes) >= dnsmod.RECEIVE_BUFFER
