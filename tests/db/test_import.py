"""import-apache / import-auth / identify-bots / forget-import against the real database."""

import gzip
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date

from hzflow_dev import synth

WEB = ("datetime, content, ip, uidNumber, apache_pid, referrer, useragent, joomla_sessionid, "
       "site_cookie, auth_type, component_name, view_name, task_name, action_name, item_name, dnload")


def access_log(path, day=date(2025, 7, 10), lines=300, seed=1, gz=False):
    text = "\n".join(synth.access_day(day, lines, random.Random(seed))) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def auth_log(path, day=date(2025, 7, 10), events=200, seed=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(synth.auth_day(day, events, random.Random(seed))) + "\n")
    return path


def state(hub):
    return {"web": hub.dump("web", WEB, "id"),
            "webhits": hub.dump("webhits", "datetime, hits", "datetime, hits"),
            "userlogin": hub.dump("userlogin", "datetime, user, uidNumber, ip, action", "id"),
            "sources": hub.dump("imported_sources", "filename, target_table, pk_start, pk_end, row_count",
                                "filename, target_table")}


def test_import_apache_loads_the_kept_rows_webhits_and_provenance(ready_hub, tmp_path):
    log = access_log(tmp_path / "testhub-access.log-20250710")
    ready_hub.hzflow("import-apache", log)
    web = ready_hub.dump("web", "content, dnload, uidNumber")
    assert len(web) > 100
    assert not any(c.endswith((".css", ".js", ".png", ".ico")) for c, _, _ in web)
    assert {d for c, d, _ in web if "/download/" in c} == {1}
    assert ready_hub.dump("webhits", "datetime, hits", "datetime") == [
        (ready_hub.query("SELECT TIMESTAMP('2025-07-10')")[0][0], len(web))]
    (name, table, lo, hi, count), = ready_hub.dump("imported_sources",
                                                   "filename, target_table, pk_start, pk_end, row_count")
    assert (name, table, hi - lo + 1, count) == ("testhub-access.log-20250710", "web", len(web), len(web))
    bots = {r[0] for r in ready_hub.dump("bot_useragents", "useragent", "useragent")}
    assert "python-requests/2.32.3" in bots and not any("Firefox" in b for b in bots)


def test_importing_the_same_file_twice_changes_nothing(ready_hub, tmp_path):
    log = access_log(tmp_path / "testhub-access.log-20250710")
    alog = auth_log(tmp_path / "cmsauth.log-20250710")
    ready_hub.hzflow("import-apache", log)
    ready_hub.hzflow("import-auth", alog)
    first = state(ready_hub)
    ready_hub.hzflow("import-apache", log)
    ready_hub.hzflow("import-auth", alog)
    gz = tmp_path / "testhub-access.log-20250710.gz"          # the same log after logrotate gzips it
    gz.write_bytes(gzip.compress(log.read_bytes()))
    ready_hub.hzflow("import-apache", gz)
    assert state(ready_hub) == first


def test_auth_duplicates_collapse_and_only_logins_and_simulations_are_kept(ready_hub, tmp_path):
    log = tmp_path / "cmsauth.log-20250710"
    log.write_text("2025-07-10 08:00:00 1 [alice] 192.0.2.1 login\n"
                   "2025-07-10 08:00:00 1 [alice] 192.0.2.1 login\n"
                   "2025-07-10 08:00:00 1 [ALICE] 192.0.2.1 login\n"
                   "2025-07-10 08:00:05 1 [alice] 192.0.2.1 logout\n"
                   "2025-07-10 09:00:00 2 [bob] 192.0.2.2 simulation\n")
    ready_hub.hzflow("import-auth", log)
    assert ready_hub.dump("userlogin", "datetime, user, uidNumber, ip, action", "id") == [
        (ready_hub.query("SELECT TIMESTAMP('2025-07-10 08:00:00')")[0][0], "alice", 1, "192.0.2.1", "login"),
        (ready_hub.query("SELECT TIMESTAMP('2025-07-10 09:00:00')")[0][0], "bob", 2, "192.0.2.2", "simulation")]


