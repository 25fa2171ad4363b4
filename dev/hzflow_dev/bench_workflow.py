"""Workflow benchmarks: what `hzflow cron` costs, next to the stage commands doing the same work.

    ./dev/bench.sh workflow [--days 92] [--visits 300]

On a private MariaDB server and a synthetic hub (hubsim) of `--days` days
of logs, "today" pinned to ten days after the last one:

* the stage commands an operator would type, each its own process:
  import-apache / import-auth per day oldest first, then analyze and
  summarize per month (and tool-stats for the current month);
* one `hzflow cron` over the same logs, with the time each rule's jobs took
  (Snakemake's benchmark files) and the run's fixed cost (the rest);
* `hzflow cron` with nothing new (median of three);
* twelve months without logs declared as `months.no_data` after the data:
  what such a month costs across its stages;
* the fixed cost a day carries in the import job: 60 days of one line each;
* the equivalence of the two ways (identical table dumps).
"""

from __future__ import annotations

import csv
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import yaml

from hzflow import months

from . import dumps, hubsim, sandbox
from .ptrserver import PtrServer


def _config(server, root: Path, name: str, ptr: PtrServer, **extra) -> Path:
    data = {"site": "benchhub", "hub_dir": str(root / "hub"),
            "db": server.db_config(hub_db=f"{name}_hub", metrics_db=f"{name}_metrics"),
            "dns": {"nameservers": [ptr.nameserver], "concurrency": 50, "timeout": 1.0},
            "paths": {"apache_daily": str(root / "apache" / "daily"),
                      "apache_imported": str(root / "apache" / "imported"),
                      "hub_daily": str(root / "hubzero" / "daily"),
                      "hub_imported": str(root / "hubzero" / "imported"),
                      "work_dir": str(root / "work")}, **extra}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    path.chmod(0o600)
    return path


