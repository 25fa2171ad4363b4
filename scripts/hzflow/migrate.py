"""hzflow migrate: the reference's data migrations, and every metrics table on InnoDB.

`hzflow init` brings the schema to head (tables, columns, indexes) and never
changes a row.  The steps here change what legacy databases store or how:
each knows how much it has left to do (0: done), so listing is a live check,
applying is idempotent, and a step found done or applied is recorded once
in hzflow_migrations (ids from 101, beside init's schema changes).

The InnoDB step matters most: on MyISAM a killed import or summary leaves
half its rows behind, because MyISAM has no transactions.  Converting is a
full copy of the table (MariaDB cannot change an engine in place); it runs
with LOCK=SHARED, so the hub's pages keep reading while it copies.  `web`
follows the reference's disk-safe recipe: its secondary indexes are
dropped in the copy and added back in place afterwards (online, LOCK=NONE).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from . import db as dbmod
from . import version
from .db import quote_ident as q
from .imports.repair import backfill_dnload

# What a conversion copies per second (indexes rebuilt) on a 2-core VM: 25 MB/s by ./dev/bench.sh migrate.
COPY_BYTES_PER_SECOND = 25e6
LOWERCASE_HOST_TABLES = ("web", "websessions")
REDUNDANT_WEB_INDEXES = ("elementid", "dnload", "datetime", "sessionid")
COLLATION_TABLES = ("ipcitylatlong", "userlogin_lite")
ENGINE_STEP = 106


@dataclass(frozen=True)
class Step:
    id: int
    reference: str                      # the reference's migration ids this step stands for
    description: str
    pending: Callable                   # (cur, db) -> how much is left (rows, tables); 0 = done
    apply: Callable                     # (cur, db, say) -> None
    estimate: Callable | None = None    # (cur, db) -> one line on time and disk, for big work


# ------------------------------------------------------------------ engines
def tables_not_innodb(cur, database: str) -> list[tuple[str, str, int, int]]:
    """(table, engine, rows, bytes) of every base table not on InnoDB, smallest first."""
    cur.execute("SELECT table_name, engine, COALESCE(table_rows, 0), COALESCE(data_length + index_length, 0) "
                "FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE' "
                "AND engine <> 'InnoDB' ORDER BY 4, 1", (database,))
    return [(t, e, int(r), int(b)) for t, e, r, b in cur.fetchall()]


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def engine_estimate(cur, database: str) -> str:
    tables = tables_not_innodb(cur, database)
    total = sum(b for *_, b in tables)
    big = ", ".join(f"{t} ({r:,} rows, {_size(b)})" for t, _e, r, b in tables[::-1][:3])
    return (f"{len(tables)} table(s), {_size(total)}: about {total / COPY_BYTES_PER_SECOND / 60:.0f} min; "
            f"the datadir needs about {_size(total)} free while the largest copies; largest: {big}")


def web_indexes_missing(cur, database: str) -> list[tuple[str, str]]:
    """(name, definition) of web's secondary indexes in hzflow's schema that web lacks.

    A conversion killed between the copy (which the server finishes on its
    own) and adding the indexes back leaves web on InnoDB without them: the
    engine step is done only when they are there too.
    """
    from .schema import tables

    cur.execute("SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = %s "
                "AND table_name = 'web'", (database,))
    have = {r[0] for r in cur.fetchall()}
    if not have:                               # no web table at all: init's business, not this step's
        return []
    return [(name, definition) for name, definition in tables()["web"].indexes
            if name != "PRIMARY" and name not in have and name not in REDUNDANT_WEB_INDEXES]


def engine_pending(cur, database: str) -> int:
    return len(tables_not_innodb(cur, database)) + len(web_indexes_missing(cur, database))


def convert_engines(cur, database: str, say) -> None:
    for table, engine, rows, size in tables_not_innodb(cur, database):
        began = time.monotonic()
        target = f"{q(database)}.{q(table)}"
        if table == "web":
            cur.execute("SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = %s "
                        "AND table_name = 'web' AND index_name <> 'PRIMARY'", (database,))
            secondaries = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT index_name, GROUP_CONCAT(CONCAT('`', column_name, '`', IF(sub_part IS NULL, '', "
                        "CONCAT('(', sub_part, ')'))) ORDER BY seq_in_index) FROM information_schema.statistics "
                        "WHERE table_schema = %s AND table_name = 'web' AND index_name <> 'PRIMARY' "
                        "GROUP BY index_name", (database,))
            definitions = dict(cur.fetchall())
            drops = "".join(f"DROP INDEX IF EXISTS {q(i)}, " for i in secondaries)
            cur.execute(f"ALTER TABLE {target} {drops}ENGINE=InnoDB, ALGORITHM=COPY, LOCK=SHARED")
            keep = [i for i in secondaries if i not in REDUNDANT_WEB_INDEXES]
            if keep:
                cur.execute(f"ALTER TABLE {target} "
                            + ", ".join(f"ADD INDEX IF NOT EXISTS {q(i)} ({definitions[i]})" for i in keep)
                            + ", ALGORITHM=INPLACE, LOCK=NONE")
        else:
            cur.execute(f"ALTER TABLE {target} ENGINE=InnoDB, ALGORITHM=COPY, LOCK=SHARED")
        say(f"  {table}: {engine} -> InnoDB, {rows:,} rows, {_size(size)} in {time.monotonic() - began:.1f} s")
    missing = web_indexes_missing(cur, database)
    if missing:
        began = time.monotonic()
        cur.execute(f"ALTER TABLE {q(database)}.web "
                    + ", ".join(f"ADD {d.replace('KEY ', 'KEY IF NOT EXISTS ', 1)}" for _, d in missing)
                    + ", ALGORITHM=INPLACE, LOCK=NONE")
        say(f"  web: indexes {', '.join(n for n, _ in missing)} added back in {time.monotonic() - began:.1f} s "
            f"(an earlier conversion was interrupted before it added them)")


# ------------------------------------------------------------------ data
def _count(sql: str) -> Callable:
    def pending(cur, database):
        cur.execute(sql.format(db=q(database)))
        return int(cur.fetchone()[0] or 0)
    return pending


def _purge_actions(cur, database, say):
    n = cur.execute(f"DELETE FROM {q(database)}.userlogin WHERE action NOT IN ('login', 'simulation')")
    say(f"  removed {n:,} userlogin rows of other actions")


def _hosts_pending(cur, database):
    total = 0
    for table in LOWERCASE_HOST_TABLES:
        cur.execute(f"SELECT COUNT(*) FROM {q(database)}.{q(table)} WHERE host <> '' "
                    f"AND BINARY host <> BINARY LOWER(host)")
        total += cur.fetchone()[0]
    return total


def _lowercase_hosts(cur, database, say):
    for table in LOWERCASE_HOST_TABLES:
        n = cur.execute(f"UPDATE {q(database)}.{q(table)} SET host = LOWER(host) WHERE host <> '' "
                        f"AND BINARY host <> BINARY LOWER(host)")
        say(f"  {table}: {n:,} hosts lowercased")


def _orphans_pending(cur, database):
    cur.execute(f"SELECT (SELECT COUNT(*) FROM {q(database)}.web w LEFT JOIN {q(database)}.websessions s "
                f"ON s.id = w.sessionid WHERE w.sessionid IS NOT NULL AND w.sessionid <> 0 AND s.id IS NULL) + "
                f"(SELECT COUNT(*) FROM {q(database)}.toolstart t LEFT JOIN {q(database)}.websessions s "
                f"ON s.id = t.sessionid WHERE t.sessionid IS NOT NULL AND t.sessionid <> 0 AND s.id IS NULL)")
    return int(cur.fetchone()[0])


def _clear_orphans(cur, database, say):
    for table in ("web", "toolstart"):
        n = cur.execute(f"UPDATE {q(database)}.{q(table)} x LEFT JOIN {q(database)}.websessions s "
                        f"ON s.id = x.sessionid SET x.sessionid = NULL WHERE x.sessionid IS NOT NULL "
                        f"AND x.sessionid <> 0 AND s.id IS NULL")
        say(f"  {table}: {n:,} stamps of sessions that no longer exist cleared")


def _collation_pending(cur, database):
    cur.execute("SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name IN "
                "%s AND table_collation <> 'utf8mb3_general_ci') + (SELECT COUNT(*) FROM "
                "information_schema.schemata WHERE schema_name = %s AND default_collation_name <> "
                "'utf8mb3_general_ci')", (database, COLLATION_TABLES, database))
    return int(cur.fetchone()[0])


def _normalise_collation(cur, database, say):
    cur.execute(f"ALTER DATABASE {q(database)} CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci")
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name IN %s "
                "AND table_collation <> 'utf8mb3_general_ci'", (database, COLLATION_TABLES))
    for (table,) in cur.fetchall():
        cur.execute(f"ALTER TABLE {q(database)}.{q(table)} CONVERT TO CHARACTER SET utf8mb3 "
                    f"COLLATE utf8mb3_general_ci")
        say(f"  {table}: converted to utf8mb3_general_ci")


def _redundant_pending(cur, database):
    cur.execute("SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = %s "
                "AND table_name = 'web' AND index_name IN %s", (database, REDUNDANT_WEB_INDEXES))
    return int(cur.fetchone()[0])


def _drop_redundant(cur, database, say):
    cur.execute("SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = %s "
                "AND table_name = 'web' AND index_name IN %s", (database, REDUNDANT_WEB_INDEXES))
    names = [r[0] for r in cur.fetchall()]
    if names:
        cur.execute(f"ALTER TABLE {q(database)}.web " + ", ".join(f"DROP INDEX {q(n)}" for n in names)
                    + ", ALGORITHM=INPLACE, LOCK=NONE")
        say(f"  web: dropped {', '.join(names)} (each covered by a composite index)")


def _dnload(settings):
    def apply(cur, database, say):
        backfill_dnload(settings, None, say=lambda text: say("  " + text))
        say("  summaries of months whose downloads were unknown change: rebuild them with "
            "`hzflow rebuild MONTH --stage summarized` (hzflow audit lists them)")
    return apply


def steps(settings) -> list[Step]:
    return [
        Step(101, "4", "remove userlogin rows of actions other than login and simulation (never read)",
             _count("SELECT COUNT(*) FROM {db}.userlogin WHERE action NOT IN ('login', 'simulation')"),
             _purge_actions),
        Step(102, "36, 38", "lowercase web and websessions hosts (what reverse DNS writes now)",
             _hosts_pending, _lowercase_hosts),
        Step(103, "52", "classify downloads of web rows imported before web.dnload existed",
             _count("SELECT COUNT(*) FROM {db}.web WHERE dnload IS NULL"), _dnload(settings)),
        Step(104, "56", "clear web and toolstart session stamps of sessions that no longer exist",
             _orphans_pending, _clear_orphans),
        Step(105, "45-47", "utf8mb3_general_ci for the database default and the latin1 tables",
             _collation_pending, _normalise_collation),
        Step(ENGINE_STEP, "8-35, 40, 41", "every metrics table on InnoDB (transactions; readers never blocked)",
             engine_pending, convert_engines, engine_estimate),
        Step(107, "48-51", "drop web's single-column indexes that composite indexes cover",
             _redundant_pending, _drop_redundant),
    ]


def _recorded(cur, database: str) -> set[int]:
    cur.execute(f"SELECT id FROM {q(database)}.hzflow_migrations WHERE id > 100")
    return {r[0] for r in cur.fetchall()}


def _record(cur, database: str, step: Step) -> None:
    cur.execute(f"INSERT IGNORE INTO {q(database)}.hzflow_migrations (id, description, hzflow_version) "
                f"VALUES (%s, %s, %s)", (step.id, step.description[:255], version()))


def wait_for_unfinished_changes(cur, database: str, say, poll: float = 0.5) -> None:
    """A migrate killed mid-ALTER leaves the server finishing (or rolling back) that ALTER on its own:
    wait until no other connection changes this database's tables, then look at them afresh."""
    shown = False
    while True:
        cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID() "
                    "AND db = %s AND info LIKE 'ALTER TABLE%%'", (database,))
        if not cur.fetchone()[0]:
            return
        if not shown:
            say("  a table change another connection started (an interrupted migrate) is still running on the "
                "server; waiting for it to finish")
            shown = True
        time.sleep(poll)


