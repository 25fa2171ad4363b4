"""What a run leaves for the people and machines watching it: events, Prometheus gauges, job logs that last."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import timedelta

from hzflow import months

from logtree import marker_times


def events(hub) -> list[dict]:
    path = hub.work / "logs" / hub.site / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def gauges(path) -> dict[str, float]:
    """name{labels} -> value, for every sample line of a Prometheus textfile."""
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_each_stage_start_and_finish_is_a_json_line_and_the_gauges_match_the_tables(tree):
    textfile = tree.root / "node_exporter" / "hzflow.prom"
    tree.write_config(start_month=months.of(tree.days[0]), logs={"prometheus_textfile": str(textfile)},
                      audit={"enabled": True})                  # the audit jobs' markers are month markers too
    before = time.time()
    tree.hzflow("cron", "-q")
    built = marker_times(tree)
    seen = events(tree)
    finished = {(e["stage"], e["unit"]) for e in seen if e["event"] == "finish"}
    started = {(e["stage"], e["unit"]) for e in seen if e["event"] == "start"}
    month_markers = {tuple(name[:-len(".json")].split("/")) for name in built if re.fullmatch(r"[a-z-]+/\d{4}-\d\d\.json", name)}
    assert month_markers <= finished and finished == started          # every month stage, none left open
    assert ("imported", "batch") in finished and not [e for e in seen if e["event"] == "fail"]
    assert all(e["site"] == tree.site for e in seen)

    (web,), (logins,) = tree.query("SELECT COUNT(*) FROM web")[0], tree.query("SELECT COUNT(*) FROM userlogin")[0]
    batch = next(e for e in seen if e["event"] == "finish" and e["unit"] == "batch")
    assert batch["rows_imported"] == web + logins > 0 and batch["days"] == len(tree.days)

    site = f'site="{tree.site}"'
    g = gauges(textfile)
    assert g[f"hzflow_last_run_exit_status{{{site}}}"] == 0
    assert g[f"hzflow_rows_imported{{{site}}}"] == web + logins
    assert g[f"hzflow_failures{{{site}}}"] == 0 and g[f"hzflow_days_pending{{{site}}}"] == 0
    assert before - 1 <= g[f"hzflow_last_run_timestamp_seconds{{{site}}}"] <= g[f"hzflow_last_success_timestamp_seconds{{{site}}}"]
    stages = {k for k in g if k.startswith("hzflow_stage_seconds")}
    assert {f'hzflow_stage_seconds{{{site},stage="{s}"}}' for s in ("imported", "dns-resolved", "sessionized")} <= stages

    bad_day = tree.days[0] + timedelta(days=1)                    # a new day that cannot be read
    succeeded = g[f"hzflow_last_success_timestamp_seconds{{{site}}}"]
    (tree.apache / f"{tree.site}-access.log-{bad_day:%Y%m%d}.gz").write_bytes(b"\x1f\x8b\x08\x00not gzip at all")
    assert tree.hzflow("cron", "-q", check=False).returncode == 4
    g = gauges(textfile)
    assert g[f"hzflow_last_run_exit_status{{{site}}}"] == 4 and g[f"hzflow_failures{{{site}}}"] >= 1
    assert g[f"hzflow_last_success_timestamp_seconds{{{site}}}"] == succeeded
    fail = [e for e in events(tree) if e["event"] == "fail"]
    assert fail and fail[0]["stage"] == "imported" and fail[0]["exit_status"] == 4 and "cannot read" in fail[0]["error"]


def test_each_runs_job_log_is_kept_and_status_names_the_newest(tree):
    tree.hzflow("cron", "-q")
    month = months.of(tree.days[0])
    time.sleep(1.1)                                               # the run's start second is in the log names
    tree.hzflow("cron", "-q", "-R", f"sessionized/{month}")
    logs = sorted((tree.work / "logs" / tree.site / "sessionize_month").glob(f"{month}.*.log"))
    assert len(logs) == 2 and all(p.read_text().startswith("=== hzflow ") for p in logs)
    assert "sessionize" in logs[-1].read_text()

    tree.write_config(start_month=month, dns={"enabled": False}, months={"no_data": []})
    (tree.work / "state" / tree.site / "summarized" / f"{month}.json").unlink()
    tree.query("DROP TABLE summary_misc_vals")                     # the next summarize fails
    r = tree.hzflow("cron", "-q", check=False)
    assert r.returncode != 0
    status = json.loads(tree.hzflow("status", "--json", check=False).stdout)
    failure = next(f for f in status["failures"] if f["stage"] == "summarized" and f["unit"] == month)
    newest = max((tree.work / "logs" / tree.site / "summarize").glob(f"{month}.*.log"), key=os.path.getmtime)
    assert failure["log"] == str(newest) and "summary_misc_vals" in newest.read_text()


def test_logs_older_than_keep_days_are_pruned_and_newer_ones_kept(tree):
    tree.write_config(start_month=months.of(tree.days[0]), logs={"keep_days": 3})
    tree.hzflow("cron", "-q")
    logs = tree.work / "logs" / tree.site
    snakemake_logs = tree.work / ".snakemake" / "log"
    old_job = logs / "sessionize_month" / "2001-01.20010131-000000.log"
    old_run = logs / "cron" / "20010131-000000.log"
    old_snakemake = snakemake_logs / "2001-01-31T000000.000000.snakemake.log"
    recent = logs / "summarize" / "2001-02.20010228-000000.log"
    for path, age_days in ((old_job, 4), (old_run, 10), (old_snakemake, 4), (recent, 2)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old\n")
        stamp = time.time() - age_days * 86400
        os.utime(path, (stamp, stamp))
    kept_before = {p for p in logs.rglob("*.log") if p not in (old_job, old_run, recent)}
    tree.hzflow("cron", "-q")
    assert not old_job.exists() and not old_run.exists() and not old_snakemake.exists()
    assert recent.exists() and kept_before <= set(logs.rglob("*.log"))
    assert (logs / "events.jsonl").exists()
