"""Benchmarks that print figures (never a pass/fail on time).

    ./dev/bench.sh [workflow] [import] [dns] [sessions] [summaries] [plan] [migrate] [reliability]
                   [--lines N] [--days N]

workflow: bench_workflow.py (hzflow cron next to the stage commands, idle
runs, empty months, the fixed cost of a day).

import: a deterministic one-day access log (default 1,000,000 lines, about
20k distinct addresses, a realistic mix of pages, assets, downloads, bots
and 304/404s) imported end to end on a private MariaDB server: parse,
filter, LOAD DATA, commit.  Printed next to the parse-and-filter rate alone
and the raw LOAD DATA rate of the same kept rows on the same server.

dns: 50,000 distinct addresses held by 400,000 web rows of one month,
resolved against a loopback PTR server that answers after 20 ms: ms per
address end to end (queries, cache, write-back to every row), then the
same again from the cache, with the number of queries each run sent.

sessions: 3,000,000 web rows of one month from 60,000 addresses (visits of
3 to 20 requests a few minutes apart),
sessionized by `hzflow logfix-session` in a child process: rows per second
and the peak memory of that process.

summaries: a synthetic history of 10,000,000 web rows (sessions of ten
requests from 150,000 addresses, 2021-01 to 2026-06, with downloads,
logins, tool runs and hub sessions), generated inside MariaDB; then
`summarize-month 2026-06` for all six periods, read from the per-month
rollups and by a full rescan of the history, and the time to build the
rollups of one month.  `plan`: `snakemake -n` on an up-to-date tree of
fifteen years of months.

migrate: a legacy MyISAM `web` of 2,000,000 rows with the legacy indexes,
converted to InnoDB by `hzflow migrate`'s engine step: bytes copied per
second, next to the figure `hzflow migrate` and `doctor` estimate with.

reliability: the test suite's reliability probes at size: 64 MB of binary
garbage on `import-apache -` (refused, exit 4, nothing recorded: seconds and
MB/s), and `migrate --apply` of a 500,000-row MyISAM web killed with -9 at
twelve random moments, each finished by the next migrate (seconds to
recover, and how many end states were wrong: should be 0).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

from hzflow import config as cfgmod
from hzflow import db as dbmod
from hzflow import schema
from hzflow.imports import access, apache
from hzflow.imports.logparse import LineDates

from . import sandbox, synth


def bench_log(path: Path, lines: int) -> Path:
    if path.exists():
        return path
    rng = random.Random(1000000)
    ips = synth.bench_ip_pool(20000, rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 100000
    with open(path.with_suffix(".partial"), "w") as out:
        for start in range(0, lines, chunk):
            part = synth.access_day(date(2026, 7, 1), min(chunk, lines - start), rng, ips)
            out.write("\n".join(part) + "\n")
    path.with_suffix(".partial").rename(path)
    return path


def fresh_metrics(server: sandbox.Server, root: Path, **extra) -> cfgmod.Settings:
    """Settings for a newly created, empty bench_metrics database."""
    data = {"site": "bench", "db": server.db_config(hub_db="bench_hub", metrics_db="bench_metrics"),
            "paths": {"work_dir": str(root / "work")}, **extra}
    settings = cfgmod.Settings.from_mapping(data, root / "bench.yaml")
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS bench_metrics")
    conn.close()
    schema.init(settings, say=lambda _: None)
    return settings


def bench_import(server: sandbox.Server, out: Path, lines: int) -> None:
    log = bench_log(out / f"bench-access.log-{lines}", lines)
    size_mb = log.stat().st_size / 1e6
    settings = fresh_metrics(server, out)

    t = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=".tsv") as tsv:
        with dbmod.cursor(settings) as cur:
            filters = access.Filters.load(cur)
        with open(tsv.name, "w") as rows:
            scanned = access.scan_file(log, filters, LineDates(None, 0, date(2030, 1, 1)), 5, rows.write)
        parse_s = time.perf_counter() - t

        with dbmod.connection(settings) as conn:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE web_raw LIKE web")
            t = time.perf_counter()
            with dbmod.transaction(conn) as cur:
                raw_rows, _ = dbmod.load_file(cur, "web_raw", access.WEB_COLUMNS, tsv.name)
            raw_s = time.perf_counter() - t
            with conn.cursor() as cur:
                cur.execute("DROP TABLE web_raw")

    t = time.perf_counter()
    report = apache.import_file(settings, log)
    total_s = time.perf_counter() - t
    print(f"import benchmark: {lines:,} lines ({size_mb:.0f} MB), {scanned.kept:,} kept, "
          f"{len(scanned.agents):,} distinct agents, status {report['status']}")
    print(f"  end to end (parse, filter, LOAD DATA, commit): {total_s:6.2f} s  "
          f"{lines / total_s:>10,.0f} lines/s")
    print(f"  parse and filter only:                         {parse_s:6.2f} s  "
          f"{lines / parse_s:>10,.0f} lines/s")
    print(f"  raw LOAD DATA of the {raw_rows:,} kept rows:       {raw_s:6.2f} s  "
          f"{raw_rows / raw_s:>10,.0f} rows/s")


def _ptr_process(delay, port_out, queries, stop):
    from .ptrserver import PtrServer

    with PtrServer(synthetic="bench.example.net", delay=delay) as server:
        port_out.value = server.port
        while not stop.is_set():
            stop.wait(0.2)
            queries.value = server.queries
        queries.value = server.queries


def bench_dns(server: sandbox.Server, out: Path, addresses: int = 50_000, rows: int = 400_000,
              delay: float = 0.020) -> None:
    """Resolve `addresses` distinct IPs held by `rows` web rows of one month, 20 ms per answer."""
    import multiprocessing

    from hzflow.enrich import dns

    rng = random.Random(50000)
    ips = synth.bench_ip_pool(addresses, rng)
    settings = fresh_metrics(server, out)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv") as tsv:
        for i in range(rows):
            ip = ips[i % addresses]
            tsv.write(f"2026-07-{1 + i % 31:02d} {i % 24:02d}:00:00\t/resources/{i % 500}\t{ip}\n")
        tsv.flush()
        with dbmod.cursor(settings, atomic=True) as cur:
            dbmod.load_file(cur, "web", ("datetime", "content", "ip"), tsv.name)
    ctx = multiprocessing.get_context("spawn")
    port, queries, stop = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Event()
    proc = ctx.Process(target=_ptr_process, args=(delay, port, queries, stop), daemon=True)
    proc.start()
    while not port.value:
        time.sleep(0.05)
    concurrency = 100
    settings = cfgmod.Settings.from_mapping({**settings.raw, "dns": {
        "nameservers": [f"127.0.0.1:{port.value}"], "concurrency": concurrency, "timeout": 2.0}}, settings.path)
    try:
        t = time.perf_counter()
        first = dns.resolve_dns(settings, "bench_metrics", "web", date(2026, 7, 1), date(2026, 8, 1),
                                say=lambda _: None)
        first_s = time.perf_counter() - t
        asked = queries.value
        with dbmod.cursor(settings) as cur:
            cur.execute("UPDATE web SET host = NULL")
        t = time.perf_counter()
        second = dns.resolve_dns(settings, "bench_metrics", "web", date(2026, 7, 1), date(2026, 8, 1),
                                 say=lambda _: None)
        second_s = time.perf_counter() - t
        time.sleep(0.5)
    finally:
        stop.set()
        proc.join(5)
    print(f"dns benchmark: {addresses:,} distinct addresses in {rows:,} web rows of one month, "
          f"resolver answering after {delay * 1000:.0f} ms, concurrency {concurrency}")
    print(f"  first run (queries + cache + write-back): {first_s:6.2f} s  "
          f"{first_s * 1000 / addresses:6.3f} ms per address, {first['rows']:,} rows written")
    print(f"  second run (every answer from the cache): {second_s:6.2f} s  "
          f"{second_s * 1000 / addresses:6.3f} ms per address, {second['rows']:,} rows written")
    print(f"  queries sent: {asked:,} by the first run, {queries.value - asked:,} by the second")


def bench_sessions(server: sandbox.Server, out: Path, rows: int = 3_000_000) -> None:
    """Sessionize one month of `rows` web rows (visits of 3-20 requests) in a child process."""
    import resource
    import subprocess

    settings = fresh_metrics(server, out)
    rng = random.Random(3000000)
    ips = synth.bench_ip_pool(60_000, rng)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv") as tsv:
        written = 0
        while written < rows:              # visits: a burst of requests from one address
            ip = ips[rng.randrange(len(ips))]
            host = f"host-{ip.replace('.', '-')}.bench.example.net"
            day, second = 1 + rng.randrange(31), rng.randrange(80000)
            for _ in range(min(rng.randint(3, 20), rows - written)):
                second = min(second + rng.randint(5, 400), 86399)
                tsv.write(f"2026-07-{day:02d} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                          f"\t/resources/{written % 700}\t{ip}\t{host}\texample.net\n")
                written += 1
        tsv.flush()
        with dbmod.cursor(settings, atomic=True) as cur:
            dbmod.load_file(cur, "web", ("datetime", "content", "ip", "host", "domain"), tsv.name)
    config = out / "bench-sessions.yaml"
    config.write_text(yaml.safe_dump({**settings.raw}))
    config.chmod(0o600)
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(config), "logfix-session",
                        "2026-07"], capture_output=True, text=True)
    took = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if r.returncode:
        raise SystemExit(r.stderr)
    with dbmod.cursor(settings) as cur:
        cur.execute("SELECT COUNT(*), COALESCE(SUM(sessionid IS NOT NULL), 0) FROM web")
        total, stamped = cur.fetchone()
        cur.execute("SELECT COUNT(*) FROM websessions")
        n_sessions = cur.fetchone()[0]
    print(f"sessions benchmark: {total:,} web rows in one month, 60,000 addresses")
    print(f"  logfix-session: {took:6.2f} s  {total / took:>10,.0f} rows/s, {n_sessions:,} sessions, "
          f"{int(stamped):,} rows stamped (days 8, 16, 24 stay out, as in the reference)")
    print(f"  peak memory of the sessionizing process: {peak_mb:,.0f} MB")


HISTORY_START, HISTORY_MONTHS = "2021-01-01", 66
ADDRESS = ("CONCAT('10.', a DIV 65536, '.', a DIV 256 % 256, '.', a % 256)")


def synthetic_history(cur, web_rows: int) -> None:
    """Fill web, websessions, logins, profiles, tool starts and hub sessions with SQL generators."""
    sessions = web_rows // 10
    span = f"TIMESTAMPDIFF(SECOND, '{HISTORY_START}', '{HISTORY_START}' + INTERVAL {HISTORY_MONTHS} MONTH)"
    when = f"'{HISTORY_START}' + INTERVAL FLOOR((s - 1) * {span} / {sessions}) SECOND"
    per_session = (f"SELECT seq AS s, seq * 48271 % 150000 AS a FROM seq_1_to_{sessions}")
    cur.execute(f"INSERT INTO websessions (id, datetime, ipcountry, ip, host, domain, duration, jobs, webevents) "
                f"SELECT s, {when}, ELT(1 + a % 8, 'US', 'US', 'DE', 'CN', 'IN', 'BR', 'FR', '-'), {ADDRESS}, "
                f"CONCAT('h', a, '.d', a % 500, '.example.edu'), CONCAT('d', a % 500, '.example.edu'), "
                f"CAST(s * 7919 % 3000 AS SIGNED) - 20, IF(s % 13 = 0, 1 + s % 5, 0), 10 FROM ({per_session}) g")
    cur.execute("INSERT INTO web (sessionid, datetime, ipcountry, content, ip, host, domain, dnload) "
                "SELECT ws.id, ws.datetime + INTERVAL r.seq * 60 SECOND, ws.ipcountry, "
                "CONCAT('/resources/', ws.id % 700, IF((ws.id + r.seq) % 17 = 0, '/download/a.pdf', '')), "
                "ws.ip, ws.host, ws.domain, (ws.id + r.seq) % 17 = 0 "
                "FROM websessions ws JOIN seq_0_to_9 r ORDER BY ws.id, r.seq")
    users = 40000
    cur.execute(f"INSERT INTO jos_xprofiles_metrics (uidNumber, username, registerDate, orgtype, countryresident) "
                f"SELECT seq, CONCAT('u', seq), '{HISTORY_START}' + INTERVAL seq * 4000 SECOND, "
                f"ELT(1 + seq % 5, 'university', 'industry', 'government', 'other', ''), "
                f"ELT(1 + seq % 4, 'US', 'DE', 'CN', 'BR') FROM seq_1_to_{users}")
    logins = sessions // 4
    cur.execute(f"INSERT IGNORE INTO userlogin (datetime, user, uidNumber, ip, action) "
                f"SELECT {when.replace('s - 1', 'seq * 4 - 1')}, CONCAT('u', 1 + seq % {users}), 1 + seq % {users}, "
                f"{ADDRESS}, 'login' "
                f"FROM (SELECT seq, seq * 4 * 48271 % 150000 AS a FROM seq_1_to_{logins}) g")
    cur.execute(f"INSERT INTO toolstart (datetime, user, success, tool, orgtype, countryresident) "
                f"SELECT {when.replace('s - 1', 'seq * 20 - 1')}, CONCAT('u', 1 + seq % 5000), 1, "
                f"CONCAT('tool', seq % 40), 'university', 'US' FROM seq_1_to_{sessions // 20}")
    cur.execute(f"INSERT INTO bench_hub.sessionlog (sessnum, username, start, appname, walltime, viewtime, "
                f"cputime) SELECT seq, CONCAT('u', 1 + seq % 5000), {when.replace('s - 1', 'seq * 20 - 1')}, "
                f"CONCAT('tool', seq % 40), 600 + seq % 3000, 300 + seq % 1000, seq % 900 "
                f"FROM seq_1_to_{sessions // 20}")
    cur.execute("INSERT INTO domainclass (domain, class) SELECT CONCAT('d', seq, '.example.edu'), 1 + seq % 6 "
                "FROM seq_0_to_499")


def bench_summaries(server: sandbox.Server, out: Path, web_rows: int = 10_000_000) -> None:
    """summarize-month on a long history: from the rollups and by full rescan."""
    from hzflow import rollups, summary

    from . import hubschema

    settings = fresh_metrics(server, out)
    t = time.perf_counter()
    conn = server.connect()
    with conn.cursor() as cur:
        hubschema.create(cur, "bench_hub")
        cur.execute("USE bench_metrics")
        synthetic_history(cur, web_rows)
    conn.commit()
    conn.close()
    print(f"summaries benchmark: {web_rows:,} web rows, {HISTORY_MONTHS} months from {HISTORY_START} "
          f"(generated in {time.perf_counter() - t:.0f} s)")
    met = dbmod.quote_ident(settings.db.metrics_db)
    with dbmod.connection(settings) as conn:
        t = time.perf_counter()
        built = rollups.bring_up_to_date(conn, met, "2026-06", say=lambda _: None)
        took = time.perf_counter() - t
        print(f"  rollups of all {len(built)} months: {took:6.1f} s ({took / len(built):.2f} s per month)")
        with conn.cursor() as cur:
            cur.execute("DELETE FROM hzflow_rollup_months WHERE month = '2026-06'")
        conn.commit()
        t = time.perf_counter()
        rollups.bring_up_to_date(conn, met, "2026-06", say=lambda _: None)
        print(f"  check all months and rebuild one month's rollups: {time.perf_counter() - t:6.2f} s")
    for label, use in (("from the rollups", True), ("by full rescan  ", False)):
        t = time.perf_counter()
        summary.summarize_month(settings, "2026-06", rollups=use, say=lambda _: None)
        print(f"  summarize-month 2026-06, six periods, {label}: {time.perf_counter() - t:6.1f} s")


def bench_plan(server: sandbox.Server, out: Path, years: int = 15) -> None:
    """`hzflow plan` and `hzflow cron` on an up-to-date tree of `years` years: a day marker and two
    archived logs for every day, every month's markers built."""
    import os
    import shutil
    import subprocess
    from datetime import timedelta

    from hzflow import coverage, markers, months, plan

    root = out / "plan-tree"
    shutil.rmtree(root, ignore_errors=True)
    fresh_metrics(server, out)               # every run checks its database login (preflight)
    data = {"site": "bench", "db": server.db_config(hub_db="bench_hub", metrics_db="bench_metrics"),
            "paths": {"apache_daily": str(root / "apache" / "daily"), "hub_daily": str(root / "hub" / "daily"),
                      "work_dir": str(root / "work")}, "report": {"enabled": False}}
    for daily in (root / "apache" / "daily", root / "hub" / "daily"):
        daily.mkdir(parents=True)
    config = out / "bench-plan.yaml"
    config.write_text(yaml.safe_dump(data))
    config.chmod(0o600)
    settings = cfgmod.load(config)
    last = months.current()
    first = months.first_day(f"{int(last[:4]) - years:04d}{last[4:]}")
    clock = time.time() - 10 * 366 * years - 1000
    day, n = first, 0
    while day < months.today():
        stamp = f"{day:%Y%m%d}"
        files = {}
        for kind, folder, name in (("access", settings.apache_imported, f"bench-access.log-{stamp}.gz"),
                                   ("auth", settings.hub_imported, f"cmsauth.log-{stamp}.gz")):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(b"")
            files[kind] = {"file": str(folder / name)}
        path = markers.day_marker(settings, str(day))
        markers.write(path, {"day": str(day), "files": files})
        os.utime(path, (clock, clock))
        clock += 1
        day += timedelta(days=1)
        n += 1
    cov = coverage.Coverage(settings)
    for month in cov.months:
        for stage in cov.stages(month):
            clock += 1
            path = markers.marker(settings, stage, month)
            markers.write(path, {"stage": stage, "month": month})
            os.utime(path, (clock, clock))
    t = time.perf_counter()
    lines = []
    plan.plan(settings, [], say=lines.append)
    took = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(config), "cron", "-q"], check=True)
    idle = time.perf_counter() - t
    print(f"plan benchmark: {len(cov.months)} months ({years} years) up to date, {n:,} days with markers "
          f"and {2 * n:,} archived logs")
    print(f"  hzflow plan (snakemake --detailed-summary): {took:6.2f} s: {lines[-1] if lines else ''}")
    print(f"  hzflow cron with nothing new: {idle:6.2f} s")


