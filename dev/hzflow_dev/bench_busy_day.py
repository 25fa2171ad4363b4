"""A busy day, step by step: where a month's time goes, through `hzflow cron` and the stage commands.

    ./dev/bench.sh busy-day [--lines 500000] [--addresses 71000]

One access log of `--lines` lines from `--addresses` distinct client
addresses (a day of July 2025) beside a synthetic hub's database and auth
log; "today" is pinned to 2025-08-10, so July is complete and August is
the current month.  A loopback PTR server runs in its own process.
Printed:

* the resolver alone: queries/s the PTR server sustains through hzflow's
  resolver (aiodns, the config's concurrency) with no database work, so
  "waiting for DNS" is a number of its own;
* `hzflow cron`: each job's wall seconds, its own CPU seconds (hzflow's
  Python) and the rest (the database and the resolver), from Snakemake's
  benchmark files, and each step inside it (the stage markers' step times);
  the DNS steps' seconds are the time spent waiting for the resolver;
* the same day through the stage commands, one process each (import-apache,
  import-auth, analyze, summarize, tool-stats of the current month);
* whether the two ways leave identical tables.

The PTR server's CPU during the cron run is printed too: on this machine it
shares the two cores with hzflow and MariaDB, which a hub's resolver does not.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from hzflow import config as cfgmod
from hzflow import months

from . import dumps, hubsim, synth
from .ptrserver import ApartServer

DAY = date(2025, 7, 15)
TODAY = date(2025, 8, 10)
SITE = "busyhub"


def _tree(server, root: Path, name: str, lines: int, addresses: int, nameserver: str,
          history_days: int = 0) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    apache, hub_logs = root / "apache" / "daily", root / "hubzero" / "daily"
    apache.mkdir(parents=True)
    hub_logs.mkdir(parents=True)
    sim = hubsim.Hub(SITE, DAY - timedelta(days=14), DAY, visits_per_day=40, seed=20)
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}_metrics`")
    conn.close()
    hubsim.build_database(sim, server, f"{name}_hub")
    if history_days:
        tool_history(server, f"{name}_hub", history_days)
    rng = random.Random(500)
    ips = synth.bench_ip_pool(addresses, rng)
    stamp = f"{DAY + timedelta(days=1):%Y%m%d}"
    with open(apache / f"{SITE}-access.log-{stamp}", "w") as out:
        for start in range(0, lines, 100_000):
            out.write("\n".join(synth.access_day(DAY, min(100_000, lines - start), rng, ips)) + "\n")
    (hub_logs / f"cmsauth.log-{stamp}").write_text("\n".join(synth.auth_day(DAY, 400, rng)) + "\n")
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump({
        "site": SITE, "start_month": "2025-07",
        "db": server.db_config(hub_db=f"{name}_hub", metrics_db=f"{name}_metrics"),
        "dns": {"nameservers": [nameserver], "concurrency": 200, "timeout": 2.0, "tries": 4},
        "paths": {"apache_daily": str(apache), "hub_daily": str(hub_logs), "work_dir": str(root / "work")}}))
    config.chmod(0o600)
    _hzflow(config, "init")
    return config


# The smaller day whose import the issue measures on its own (fixed costs weigh more).
SMALL_DAY = 200_000
# Years of tool sessions before the busy day: the long windows of tool statistics read them all.
TOOL_HISTORY_DAYS = 4 * 365
TOOL_SESSIONS_A_DAY = 80


def tool_history(server, hub_db: str, days: int, per_day: int = TOOL_SESSIONS_A_DAY) -> None:
    """`days` days of tool sessions (and their jobs) before the hub's own two weeks, as a hub of some
    years has them; the July and August of the busy day get none, so August has no new tool data."""
    rng = random.Random(77)
    conn = server.connect(hub_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(sessnum), 0) FROM sessionlog")
            sessnum = cur.fetchone()[0] + 1_000_000
            first = DAY - timedelta(days=14 + days)
            sessions, jobs = [], []
            for d in range(days):
                day = first + timedelta(days=d)
                for _ in range(per_day):
                    sessnum += 1
                    start = f"{day} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
                    sessions.append((sessnum, f"user{rng.randint(1001, 1400)}", synth.doc_ip(rng), "exec1", start,
                                     rng.choice(synth.TOOLS), rng.uniform(60, 4000), rng.uniform(10, 3000),
                                     rng.uniform(1, 900)))
                    jobs += [(sessnum, job + 1, "simulation", start, rng.uniform(5, 900), rng.uniform(1, 600))
                             for job in range(rng.randint(1, 3))]
            for at in range(0, len(sessions), 20_000):
                cur.executemany("INSERT INTO sessionlog (sessnum, username, remoteip, exechost, start, appname, "
                                "walltime, viewtime, cputime) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                                sessions[at:at + 20_000])
            for at in range(0, len(jobs), 20_000):
                cur.executemany("INSERT INTO joblog (sessnum, job, event, start, walltime, cputime) "
                                "VALUES (%s, %s, %s, %s, %s, %s)", jobs[at:at + 20_000])
        conn.commit()
    finally:
        conn.close()


def _hzflow(config: Path, *args) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(config), *map(str, args)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def resolver_alone(nameserver: str, addresses: int) -> float:
    from hzflow.enrich import dns

    ips = synth.bench_ip_pool(addresses, random.Random(500))
    resolver = dns.Resolver([nameserver], concurrency=200, timeout=2.0)
    try:
        t = time.perf_counter()
        for at in range(0, len(ips), dns.BATCH):
            resolver.resolve(ips[at:at + dns.BATCH])
        return len(ips) / (time.perf_counter() - t)
    finally:
        resolver.close()


def jobs(work: Path) -> list[tuple[str, str, float, float]]:
    """(rule, unit, wall s, CPU s) of every job, from Snakemake's benchmark files."""
    out = []
    for tsv in sorted((work / "benchmarks").rglob("*.tsv")):
        with open(tsv) as f:
            row = list(csv.DictReader(f, delimiter="\t"))[-1]
        out.append((tsv.parent.name, tsv.stem, float(row["s"]), float(row.get("cpu_time") or 0)))
    return out


