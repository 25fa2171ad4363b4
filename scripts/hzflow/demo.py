"""The demo: a small synthetic hub run through the pipeline with `hzflow cron`, offline.

    ./dev/demo.sh            (or: python -m hzflow.demo [--out DIR] [--keep])

It starts a private MariaDB server, creates a hub database (users, profiles,
resources, tools, tool sessions), writes the last three months of access and
auth logs in the places a real hub keeps them, runs init, doctor and cron,
then prints what was built.  Everything lands in ./demo-out/.
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from . import hubschema, sandbox, synth
from .ptrserver import PtrServer


def build_hub(server: sandbox.Server, hub_db: str, rng: random.Random, first_day: date) -> None:
    """A hub database with users, profiles, resources, tools and tool sessions with their jobs."""
    conn = server.connect()
    with conn.cursor() as cur:
        hubschema.create(cur, hub_db)
        cur.execute(f"USE `{hub_db}`")
        orgs = ("universityundergraduate", "universitygraduate", "universityfaculty", "industry",
                "government", "k12student")
        countries = ("US", "US", "US", "IN", "DE", "BR", "JP", "NG")
        users = [(1000 + i, f"Demo User {i}", f"user{1000 + i}", f"user{1000 + i}@example.org",
                  datetime(2024, 1, 1) + timedelta(days=rng.randint(0, 600))) for i in range(1, 41)]
        cur.executemany("INSERT INTO jos_users (id, name, username, email, registerDate) "
                        "VALUES (%s, %s, %s, %s, %s)", users)
        cur.executemany("INSERT INTO jos_xprofiles (uidNumber, name, username, email, registerDate, "
                        "orgtype, organization, countryresident, countryorigin, emailConfirmed) "
                        "VALUES (%s, %s, %s, %s, %s, %s, 'Example University', %s, %s, %s)",
                        [(*u, rng.choice(orgs), rng.choice(countries), rng.choice(countries),
                          1 if rng.random() < 0.9 else -1) for u in users])
        profile_rows = []
        for u in users:
            profile_rows += [(u[0], "orgtype", rng.choice(orgs)),
                             (u[0], "countryresident", rng.choice(countries).lower()),
                             (u[0], "countryorigin", rng.choice(countries).lower())]
        cur.executemany("INSERT INTO jos_user_profiles (user_id, profile_key, profile_value) "
                        "VALUES (%s, %s, %s)", profile_rows)
        tool_names = dict(enumerate(synth.TOOLS, start=1))
        cur.executemany("INSERT INTO jos_resources (id, title, type, published, alias, path, created, publish_up) "
                        "VALUES (%s, %s, %s, 1, %s, %s, '2024-01-01', '2024-01-01')",
                        [(r, f"Resource {r}", 7 if r <= 5 else 3, tool_names.get(r, f"res{r}"),
                          "" if r <= 5 else f"/resources/{r}/download/slides.pdf") for r in range(1, 61)])
        cur.executemany("INSERT INTO jos_tool_version (id, toolname, instance, title, version, state, "
                        "released) VALUES (%s, %s, %s, %s, '1.0', 1, '2024-01-01')",
                        [(i + 1, t, f"{t}_r1", t.title()) for i, t in enumerate(synth.TOOLS)])
        sessions, jobs = [], []
        day = first_day
        while day < date.today():
            for _ in range(rng.randint(2, 8)):
                start = datetime(day.year, day.month, day.day, rng.randint(8, 20), rng.randint(0, 59))
                sessnum = len(sessions) + 1
                sessions.append((sessnum, f"user{rng.randint(1001, 1040)}", synth.doc_ip(rng),
                                 f"exec{rng.randint(1, 4)}", start, rng.choice(synth.TOOLS)))
                for job in range(rng.randint(1, 3)):
                    jobs.append((sessnum, job + 1, "simulation", start + timedelta(minutes=5 * job),
                                 rng.uniform(5, 900), rng.uniform(1, 600)))
            day += timedelta(days=1)
        cur.executemany("INSERT INTO sessionlog (sessnum, username, remoteip, exechost, start, appname) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", sessions)
        cur.executemany("INSERT INTO joblog (sessnum, job, event, start, walltime, cputime) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", jobs)
        now = int(datetime.now().timestamp())
        cur.executemany("INSERT INTO jos_session (session_id, time, ip, username, guest, userid) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        [(f"demo{i}", now - rng.randint(0, 3000), synth.doc_ip(rng),
                          f"user{1001 + i}" if i % 3 == 0 else "", 0 if i % 3 == 0 else 1,
                          1001 + i if i % 3 == 0 else 0) for i in range(12)])
    conn.close()


def write_logs(root: Path, site: str, rng: random.Random, first_day: date, per_day: int) -> int:
    """Daily logs as logrotate leaves them: older days gzipped, some in daily/YYYY/ or holding."""
    apache, hub = root / "apache" / "daily", root / "hubzero" / "daily"
    day, n = first_day, 0
    while day < date.today():
        stamp = f"{day:%Y%m%d}"
        place = apache
        if day.day == 1:
            place = apache / f"{day:%Y}"
        elif day.day == 15:
            place = root / "apache" / "daily.holding"
        place.mkdir(parents=True, exist_ok=True)
        hub.mkdir(parents=True, exist_ok=True)
        access = "\n".join(synth.access_day(day, per_day, rng)) + "\n"
        auth = "\n".join(synth.auth_day(day, per_day // 10, rng)) + "\n"
        compress = (date.today() - day).days > 7
        for path, text in ((place / f"{site}-access.log-{stamp}", access),
                           (hub / f"cmsauth.log-{stamp}", auth)):
            if compress:
                with gzip.open(f"{path}.gz", "wt") as out:
                    out.write(text)
            else:
                path.write_text(text)
        n += per_day
        day += timedelta(days=1)
    return n


def hzflow(config: Path, *args, check=True, log: Path | None = None) -> int:
    cmd = [sys.executable, "-m", "hzflow.cli", "--config", str(config), *args]
    print(f"\n$ hzflow {' '.join(args)}" + (f"     (output in {log})" if log else ""), flush=True)
    if log:
        with open(log, "w") as out:
            rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
        tail = [l for l in log.read_text().splitlines() if "steps (" in l or "Nothing to be done" in l]
        print(tail[-1].strip() if tail else log.read_text()[-2000:])
    else:
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


def headline(server: sandbox.Server, metrics_db: str, month: str) -> None:
    """The last complete month's headline numbers, read back from the summary tables."""
    conn = server.connect(metrics_db)
    cells = {}
    with conn.cursor() as cur:
        for label, table, rowid in (("users (all kinds)", "summary_user_vals", 1),
                                    ("simulation users", "summary_user_vals", 2),
                                    ("interactive visitors", "summary_user_vals", 7),
                                    ("download visitors", "summary_user_vals", 8),
                                    ("registered users who logged in", "summary_user_vals", 6),
                                    ("simulation runs", "summary_simusage_vals", 2),
                                    ("sessions (15 min+ or with jobs)", "summary_misc_vals", 2),
                                    ("web hits", "summary_misc_vals", 8)):
            cur.execute(f"SELECT value FROM {table} WHERE rowid = %s AND colid = 1 AND period = 1 "
                        f"AND datetime = %s", (rowid, f"{month}-00"))
            row = cur.fetchone()
            cells[label] = row[0] if row else "-"
    conn.close()
    print(f"\nHeadline numbers for {month} (summary tables, period 1 = the month):")
    for label, value in cells.items():
        print(f"  {label:<34} {value}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("demo-out"), help="where everything goes")
    ap.add_argument("--lines-per-day", type=int, default=400)
    ap.add_argument("--keep", action="store_true", help="leave the MariaDB server running")
    a = ap.parse_args(argv)
    out = a.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rng = random.Random(20250701)
    today = date.today()
    first_day = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    first_day = (first_day - timedelta(days=1)).replace(day=1)  # two full months before this one
    server = sandbox.existing_server_from_env() or sandbox.start(out)
    ptr = PtrServer(synthetic="hosts.example.net").__enter__()
    try:
        site, hub_db, metrics_db = "demohub", "demohub", "demohub_metrics"
        print(f"demo: private MariaDB at {server.socket or server.port}, PTR server at "
              f"{ptr.nameserver}; building a synthetic hub")
        build_hub(server, hub_db, rng, first_day)
        n = write_logs(out / "logs", site, rng, first_day, a.lines_per_day)
        print(f"demo: wrote {n} access-log lines for {first_day} .. {today - timedelta(days=1)} "
              f"under {out / 'logs'}")
        (out / "hub" / "app" / "site" / "stats" / "maps").mkdir(parents=True)
        config = out / "config.yaml"
        logs = out / "logs"
        config.write_text(yaml.safe_dump({
            "site": site, "hub_dir": str(out / "hub"), "start_month": f"{first_day:%Y-%m}",
            "db": server.db_config(hub_db=hub_db, metrics_db=metrics_db, prefix="jos_"),
            "dns": {"nameservers": [ptr.nameserver], "concurrency": 50, "timeout": 2.0},
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
        hzflow(config, "cron", log=out / "cron.log")
        hzflow(config, "whoisonline")
        hzflow(config, "status")
        hzflow(config, "plan")
        summary(server, metrics_db, hub_db)
        headline(server, metrics_db, f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}")
        print(f"\ndemo: markers in {out / 'work' / 'state' / site}, logs of each job in "
              f"{out / 'work' / 'logs' / site}; config {config}")
    finally:
        ptr.__exit__(None, None, None)
        if a.keep and server.process:
            print(f"demo: MariaDB left running (socket {server.socket}, pid {server.process.pid})")
        else:
            sandbox.stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