def synthetic_web(cur, rows: int) -> None:
    """`rows` web rows, 13 s apart from 2020 on, over 7,000 resources and 90,000 hosts (made in the server)."""
    cur.execute(f"INSERT INTO web (datetime, content, ip, host, domain, dnload) "
                f"SELECT '2020-01-01' + INTERVAL seq * 13 SECOND, CONCAT('/resources/', seq % 7000), "
                f"CONCAT('10.', seq DIV 65536 % 256, '.', seq DIV 256 % 256, '.', seq % 256), "
                f"CONCAT('h', seq % 90000, '.example.edu'), 'example.edu', seq % 17 = 0 FROM seq_1_to_{rows}")


def bench_migrate(server: sandbox.Server, out: Path, rows: int = 2_000_000) -> None:
    """Convert a MyISAM web of `rows` rows to InnoDB the way hzflow migrate does; print bytes per second."""
    from hzflow import migrate

    settings = fresh_metrics(server, out)
    with dbmod.cursor(settings) as cur:
        cur.execute("ALTER TABLE web ENGINE=MyISAM")
        synthetic_web(cur, rows)
        cur.execute("ANALYZE TABLE web")
        cur.fetchall()
        size = next(b for t, _e, _r, b in migrate.tables_not_innodb(cur, settings.db.metrics_db) if t == "web")
        t = time.perf_counter()
        migrate.convert_engines(cur, settings.db.metrics_db, say=lambda _: None)
        took = time.perf_counter() - t
    print(f"migrate benchmark: MyISAM web of {rows:,} rows, {size / 1e6:,.0f} MB")
    print(f"  to InnoDB: {took:6.2f} s  {size / took / 1e6:,.1f} MB/s "
          f"(hzflow migrate estimates with {migrate.COPY_BYTES_PER_SECOND / 1e6:.0f} MB/s)")


