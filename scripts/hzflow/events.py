"""What happened, for machines: a JSON line per stage start and finish, syslog, a Prometheus textfile.

`logs/<site>/events.jsonl` under the work directory gets one line per
stage start, finish or failure (time, stage, unit, seconds, exit status,
error); with `logs.syslog` the same line goes to syslog.  After every
cron run `logs.prometheus_textfile` (for node_exporter's textfile
collector) is rewritten with the last run's time, duration and exit
status, the last success, rows imported, stage durations and failures.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def log_dir(settings) -> Path:
    return settings.work_dir / "logs" / settings.site


def emit(settings, event: str, stage: str, unit: str, **fields) -> None:
    """Append one event; never lets bookkeeping fail the work it describes."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "site": settings.site, "event": event,
              "stage": stage, "unit": unit, **fields}
    line = json.dumps(record, sort_keys=True, default=str)
    try:
        log_dir(settings).mkdir(parents=True, exist_ok=True)
        with open(log_dir(settings) / "events.jsonl", "a") as f:
            f.write(line + "\n")
    except OSError:
        pass
    if settings.get("logs", "syslog"):
        import syslog

        syslog.openlog("hzflow", 0, getattr(syslog, f"LOG_{settings.get('logs', 'syslog_facility').upper()}"))
        syslog.syslog(syslog.LOG_ERR if event == "fail" else syslog.LOG_INFO, line)


def read(settings, since: float = 0.0) -> list[dict]:
    """The events written since a time (epoch seconds)."""
    path = log_dir(settings) / "events.jsonl"
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if time.mktime(time.strptime(record["time"][:19], "%Y-%m-%dT%H:%M:%S")) >= since - 1:
                    out.append(record)
    except OSError:
        pass
    return out


def write_prometheus(settings, *, started: float, seconds: float, exit_status: int, last_success: float | None,
                     failures: int, missing_months: int, pending_days: int) -> None:
    """The textfile node_exporter reads: gauges of the last run, labelled by site."""
    target = settings.get("logs", "prometheus_textfile")
    if not target:
        return
    site = settings.site                    # the schema allows no quote or backslash in it
    run = read(settings, started)
    stage_seconds: dict[str, float] = {}
    rows = 0
    for record in run:
        if record.get("event") == "finish":
            stage_seconds[record["stage"]] = stage_seconds.get(record["stage"], 0.0) + record.get("seconds", 0.0)
            rows += record.get("rows_imported", 0) or 0
    lines = [
        "# HELP hzflow_last_run_timestamp_seconds When the last hzflow cron run started.",
        "# TYPE hzflow_last_run_timestamp_seconds gauge",
        f'hzflow_last_run_timestamp_seconds{{site="{site}"}} {started:.0f}',
        "# HELP hzflow_last_run_duration_seconds How long the last hzflow cron run took.",
        "# TYPE hzflow_last_run_duration_seconds gauge",
        f'hzflow_last_run_duration_seconds{{site="{site}"}} {seconds:.1f}',
        "# HELP hzflow_last_run_exit_status The exit status of the last run (0 is success).",
        "# TYPE hzflow_last_run_exit_status gauge",
        f'hzflow_last_run_exit_status{{site="{site}"}} {exit_status}',
        "# HELP hzflow_last_success_timestamp_seconds When a run last finished without a failure.",
        "# TYPE hzflow_last_success_timestamp_seconds gauge",
        f'hzflow_last_success_timestamp_seconds{{site="{site}"}} {last_success or 0:.0f}',
        "# HELP hzflow_rows_imported The web and userlogin rows the last run imported.",
        "# TYPE hzflow_rows_imported gauge",
        f'hzflow_rows_imported{{site="{site}"}} {rows}',
        "# HELP hzflow_stage_seconds Seconds the last run spent in each stage.",
        "# TYPE hzflow_stage_seconds gauge",
        *[f'hzflow_stage_seconds{{site="{site}",stage="{s}"}} {v:.2f}' for s, v in sorted(stage_seconds.items())],
        "# HELP hzflow_failures Stage failures on record (cleared when the stage next succeeds).",
        "# TYPE hzflow_failures gauge",
        f'hzflow_failures{{site="{site}"}} {failures}',
        "# HELP hzflow_months_missing_input Finished months without a single log.",
        "# TYPE hzflow_months_missing_input gauge",
        f'hzflow_months_missing_input{{site="{site}"}} {missing_months}',
        "# HELP hzflow_days_pending Days with logs not imported yet.",
        "# TYPE hzflow_days_pending gauge",
        f'hzflow_days_pending{{site="{site}"}} {pending_days}',
    ]
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
