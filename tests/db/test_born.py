"""The workflow's import writes web rows with the host, domain and country the month stage would give them."""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from hzflow import months, stages
from hzflow.enrich import dns
from hzflow_dev import synth
from hzflow_dev.ptrserver import PtrServer

# Named (upper case, plain), named with a host no plain-domain rule covers, never answering, private (no name),
# answered by a fresh cache entry (whatever the server says), by a stale one (asked again), synthetic names.
NAMED, ODD, SILENT, PRIVATE = "192.0.2.10", "192.0.2.11", "192.0.2.12", "10.1.2.3"
CACHED, STALE = "198.51.100.7", "198.51.100.8"
ADDRESSES = [NAMED, ODD, SILENT, PRIVATE, CACHED, STALE, "203.0.113.5", "203.0.113.6", "8.8.8.8"]
ROWS = "id, datetime, ip, host, domain, ipcountry"


@pytest.fixture
def ptr_server():
    with PtrServer({NAMED: "WWW.Example.EDU", ODD: "Odd+Host.Example.ORG."}, synthetic="hosts.example.net",
                   unanswered=[SILENT]) as s:
        yield s


def logs(hub, addresses=ADDRESSES):
    """A log named for 1 August holding the last hours of 31 July and the first of August, like logrotate's."""
    rng = random.Random(7)
    lines = [line for line in synth.access_day(date(2025, 7, 31), 600, rng, addresses) if line[11:13] >= "20"]
    lines += synth.access_day(date(2025, 8, 1), 300, rng, addresses)
    hub.apache.mkdir(parents=True, exist_ok=True)
    (hub.apache / "testhub-access.log-20250801").write_text("\n".join(lines) + "\n")


def prepared(hub, ptr_server, addresses=ADDRESSES):
    hub.write_config(start_month="2025-07", dns={"nameservers": [ptr_server.nameserver], "concurrency": 20,
                                                 "timeout": 0.3, "tries": 1})
    hub.make_ready()
    logs(hub, addresses)
    hub.query("INSERT INTO hzflow_dns_cache (ip, host, status, resolved_at) VALUES "
              "(%s, 'Cached.Example.COM', 'name', NOW()), (%s, 'stale.example.com', 'name', '2001-01-01')",
              (CACHED, STALE))
    return hub


def month_stage(hub, month):
    """The month stage's enrichment of web (resolve-dns, fill-domain, clean-bots, fill-ipcountry, …)."""
    for label, step in stages.resolve_steps(hub.settings, month, False, lambda _: None):
        result = step()
        if label == "resolve-dns web":
            stats = result
    return stats


def state(hub):
    return (hub.dump("web", ROWS), hub.dump("hzflow_born_country", "period_start, ip, host", "period_start, ip"))


def test_rows_born_at_import_end_as_the_month_stage_leaves_them(make_hub, ptr_server, tmp_path, monkeypatch):
    """Imported by the workflow (rows born with host, domain, country and notes) or by import-apache (rows
    empty), then the month stages: every row ends the same, June's row of a July address included (the
    notes tell fill-ipcountry which addresses it would have found)."""
    monkeypatch.setenv(months.TODAY_VAR, "2025-08-10")
    born = prepared(make_hub(tmp_path / "born"), ptr_server)
    staged = prepared(make_hub(tmp_path / "staged"), ptr_server)

    born.hzflow("import-days")
    staged.hzflow("import-apache", staged.apache / "testhub-access.log-20250801")
    assert staged.query("SELECT COUNT(*) FROM web WHERE host IS NOT NULL")[0][0] == 0   # the reference's import
    web, notes = state(born)
    host = {ip: (h, d, c) for _, _, ip, h, d, c in web}
    assert host[NAMED][:2] == ("www.example.edu", "example.edu") and host[NAMED][2] not in (None, "")
    assert host[ODD][:2] == ("odd+host.example.org", None)      # fill-domain's to decide
    assert host[SILENT] == (None, None, None)                    # asked again by the month stage
    assert host[PRIVATE] == ("?", "?", "-")
    assert host[CACHED][0] == "cached.example.com" and host[STALE][0] == "host-198-51-100-8.hosts.example.net"
    assert {str(d)[:7] for _, d, *_ in web} == {"2025-07", "2025-08"}
    assert {(str(p), ip) for p, ip, _ in notes} >= {("2025-07-01", NAMED), ("2025-08-01", NAMED),
                                                   ("2025-08-01", PRIVATE)}
    assert ptr_server.asked[CACHED] == 0

    asked = dict(ptr_server.asked)
    for hub in (born, staged):
        hub.insert("web", "id, datetime, ip, host, domain", [(9000, "2025-06-20 10:00:00", "8.8.8.8", "x", "x.org")])
    for month in ("2025-07", "2025-08"):
        stats = month_stage(born, month)
        assert stats["addresses"] == 1 and stats["rows"] == 0      # only the unanswered address is left
    assert {ip for ip in ADDRESSES if ptr_server.asked[ip] != asked.get(ip, 0)} == {SILENT}
    for month in ("2025-07", "2025-08"):
        month_stage(staged, month)
    assert state(born) == state(staged)
    assert born.query("SELECT ipcountry FROM web WHERE id = 9000") == [("US",)]


