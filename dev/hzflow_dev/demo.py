"""The demo: a small synthetic hub run through the pipeline with `hzflow cron`, offline.

    ./dev/demo.sh            (or: python -m hzflow_dev.demo [--out DIR] [--keep | --stop])

It starts a private MariaDB server, creates a hub database (users, profiles,
resources, tools, tool sessions), writes the last three months of access and
auth logs in the places a real hub keeps them, runs init, doctor and cron,
then prints what was built.  Everything lands in ./demo-out/.  With --keep
the MariaDB server and the PTR server stay up afterwards, so every command
of docs/operations.md can be tried on demo-out/config.yaml;
`./dev/demo.sh --stop` stops both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import yaml

from hzflow import months

from . import hubsim, sandbox
from .ptrserver import PtrServer


def hzflow(config: Path, *args, check=True) -> int:
    cmd = [sys.executable, "-m", "hzflow.cli", "--config", str(config), *args]
    print(f"\n$ hzflow {' '.join(args)}", flush=True)
    rc = subprocess.run(cmd).returncode
    if check and rc:
        raise SystemExit(f"demo: `hzflow {' '.join(args)}` failed with exit status {rc}")
    return rc


def summary(server: sandbox.Server, metrics_db: str, hub_db: str) -> None:
    conn = server.connect(metrics_db)
    with conn.cursor() as cur:
        cur.execute("SELECT DATE_FORMAT(datetime, '%Y-%m') m, COUNT(*), SUM(dnload), "
                    "COUNT(DISTINCT ip) FROM web GROUP BY m ORDER BY m")
        web = {m: (n, d, ips) for m, n, d, ips in cur.fetchall()}
        cur.execute("SELECT DATE_FORMAT(datetime, '%Y-%m') m, COUNT(*), COUNT(DISTINCT user) "
                    "FROM userlogin GROUP BY m ORDER BY m")
        logins = {m: (n, u) for m, n, u in cur.fetchall()}
        cur.execute("SELECT COUNT(*), SUM(row_count) FROM imported_sources")
        files, rows = cur.fetchone()
        cur.execute("SELECT COUNT(*) FROM bot_useragents")
        bots = cur.fetchone()[0]
        cur.execute("SELECT DATE_FORMAT(datetime, '%Y-%m') m, COUNT(*), SUM(jobs) FROM websessions "
                    "GROUP BY m ORDER BY m")
        sessions = {m: (n, j) for m, n, j in cur.fetchall()}
        cur.execute(f"SELECT COUNT(*) FROM `{hub_db}`.jos_resource_stats_tools")
        tool_cells = cur.fetchone()[0]
    conn.close()
    print("\nWhat the pipeline built (metrics database %s):" % metrics_db)
    print(f"  {'month':<8} {'web rows':>9} {'downloads':>9} {'visitor IPs':>11} {'sessions':>9} "
          f"{'tool jobs':>9} {'logins':>7} {'users':>6}")
    for m in sorted(set(web) | set(logins)):
        n, d, ips = web.get(m, (0, 0, 0))
        ln, lu = logins.get(m, (0, 0))
        sn, sj = sessions.get(m, (0, 0))
        print(f"  {m:<8} {n:>9} {int(d or 0):>9} {ips:>11} {sn:>9} {int(sj or 0):>9} {ln:>7} {lu:>6}")
    print(f"  {files} log files recorded in imported_sources ({int(rows or 0)} rows); "
          f"{bots} crawler user agents known; {tool_cells} tool statistics cells in the hub database")


KEPT = "kept.json"


def kept_ptr_server(out: Path) -> tuple[subprocess.Popen, str]:
    """A PTR server in a process of its own, which outlives the demo."""
    port_file = out / "ptr.port"
    proc = subprocess.Popen([sys.executable, "-m", "hzflow_dev.ptrserver", "--port-file", str(port_file)],
                            stdout=open(out / "ptr.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 20
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"demo: the PTR server did not start; see {out / 'ptr.log'}")
        time.sleep(0.1)
    return proc, f"127.0.0.1:{port_file.read_text().strip()}"


def stop_kept(out: Path) -> int:
    """--stop: end the MariaDB and PTR servers a --keep demo left running."""
    record = out / KEPT
    if not record.exists():
        print(f"demo: nothing kept in {out}")
        return 0
    kept = json.loads(record.read_text())
    for pid in (kept.get("ptr_pid"), kept.get("mariadb_pid")):
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(300):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
    sandbox.remove_files(kept.get("mariadb_dir"), kept.get("mariadb_socket"))
    record.unlink()
    print(f"demo: stopped the MariaDB server (pid {kept.get('mariadb_pid')}) and the PTR server "
          f"(pid {kept.get('ptr_pid')})")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("demo-out"), help="where everything goes")
    ap.add_argument("--visits-per-day", type=int, default=60)
    ap.add_argument("--keep", action="store_true",
                    help="leave the MariaDB and PTR servers running, to try more commands on the demo hub")
    ap.add_argument("--stop", action="store_true", help="stop the servers a --keep demo left running")
    a = ap.parse_args(argv)
    out = a.out.resolve()
    if a.stop:
        return stop_kept(out)
    if (out / KEPT).exists():
        stop_kept(out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    today = months.today()
    first_day = months.first_day(months.preceding(months.preceding(months.of(today))))
    hub = hubsim.Hub("demohub", first_day, today - timedelta(days=1), visits_per_day=a.visits_per_day,
                     seed=20250701)
    server = sandbox.existing_server_from_env() or sandbox.start(out)
    if a.keep:
        ptr_process, nameserver = kept_ptr_server(out)
        ptr = None
    else:
        ptr_process, ptr = None, PtrServer(synthetic="hosts.example.net").__enter__()
        nameserver = ptr.nameserver
    try:
        site, hub_db, metrics_db = "demohub", "demohub", "demohub_metrics"
        print(f"demo: private MariaDB at {server.socket or server.port}, PTR server at "
              f"{nameserver}; building a synthetic hub")
        hubsim.build_database(hub, server, hub_db)
        files = hubsim.write_logs(hub, out / "logs", today)
        print(f"demo: wrote {len(files)} access and auth logs for {first_day} .. {hub.last_day} "
              f"under {out / 'logs'}")
        (out / "hub" / "app" / "site" / "stats" / "maps").mkdir(parents=True)
        config = out / "config.yaml"
        logs = out / "logs"
        config.write_text(yaml.safe_dump({
            "site": site, "hub_dir": str(out / "hub"), "start_month": f"{first_day:%Y-%m}",
            "db": server.db_config(hub_db=hub_db, metrics_db=metrics_db, prefix="jos_"),
            "dns": {"nameservers": [nameserver], "concurrency": 50, "timeout": 2.0},
            "geoip": {"provider": "offline"},
            "paths": {"apache_daily": str(logs / "apache" / "daily"),
                      "apache_imported": str(logs / "apache" / "imported"),
                      "hub_daily": str(logs / "hubzero" / "daily"),
                      "hub_imported": str(logs / "hubzero" / "imported"),
                      "work_dir": str(out / "work"), "state_dir": str(out / "work" / "state")},
        }, sort_keys=False))
        config.chmod(0o600)
        hzflow(config, "init")
        hzflow(config, "doctor", check=False)
        hzflow(config, "plan")
        hzflow(config, "cron")
        hzflow(config, "whoisonline", "-v")
        hzflow(config, "status")
        hzflow(config, "plan")
        hzflow(config, "audit", "--all", check=False)     # exit 1 would mean a finding
        summary(server, metrics_db, hub_db)
        hzflow(config, "show", months.preceding(months.of(today)))
        print(f"\ndemo: the report is {out / 'work' / 'report' / site / 'index.html'} (CSV files beside it); "
              f"markers in {out / 'work' / 'state' / site}, logs of each job in {out / 'work' / 'logs' / site}; "
              f"config {config}")
    finally:
        if ptr is not None:
            ptr.__exit__(None, None, None)
        if a.keep:
            (out / KEPT).write_text(json.dumps({
                "mariadb_pid": server.process.pid if server.process else None,
                "mariadb_dir": str(server.datadir) if server.process else None,
                "mariadb_socket": server.socket if server.process else None,
                "ptr_pid": ptr_process.pid}))
            print(f"\ndemo: kept running: MariaDB (socket {server.socket}) and the PTR server ({nameserver}).\n"
                  f"  try:  export HZFLOW_CONFIG={out / 'config.yaml'}; .venv/bin/hzflow doctor\n"
                  f"  stop: ./dev/demo.sh --stop" + (f" --out {a.out}" if a.out != Path("demo-out") else ""))
        else:
            sandbox.stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
