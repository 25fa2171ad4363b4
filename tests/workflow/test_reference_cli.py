"""The reference's command line on hzflow: hzmetrics.conf through -c or $HZMETRICS_CONFIG, its
command and flag spellings, and its extra commands (mark-dirty, clear-dirty, rebuild-from, fill-geo,
tick, '-' for stdin), each checked on the database or the markers it changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from hzflow import audit, doctor, months
from hzflow_dev import dumps

from conftest import months_back
from logtree import write_day

pytestmark = pytest.mark.workflow


def reference_conf(hub, path: Path) -> Path:
    """The hub's settings as an hzmetrics.conf: [hub], [db], [dns], and [hzflow] for what a test tree moves."""
    db = hub.server.db_config()
    dns = hub.nameserver or "127.0.0.1:9"
    extra = {"db.socket": db.get("socket", ""), "db.port": db.get("port", ""),
             "paths.apache_daily": hub.apache, "paths.apache_imported": hub.root / "apache" / "imported",
             "paths.hub_daily": hub.hub_logs, "paths.hub_imported": hub.root / "hubzero" / "imported",
             "paths.work_dir": hub.work, "paths.state_dir": hub.work / "state"}
    lines = ["[hub]", f"site = {hub.site}", f"hub_dir = {hub.root / 'hub'}", "",
             "[db]", f"host = {db.get('host', 'localhost')}", f"user = {db['user']}",
             f"password = {db['password']}", f"hub_db = {hub.hub_db}", "hub_db_prefix = jos_",
             f"metrics_db = {hub.metrics_db}", "",
             "[dns]", f"nameserver = {dns}", "concurrency = 20", "timeout = 0.5", "",
             "[hzflow]", *(f"{k} = {v}" for k, v in extra.items() if v != ""),
             f"start_month = {months.of(hub.days[0])}" if getattr(hub, "days", None) else ""]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def reference(hub, *args, env=None, check=True) -> subprocess.CompletedProcess:
    """hzflow called the way a runbook calls hzmetrics.py (no --config of hzflow's own)."""
    environ = {k: v for k, v in os.environ.items() if k != "HZFLOW_CONFIG"}
    r = subprocess.run([sys.executable, "-m", "hzflow.cli", *map(str, args)], capture_output=True, text=True,
                       env={**environ, **(env or {})})
    if check and r.returncode:
        raise AssertionError(f"{args} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def canonical(hub, reworked: bool = False):
    """The hub's tables; `reworked`: session ids left out (a month sessionized again gets the same
    sessions under new ids, as in the reference; the rollups' fingerprints name them)."""
    tables = dumps.canonical(hub.server, hub.metrics_db, hub.hub_db)
    if reworked:
        tables.pop("hzflow_rollup_months", None)
        tables["websessions"] = sorted(row[1:] for row in tables["websessions"])
    return tables


def test_hzmetrics_conf_and_the_reference_spellings_build_what_hzflow_builds(tree, make_hub, tmp_path):
    twin = make_hub(tmp_path / "twin", tree.site).make_ready()
    for log in sorted(tree.apache.iterdir()) + sorted(tree.hub_logs.iterdir()):
        target = (twin.apache if log.parent == tree.apache else twin.hub_logs) / log.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(log.read_bytes())
    twin.write_config(start_month=months.of(tree.days[0]))
    twin.hzflow("init")
    twin.hzflow("cron", "-q")

    conf = reference_conf(tree, tmp_path / "hzmetrics.conf")
    reference(tree, "-c", conf, "setup-db")
    reference(tree, "run", env={"HZMETRICS_CONFIG": str(conf)})
    translated = (tree.work / "hzmetrics-conf.yaml").read_text()
    assert "password" not in translated and "credentials_file" in translated
    theirs, ours = canonical(tree), canonical(twin)
    assert ours["web"] and ours["summary_user_vals"]
    assert dumps.differences(ours, theirs) == []


def test_dirty_months_are_reworked_by_the_next_cron_and_clear_dirty_undoes_it(tree, today, monkeypatch):
    tree.hzflow("cron", "-q")
    state = tree.work / "state" / tree.site
    month = months.of(months_back(today, 2))
    before, built = canonical(tree, reworked=True), (state / "summarized" / f"{month}.json").stat().st_mtime_ns

    tree.hzflow("mark-dirty", month)
    tree.hzflow("clear-dirty", month)
    tree.hzflow("cron", "-q")
    assert (state / "summarized" / f"{month}.json").stat().st_mtime_ns == built

    tree.query("DELETE FROM summary_user_vals WHERE datetime = %s", (f"{month}-00",))
    tree.hzflow("mark-dirty", month)
    monkeypatch.setattr(audit, "DIRTY_HOURS", -1)                # as if two days had gone by
    printed = []
    assert audit.audit(tree.settings, every=True, as_json=True, say=printed.append) == 1
    stuck = [f for f in json.loads(printed[0])["findings"] if f["check"] == "dirty stuck"]
    assert [f["month"] for f in stuck] == [month]
    tree.hzflow("cron", "-q")
    assert (state / "summarized" / f"{month}.json").stat().st_mtime_ns > built
    assert dumps.differences(before, canonical(tree, reworked=True)) == []
    tree.hzflow("clear-dirty", "--all")                       # reworked already: nothing is put back
    assert (state / "summarized" / f"{month}.json").stat().st_mtime_ns > built
    assert not list((state / "dirty").glob("*.dirty"))

    later = months.of(months_back(today, 1))
    stamps = {m: (state / "sessionized" / f"{m}.json").stat().st_mtime_ns for m in (month, later)}
    tree.hzflow("rebuild-from", later)
    tree.hzflow("cron", "-q")
    assert (state / "sessionized" / f"{month}.json").stat().st_mtime_ns == stamps[month]
    assert (state / "sessionized" / f"{later}.json").stat().st_mtime_ns > stamps[later]
    assert dumps.differences(before, canonical(tree, reworked=True)) == []


def test_reference_flags_of_the_repair_and_enrichment_commands(tree, today):
    tree.hzflow("cron", "-q")
    month = months.of(months_back(today, 2))
    first, following = months.bounds(month)
    before = canonical(tree)

    tree.query("DELETE FROM webhits")
    tree.hzflow("rebuild-webhits", "--all")
    tree.query("DELETE FROM summary_user_vals WHERE datetime = %s AND period IN (1, 3)", (f"{month}-00",))
    tree.hzflow("summarize-month", month, "--periods", "1,3")
    assert dumps.differences(before, canonical(tree)) == []
    assert tree.hzflow("summarize-month", month, "--only", "reg", check=False).returncode == 2

    tree.query("UPDATE web SET host = NULL, domain = NULL, ipcountry = NULL WHERE datetime >= %s "
               "AND datetime < %s", (first, following))
    tree.hzflow("resolve-dns", "metrics", "web", f"{month}..", "-c", "5", "-t", "0.5", "-n", tree.nameserver)
    tree.hzflow("fill-domain", "metrics", "web", "--all")
    tree.hzflow("fill-geo", "--all")
    (missing,), = tree.query("SELECT COUNT(*) FROM web WHERE host IS NULL OR host = '' OR domain IS NULL "
                             "OR ipcountry IS NULL OR ipcountry = ''")
    assert missing == 0

    (name,), = tree.query("SELECT filename FROM imported_sources WHERE target_table = 'web' ORDER BY id LIMIT 1")
    (rows,), = tree.query("SELECT COUNT(*) FROM web")
    r = tree.hzflow("forget-import", name, "--table", "webhits", check=False)
    assert r.returncode == 2 and tree.query("SELECT COUNT(*) FROM web") == [(rows,)]
    tree.hzflow("forget-import", name, "--table", "web")
    assert tree.query("SELECT COUNT(*) FROM imported_sources WHERE filename = %s AND target_table = 'web'",
                      (name,)) == [(0,)]
    assert tree.query("SELECT COUNT(*) FROM web")[0][0] < rows


def test_a_log_on_standard_input_is_imported_once(ready_hub):
    log = write_day(ready_hub, date(2026, 1, 14), seed=3, auth=False)
    for _ in range(2):
        with open(log, "rb") as stdin:
            r = subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(ready_hub.config_path),
                                "import-apache", "-"], stdin=stdin, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    entries = ready_hub.query("SELECT filename, pk_end - pk_start + 1 FROM imported_sources")
    (rows,), = ready_hub.query("SELECT COUNT(*) FROM web")
    assert len(entries) == 1 and entries[0][0].startswith("stdin-") and entries[0][1] == rows > 0