def test_forget_import_then_reimport_round_trips(ready_hub, tmp_path):
    a = access_log(tmp_path / "testhub-access.log-20250710", seed=1)
    b = access_log(tmp_path / "testhub-access.log-20250711", day=date(2025, 7, 11), seed=3)
    alog = auth_log(tmp_path / "cmsauth.log-20250710")
    for f in (a, b):  # crawler agents known up front, so a re-import filters exactly as the first
        ready_hub.hzflow("identify-bots", f)
    for f in (a, b):
        ready_hub.hzflow("import-apache", f)
    ready_hub.hzflow("import-auth", alog)
    full = state(ready_hub)
    ready_hub.hzflow("forget-import", a.name, "web")
    ready_hub.hzflow("forget-import", alog.name)
    after = state(ready_hub)
    assert {r[0].day for r in after["web"]} == {11} and after["userlogin"] == []
    assert [r[0].day for r in after["webhits"]] == [11]
    ready_hub.hzflow("import-apache", a)
    ready_hub.hzflow("import-auth", alog)
    again = state(ready_hub)
    assert sorted(again["web"]) == sorted(full["web"]) and again["webhits"] == full["webhits"]
    assert again["userlogin"] == full["userlogin"]
    unknown = ready_hub.hzflow("forget-import", "never-imported.log", check=False)
    assert unknown.returncode == 4 and "Traceback" not in unknown.stderr      # an input error, said in one line


def test_dry_runs_write_nothing(ready_hub, tmp_path):
    log = access_log(tmp_path / "testhub-access.log-20250710")
    before = state(ready_hub)
    r = ready_hub.hzflow("import-apache", log, "--dry-run")
    ready_hub.hzflow("import-auth", auth_log(tmp_path / "cmsauth.log-20250710"), "--dry-run")
    ready_hub.hzflow("identify-bots", log, "--dry-run")
    assert '"status": "dry-run"' in r.stdout
    assert state(ready_hub) == before and ready_hub.dump("bot_useragents", "useragent", "useragent") == []
    ready_hub.hzflow("import-apache", log)
    imported = state(ready_hub)
    ready_hub.hzflow("forget-import", log.name, "--dry-run")
    assert state(ready_hub) == imported