def status(settings, *, record: bool = False) -> list[dict]:
    """Every step with what it has left to do (a live check); record=True records the ones found done."""
    database = settings.db.metrics_db
    out = []
    with dbmod.cursor(settings) as cur:
        recorded = _recorded(cur, database)
        for step in steps(settings):
            left = step.pending(cur, database)
            if record and not left and step.id not in recorded:
                _record(cur, database, step)
            out.append({"id": step.id, "reference": step.reference, "description": step.description,
                        "pending": left, "estimate": step.estimate(cur, database) if left and step.estimate
                        else None})
    return out


def run(settings, *, apply: bool = False, dry_run: bool = False, say=print) -> int:
    """List the steps; with apply, do the pending ones in order.  Returns the exit status:
    1 when a step applied is still not done, else 0."""
    database = settings.db.metrics_db
    listing = status(settings, record=apply and not dry_run)
    say(f"{'ID':<4} {'STATUS':<8} {'REF':<13} DESCRIPTION")
    for s in listing:
        state = f"{s['pending']:,} left" if s["pending"] else "done"
        say(f"{s['id']:<4} {state:<8} {s['reference']:<13} {s['description']}")
        if s["estimate"]:
            say(f"{'':<27} {s['estimate']}")
    pending = [s for s in listing if s["pending"]]
    if not pending:
        say("migrate: nothing pending")
        return 0
    if not apply or dry_run:
        say(f"migrate: {len(pending)} step(s) pending" + (": run with --apply" if not apply else
                                                          " (dry run: nothing was changed)"))
        return 0
    by_id = {s.id: s for s in steps(settings)}
    with dbmod.cursor(settings) as cur:
        wait_for_unfinished_changes(cur, database, say)
        for s in pending:
            step = by_id[s["id"]]
            say(f"[{step.id}] {step.description}")
            began = time.monotonic()
            step.apply(cur, database, say)
            left = step.pending(cur, database)
            if left:
                say(f"[{step.id}] {left:,} left after applying; not recorded")
                continue
            _record(cur, database, step)
            say(f"[{step.id}] done in {time.monotonic() - began:.1f} s")
    return 1 if any(s["pending"] for s in status(settings)) else 0