def bench_reliability(server: sandbox.Server, out: Path, rows: int = 500_000, kills: int = 12,
                      garbage_mb: int = 64) -> None:
    """The reliability probes at size: garbage refused, and kill -9 of migrate --apply recovered."""
    import os
    import subprocess

    from hzflow import migrate

    settings = fresh_metrics(server, out)
    config = out / "bench.yaml"
    config.write_text(yaml.safe_dump(settings.raw))
    config.chmod(0o600)
    hz = [sys.executable, "-m", "hzflow.cli", "--config", str(config)]
    garbage = os.urandom(garbage_mb << 20)
    t = time.perf_counter()
    r = subprocess.run([*hz, "import-apache", "-"], input=garbage, capture_output=True)
    took = time.perf_counter() - t
    with dbmod.cursor(settings) as cur:
        cur.execute("SELECT COUNT(*) FROM imported_sources")
        ledger = cur.fetchone()[0]
    print(f"reliability benchmark: {garbage_mb} MB of binary garbage on stdin refused in {took:.2f} s "
          f"({garbage_mb / took:,.0f} MB/s), exit {r.returncode} (want 4), ledger rows {ledger} (want 0)")
    with dbmod.cursor(settings) as cur:
        synthetic_web(cur, rows)
    wanted_sql = ("SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = %s "
                  "AND table_name = 'web'")
    with dbmod.cursor(settings) as cur:
        cur.execute(wanted_sql, (settings.db.metrics_db,))
        wanted = cur.fetchone()[0]

    def to_myisam():
        with dbmod.cursor(settings) as cur:
            cur.execute("ALTER TABLE web ENGINE=MyISAM")
            cur.execute("DELETE FROM hzflow_migrations WHERE id > 100")

    to_myisam()
    t = time.perf_counter()
    subprocess.run([*hz, "migrate", "--apply"], capture_output=True, check=True)
    full = time.perf_counter() - t
    rng, wrong, recover = random.Random(7), 0, 0.0
    for _ in range(kills):
        to_myisam()
        proc = subprocess.Popen([*hz, "migrate", "--apply"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.0) * full)
        proc.kill()
        proc.wait()
        t = time.perf_counter()
        again = subprocess.run([*hz, "migrate", "--apply"], capture_output=True)
        recover += time.perf_counter() - t
        with dbmod.cursor(settings) as cur:
            cur.execute(wanted_sql, (settings.db.metrics_db,))
            indexes = cur.fetchone()[0]
            off = migrate.tables_not_innodb(cur, settings.db.metrics_db)
            cur.execute("SELECT COUNT(*) FROM hzflow_migrations WHERE id IN (106, 107)")
            steps = cur.fetchone()[0]
        if again.returncode != 0 or indexes != wanted or off or steps != 2:
            wrong += 1
            print(f"    wrong: exit {again.returncode}, {indexes} of {wanted} web indexes, not InnoDB {off}, "
                  f"{steps} of 2 steps recorded: {again.stdout.decode(errors='replace')[-300:]}")
    print(f"  migrate --apply of a {rows:,}-row MyISAM web: {full:.2f} s; killed at {kills} random moments, "
          f"each finished by the next migrate in {recover / kills:.2f} s on average; wrong end states: {wrong}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("which", nargs="*", default=["workflow", "import", "dns", "sessions", "summaries", "plan",
                                                  "migrate", "reliability"],
                    help="benchmarks to run: workflow, import, dns, sessions, summaries, plan, migrate, reliability, "
                         "busy-day, fleet, fleet-slurm (not run by default: minutes each)")
    ap.add_argument("--days", type=int, default=92, help="days of logs of the workflow benchmark")
    ap.add_argument("--visits", type=int, default=300, help="visits a day of the workflow benchmark")
    ap.add_argument("--busy-lines", type=int, default=500_000, help="lines of the busy day")
    ap.add_argument("--addresses", type=int, default=71_000, help="distinct addresses of the busy day")
    ap.add_argument("--tool-history-days", type=int, default=4 * 365,
                    help="days of tool sessions before the busy day (0: the hub's own two weeks only)")
    ap.add_argument("--hubs", type=int, default=12, help="hubs of the fleet benchmarks")
    ap.add_argument("--fleet-visits", type=int, default=120, help="visits a day of each fleet hub")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--web-rows", type=int, default=10_000_000)
    ap.add_argument("--buffer-pool", default="4G", help="InnoDB buffer pool of the private server")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    a = ap.parse_args(argv)
    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    def workflow(server):
        from .bench_workflow import bench_workflow
        bench_workflow(server, out, a.days, a.visits)

    def fleet(server, slurm_too=False):
        from .bench_fleet import bench_fleet
        bench_fleet(server, out, a.hubs, a.fleet_visits, slurm_too=slurm_too)

    def busy_day(server):
        from .bench_busy_day import bench_busy_day
        bench_busy_day(server, out, a.busy_lines, a.addresses, a.tool_history_days)

    benches = {"workflow": workflow, "busy-day": busy_day, "fleet": fleet, "fleet-slurm": lambda srv: fleet(srv, slurm_too=True), "import": lambda srv: bench_import(srv, out, a.lines),
               "dns": lambda srv: bench_dns(srv, out), "sessions": lambda srv: bench_sessions(srv, out),
               "summaries": lambda srv: bench_summaries(srv, out, a.web_rows), "plan": lambda srv: bench_plan(srv, out),
               "migrate": lambda srv: bench_migrate(srv, out), "reliability": lambda srv: bench_reliability(srv, out)}
    unknown = [w for w in a.which if w not in benches]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(benches)}")
    with sandbox.private_server(out, buffer_pool=a.buffer_pool) as server:
        for name, bench in benches.items():
            if name in a.which:
                bench(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