def test_a_truncated_gzip_commits_nothing_and_says_why(ready_hub, tmp_path):
    good = access_log(tmp_path / "x.log", lines=3000)
    bad = tmp_path / "testhub-access.log-20250710.gz"
    data = gzip.compress(good.read_bytes())
    bad.write_bytes(data[: len(data) // 2])
    r = ready_hub.hzflow("import-apache", bad, check=False)
    assert r.returncode == 4 and "cannot read the log to the end" in r.stderr
    assert state(ready_hub)["web"] == [] and state(ready_hub)["sources"] == []


def test_malformed_lines_are_skipped_and_reported(ready_hub, tmp_path):
    log = access_log(tmp_path / "testhub-access.log-20250710", lines=50)
    log.write_text("this is not a log line\n" + log.read_text() + "\x00\x01 junk\n")
    r = ready_hub.hzflow("import-apache", log)
    assert '"malformed": 2' in r.stdout and "this is not a log line" in r.stdout
    assert len(ready_hub.dump("web")) > 10


def test_oversized_and_non_bmp_values_are_stored_not_fatal(ready_hub, tmp_path):
    log = tmp_path / "testhub-access.log-20250710"
    long_url = "/resources/" + "x" * 400
    log.write_text(
        f'2025-07-10 10:00:00 EDT 1 - "GET {long_url} HTTP/1.1" 200 5 192.0.2.1 "-" "Mozilla/5.0 \U0001F600" '
        'TLSv1.3 0 5 - - - - - - - - -\n')
    ready_hub.hzflow("import-apache", log)
    (content, agent), = ready_hub.dump("web", "content, useragent")
    assert content.startswith("/resources/xxx") and len(content.encode()) <= 255
    assert agent.startswith("Mozilla/5.0")


def test_identify_bots_adds_automated_agents_and_applies_the_exceptions(ready_hub, tmp_path):
    log = tmp_path / "testhub-access.log-20250710"
    agents = ["Mozilla/5.0 BadActor searchtool/1.0", "Mozilla/5.0 foo feed/1.0", "Wget/1.21",
              "Mozilla/5.0 (X11; Linux) Firefox/131.0", "SomeSpider/2"]
    log.write_text("".join(synth.access_line(synth.datetime(2025, 7, 10, 10), "192.0.2.1", "GET / HTTP/1.1",
                                             200, 5, "-", a, 1) + "\n" for a in agents))
    ready_hub.query("INSERT INTO bot_useragents VALUES ('Old searchtool agent')")
    ready_hub.hzflow("identify-bots", log)
    assert [r[0] for r in ready_hub.dump("bot_useragents", "useragent", "useragent")] == [
        "SomeSpider/2", "Wget/1.21"]


def test_kill_9_in_the_middle_of_a_file_then_rerun_equals_an_uninterrupted_run(ready_hub, server, tmp_path):
    log = access_log(tmp_path / "testhub-access.log-20250710", lines=150000, seed=7)
    ready_hub.hzflow("identify-bots", log)  # the bot list stays the same for both imports
    proc = subprocess.Popen([sys.executable, "-m", "hzflow.cli", "--config", str(ready_hub.config_path),
                             "import-apache", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    admin = server.connect()
    killed_during_load = False
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            with admin.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.processlist "
                            "WHERE db = %s AND info LIKE 'LOAD DATA%%'", (ready_hub.metrics_db,))
                if cur.fetchone()[0]:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_during_load = True
                    break
            time.sleep(0.01)
    finally:
        proc.wait()
        admin.close()
    assert killed_during_load, "the import finished before it could be killed mid-load"
    time.sleep(0.5)  # the server notices the dropped connection and rolls back
    assert state(ready_hub)["web"] == [] and state(ready_hub)["sources"] == []
    ready_hub.hzflow("import-apache", log)
    interrupted = state(ready_hub)
    ready_hub.hzflow("forget-import", log.name)
    ready_hub.query("ALTER TABLE web AUTO_INCREMENT = 1")
    ready_hub.hzflow("import-apache", log)
    uninterrupted = state(ready_hub)
    assert interrupted["web"] == uninterrupted["web"] and interrupted["webhits"] == uninterrupted["webhits"]
    assert [s[:2] + s[4:] for s in interrupted["sources"]] == [s[:2] + s[4:] for s in uninterrupted["sources"]]


def test_rows_loaded_in_growing_chunks_equal_one_load(ready_hub, tmp_path, monkeypatch):
    from hzflow.imports import apache, stream

    log = access_log(tmp_path / "testhub-access.log-20250710", lines=3000, seed=11)
    ready_hub.hzflow("identify-bots", log)  # the bot list stays the same for both imports
    loads = []
    load_file = apache.dbmod.load_file
    monkeypatch.setattr(apache.dbmod, "load_file", lambda *a, **k: loads.append(a[3]) or load_file(*a, **k))
    monkeypatch.setattr(stream, "FIRST_CHUNK_ROWS", 10 ** 9)
    apache.import_file(ready_hub.settings, log)
    whole, one_load = state(ready_hub), len(loads)
    ready_hub.hzflow("forget-import", log.name)
    ready_hub.query("ALTER TABLE web AUTO_INCREMENT = 1")
    monkeypatch.setattr(stream, "FIRST_CHUNK_ROWS", 50)       # 50, 100, 200, 400, ... rows
    apache.import_file(ready_hub.settings, log)
    sizes = [50 * 2 ** k for k in range(20)]
    assert (one_load, len(loads) - one_load) == (1, next(k + 1 for k in range(20) if sum(sizes[:k + 1]) >= len(whole["web"])))
    chunked = state(ready_hub)
    assert chunked["web"] == whole["web"] and chunked["webhits"] == whole["webhits"]
    assert [s[:2] + s[4:] for s in chunked["sources"]] == [s[:2] + s[4:] for s in whole["sources"]]


def test_an_impossible_date_skips_its_line_not_the_file(ready_hub, tmp_path):
    log = access_log(tmp_path / "testhub-access.log-20250710", lines=50)
    good = ready_hub.hzflow("import-apache", log, "--dry-run")
    text = log.read_text().splitlines()
    text[3] = text[3].replace("2025-07-10", "2025-04-31", 1)
    text[4] = text[4].replace("2025-07-10", "1970-01-01", 1)
    log.write_text("\n".join(text) + "\n")
    import json
    report = json.loads(ready_hub.hzflow("import-apache", log).stdout)
    assert report["status"] == "imported" and report["skipped"]["impossible_date"] == 1
    assert report["skipped"]["out_of_range"] == 1
    assert report["kept"] >= json.loads(good.stdout)["kept"] - 2 > 0
    assert ready_hub.query("SELECT COUNT(*) FROM web")[0][0] == report["kept"]
    assert ready_hub.query("SELECT COUNT(*) FROM webhits WHERE datetime < '2025-07-01'")[0][0] == 0


def test_a_marker_rewritten_after_a_crash_keeps_the_counts_of_the_real_import(ready_hub, tmp_path):
    import json

    log = access_log(tmp_path / "testhub-access.log-20250710")
    first = json.loads(ready_hub.hzflow("import-apache", log).stdout)
    again = json.loads(ready_hub.hzflow("import-apache", log).stdout)
    assert again["status"] == "already imported"
    assert (again["rows"], again["pk_range"], again["lines"]) == (first["rows"], first["pk_range"], first["lines"])
