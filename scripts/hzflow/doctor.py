"""hzflow doctor: everything a run needs, checked up front, one line per finding.

Exit status 1 when anything must be fixed before cron can run cleanly
("PROBLEM"); "warning" lines deserve a look but do not stop a run.
"""

from __future__ import annotations

import os
import shutil
from contextlib import closing
from pathlib import Path

from . import coverage, schema, sources
from . import db as dbmod
from .config import ConfigError

LOW_SPACE_BYTES = 2 << 30
LOW_SPACE_SHARE = 0.05
# Where a cron entry of the reference pipeline would be, and its lock (under $HZMETRICS_HOME).
CRON_PLACES = (Path("/etc/crontab"), Path("/etc/cron.d"), Path("/var/spool/cron"), Path("/var/spool/cron/crontabs"))
REFERENCE_HOME = Path(os.environ.get("HZMETRICS_HOME", "/opt/hubzero/metrics"))


def _writable(path: Path) -> tuple[str | None, str]:
    """(problem or None, what is true of path): writable as it is, or to be created under a writable parent."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return f"{path}: no existing parent directory", ""
        probe = probe.parent
    if not probe.is_dir():
        return f"{path}: {probe} is not a directory", ""
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{path}: not writable ({probe} is not writable by this user)", ""
    if probe != path:
        return None, f"{path} does not exist yet; the first run creates it ({probe} is writable)"
    return None, f"{path} is writable"


class Findings:
    def __init__(self, say):
        self.say, self.problems, self.warnings = say, [], []

    def ok(self, text):
        self.say(f"ok       {text}")

    def bad(self, text):
        self.problems.append(text)
        self.say(f"PROBLEM  {text}")

    def warn(self, text):
        self.warnings.append(text)
        self.say(f"warning  {text}")


def run(settings, say=print) -> int:
    f = Findings(say)
    f.ok(f"config {settings.path} is valid (site {settings.site})")
    try:
        d = settings.db
    except ConfigError as e:
        f.bad(str(e))
        d = None
    if d is not None:
        _database(settings, d, f)
    _directories(settings, f)
    _reference_pipeline(f)
    _logs(settings, f)
    _resolvers(settings, f)
    say(f"{len(f.problems)} problem(s), {len(f.warnings)} warning(s)" if f.problems
        else f"all checks passed{f' ({len(f.warnings)} warning(s))' if f.warnings else ''}")
    return 1 if f.problems else 0


def _database(settings, d, f: Findings) -> None:
    try:
        conn = dbmod.connect(settings)
    except dbmod.DatabaseError as e:
        f.bad(str(e))
        return
    with closing(conn):
        with conn.cursor() as cur:
            f.ok(f"connected to MariaDB at {d.socket or f'{d.host}:{d.port}'} as {d.user!r}")
            cur.execute("SELECT @@local_infile, @@innodb_autoinc_lock_mode, VERSION(), @@datadir, @@tmpdir")
            local_infile, lock_mode, server, datadir, tmpdir = cur.fetchone()
            (f.ok if local_infile else f.bad)(
                f"server {server}: local_infile is {'ON' if local_infile else 'OFF'}"
                + ("" if local_infile else "; set local_infile=1 in the server config (bulk loads need it)"))
            if lock_mode == 2:
                f.bad("innodb_autoinc_lock_mode is 2; set it to 1 so a file's rows get one id range")
            for label, path in (("datadir", datadir), ("tmpdir", tmpdir)):
                _space(f, f"MariaDB {label}", Path(path.split(":")[0]) if path else None)
            statements = schema.plan(cur, d.metrics_db)
            applied = schema.applied_migrations(cur, d.metrics_db)
            if statements or schema.head_id() not in applied:
                f.bad(f"metrics database {d.metrics_db} is not at head "
                      f"({len(statements)} schema change(s) pending); run: hzflow init")
            else:
                f.ok(f"metrics database {d.metrics_db} is at schema head (migration {schema.head_id()})")
                try:
                    cur.execute(f"SELECT COUNT(*) FROM {dbmod.quote_ident(d.metrics_db)}.web LIMIT 0")
                    cur.execute(f"CREATE TEMPORARY TABLE {dbmod.quote_ident(d.metrics_db)}.hzflow_doctor_probe (x int)")
                    cur.execute(f"DROP TEMPORARY TABLE {dbmod.quote_ident(d.metrics_db)}.hzflow_doctor_probe")
                    f.ok(f"user {d.user!r} can read and write {d.metrics_db}")
                except Exception as e:  # a privilege error names what is missing
                    f.bad(f"user {d.user!r} lacks privileges on {d.metrics_db}: {e}")
                _legacy_storage(settings, cur, f)
            cur.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s", (d.hub_db,))
            if cur.fetchone()[0]:
                f.ok(f"hub database {d.hub_db} exists")
            else:
                f.bad(f"hub database {d.hub_db} does not exist (check db.hub_db)")


def _legacy_storage(settings, cur, f: Findings) -> None:
    """Tables off InnoDB, pending data migrations, and whether the database has been adopted."""
    from . import adopt, migrate

    database = settings.db.metrics_db
    cur.execute(f"USE {dbmod.quote_ident(database)}")
    off = migrate.tables_not_innodb(cur, database)
    if off:
        f.bad(f"{len(off)} metrics table(s) not on InnoDB ({', '.join(f'{t} {e}' for t, e, *_ in off[:6])}"
              f"{' …' if len(off) > 6 else ''}): a killed run can leave half its rows there; run: hzflow migrate "
              f"--apply ({migrate.engine_estimate(cur, database)})")
    else:
        f.ok("every metrics table is on InnoDB")
    left = [s for s in migrate.steps(settings) if s.id != migrate.ENGINE_STEP and s.pending(cur, database)]
    if left:
        f.warn(f"{len(left)} data migration(s) pending ({', '.join(str(s.id) for s in left)}): see hzflow migrate")
    row = adopt.latest(cur)
    if row:
        f.ok(f"database taken over by hzflow ({row['kind']}, {row['adopted_at']}"
             + (f", first month {row['first_month']})" if row["first_month"] else ")"))
    elif not any(adopt.rows_outside_own_imports(cur, t) for t in ("web", "userlogin")):
        f.ok("every row was imported by hzflow: no adoption needed")
    else:
        f.bad(f"{database} holds rows hzflow did not import and has not been adopted; cron refuses to run "
              f"until it is: run hzflow adopt --dry-run, then hzflow adopt")


def _reference_pipeline(f: Findings) -> None:
    """The reference's cron entry or a live hzmetrics.py lock: two pipelines must not write one database."""
    entries = []
    for place in CRON_PLACES:
        files = sorted(place.iterdir()) if place.is_dir() else [place] if place.is_file() else []
        for path in files:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            if any("hzmetrics.py" in line and not line.lstrip().startswith("#") for line in text.splitlines()):
                entries.append(str(path))
    if entries:
        f.warn(f"a cron entry of the reference pipeline (hzmetrics.py) is active in {', '.join(entries)}; "
               f"comment it out before hzflow cron runs, or both write the same tables")
    lock = REFERENCE_HOME / "state" / "hzmetrics.pid"
    try:
        pid = int(lock.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return
    f.warn(f"hzmetrics.py is running (pid {pid}, lock {lock}); let it finish and stop its cron first")


def _space(f: Findings, label: str, path: Path | None) -> None:
    """Free space where a path lives, when it is on this machine."""
    if path is None or not path.exists():
        return
    usage = shutil.disk_usage(path)
    free = f"{usage.free / (1 << 30):.1f} GiB free ({usage.free / usage.total:.0%})"
    if usage.free < LOW_SPACE_BYTES and usage.free < usage.total * LOW_SPACE_SHARE:
        f.bad(f"{label} {path}: only {free}; a full disk stops imports and can crash MariaDB")
    elif usage.free < 2 * LOW_SPACE_BYTES or usage.free < usage.total * 2 * LOW_SPACE_SHARE:
        f.warn(f"{label} {path}: {free}")


def _directories(settings, f: Findings) -> None:
    for label, path in (("state directory", settings.state_dir), ("work directory", settings.work_dir)):
        err, fact = _writable(path)
        (f.bad if err else f.ok)(err or f"{label} {fact}")
    _space(f, "work directory", settings.work_dir if settings.work_dir.exists() else None)
    if settings.archive_logs:
        for path in (settings.apache_imported, settings.hub_imported):
            err, fact = _writable(path)
            (f.bad if err else f.ok)(err or f"archive directory {fact}")


def _logs(settings, f: Findings) -> None:
    for kind, place in (("access", settings.apache_daily), ("auth", settings.hub_daily)):
        found = sources.discover(settings, kind, warn=f.warn)
        if not place.is_dir():
            f.bad(f"{kind} log directory {place} does not exist")
        elif not found:
            f.warn(f"no {kind} logs found under {place} (pattern "
                   + (f"{settings.site}-access*log*" if kind == "access" else "cmsauth*log*") + ")")
        else:
            f.ok(f"{len(found)} {kind} log(s) found, {min(found)} .. {max(found)}")
    cov = coverage.Coverage(settings)
    missing = [m for m in cov.months if cov.missing_input(m)]
    if missing:
        f.bad(f"{len(missing)} finished month(s) without a single log: {', '.join(missing[:6])}"
              f"{' …' if len(missing) > 6 else ''}; restore the logs or list them under months.no_data")


def _resolvers(settings, f: Findings) -> None:
    from .enrich import dns

    if not dns.enabled(settings):
        f.ok("reverse DNS is off (dns.enabled: false)")
        return
    resolver = dns.resolver_for(settings)
    try:
        answers = resolver.resolve(["127.0.0.1", "192.0.2.1"])
    finally:
        resolver.close()
    servers = ", ".join(settings.get("dns", "nameservers")) or "the system resolver"
    failed = [ip for ip, status, _ in answers if status == "error"]
    if len(failed) == len(answers):
        f.bad(f"{servers} answered none of {len(answers)} test PTR queries (timeout or failure); "
              f"check dns.nameservers, or set dns.enabled: false")
    elif failed:
        f.warn(f"{servers} answered {len(answers) - len(failed)} of {len(answers)} test PTR queries")
    else:
        f.ok(f"{servers} answers PTR queries")
