"""Adopting a running hub: a database the legacy scripts (or hzmetrics.py) filled, logs archived in imported/.

The hub's first weeks are processed the old way (every day's logs imported in date order,
September analyzed and summarized, the current month's tool statistics as the daily tick
does them), then the database is made to look like a legacy one: no ledger (or the
reference's ledger, without hzflow's details), MyISAM tables, no hzflow state, no
rollups or caches, the logs gzipped into imported/.  The rest of the logs arrive, and

  cron refuses to run; adopt --dry-run writes nothing; adopt records the archived logs;
  migrate brings the tables to InnoDB; cron then imports only the new days,

after which every table equals what the stage commands leave over all the logs in date
order: nothing imported twice, the old months exactly as they were.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import time
from datetime import date

import pytest

from hzflow import cli, months
from hzflow_dev import dumps, hubsim

pytestmark = pytest.mark.workflow

FIRST_DAY = date(2025, 9, 24)
LAST_DAY = date(2025, 10, 31)
LEGACY_LAST_DAY = date(2025, 10, 20)
TODAY = date(2025, 11, 4)
BOOKKEEPING = ("imported_sources", "hzflow_adoption", "hzflow_migrations", "hzflow_dns_cache",
               "hzflow_ipgeo_cache", "hub.jos_metrics_ipgeo_cache")
_expected: dict = {}


def command(hub, *args):
    assert cli.main(["--config", str(hub.config_path), *map(str, args)]) == 0, args


@pytest.fixture
def fresh(server, make_hub, tmp_path, monkeypatch):
    monkeypatch.setenv(months.TODAY_VAR, str(TODAY))
    sim = hubsim.Hub("adopthub", FIRST_DAY, LAST_DAY, visits_per_day=16, seed=11)

    def make(name: str):
        hub = make_hub(tmp_path / name, sim.site)
        hub.init()
        hubsim.build_database(sim, server, hub.hub_db)
        hubsim.write_logs(sim, hub.root, TODAY)
        hub.write_config()
        return hub

    return make


def canonical(hub) -> dict:
    dump = dumps.canonical(hub.server, hub.metrics_db, hub.hub_db)
    return {t: rows for t, rows in dump.items() if t not in BOOKKEEPING}


def legacy_run(hub) -> list:
    """The first weeks the old way: days through LEGACY_LAST_DAY in date order, September analyzed and
    summarized, the tool statistics of the month under way as the daily tick does them."""
    old = [p for p in hubsim.logs_in_date_order(hub.root) if hubsim.log_day(p) <= f"{LEGACY_LAST_DAY:%Y%m%d}"]
    for log in old:
        command(hub, "import-auth" if "cmsauth" in log.name else "import-apache", log)
    command(hub, "analyze", "--month", "2025-09")
    command(hub, "summarize", "--month", "2025-09")
    command(hub, "tool-stats", "2025-10")
    return old


def expected(fresh, capsys) -> dict:
    """The same start, continued by the stage commands in date order (computed once for the module)."""
    if not _expected:
        hub = fresh("commands")
        old = legacy_run(hub)
        for log in hubsim.logs_in_date_order(hub.root):
            if log not in old:
                command(hub, "import-auth" if "cmsauth" in log.name else "import-apache", log)
        command(hub, "analyze", "--month", "2025-10")
        command(hub, "summarize", "--month", "2025-10")
        command(hub, "tool-stats", months.of(TODAY))
        capsys.readouterr()
        _expected.update(canonical(hub))
    return _expected


def legacy(hub, *, reference_ledger: bool) -> list:
    """The legacy start, then the database and logs as a legacy hub has them."""
    old = legacy_run(hub)
    for log in old:                                       # archived as the legacy scripts do
        imported = hub.root / ("hubzero" if "cmsauth" in log.name else "apache") / "imported"
        imported.mkdir(exist_ok=True)
        data = log.read_bytes()
        target = imported / (log.name if log.name.endswith(".gz") else log.name + ".gz")
        target.write_bytes(data if log.name.endswith(".gz") else gzip.compress(data))
        log.unlink()
    shutil.rmtree(hub.work / "state", ignore_errors=True)
    conn = hub.server.connect(hub.metrics_db)
    with conn.cursor() as cur:
        if reference_ledger:                              # hzmetrics.py's ledger: names as it recorded them
            cur.execute("UPDATE imported_sources SET detail = NULL, filename = CONCAT(filename, '.gz')")
        else:
            cur.execute("DELETE FROM imported_sources")
        for table in ("hzflow_seen_sessions", "hzflow_seen_downloads", "hzflow_rollup_months",
                      "hzflow_dns_cache", "hzflow_ipgeo_cache"):
            cur.execute(f"DELETE FROM {table}")
        for table in ("web", "userlogin", "websessions", "webhits", "toolstart", "summary_user_vals",
                      "summary_misc_vals", "bot_useragents"):
            cur.execute(f"ALTER TABLE {table} ENGINE=MyISAM")
    conn.close()
    return old


def engines(hub) -> set[str]:
    return {e for (e,) in hub.query("SELECT DISTINCT engine FROM information_schema.tables "
                                    "WHERE table_schema = %s AND table_type = 'BASE TABLE'", (hub.metrics_db,))}


def test_a_legacy_database_is_adopted_migrated_and_continued_without_a_day_twice(fresh, capsys):
    want = expected(fresh, capsys)
    hub = fresh("legacy")
    old = legacy(hub, reference_ledger=False)
    capsys.readouterr()
    before = canonical(hub)

    refused = hub.hzflow("cron", "-q", check=False)
    assert refused.returncode == 2 and "hzflow adopt" in refused.stderr
    assert canonical(hub) == before and not (hub.work / "state" / hub.site / "adopted.json").exists()
    assert "MyISAM" in engines(hub)
    assert "InnoDB" in hub.hzflow("doctor", check=False).stdout and "hzflow migrate" in hub.hzflow(
        "doctor", check=False).stdout

    preview = hub.hzflow("adopt", "--dry-run")
    assert hub.query("SELECT COUNT(*) FROM imported_sources") == [(0,)]
    assert "first month the workflow builds: 2025-10" in preview.stdout

    adopted = hub.hzflow("adopt")
    ledger = hub.query("SELECT filename, target_table, origin FROM imported_sources")
    assert len(ledger) == len(old) and {o for _, _, o in ledger} == {"reconstruct"}
    assert "first month the workflow builds: 2025-10" in adopted.stdout
    assert json.loads((hub.work / "state" / hub.site / "adopted.json").read_text())["first_month"] == "2025-10"

    migrated = hub.hzflow("migrate", "--apply")
    assert engines(hub) == {"InnoDB"}, migrated.stdout
    assert "migrate: nothing pending" in hub.hzflow("migrate").stdout

    hub.hzflow("cron", "-q")
    diff = dumps.differences(want, canonical(hub))
    assert diff == [], "\n".join(diff)
    new_days = hub.query("SELECT COUNT(*) FROM imported_sources WHERE origin = 'importer'")[0][0]
    assert new_days == len(hubsim.logs_in_date_order(hub.root)) - len(old)
    assert hub.hzflow("cron", "-q").stdout == ""                 # and it goes on as any hzflow hub


def test_a_database_hzmetrics_left_is_adopted_with_its_ledger(fresh, capsys):
    want = expected(fresh, capsys)
    hub = fresh("hzmetrics")
    old = legacy(hub, reference_ledger=True)
    capsys.readouterr()
    assert hub.hzflow("cron", "-q", check=False).returncode == 2
    adopted = hub.hzflow("adopt")
    assert hub.query("SELECT COUNT(*), SUM(origin = 'importer') FROM imported_sources") == [(len(old), len(old))]
    assert "first month the workflow builds: 2025-10" in adopted.stdout
    hub.hzflow("migrate", "--apply")
    hub.hzflow("cron", "-q")
    diff = dumps.differences(want, canonical(hub))
    assert diff == [], "\n".join(diff)


def test_a_file_whose_day_holds_rows_no_ledger_explains_is_never_imported(fresh, capsys):
    hub = fresh("guard")
    logs = hubsim.logs_in_date_order(hub.root)
    access = next(p for p in logs if "access" in p.name)
    command(hub, "import-apache", access)
    hub.query("DELETE FROM imported_sources")                      # rows of that day, but no ledger entry
    rows = hub.query("SELECT COUNT(*) FROM web")[0][0]
    capsys.readouterr()
    r = hub.hzflow("import-apache", access, check=False)
    assert r.returncode == 4 and access.name.removesuffix(".gz") in r.stderr and "hzflow adopt" in r.stderr
    assert hub.query("SELECT COUNT(*) FROM web")[0][0] == rows and hub.query(
        "SELECT COUNT(*) FROM imported_sources") == [(0,)]


def test_a_partly_imported_log_is_reported_and_resolved_only_as_asked(fresh, capsys):
    hub = fresh("partial")
    logs = hubsim.logs_in_date_order(hub.root)
    first, second = [p for p in logs if "access" in p.name][:2]
    for log in (first, second):
        command(hub, "import-apache", log)
    capsys.readouterr()
    total = hub.query("SELECT COUNT(*) FROM web")[0][0]
    hub.query("DELETE FROM imported_sources")
    stamp = hubsim.log_day(second)
    day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}"
    (ip, n), = hub.query("SELECT ip, COUNT(*) FROM web WHERE DATE(datetime) = %s GROUP BY ip "
                         "ORDER BY COUNT(*) DESC, ip LIMIT 1", (day,))
    assert n >= 3
    hub.query("DELETE FROM web WHERE DATE(datetime) = %s AND ip = %s ORDER BY datetime DESC LIMIT 2",
              (day, ip))                                       # an import that stopped short
    r = hub.hzflow("adopt", "--dry-run")
    assert f"partial: {second.name.removesuffix('.gz')}" in r.stdout and "--discard" in r.stdout
    hub.hzflow("adopt")
    assert [n for (n,) in hub.query("SELECT filename FROM imported_sources")] == [first.name.removesuffix(".gz")]
    blocked = hub.hzflow("import-apache", second, check=False)
    assert blocked.returncode == 4
    hub.hzflow("adopt", "--discard", second.name)
    done = json.loads(hub.hzflow("import-apache", second).stdout)
    assert done["status"] == "already imported"                # adopt imported it again, whole
    assert hub.query("SELECT COUNT(*) FROM web")[0][0] == total
    parity = hub.query("SELECT w.d, w.n, h.n FROM (SELECT DATE(datetime) d, COUNT(*) n FROM web GROUP BY d) w "
                       "LEFT JOIN (SELECT DATE(datetime) d, SUM(hits) n FROM webhits GROUP BY d) h USING (d)")
    assert all(a == b for _, a, b in parity), parity


def test_an_auth_log_whose_excluded_logins_were_filtered_is_recorded_as_present(fresh, capsys):
    hub = fresh("excluded")
    log = next(p for p in hubsim.logs_in_date_order(hub.root) if "cmsauth" in p.name)
    command(hub, "import-auth", log)
    capsys.readouterr()
    (ip,), = hub.query("SELECT ip FROM userlogin GROUP BY ip ORDER BY COUNT(*) DESC, ip LIMIT 1")
    hub.query("DELETE FROM userlogin WHERE ip = %s", (ip,))            # filtered by the legacy import
    hub.query("INSERT INTO exclude_list (type, filter) VALUES ('ip', %s)", (ip,))
    hub.query("DELETE FROM imported_sources")
    hub.hzflow("adopt")
    assert hub.query("SELECT filename, target_table FROM imported_sources") == [(log.name.removesuffix(".gz"),
                                                                                  "userlogin")]


def day_rows(hub, day: str) -> list[tuple]:
    return hub.query("SELECT datetime, ip, content, referrer, useragent, dnload FROM web "
                     "WHERE DATE(datetime) = %s ORDER BY 1, 2, 3, 4, 5", (day,))


def halve_a_day_before_the_first_month(hub, nth: int = 0) -> tuple[str, str, list]:
    """Every second web row of a September day gone, as an import cut short would leave it."""
    log = [p for p in sorted((hub.root / "apache" / "imported").iterdir()) if "-202509" in p.name][nth]
    stamp = hubsim.log_day(log)
    day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}"
    whole = day_rows(hub, day)
    # only rows this file brought (the hours around midnight may be in the neighbouring files)
    hub.query("DELETE FROM web WHERE datetime >= %s + INTERVAL 2 HOUR AND datetime < %s + INTERVAL 22 HOUR "
              "AND id %% 2 = 0", (day, day))
    return log.name.removesuffix(".gz"), day, whole


def killed(hub, command: list[str], after: float) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "hzflow.cli", "--config", str(hub.config_path), *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    proc.kill()
    proc.wait()


def test_a_discarded_log_before_the_first_month_is_imported_again_whole(fresh, capsys):
    hub = fresh("discard")
    legacy(hub, reference_ledger=False)
    capsys.readouterr()
    name, day, whole = halve_a_day_before_the_first_month(hub)
    assert f"partial: {name}" in hub.hzflow("adopt", "--dry-run").stdout
    r = hub.hzflow("adopt", "--discard", name)
    assert "first month the workflow builds: 2025-10" in r.stdout
    hub.hzflow("migrate", "--apply")
    hub.hzflow("cron", "-q")
    assert_whole(hub, name, day, whole)
    assert "nothing to do" in hub.hzflow("plan").stdout
    hits = hub.query("SELECT SUM(hits) FROM webhits WHERE DATE(datetime) = %s", (day,))[0][0]
    assert int(hits) == len(day_rows(hub, day))


def assert_whole(hub, name: str, day: str, whole: list, said: str = "") -> None:
    """The file's rows all back, as an import of it today gives them: the rows it brought years ago,
    less those of crawlers that later days taught the import (python-requests, first seen in this very
    file, is filtered from the start now)."""
    now = day_rows(hub, day)
    crawlers = {a for (a,) in hub.query("SELECT useragent FROM bot_useragents")}
    assert set(now) <= set(whole)
    assert all(row[4] in crawlers for row in set(whole) - set(now)), (sorted(set(whole) - set(now))[:3], said)
    (start, end, count), = hub.query("SELECT pk_start, pk_end, row_count FROM imported_sources WHERE filename = %s",
                                     (name,))
    assert hub.query("SELECT COUNT(*) FROM web WHERE id BETWEEN %s AND %s", (start, end))[0][0] == count > 0


def test_adopt_killed_at_any_moment_finishes_on_the_next_run(fresh, capsys):
    """kill -9 of `adopt --discard` early, midway and late, then the same command again: the day whole."""
    hub = fresh("killed-adopt")
    legacy(hub, reference_ledger=False)
    capsys.readouterr()
    halved = [halve_a_day_before_the_first_month(hub, nth) for nth in range(4)]   # four partial files
    name, day, whole = halved[0]
    began = time.monotonic()
    hub.hzflow("adopt", "--discard", name)
    took = time.monotonic() - began
    assert_whole(hub, name, day, whole)
    for (name, day, whole), fraction in zip(halved[1:], (0.2, 0.55, 0.9), strict=True):
        killed(hub, ["adopt", "--discard", name], took * fraction)
        rerun = hub.hzflow("adopt", "--discard", name, check=False)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert_whole(hub, name, day, whole, rerun.stdout)
    assert hub.query("SELECT COUNT(*) FROM imported_sources WHERE filename = %s", (name,)) == [(1,)]


def test_an_adopt_killed_while_importing_a_discarded_file_again_finishes_it(fresh, capsys):
    """On MyISAM (a legacy database not migrated yet) a killed re-import leaves part of the file's rows and no
    claim: the next adopt removes them again and imports the file whole, instead of refusing the day."""
    hub = fresh("killed-reimport")
    legacy(hub, reference_ledger=False)
    capsys.readouterr()
    name, day, whole = halve_a_day_before_the_first_month(hub)
    hub.hzflow("adopt", "--discard", name)
    (start, end), = hub.query("SELECT pk_start, pk_end FROM imported_sources WHERE filename = %s", (name,))
    hub.query("DELETE FROM imported_sources WHERE filename = %s", (name,))       # the claim rolled back
    hub.query("DELETE FROM web WHERE id > %s AND id <= %s", ((start + end) // 2, end))  # the LOAD cut short
    rerun = hub.hzflow("adopt", check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_whole(hub, name, day, whole, rerun.stdout)
    hits = hub.query("SELECT SUM(hits) FROM webhits WHERE DATE(datetime) = %s", (day,))[0][0]
    assert int(hits) == len(day_rows(hub, day))


def test_migrate_killed_at_any_moment_finishes_on_the_next_run(fresh, capsys):
    """kill -9 of `migrate --apply` early, midway and late (the server may finish a copy on its own), then
    migrate again: every table on InnoDB with all of web's indexes, every step recorded."""
    hub = fresh("killed-migrate")
    legacy(hub, reference_ledger=False)
    capsys.readouterr()
    hub.hzflow("adopt")
    web_indexes = "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() " \
                  "AND table_name = 'web'"
    began = time.monotonic()
    hub.hzflow("migrate", "--apply")
    took = time.monotonic() - began
    wanted = set(hub.query(web_indexes))
    for fraction in (0.1, 0.4, 0.7, 0.95):
        for table in ("web", "userlogin", "websessions", "webhits"):
            hub.query(f"ALTER TABLE {table} ENGINE=MyISAM")
        hub.query("DELETE FROM hzflow_migrations WHERE id > 100")
        killed(hub, ["migrate", "--apply"], took * fraction)
        rerun = hub.hzflow("migrate", "--apply", check=False)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert engines(hub) == {"InnoDB"} and set(hub.query(web_indexes)) == wanted, fraction
        assert {m for (m,) in hub.query("SELECT id FROM hzflow_migrations WHERE id > 100")} == set(range(101, 108))
