"""Left alone on a real hub: hostile input is refused whole, nothing is lost, every failure is seen.

Each test reproduces one way the unattended job could go wrong (a planted
symbolic link, garbage on stdin, a replaced log, a bad argument, a running
cron) and checks the database, the markers and what status, the events and
the exit status say afterwards.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from hzflow import invocation, locks, markers, months

from conftest import months_back
from logtree import marker_times, write_day

pytestmark = pytest.mark.workflow
SECRET = "root:$y$j9T$PwLEAK-9x7Q-not-a-log-line:19000:0:99999:7:::"


def closed(tree, today):
    return months.between(months.of(min(tree.days)), months.preceding(months.of(today)))


def events(hub) -> list[dict]:
    path = hub.work / "logs" / hub.site / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def status(hub) -> tuple[int, dict]:
    r = hub.hzflow("status", "--json", check=False)
    return r.returncode, json.loads(r.stdout)


def ledger(hub) -> list[tuple]:
    return hub.query("SELECT filename, target_table FROM imported_sources ORDER BY id")


# ------------------------------------------------------------ secrets and set-up
def test_a_config_error_found_by_snakemake_itself_names_the_key_and_never_the_password(tree):
    secret = "PwLEAK-9x7Q"
    good = json.loads(json.dumps(tree.settings.raw))
    snakefile = invocation.SNAKEFILE
    for broken in ({**good["db"], "password": secret, "pasword": secret}, {**good["db"], "password": [secret]}):
        bad = tree.root / "bad.yaml"
        bad.write_text(json.dumps({**good, "db": broken}))
        bad.chmod(0o600)
        r = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(snakefile), "--configfile", str(bad),
                            "-n"], capture_output=True, text=True, cwd=tree.root)
        assert r.returncode != 0 and secret not in r.stdout + r.stderr
        assert "db.pasword" in r.stdout + r.stderr or "db.password" in r.stdout + r.stderr, r.stdout + r.stderr
        job = tree.hzflow("--config", bad, "plan", check=False)
        assert job.returncode == 2 and secret not in job.stdout + job.stderr


def test_doctor_says_a_missing_state_directory_will_be_created(ready_hub):
    out = ready_hub.hzflow("doctor", check=False).stdout
    assert not ready_hub.work.exists() or not (ready_hub.work / "state").exists()
    assert "does not exist yet; the first run creates it" in out and "state directory" in out


# ------------------------------------------------------------ input safety
def test_a_symbolic_link_in_a_log_directory_is_never_followed_quoted_or_archived(tree, today):
    secret = tree.root / "shadow"
    secret.write_text(SECRET + "\n")
    day = today.replace(day=1) - timedelta(days=3)
    link = tree.hub_logs / f"cmsauth.log-{day:%Y%m%d}"
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    r = tree.hzflow("cron", "-q", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (link.name, "userlogin") not in ledger(tree)
    assert secret.exists() and link.is_symlink()                    # nothing moved, nothing archived
    for path in tree.root.rglob("*"):
        if path.is_file() and path != secret and not path.is_symlink():
            assert b"PwLEAK" not in path.read_bytes(), path
    warning = tree.hzflow("status").stdout
    assert f"{link} is a symbolic link" in warning


def test_malformed_lines_are_quoted_short_and_markers_and_logs_are_private(tree, today):
    day = tree.days[0]
    log = next(tree.hub_logs.glob(f"*{day:%Y%m%d}*"))
    with open(log, "a") as f:
        f.write(SECRET + " and a long tail that nobody needs to see " * 4 + "\n")
    tree.hzflow("cron", "-q")
    record = json.loads(markers.day_marker(tree.settings, str(day)).read_text())
    samples = record["files"]["auth"]["malformed_samples"]
    assert samples and all(len(s) <= 61 for s in samples) and not any("long tail" in s for s in samples)
    state = tree.work / "state" / tree.site
    for path in [*state.rglob("*.json"), *(tree.work / "logs").rglob("*.log")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_binary_garbage_on_stdin_is_an_input_error_and_no_import(ready_hub):
    garbage = os.urandom(200_000).replace(b"\n", b"\n\x00")
    for command in ("import-apache", "import-auth"):
        r = ready_hub.hzflow(command, "-", input=garbage.decode("latin-1"), check=False)
        assert r.returncode == 4 and "none of its" in r.stderr, r.stdout + r.stderr
    assert ledger(ready_hub) == [] and ready_hub.query("SELECT COUNT(*) FROM web") == [(0,)]


def test_non_regular_inputs_and_bad_arguments_are_named_never_a_traceback(tree, tmp_path):
    fifo = tmp_path / "testhub-access.log-20250101"
    os.mkfifo(fifo)
    folder = tmp_path / "cmsauth.log-20250101"
    folder.mkdir()
    for command, path, words in (("import-apache", fifo, "named pipe"), ("import-auth", folder, "directory")):
        r = tree.hzflow(command, path, check=False)
        assert r.returncode == 4 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = tree.hzflow("forget-import", "nosuchfile.log", check=False)
    assert r.returncode == 4 and "Traceback" not in r.stderr and "nosuchfile.log" in r.stderr
    tree.hzflow("cron", "-q")
    r = tree.hzflow("report", "--out", "/etc/passwd/x", check=False)
    assert r.returncode == 2 and "not a directory" in r.stderr and "Traceback" not in r.stderr
    hz = f"{sys.executable} -m hzflow.cli --config {tree.config_path}"
    for command in ("status", f"show {closed(tree, months.today())[-1]}", "plan"):
        piped = subprocess.run(f"{hz} {command} | head -1", shell=True, capture_output=True, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert piped.stdout.strip() and "Traceback" not in piped.stderr and "Broken" not in piped.stderr, command


# ------------------------------------------------------------ no path loses data
def test_forget_import_after_the_month_was_resolved_leaves_webhits_equal_to_web(tree, today):
    tree.hzflow("cron", "-q")

    def per_day():
        web = dict(tree.query("SELECT DATE(datetime), COUNT(*) FROM web GROUP BY 1"))
        hits = dict(tree.query("SELECT DATE(datetime), SUM(hits) FROM webhits GROUP BY 1"))
        return web, {d: int(n) for d, n in hits.items()}

    web, hits = per_day()
    assert web == hits
    tree.hzflow("clean-bots", "web", "--all")
    log = next(tree.root.glob(f"apache/imported/*{tree.days[1]:%Y%m%d}*"))
    tree.hzflow("forget-import", log.name, "web")
    web, hits = per_day()
    assert web == hits and web
    tree.hzflow("import-apache", log)
    again, hits = per_day()
    assert again == hits


def test_an_interrupted_engine_conversion_is_finished_by_the_next_migrate(ready_hub):
    web_indexes = {i for (i,) in ready_hub.query(
        "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
        "AND table_name = 'web' AND index_name <> 'PRIMARY'")}
    # what a kill -9 during the copy of web leaves: the server finished the copy, no index added back
    ready_hub.query("ALTER TABLE web " + ", ".join(f"DROP INDEX `{i}`" for i in sorted(web_indexes)))
    ready_hub.query("DELETE FROM hzflow_migrations WHERE id > 100")
    listing = ready_hub.hzflow("migrate").stdout
    assert "106  done" not in listing
    ready_hub.hzflow("migrate", "--apply")
    assert {i for (i,) in ready_hub.query(
        "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
        "AND table_name = 'web' AND index_name <> 'PRIMARY'")} == web_indexes
    assert (106,) in ready_hub.query("SELECT id FROM hzflow_migrations")
    assert "not at head" not in ready_hub.hzflow("doctor", check=False).stdout


def test_a_myisam_hub_schema_gives_innodb_metrics_tables(tree):
    tree.query("ALTER TABLE jos_xprofiles ENGINE=MyISAM", database=tree.hub_db)
    tree.hzflow("cron", "-q")
    tree.hzflow("cron", "-q")
    engines = dict(tree.query("SELECT table_name, engine FROM information_schema.tables WHERE table_schema = %s",
                              (tree.metrics_db,)))
    assert engines["jos_xprofiles_metrics"] == "InnoDB" and set(engines.values()) == {"InnoDB"}
    assert "not on InnoDB" not in tree.hzflow("doctor", check=False).stdout


# ------------------------------------------------------------ every failure is seen
def test_a_missing_log_directory_or_a_wrong_password_fails_cron_plan_and_status(tree):
    tree.hzflow("cron", "-q")
    tree.write_config(start_month=months.of(tree.days[0]),
                      paths={**json.loads(json.dumps(tree.settings.raw["paths"])),
                             "hub_daily": str(tree.root / "no-such-dir" / "daily")})
    for command in (["cron", "-q"], ["plan"], ["status"]):
        r = tree.hzflow(*command, check=False)
        assert r.returncode == 4 and "no-such-dir" in r.stdout, (command, r.stdout, r.stderr)
    assert tree.hzflow("cron", "-q", check=False).stdout.count("no-such-dir") == 1      # one line, every run
    assert any(e["stage"] == "preflight" and e["event"] == "fail" for e in events(tree))
    tree.write_config(start_month=months.of(tree.days[0]),
                      db={**tree.server.db_config(hub_db=tree.hub_db, metrics_db=tree.metrics_db),
                          "password": "wrong-password-1"})
    for command in (["cron", "-q"], ["plan"], ["status"]):
        r = tree.hzflow(*command, check=False)
        assert r.returncode == 3 and "wrong-password-1" not in r.stdout + r.stderr, (command, r.stdout)
    tree.write_config(start_month=months.of(tree.days[0]))
    assert tree.hzflow("status").returncode == 0 and status(tree)[1]["ok"]


def test_a_failing_report_job_reaches_status_events_and_prometheus(tree):
    textfile = tree.root / "prom" / "hzflow.prom"
    tree.write_config(start_month=months.of(tree.days[0]), logs={"prometheus_textfile": str(textfile)})
    tree.hzflow("cron", "-q")
    csv_file = tree.work / "report" / tree.site / "monthly.csv"
    csv_file.unlink()
    csv_file.mkdir()                                   # the report cannot be written
    r = tree.hzflow("cron", "-q", "--forcerun", "report", check=False)
    assert r.returncode != 0 and "report" in r.stdout
    code, record = status(tree)
    assert code != 0 and not record["ok"] and any(f["stage"] == "report" for f in record["failures"])
    assert any(e["stage"] == "report" and e["event"] == "fail" for e in events(tree))
    assert f'hzflow_failures{{site="{tree.site}"}} 1' in textfile.read_text()
    csv_file.rmdir()
    tree.hzflow("cron", "-q")
    code, record = status(tree)
    assert code == 0 and record["ok"] and (tree.work / "report" / tree.site / "index.html").is_file()


def test_a_failure_record_does_not_outlive_its_cause_and_status_agrees_with_plan(tree, today):
    tree.hzflow("cron", "-q")
    day = months_back(today, 1) + timedelta(days=12)             # a new day in a finished month
    good = write_day(tree, day, seed=99, gz=True)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])                     # a truncated gz
    r = tree.hzflow("cron", "-q", check=False)
    assert r.returncode == 4
    assert status(tree)[0] != 0
    good.write_bytes(data)                                       # the good file, under the same name
    tree.hzflow("cron", "-q")
    code, record = status(tree)
    assert code == 0 and record["ok"] and record["failures"] == [], record["failures"]
    # forget a day and remove its marker: plan, status and cron all see the day waiting
    name = next(f for f, t in ledger(tree) if t == "web" and f"{day:%Y%m%d}" in f)
    tree.hzflow("forget-import", name)
    markers.day_marker(tree.settings, str(day)).unlink()
    assert "1 day(s) waiting" in tree.hzflow("status").stdout
    assert "import_days" in tree.hzflow("plan").stdout
    tree.hzflow("cron", "-q")
    assert any(f == name for f, _ in ledger(tree)) and "0 day(s) waiting" in tree.hzflow("status").stdout


def test_report_months_are_checked_and_a_hand_report_never_overwrites_the_published_one(tree):
    tree.hzflow("cron", "-q")
    published = tree.work / "report" / tree.site
    before = {p.name: p.read_bytes() for p in published.iterdir()}
    for spec in ("garbage", "2026-13..2026-14", "2026-02..2025-11", ".."):
        r = tree.hzflow("report", "--months", spec, check=False)
        assert r.returncode == 2 and "Traceback" not in r.stderr, spec
    first = closed(tree, months.today())[0]
    tree.hzflow("report", "--months", first)
    assert {p.name: p.read_bytes() for p in published.iterdir()} == before
    by_hand = tree.work / "report" / f"{tree.site}.by-hand"
    assert first in (by_hand / "monthly.csv").read_text()


def test_a_rebuild_waits_for_a_running_cron_or_fails_saying_so(tree, today):
    tree.hzflow("cron", "-q")
    first = closed(tree, today)[0]
    lock = locks.hub_lock_path(tree.settings)
    held = subprocess.Popen(["flock", str(lock), "sleep", "4"])
    time.sleep(0.5)
    try:
        before = marker_times(tree)
        r = tree.hzflow("rebuild", first, "--stage", "summarized", "--wait", "1", check=False)
        assert r.returncode == 7 and "nothing was done" in r.stderr
        assert marker_times(tree) == before
        r = tree.hzflow("rebuild", first, "--stage", "summarized", "--wait", "60", "-q")
        assert f"summarized/{first}.json" in {k for k, v in marker_times(tree).items() if before.get(k) != v}
    finally:
        held.wait()


def test_small_arguments_are_checked_and_say_what_they_do(tree, today):
    tree.hzflow("cron", "-q")
    first, last = closed(tree, today)[0], closed(tree, today)[-1]
    tree.hzflow("mark-dirty", first)
    r = tree.hzflow("clear-dirty")
    assert "no month is marked dirty" not in r.stdout and f"{first}: no longer reworked" in r.stdout
    assert "nothing to do" in tree.hzflow("plan").stdout
    for args in (["mark-dirty", "1999-01"], ["rebuild", last, "--through", first], ["audit", "--months", "-5"],
                 ["cron", "-q", "--month", "2026-13"], ["cron", "-q", "2026-13"]):
        r = tree.hzflow(*args, check=False)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "usage: snakemake" not in r.stdout, args
    preview = tree.hzflow("rebuild", first, "--stage", "summarized", "--dry-run").stdout
    assert "summarize" in preview
    dry = tree.hzflow("cron", "-n", "--forcerun", f"summarized/{first}").stdout
    assert "job(s) would run" in dry and "summarize" in dry
    tree.hzflow("rebuild", first, "--stage", "summarized", "-q")
    planned = int(preview.split(" job(s) would run")[0].split()[-1])
    last_run = json.loads((tree.work / "state" / tree.site / "last-run.json").read_text())
    assert last_run["jobs"] == planned


# ------------------------------------------------------------ races
def test_cron_adopt_rebuild_import_and_whoisonline_started_together_never_collide(tree, today):
    tree.hzflow("cron", "-q")
    (tree.root / "hub" / "app" / "site" / "stats" / "maps").mkdir(parents=True)
    first = closed(tree, today)[0]
    new_day = months_back(today, 1) + timedelta(days=14)
    log = write_day(tree, new_day, seed=77)
    results = {}

    def go(name, *args):
        results[name] = tree.hzflow(*args, check=False)

    jobs = {"cron": ("cron", "-q"), "rebuild": ("rebuild", first, "--stage", "summarized", "-q"),
            "who": ("whoisonline",), "adopt": ("adopt",), "import": ("import-apache", log)}
    threads = [threading.Thread(target=go, args=(name, *args)) for name, args in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results.values()), {k: (r.stdout, r.stderr) for k, r in results.items()}
    tree.hzflow("cron", "-q")
    assert [f for f, _ in ledger(tree)].count(log.name) == 1
    (start, end, count), = tree.query("SELECT pk_start, pk_end, row_count FROM imported_sources "
                                      "WHERE filename = %s", (log.name,))
    assert tree.query("SELECT COUNT(*) FROM web WHERE id BETWEEN %s AND %s", (start, end))[0][0] == count > 0
    assert status(tree)[1]["ok"] and "nothing to do" in tree.hzflow("plan").stdout
