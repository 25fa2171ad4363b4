"""import-auth: one CMS auth log into `userlogin`, atomically.

Only `login` and `simulation` events are kept (nothing downstream reads the
others), the hub's monitoring accounts are dropped, and exclude_list IPs
too.  Rows load with INSERT IGNORE semantics: an event already present (the
table's unique key, case-insensitive) is not added twice.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import db as dbmod
from ..sources import readable_log
from . import logparse as lp
from .access import rows_by_month
from .apache import line_dates
from .provenance import Claimed, claim, import_wanted

USERLOGIN_COLUMNS = ("datetime", "uidNumber", "user", "ip", "action")
KEPT_ACTIONS = ("login", "simulation")
MONITORING_USERS = ("hubstatus", "hubadmin")


def _event(line: str):
    """(datetime, uid, user, ip, action) of an auth-log line in any of its layouts, or None."""
    m = lp.AUTH_CURRENT.match(line)
    if m:
        day, clock, uid, user, ip, action = m.groups()
        return f"{day} {clock}", int(uid), user.strip().lstrip("[").rstrip("]"), ip.strip(), action
    m = lp.AUTH_LARAVEL.match(line)
    if m:
        day, clock, uid, user, ip, action = m.groups()
        return (f"{day} {clock}", int(uid) if uid.isdigit() else 0,
                (user or "").strip().lstrip("[").rstrip("]"), ip.strip(), action)
    m = lp.AUTH_OLD.match(line)
    if m:
        day, clock, user, ip, action = m.groups()
        return f"{day} {clock}", 0, user.strip(), ip.strip(), action.strip()
    return None


@dataclass
class AuthScan(lp.LineCounts):
    by_day: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        return {**super().summary(), "rows_by_month": rows_by_month(self.by_day)}


def scan(lines, ip_filters: list[str], write, result: AuthScan, dates: lp.LineDates,
         sample_limit: int = 5) -> None:
    tsv = dbmod.tsv_field
    for when, uid, user, ip, action in result.recognised(lines, _event, sample_limit):
        user = user or "-"
        day, clock = when.split(" ")
        bad_date = dates.reason(day, clock)
        if bad_date:
            result.skipped[bad_date] += 1
        elif action not in KEPT_ACTIONS:
            result.skipped["action"] += 1
        elif user in MONITORING_USERS or lp.contains_any(ip, ip_filters):
            result.skipped["excluded"] += 1
        else:
            result.kept += 1
            result.by_day[day] += 1
            write(f"{when}\t{uid}\t{tsv(user)}\t{tsv(ip)}\t{tsv(action)}\n")


def load_ip_filters(cur) -> list[str]:
    """exclude_list's address prefixes, lower-cased: logins from them are not imported."""
    cur.execute("SELECT filter FROM exclude_list WHERE type = 'ip' AND filter <> ''")
    return [r[0].lower() for r in cur.fetchall()]


def import_file(settings, path: Path, *, dry_run: bool = False) -> dict:
    started = time.monotonic()
    path = readable_log(settings, Path(path))
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with dbmod.connection(settings) as conn:
        with conn.cursor() as cur:
            before = import_wanted(cur, path, "userlogin")
            if before:
                return {**before, "seconds": round(time.monotonic() - started, 3)}
            ip_filters = load_ip_filters(cur)
        fd, tmp_path = tempfile.mkstemp(prefix="userlogin-", suffix=".tsv", dir=settings.tmp_dir)
        os.close(fd)
        try:
            result = AuthScan()
            with lp.reading(path, result) as lines, open(tmp_path, "w", encoding="utf-8") as out:
                scan(lines, ip_filters, out.write, result, line_dates(settings, path),
                     settings.malformed_samples)
            result.refuse_garbage(path, "a CMS auth-log line")
            report = {"file": str(path), "table": "userlogin", **result.summary()}
            if dry_run:
                report["status"] = "dry-run"
            else:
                report.update(_load(conn, path, tmp_path, result))
        finally:
            os.unlink(tmp_path)
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _load(conn, path: Path, tsv_path: str, result: AuthScan) -> dict:
    try:
        with dbmod.transaction(conn) as cur:
            source = claim(cur, path, "userlogin")
            before = dbmod.next_id(cur, "userlogin") - 1
            loaded, adjusted = dbmod.load_file(cur, "userlogin", USERLOGIN_COLUMNS, tsv_path,
                                               ignore_duplicates=True, first_id=before + 1)
            cur.execute("SELECT MIN(id), MAX(id) FROM userlogin WHERE id > %s", (before,))
            pk_start, pk_end = cur.fetchone()
            summary = result.summary()
            source.finish(cur, pk_start, pk_end, loaded,
                          {"rows_by_month": summary["rows_by_month"], "lines": result.lines,
                           "skipped": summary["skipped"], "malformed": result.malformed})
    except Claimed:
        return {"status": "already imported"}
    return {"status": "imported", "rows": loaded, "values_adjusted": adjusted,
            "pk_range": [pk_start, pk_end]}
