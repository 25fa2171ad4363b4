"""Fleet benchmarks: one fleet run against the same hubs' crons one after another.

    ./dev/bench.sh fleet [--hubs 12] [--visits 120]
    ./dev/bench.sh fleet-slurm            (the same fleet through a single-node SLURM; needs root)

`--hubs` synthetic hubs (hubsim, each its own seed, so their client
addresses overlap: every hub draws its visitors from the same 762
documentation addresses) with two closed months of logs and a few days of
the current one, on one private MariaDB server, against a loopback PTR
server that answers after a few milliseconds and counts what it is asked.
Printed, for each way of running them:

* wall time;
* DNS queries sent (and the most any one address was asked);
* peak connections on the database server (sampled every 0.1 s);

for: the hubs' own `hzflow cron`, one after the other (each hub its own
cache); one fleet run (shared PTR cache, db_server_jobs at its default 2);
the fleet with db_server_jobs 1 and with no cap (what the cap costs and
saves); and, for fleet-slurm, the fleet through sbatch.  The tables of
every hub are compared with the first way's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from hzflow import months

from . import dumps, hubsim
from .ptrserver import PtrServer

FIRST = date(2026, 4, 1)
TODAY = date(2026, 6, 4)
PTR_DELAY = 0.004


class PeakConnections:
    """The most client connections the server had at once while the block ran."""

    def __init__(self, server):
        self.server, self.peak, self._stop = server, 0, threading.Event()

    def _watch(self):
        conn = self.server.connect()
        with conn.cursor() as cur:
            while not self._stop.wait(0.1):
                cur.execute("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
                self.peak = max(self.peak, int(cur.fetchone()[1]) - 1)       # not this watcher
        conn.close()

    def __enter__(self):
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def _hubs(server, root: Path, variant: str, count: int, visits: int, ptr) -> dict[str, Path]:
    """count hubs, each with its own databases, logs and config: name -> config file."""
    out = {}
    for i in range(count):
        name = f"hub{i:02d}"
        sim = hubsim.Hub(name, FIRST, TODAY - timedelta(days=1), visits_per_day=visits, seed=100 + i)
        tree = root / variant / name
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        hub_db, metrics_db = f"{variant}_{name}_hub", f"{variant}_{name}_metrics"
        conn = server.connect()
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{metrics_db}`")
        conn.close()
        hubsim.build_database(sim, server, hub_db)
        hubsim.write_logs(sim, tree, TODAY)
        config = tree / "config.yaml"
        config.write_text(yaml.safe_dump({
            "site": name, "start_month": months.of(FIRST),
            "db": server.db_config(hub_db=hub_db, metrics_db=metrics_db),
            "dns": {"nameservers": [ptr.nameserver], "concurrency": 50, "timeout": 1.0},
            "paths": {"apache_daily": str(tree / "apache" / "daily"), "hub_daily": str(tree / "hubzero" / "daily"),
                      "work_dir": str(tree / "work")}}))
        config.chmod(0o600)
        subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(config), "init"], check=True,
                       stdout=subprocess.DEVNULL)
        out[name] = config
    return out


def _tables(server, config: Path) -> dict:
    db = yaml.safe_load(config.read_text())["db"]
    tables = dumps.canonical(server, db["metrics_db"], db["hub_db"])
    tables.pop("hzflow_dns_cache", None)
    return tables


def _measure(server, ptr, run) -> tuple[float, int, int, int]:
    ptr.asked.clear()
    queries = ptr.queries
    with PeakConnections(server) as peak:
        t = time.perf_counter()
        run()
        seconds = time.perf_counter() - t
    asked = [n for ip, n in ptr.asked.items() if ip not in (None, "127.0.0.1", "192.0.2.1")]
    return seconds, ptr.queries - queries, max(asked, default=0), peak.peak


def _fleet_file(root: Path, variant: str, configs: dict[str, Path], **extra) -> Path:
    path = root / variant / "fleet.yaml"
    path.write_text(yaml.safe_dump({"hubs": {n: str(c) for n, c in configs.items()},
                                    "work_dir": str(root / variant / "fleet-work"),
                                    "dns_cache": f"{variant}_fleetdns", **extra}))
    return path


def bench_fleet(server, out: Path, hubs: int = 12, visits: int = 120, slurm_too: bool = False) -> None:
    os.environ[months.TODAY_VAR] = str(TODAY)
    root = out / "fleet"
    print(f"fleet benchmark: {hubs} hubs x 2 closed months (+ {TODAY.day - 1} days of the current one), "
          f"{visits} visits a day each, one MariaDB server, a PTR server answering after "
          f"{PTR_DELAY * 1000:.0f} ms; today pinned to {TODAY}")
    results, reference = [], {}
    with PtrServer(synthetic="hosts.example.net", delay=PTR_DELAY) as ptr:
        configs = _hubs(server, root, "own", hubs, visits, ptr)

        def one_by_one():
            for config in configs.values():
                subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(config), "cron", "-q"],
                               check=True)

        results.append(("their own crons, one after another", *_measure(server, ptr, one_by_one)))
        reference = {n: _tables(server, c) for n, c in configs.items()}
        variants = [("fleet", "one fleet run (db_server_jobs 2, the default)", {}),
                    ("cap1", "fleet, db_server_jobs 1", {"db_server_jobs": 1}),
                    ("nocap", f"fleet, db_server_jobs {hubs} (no cap)", {"db_server_jobs": hubs})]
        if slurm_too:
            variants = [("slurm", "fleet through SLURM (sbatch), db_server_jobs 2", {"profile": "slurm"})]
        for variant, label, extra in variants:
            configs_v = _hubs(server, root, variant, hubs, visits, ptr)
            fleet = _fleet_file(root, variant, configs_v, **extra)
            args = ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1"] \
                if variant == "slurm" else []

            def fleet_run(fleet=fleet, args=args):
                subprocess.run([sys.executable, "-m", "hzflow.cli", "--fleet", str(fleet), "cron", "-q", *args],
                               check=True)

            if variant == "slurm":
                from . import slurm
                with slurm.cluster(root / "slurm-scratch") as env:
                    os.environ.update(env)
                    measured = _measure(server, ptr, fleet_run)
            else:
                measured = _measure(server, ptr, fleet_run)
            same = all(not dumps.differences(_tables(server, c), reference[n]) for n, c in configs_v.items())
            results.append((label + ("" if same else "  TABLES DIFFER"), *measured))
    print(f"  {'':<48} {'wall s':>8} {'DNS queries':>12} {'max per address':>16} {'peak db conns':>14}")
    for label, seconds, queries, most, peak in results:
        print(f"  {label:<48} {seconds:>8.1f} {queries:>12,} {most:>16} {peak:>14}")
    print(f"  every hub's tables equal to its own cron's: "
          f"{'yes' if not any('DIFFER' in r[0] for r in results) else 'NO'}")