def _hzflow(config: Path, *args, env=None) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(config), *map(str, args)],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def _fresh(server, root: Path, name: str, sim: hubsim.Hub, today: date, ptr, **extra) -> Path:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}_metrics`")
    conn.close()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    hubsim.build_database(sim, server, f"{name}_hub")
    hubsim.write_logs(sim, root, today)
    config = _config(server, root, name, ptr, start_month=months.of(sim.first_day), **extra)
    _hzflow(config, "init")
    return config


def rule_seconds(work: Path) -> dict[str, list[float]]:
    """Seconds of every job by rule, from Snakemake's benchmark files."""
    out = defaultdict(list)
    for tsv in (work / "benchmarks").rglob("*.tsv"):
        with open(tsv) as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        if rows:
            out[tsv.parent.name].append(float(rows[-1]["s"]))
    return out


def bench_workflow(server, out: Path, days: int = 92, visits: int = 300) -> None:
    import os

    first = date(2026, 6, 1)
    sim = hubsim.Hub("benchhub", first, first + timedelta(days=days - 1), visits_per_day=visits, seed=3)
    today = sim.last_day + timedelta(days=10)
    env = {**os.environ, months.TODAY_VAR: str(today)}
    os.environ[months.TODAY_VAR] = str(today)
    lines = sum(len(t) for t in hubsim.traffic(sim)[:1])
    print(f"workflow benchmark: {days} days of logs ({lines:,} access lines, {visits} visits a day), "
          f"{first} .. {sim.last_day}, today pinned to {today}")
    with PtrServer(synthetic="hosts.example.net") as ptr:
        root = out / "wf-commands"
        config = _fresh(server, root, "wfa", sim, today, ptr)
        logs = hubsim.logs_in_date_order(root)
        t = time.perf_counter()
        for log in logs:
            _hzflow(config, "import-auth" if "cmsauth" in log.name else "import-apache", log, env=env)
        imported = time.perf_counter() - t
        closed = months.between(months.of(first), months.preceding(months.of(today)))
        for month in closed:
            _hzflow(config, "analyze", "--month", month, env=env)
            _hzflow(config, "summarize", "--month", month, env=env)
        _hzflow(config, "tool-stats", months.of(today), env=env)
        by_hand = time.perf_counter() - t
        print(f"  stage commands, one process each: {by_hand:7.1f} s ({len(logs)} imports: {imported:.1f} s; "
              f"{len(closed)} months analyzed and summarized: {by_hand - imported:.1f} s)")

        root = out / "wf-cron"
        config = _fresh(server, root, "wfb", sim, today, ptr)
        took = _hzflow(config, "cron", "-q", env=env)
        jobs = rule_seconds(root / "work")
        in_jobs = sum(sum(v) for v in jobs.values())
        print(f"  hzflow cron:                      {took:7.1f} s ({sum(len(v) for v in jobs.values())} jobs; "
              f"{took - in_jobs:.1f} s outside jobs: Snakemake start-up, DAG, scheduling)")
        for rule, secs in sorted(jobs.items()):
            print(f"      {rule:<18} {len(secs):>3} job(s) {sum(secs):7.1f} s")
        idle = statistics.median(_hzflow(config, "cron", "-q", env=env) for _ in range(3))
        print(f"  hzflow cron with nothing new:     {idle:7.2f} s (median of 3)")

        diff = dumps.differences(dumps.canonical(server, "wfa_metrics", "wfa_hub"),
                                 dumps.canonical(server, "wfb_metrics", "wfb_hub"))
        print(f"  stage commands and cron give identical tables: {'yes' if not diff else diff}")

        empty = months.between(months.following(months.of(sim.last_day)),
                               months.of(sim.last_day + timedelta(days=400)))[:12]
        future = months.last_day(empty[-1]) + timedelta(days=10)
        env_future = {**env, months.TODAY_VAR: str(future)}
        cfg = yaml.safe_load(config.read_text())
        cfg["months"] = {"no_data": [f"{empty[0]}..{empty[-1]}"]}
        config.write_text(yaml.safe_dump(cfg))
        before = {k: len(v) for k, v in rule_seconds(root / "work").items()}
        took = _hzflow(config, "cron", "-q", env=env_future)
        after = rule_seconds(root / "work")
        per_month, per_stage = defaultdict(float), defaultdict(list)
        for tsv in (root / "work" / "benchmarks").rglob("*.tsv"):
            if tsv.stem in empty:
                with open(tsv) as f:
                    seconds = float(list(csv.DictReader(f, delimiter="\t"))[-1]["s"])
                per_month[tsv.stem] += seconds
                per_stage[tsv.parent.name].append(seconds)
        new_jobs = sum(len(v) for v in after.values()) - sum(before.values())
        print(f"  {len(empty)} months without logs (months.no_data) after the data: cron {took:.1f} s, "
              f"{new_jobs} jobs; per empty month, all its stages: "
              f"{statistics.mean(per_month.values()):.2f} s (median {statistics.median(per_month.values()):.2f}): "
              + ", ".join(f"{rule} {statistics.mean(v):.2f} s" for rule, v in sorted(per_stage.items())))

        root = out / "wf-days"
        tiny = hubsim.Hub("benchhub", first, first + timedelta(days=59), visits_per_day=0, seed=4)
        config = _fresh(server, root, "wfc", tiny, tiny.last_day + timedelta(days=10), ptr)
        for day in tiny.days():
            (root / "apache" / "daily" / f"benchhub-access.log-{day:%Y%m%d}").write_text(
                f'{day} 10:00:00 UTC 1 - "GET /resources/1 HTTP/1.1" 200 10 192.0.2.1 "-" "Mozilla" '
                f'TLSv1.3 0 10 - - - - - - - - -\\n')
        env_tiny = {**env, months.TODAY_VAR: str(tiny.last_day + timedelta(days=10))}
        t = time.perf_counter()
        _hzflow(config, "import-days", env=env_tiny)
        batch = time.perf_counter() - t
        print(f"  import of 60 one-line days in one import job: {batch:.2f} s, "
              f"{batch / 60 * 1000:.0f} ms fixed cost per day (one process per day costs "
              f"{_one_process_per_day(server, out, tiny, ptr, env_tiny):.0f} ms)")


def _one_process_per_day(server, out, tiny, ptr, env) -> float:
    root = out / "wf-days-each"
    config = _fresh(server, root, "wfd", tiny, tiny.last_day + timedelta(days=10), ptr)
    took = []
    for day in list(tiny.days())[:10]:
        (root / "apache" / "daily" / f"benchhub-access.log-{day:%Y%m%d}").write_text(
            f'{day} 10:00:00 UTC 1 - "GET /resources/1 HTTP/1.1" 200 10 192.0.2.1 "-" "Mozilla" '
            f'TLSv1.3 0 10 - - - - - - - - -\\n')
        took.append(_hzflow(config, "import-day", day, env=env))
    return statistics.median(took) * 1000


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=92)
    ap.add_argument("--visits", type=int, default=300)
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    a = ap.parse_args(argv)
    with sandbox.private_server(a.out.resolve()) as server:
        bench_workflow(server, a.out.resolve(), a.days, a.visits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