def test_rows_of_a_month_the_run_does_not_build_are_not_born(make_hub, ptr_server, tmp_path, monkeypatch):
    """On 1 August, yesterday's log holds the first minutes of August, a month with no log of its own yet:
    the run builds no stage of it, so its rows stay as the stage commands leave them until it does."""
    monkeypatch.setenv(months.TODAY_VAR, "2025-08-01")
    hub = prepared(make_hub(tmp_path / "late"), ptr_server)
    (hub.apache / "testhub-access.log-20250801").rename(hub.apache / "testhub-access.log-20250731")
    hub.hzflow("import-days")
    web, notes = state(hub)
    born = {str(d)[:7]: set() for _, d, *_ in web}
    for _, d, _, h, dom, c in web:
        born[str(d)[:7]].add(h is not None or dom is not None or c is not None)
    assert born == {"2025-07": {True, False}, "2025-08": {False}}        # July's all but the unanswered address
    assert {str(p) for p, _, _ in notes} == {"2025-07-01"}


def test_a_resolver_that_answers_nothing_leaves_the_rows_to_the_month_stage(make_hub, tmp_path, monkeypatch):
    monkeypatch.setenv(months.TODAY_VAR, "2025-08-10")
    many = ADDRESSES + [f"198.18.0.{i}" for i in range(1, 60)]
    with PtrServer(silent=True) as down:
        hub = prepared(make_hub(tmp_path / "down"), down, many)
        hub.hzflow("import-days", "--dry-run")
        assert down.queries == 0 and hub.dump("web", "id") == []
        hub.hzflow("import-days")
        assert down.queries <= dns.PROBE + 2          # found out after its first few addresses, then not asked
    web, notes = state(hub)
    assert len(web) > 100 and {ip for _, ip, _ in notes} == {CACHED}
    assert {(h, d, c) for _, _, ip, h, d, c in web if ip != CACHED} == {(None, None, None)}
    assert {h for _, _, ip, h, *_ in web if ip == CACHED} == {"cached.example.com"}   # the cache still answers
    assert hub.dump("imported_sources", "filename") == [("testhub-access.log-20250801",)]


def test_the_stage_import_leaves_hosts_empty(make_hub, ptr_server, tmp_path, monkeypatch):
    monkeypatch.setenv(months.TODAY_VAR, "2025-08-10")
    hub = prepared(make_hub(tmp_path / "stage"), ptr_server)
    hub.hzflow("import-apache", hub.apache / "testhub-access.log-20250801")
    assert hub.query("SELECT COUNT(*), COUNT(host), COUNT(ipcountry) FROM web")[0][1:] == (0, 0)
    assert ptr_server.queries == 0


