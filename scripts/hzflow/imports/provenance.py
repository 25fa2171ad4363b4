"""imported_sources: which file brought which rows.

A file is claimed inside the same transaction that loads its rows, so the
claim and the rows commit or vanish together.  Files are keyed by their
name without a compression suffix: a log gzipped after its import is still
the same file.  `forget` takes back exactly what a claim brought.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pymysql

from .. import db as dbmod
from ..errors import NotRecorded
from ..sources import canonical_name

TABLES = ("web", "userlogin")


class Claimed(Exception):
    """The file was imported already (by an earlier run or a concurrent one)."""


@dataclass
class Claim:
    id: int

    def finish(self, cur, pk_start, pk_end, rows: int, detail: dict) -> None:
        cur.execute("UPDATE imported_sources SET pk_start = %s, pk_end = %s, row_count = %s, "
                    "detail = %s WHERE id = %s",
                    (pk_start, pk_end, rows, json.dumps(detail, sort_keys=True), self.id))


def _names(path_or_name) -> tuple[str, str]:
    name = canonical_name(path_or_name)
    return name, name + ".gz"


def claim(cur, path: Path, table: str) -> Claim:
    """Record that `path` is being imported into `table`; raises Claimed if it was already."""
    name, gz = _names(path)
    cur.execute("SELECT id FROM imported_sources WHERE filename IN (%s, %s) AND target_table = %s",
                (name, gz, table))
    if cur.fetchone():
        raise Claimed(name)
    try:
        source_id = dbmod.next_id(cur, "imported_sources")
        cur.execute("INSERT INTO imported_sources (id, filename, target_table, imported_at, origin) "
                    "VALUES (%s, %s, %s, NOW(), 'importer')", (source_id, name, table))
    except pymysql.err.IntegrityError:
        raise Claimed(name) from None
    return Claim(source_id)


def recorded(cur, path: Path, table: str) -> dict | None:
    """What the ledger says an earlier import of the file brought, or None if it was never imported.

    A marker rewritten after a crash (or a re-run of the day) keeps the
    counts of the import that really happened.
    """
    name, gz = _names(path)
    cur.execute("SELECT pk_start, pk_end, row_count, detail, imported_at FROM imported_sources "
                "WHERE filename IN (%s, %s) AND target_table = %s", (name, gz, table))
    row = cur.fetchone()
    if row is None:
        return None
    pk_start, pk_end, rows, detail, imported_at = row
    try:
        extra = json.loads(detail) if detail else {}
    except ValueError:
        extra = {}
    return {"file": str(path), "table": table, "status": "already imported", "rows": rows,
            "pk_range": [pk_start, pk_end], "imported_at": imported_at, **extra}


def forget(conn, file: str, table: str = "all", *, dry_run: bool = False, say=print) -> int:
    """Delete the rows one file brought (web + its webhits, or userlogin) and its claim."""
    name, gz = _names(file)
    tables = TABLES if table == "all" else (table,)
    removed = 0
    with dbmod.transaction(conn) as cur:
        cur.execute("SELECT id, target_table, pk_start, pk_end, detail FROM imported_sources "
                    "WHERE filename IN (%s, %s) AND target_table IN %s FOR UPDATE",
                    (name, gz, tables))
        records = cur.fetchall()
        if not records:
            raise NotRecorded(f"no import of {name} into {', '.join(tables)} is recorded "
                              f"(imported_sources holds the names of imported files)")
        for source_id, target, pk_start, pk_end, detail in records:
            verb = "would delete" if dry_run else "deleted"
            if pk_start is not None:
                if dry_run:
                    cur.execute(f"SELECT COUNT(*) FROM {dbmod.quote_ident(target)} "
                                f"WHERE id BETWEEN %s AND %s", (pk_start, pk_end))
                    n = cur.fetchone()[0]
                else:
                    n = cur.execute(f"DELETE FROM {dbmod.quote_ident(target)} "
                                    f"WHERE id BETWEEN %s AND %s", (pk_start, pk_end))
                removed += n
                say(f"{verb} {n} {target} rows of {name} (id {pk_start}..{pk_end})")
            hits = (json.loads(detail) if detail else {}).get("webhits", {})
            for day, count in sorted(hits.items()):
                if not dry_run:
                    cur.execute("DELETE FROM webhits WHERE datetime = %s AND hits = %s LIMIT 1",
                                (f"{day} 00:00:00", count))
            if hits:
                say(f"{verb} {len(hits)} webhits rows of {name}")
            if not dry_run:
                cur.execute("DELETE FROM imported_sources WHERE id = %s", (source_id,))
        if dry_run:
            conn.rollback()
    return removed
