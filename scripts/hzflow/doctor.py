"""hzflow doctor: everything a run needs, checked up front, one line per finding.

Exit status 1 when anything must be fixed before cron can run cleanly.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import db as dbmod
from . import schema, sources


def _writable(path: Path) -> str | None:
    """None if path (or the nearest existing parent, to be created) is writable."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return f"{path}: no existing parent directory"
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{path}: not writable ({probe} is not writable by this user)"
    return None


def run(settings, say=print) -> int:
    problems: list[str] = []

    def ok(text):
        say(f"ok       {text}")

    def bad(text):
        problems.append(text)
        say(f"PROBLEM  {text}")

    ok(f"config {settings.path} is valid (site {settings.site})")
    d = settings.db
    try:
        conn = dbmod.connect(settings)
    except dbmod.DatabaseError as e:
        bad(str(e))
        conn = None
    if conn is not None:
        with conn.cursor() as cur:
            ok(f"connected to MariaDB at {d.socket or f'{d.host}:{d.port}'} as {d.user!r}")
            cur.execute("SELECT @@local_infile, @@innodb_autoinc_lock_mode, VERSION()")
            local_infile, lock_mode, server = cur.fetchone()
            (ok if local_infile else bad)(
                f"server {server}: local_infile is {'ON' if local_infile else 'OFF'}"
                + ("" if local_infile else "; set local_infile=1 in the server config (bulk loads need it)"))
            if lock_mode == 2:
                bad("innodb_autoinc_lock_mode is 2; set it to 1 so a file's rows get one id range")
            statements = schema.plan(cur, d.metrics_db)
            applied = schema.applied_migrations(cur, d.metrics_db)
            if statements or schema.head_id() not in applied:
                bad(f"metrics database {d.metrics_db} is not at head "
                    f"({len(statements)} schema change(s) pending); run: hzflow init")
            else:
                ok(f"metrics database {d.metrics_db} is at schema head (migration {schema.head_id()})")
                try:
                    cur.execute(f"SELECT COUNT(*) FROM `{d.metrics_db}`.web LIMIT 0")
                    cur.execute(f"CREATE TEMPORARY TABLE `{d.metrics_db}`.hzflow_doctor_probe (x int)")
                    cur.execute(f"DROP TEMPORARY TABLE `{d.metrics_db}`.hzflow_doctor_probe")
                    ok(f"user {d.user!r} can read and write {d.metrics_db}")
                except Exception as e:  # a privilege error names what is missing
                    bad(f"user {d.user!r} lacks privileges on {d.metrics_db}: {e}")
            cur.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s",
                        (d.hub_db,))
            if cur.fetchone()[0]:
                ok(f"hub database {d.hub_db} exists")
            else:
                bad(f"hub database {d.hub_db} does not exist (check db.hub_db)")
        conn.close()
    for label, path in (("state directory", settings.state_dir), ("work directory", settings.work_dir)):
        err = _writable(path)
        (bad if err else ok)(err or f"{label} {path} is writable")
    if settings.archive_logs:
        for path in (settings.apache_imported, settings.hub_imported):
            err = _writable(path)
            (bad if err else ok)(err or f"archive directory {path} is writable")
    for kind, place in (("access", settings.apache_daily), ("auth", settings.hub_daily)):
        found = sources.discover(settings, kind, warn=lambda m: say(f"warning  {m}"))
        if not place.is_dir():
            bad(f"{kind} log directory {place} does not exist")
        elif not found:
            bad(f"no {kind} logs found under {place} (pattern "
                + (f"{settings.site}-access*log*" if kind == "access" else "cmsauth*log*") + ")")
        else:
            ok(f"{len(found)} {kind} log(s) found, {min(found)} .. {max(found)}")
    say(f"{len(problems)} problem(s)" if problems else "all checks passed")
    return 1 if problems else 0