def steps(work: Path, figure: str = "seconds") -> dict[str, dict[str, float]]:
    """stage/unit -> step -> seconds (or another figure of the step), from the markers."""
    out = {}
    for marker in sorted((work / "state" / SITE).glob("*/*.json")):
        record = json.loads(marker.read_text())
        if record.get("steps"):
            out[f"{marker.parent.name} {marker.stem}"] = {k: v.get(figure, 0)
                                                         for k, v in record["steps"].items()}
    return out


def born_hosts(work: Path) -> dict[str, float]:
    """What the import's rows born with their host cost: rows, addresses asked, seconds the load waited."""
    out = {"rows": 0, "asked": 0, "waited": 0.0}
    for marker in (work / "state" / SITE / "imported" / "day").glob("*.json"):
        born = ((json.loads(marker.read_text()).get("files") or {}).get("access") or {}).get("born_hosts") or {}
        for key in out:
            out[key] += born.get(key, 0)
    return out


def bench_busy_day(server, out: Path, lines: int = 500_000, addresses: int = 71_000,
                   history_days: int = TOOL_HISTORY_DAYS) -> None:
    os.environ[months.TODAY_VAR] = str(TODAY)
    with ApartServer("busy.example.net") as ptr:
        nameserver = ptr.nameserver
        print(f"busy-day benchmark: one access log of {lines:,} lines from {addresses:,} addresses ({DAY}), "
              f"{history_days} days of tool sessions before it, today pinned to {TODAY}; PTR server in its own "
              f"process")
        rate = resolver_alone(nameserver, addresses)
        print(f"  the resolver alone (no database): {rate:,.0f} queries/s, so {addresses / rate:.1f} s for "
              f"{addresses:,} addresses")

        config = _tree(server, out / "busy-cron", "busya", lines, addresses, nameserver, history_days)
        ptr_cpu = ptr.cpu_seconds()
        took = _hzflow(config, "cron", "-q")
        ptr_cpu = ptr.cpu_seconds() - ptr_cpu
        work = Path(cfgmod.load(config).work_dir)
        done = jobs(work)
        dns_step = sum(s for stage in steps(work).values() for label, s in stage.items()
                       if label.startswith("resolve-dns"))
        asked = sum(steps(work, "asked").get(unit, {}).get(label, 0) for unit, stage in steps(work).items()
                    for label in stage if label.startswith("resolve-dns"))
        dns_wait = sum(steps(work, "waited").get(unit, {}).get(label, 0) for unit, stage in steps(work).items()
                       for label in stage if label.startswith("resolve-dns"))
        print(f"  hzflow cron: {took:.1f} s, {took - sum(j[2] for j in done):.1f} s of it outside jobs "
              f"(Snakemake start-up, DAG, scheduling)")
        print(f"      {'job':<30} {'wall s':>7} {'own CPU s':>9} {'db + dns s':>10}")
        for rule, unit, wall, cpu in done:
            print(f"      {rule + ' ' + unit:<30} {wall:>7.1f} {cpu:>9.1f} {max(0.0, wall - cpu):>10.1f}")
        for unit, by_step in steps(work).items():
            slow = sorted(by_step.items(), key=lambda kv: -kv[1])[:6]
            print(f"      {unit:<24} " + ", ".join(f"{label} {s:.1f}" for label, s in slow if s >= 0.05))
        born = born_hosts(work)
        dns_wait += born["waited"]
        asked += born["asked"]
        print(f"  the import gave {born['rows']:,} rows their host as it loaded them, asking {born['asked']:,} "
              f"addresses ({born['waited']:.1f} s waiting for them)")
        print(f"  waiting for the resolver: {dns_wait:.1f} s blocked on it (the import's wait, and the resolve-dns "
              f"steps with the row writes overlapping the asking, {dns_step:.1f} s); hzflow's own time: "
              f"{took - dns_wait:.1f} s")
        print(f"  the same by the resolver's own rate: {asked:,} addresses asked take it {asked / rate:.1f} s "
              f"alone; hzflow's own time: {took - asked / rate:.1f} s")
        print(f"  the PTR server's own process used {ptr_cpu:.1f} CPU s of this machine's two cores during the run "
              f"(a resolver on another host costs hzflow none of it)")

        config_b = _tree(server, out / "busy-commands", "busyb", lines, addresses, nameserver, history_days)
        root = config_b.parent
        t0 = time.perf_counter()
        timings = [("import-apache", _hzflow(config_b, "import-apache",
                                             *sorted((root / "apache" / "daily").iterdir()))),
                   ("import-auth", _hzflow(config_b, "import-auth", *sorted((root / "hubzero" / "daily").iterdir()))),
                   ("analyze 2025-07", _hzflow(config_b, "analyze", "--month", "2025-07")),
                   ("summarize 2025-07", _hzflow(config_b, "summarize", "--month", "2025-07")),
                   ("tool-stats 2025-08", _hzflow(config_b, "tool-stats", "2025-08"))]
        print(f"  stage commands: {time.perf_counter() - t0:.1f} s: "
              + ", ".join(f"{label} {s:.1f}" for label, s in timings))
        diff = dumps.differences(dumps.canonical(server, "busya_metrics", "busya_hub"),
                                 dumps.canonical(server, "busyb_metrics", "busyb_hub"))
        print(f"  cron and the stage commands give identical tables: {'yes' if not diff else diff[:3]}")

        config_c = _tree(server, out / "busy-import", "busyc", SMALL_DAY, min(addresses, SMALL_DAY // 7), nameserver)
        took = _hzflow(config_c, "import-apache", *sorted((config_c.parent / "apache" / "daily").iterdir()))
        print(f"  a {SMALL_DAY:,}-line day through `hzflow import-apache` (a process of its own, start-up "
              f"included): {took:.1f} s, {SMALL_DAY / took:,.0f} lines/s")
