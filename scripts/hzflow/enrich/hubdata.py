"""Hub and tool data: import-hub-data, middleware-wall/-cpu, fill-user-info.

All set-based: one statement per idea, across databases on the same server.
"""

from __future__ import annotations

from .. import db as dbmod
from ..db import quote_ident as q
from . import tables

# Monitoring and test accounts whose tool sessions are not usage.
MONITORING = ("gridstat", "hctest%")


def not_monitoring(column: str) -> tuple[str, tuple]:
    """SQL (with its parameters) that leaves out the hub's monitoring and test accounts."""
    return f"{column} <> %s AND {column} NOT LIKE %s", MONITORING


# metrics column <- hub profile key
USER_INFO = (("countrycitizen", "countryorigin"), ("countryresident", "countryresident"),
             ("orgtype", "orgtype"))


def _numbered(table: str, order: str) -> str:
    """Ids for the rows an INSERT … SELECT adds: after the table's highest, in a fixed order.

    Not AUTO_INCREMENT, whose counter an interrupted statement moves on for
    good: rerunning after a kill then gives the same ids.
    """
    return f"(SELECT COALESCE(MAX(id), 0) FROM {table}) + ROW_NUMBER() OVER (ORDER BY {order})"


def import_hub_data(settings, *, dry_run: bool = False, say=print) -> dict:
    """Tool session starts into sessionlog_metrics; confirmed profiles into <prefix>xprofiles_metrics.

    The profile copy is rebuilt beside the old one and swapped in with one
    RENAME, so readers never see an empty or half-filled table.
    """
    d = settings.db
    hub, met, prefix = q(d.hub_db), q(d.metrics_db), d.prefix
    profiles, copy = q(f"{prefix}xprofiles"), f"{prefix}xprofiles_metrics"
    statements = [
        f"INSERT IGNORE INTO {met}.sessionlog_metrics (id, sessnum, user, ip, start, appname) "
        f"SELECT {_numbered(f'{met}.sessionlog_metrics', 's.sessnum')}, s.sessnum, s.username, s.remoteip, "
        f"s.start, s.appname FROM {hub}.sessionlog s "
        f"LEFT JOIN {met}.sessionlog_metrics x ON x.sessnum = s.sessnum WHERE x.sessnum IS NULL",
        f"DROP TABLE IF EXISTS {met}.{q(copy + '_new')}, {met}.{q(copy + '_old')}",
        f"CREATE TABLE {met}.{q(copy + '_new')} LIKE {hub}.{profiles}",
        # the hub's own table may well be MyISAM (older hubs): every table hzflow writes is InnoDB
        f"ALTER TABLE {met}.{q(copy + '_new')} ENGINE=InnoDB",
        f"INSERT INTO {met}.{q(copy + '_new')} SELECT * FROM {hub}.{profiles} WHERE emailConfirmed > 0",
        f"CREATE TABLE IF NOT EXISTS {met}.{q(copy)} LIKE {met}.{q(copy + '_new')}",
        f"RENAME TABLE {met}.{q(copy)} TO {met}.{q(copy + '_old')}, "
        f"{met}.{q(copy + '_new')} TO {met}.{q(copy)}",
        f"DROP TABLE {met}.{q(copy + '_old')}",
    ]
    return _run(settings, "import-hub-data", statements, dry_run, say)


def middleware(settings, metric: str, *, dry_run: bool = False, say=print) -> dict:
    """Copy joblog wall or CPU time into toolstart, rounding half up as the legacy Perl did.

    wall: adds the toolstart rows of jobs not seen yet (not '[waiting]' events)
    and repairs negative times; cpu: only repairs times that are zero or negative.
    """
    if metric not in ("walltime", "cputime"):
        raise ValueError(f"unknown middleware metric {metric!r}")
    d = settings.db
    hub, met = q(d.hub_db), q(d.metrics_db)
    not_waiting = "AND j.event <> '[waiting]' " if metric == "walltime" else ""
    users, params = not_monitoring("s.username")
    statements = []
    if metric == "walltime":
        statements.append((
            f"INSERT INTO {met}.toolstart (id, datetime, success, user, ip, tool, execunit, walltime) "
            f"SELECT {_numbered(f'{met}.toolstart', 'j.start, j.sessnum, j.job, j.event')}, "
            f"j.start, '1', s.username, s.remoteip, s.appname, s.exechost, "
            f"CASE WHEN j.walltime < 0 THEN -1 ELSE FLOOR(j.walltime + 0.5) END "
            f"FROM {hub}.joblog j JOIN {hub}.sessionlog s ON j.sessnum = s.sessnum "
            f"LEFT JOIN {met}.toolstart t ON t.datetime = j.start AND t.user = s.username "
            f"AND t.ip = s.remoteip WHERE t.id IS NULL AND {users} {not_waiting}", params))
    # fresh index statistics after the insert: with stale ones the optimizer reached toolstart through
    # its ip index (thousands of rows an address) and the repair walked them per session (70 s a month)
    statements.append(f"ANALYZE TABLE {met}.toolstart")
    needs_repair = "t.walltime < 0 AND j.walltime > 0" if metric == "walltime" \
        else "t.cputime <= 0 AND j.cputime > 0"
    statements.append((
        f"UPDATE {met}.toolstart t JOIN {hub}.joblog j ON j.start = t.datetime "
        f"JOIN {hub}.sessionlog s ON j.sessnum = s.sessnum AND s.username = t.user "
        f"AND s.remoteip = t.ip SET t.{metric} = FLOOR(j.{metric} + 0.5) "
        f"WHERE {needs_repair} AND {users} {not_waiting}", params))
    return _run(settings, f"middleware-{metric[:-4] if metric == 'walltime' else 'cpu'}",
                statements, dry_run, say)


def fill_user_info(settings, database: str, table: str, *, dry_run: bool = False, say=print) -> dict:
    """Citizenship, residence and org type from the hub profiles, for rows that lack them.

    No date bound, as in the legacy script: every unfilled row of a known user is filled.
    """
    tables.check(table, "fill-user-info")
    d = settings.db
    hub = q(d.hub_db)
    statements = [
        (f"UPDATE {q(database)}.{q(table)} t JOIN {hub}.{q(d.prefix + 'users')} u ON u.username = t.user "
         f"JOIN {hub}.{q(d.prefix + 'user_profiles')} up ON up.user_id = u.id AND up.profile_key = %s "
         f"SET t.{column} = UPPER(up.profile_value) "
         f"WHERE (t.{column} IS NULL OR t.{column} = '') AND up.profile_value IS NOT NULL "
         f"AND up.profile_value <> ''", (key,))
        for column, key in USER_INFO]
    return _run(settings, f"fill-user-info {table}", statements, dry_run, say)


def _run(settings, label: str, statements, dry_run: bool, say) -> dict:
    counts = []
    if dry_run:
        for stmt in statements:
            sql = stmt[0] if isinstance(stmt, tuple) else stmt
            say(f"[dry-run] {label}: {sql}")
        return {"stage": label, "status": "dry-run"}
    with dbmod.cursor(settings, None) as cur:
        for stmt in statements:
            sql, params = stmt if isinstance(stmt, tuple) else (stmt, None)
            counts.append(cur.execute(sql, params))
            cur.fetchall()                           # ANALYZE answers with a result set
    say(f"{label}: rows affected per statement {counts}")
    return {"stage": label, "rows": counts}