def test_doctor_warns_of_a_live_reference_cron(tmp_path, monkeypatch):
    cron_d = tmp_path / "cron.d"
    cron_d.mkdir()
    (cron_d / "hzmetrics").write_text("*/5 * * * * apache /opt/hubzero/metrics/hzmetrics.py tick\n")
    (cron_d / "other").write_text("# */5 * * * * apache hzmetrics.py tick\n")
    monkeypatch.setattr(doctor, "CRON_PLACES", (cron_d,))
    monkeypatch.setattr(doctor, "REFERENCE_HOME", tmp_path / "home")
    found = doctor.Findings(say=lambda _text: None)
    doctor._reference_pipeline(found)
    assert len(found.warnings) == 1 and str(cron_d / "hzmetrics") in found.warnings[0]
    (cron_d / "hzmetrics").write_text("# disabled for hzflow: */5 * * * * apache hzmetrics.py tick\n")
    (tmp_path / "home" / "state").mkdir(parents=True)
    (tmp_path / "home" / "state" / "hzmetrics.pid").write_text(f"{os.getpid()}\n")
    found = doctor.Findings(say=lambda _text: None)
    doctor._reference_pipeline(found)
    assert len(found.warnings) == 1 and str(os.getpid()) in found.warnings[0]


def test_tick_refreshes_the_map_then_runs_the_workflow_silently(tree, today):
    maps = tree.root / "hub" / "app" / "site" / "stats" / "maps"
    maps.mkdir(parents=True)
    r = tree.hzflow("tick")
    state = tree.work / "state" / tree.site
    assert (r.stdout, r.stderr) == ("", "") and (maps / "whoisonline.xml").exists()
    assert (state / "summarized" / f"{months.of(months_back(today, 2))}.json").exists()
    assert tree.query("SELECT COUNT(*) FROM web")[0][0] > 0
