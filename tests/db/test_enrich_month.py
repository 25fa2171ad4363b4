"""The resolve stage (imported + dns-resolved markers) as a whole: idempotent, dry-run writes nothing."""

from test_hubdata import seed_hub

TABLES = {"web": "datetime, ip, host, domain, ipcountry",
          "toolstart": "datetime, user, ip, host, domain, ipcountry, walltime, cputime, orgtype",
          "sessionlog_metrics": "sessnum, ip, host, domain, ipcountry, orgtype"}


def dumps(hub):
    return {t: hub.dump(t, cols, cols.split(",")[0]) for t, cols in TABLES.items()}


def seed(hub):
    seed_hub(hub)
    hub.insert("web", "datetime, ip, content",
               [("2025-07-01 10:00:00", "192.0.2.1", "/a"), ("2025-07-09 10:00:00", "8.8.8.8", "/b"),
                ("2025-07-09 11:00:00", "10.2.3.4", "/c"), ("2025-07-30 10:00:00", "192.0.2.10", "/d")])


def test_a_month_without_logs_is_missing_input_and_writes_no_marker(ready_hub, tmp_path):
    seed(ready_hub)
    before = dumps(ready_hub)
    marker = tmp_path / "m.json"
    r = ready_hub.hzflow("resolve-month", "2025-07", "--marker", marker, check=False)
    assert r.returncode == 4 and "2025-07 has no logs" in r.stderr and "months.no_data" in r.stderr
    assert not marker.exists() and dumps(ready_hub) == before


def test_a_month_enriched_twice_equals_once_and_dry_run_writes_nothing(ready_hub, tmp_path):
    seed(ready_hub)
    ready_hub.write_config(months={"no_data": ["2025-07"]})     # rows seeded without logs
    before = dumps(ready_hub)
    ready_hub.hzflow("resolve-month", "2025-07", "--dry-run")
    assert dumps(ready_hub) == before
    marker, imported = tmp_path / "m.json", tmp_path / "i.json"
    ready_hub.hzflow("resolve-month", "2025-07", "--marker", marker, "--imported-marker", imported)
    once = dumps(ready_hub)
    assert marker.exists() and imported.exists()
    assert [r[2:] for r in once["web"]] == [
        ("host-192-0-2-1.hosts.example.net", "example.net", "-"),
        ("host-8-8-8-8.hosts.example.net", "example.net", "US"),
        ("?", "?", "-"), ("www.example.edu", "example.edu", "-")]
    assert [r[1] for r in once["toolstart"]] == ["alice", "bob"] and once["toolstart"][0][-1] == "UNIVERSITYFACULTY"
    ready_hub.hzflow("enrich-month", "2025-07")                 # the old name still works
    assert dumps(ready_hub) == once