def test_kill_9_while_asking_then_rerun_equals_an_uninterrupted_import(make_hub, server, tmp_path, monkeypatch):
    """import-days killed after its first chunk is loaded and noted, while the worker asks for the next (the
    file's transaction open, answers already cached): nothing of the file shows, notes included, and the
    rerun (now mostly from the cache) leaves what an uninterrupted import leaves."""
    monkeypatch.setenv(months.TODAY_VAR, "2025-08-10")
    pool = [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(3000)]
    lines = synth.access_day(date(2025, 8, 1), 30000, random.Random(5), pool)
    with PtrServer(synthetic="hosts.example.net", delay=0.05) as slow:
        hubs = [prepared(make_hub(tmp_path / name), slow) for name in ("killed", "whole")]
        for hub in hubs:
            (hub.apache / "testhub-access.log-20250801").write_text("\n".join(lines) + "\n")
        killed, whole = hubs
        proc = subprocess.Popen([sys.executable, "-m", "hzflow.cli", "--config", str(killed.config_path),
                                 "import-days"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peek = server.connect(killed.metrics_db)          # sees the import's rows before they commit
        try:
            with peek.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
                deadline = time.monotonic() + 120
                while proc.poll() is None and time.monotonic() < deadline:
                    cur.execute("SELECT COUNT(*) FROM hzflow_born_country")
                    if cur.fetchone()[0]:
                        os.kill(proc.pid, signal.SIGKILL)
                        break
                    time.sleep(0.01)
        finally:
            proc.wait()
            peek.close()
        assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        time.sleep(0.5)                 # the server notices the dropped connection and rolls back
        assert state(killed) == ([], []) and killed.dump("imported_sources", "filename") == []
        killed.hzflow("import-days")
        whole.hzflow("import-days")
    assert state(killed) == state(whole) and len(state(whole)[0]) > 10000
    assert {h for _, _, _, h, _, _ in state(whole)[0]} >= {"host-198-18-0-1.hosts.example.net"}


def test_with_a_shared_cache_what_another_hub_asked_while_this_one_waited_is_not_asked(make_hub, server, tmp_path,
                                                                                      monkeypatch):
    """Hubs of a fleet share a PTR cache and ask one at a time: an import that waited for another hub's asking
    finds that hub's answers and asks none of them again."""
    monkeypatch.setenv(months.TODAY_VAR, "2025-08-10")
    shared = f"t{os.getpid()}_shared_dns"
    with PtrServer(synthetic="hosts.example.net") as ptr_server:
        hub = prepared(make_hub(tmp_path / "fleet"), ptr_server)
        hub.write_config(start_month="2025-07", dns={"nameservers": [ptr_server.nameserver], "timeout": 0.3,
                                                     "tries": 1, "shared_cache": shared})
        other = server.connect()
        try:
            with other.cursor() as cur:
                cur.execute("SELECT GET_LOCK(%s, 10)", (f"hzflow-dns-{shared}",))
                proc = subprocess.Popen([sys.executable, "-m", "hzflow.cli", "--config", str(hub.config_path),
                                         "import-days"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                deadline = time.monotonic() + 60
                waiting = 0
                while not waiting and proc.poll() is None and time.monotonic() < deadline:
                    cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE %s",
                                ("SELECT GET_LOCK%",))
                    waiting = cur.fetchone()[0] > 0
                    time.sleep(0.02)
                assert waiting, "the import never waited for the lock"
                cur.executemany(f"INSERT INTO `{shared}`.hzflow_dns_cache (ip, host, status, resolved_at) "
                                "VALUES (%s, %s, 'name', NOW())", [(ip, f"other-{i}.example.org")
                                                                   for i, ip in enumerate(ADDRESSES)])
                cur.execute("SELECT RELEASE_LOCK(%s)", (f"hzflow-dns-{shared}",))
                assert proc.wait(60) == 0
                cur.execute(f"DROP DATABASE `{shared}`")
        finally:
            other.close()
    web, _ = state(hub)
    assert ptr_server.queries == 0
    assert {h for _, _, ip, h, _, _ in web if ip == NAMED} == {f"other-{ADDRESSES.index(NAMED)}.example.org"}
