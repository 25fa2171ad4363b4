"""imported_sources: which file brought which rows.

A file is claimed inside the same transaction that loads its rows, so the
claim and the rows commit or vanish together.  Files are keyed by their
name without a compression suffix: a log gzipped after its import is still
the same file.  `forget` takes back exactly what a claim brought.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pymysql

from .. import db as dbmod
from ..errors import NotRecorded, UnexplainedRows
from ..sources import canonical_name, day_of

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


def _span(detail) -> tuple[str, str] | None:
    """The first and last datetime of an entry that adopt reconstructed (None for an import's entry).

    A reconstructed entry's id range is that of the rows found for the file;
    rows of other files can lie inside it when a legacy importer interleaved
    them, so its rows are those in the range *and* in the file's dates.
    """
    try:
        extra = json.loads(detail) if detail else {}
    except ValueError:
        return None
    return (extra["first"], extra["last"]) if extra.get("reconstructed") else None


def entry_rows(pk_start: int, pk_end: int, detail) -> tuple[str, tuple]:
    """SQL (and its arguments) true for the rows one ledger entry stands for."""
    span = _span(detail)
    if span:
        return "id BETWEEN %s AND %s AND datetime BETWEEN %s AND %s", (pk_start, pk_end, *span)
    return "id BETWEEN %s AND %s", (pk_start, pk_end)


def explained_condition(cur, table: str, lo_id: int, hi_id: int) -> tuple[str, tuple]:
    """SQL (and its arguments) true for the rows of `table` between two ids that a ledger entry covers."""
    cur.execute("SELECT pk_start, pk_end, detail FROM imported_sources WHERE target_table = %s "
                "AND pk_start IS NOT NULL AND pk_start <= %s AND pk_end >= %s ORDER BY pk_start",
                (table, hi_id, lo_id))
    terms, args = [], []
    for pk_start, pk_end, detail in cur.fetchall():
        term, term_args = entry_rows(pk_start, pk_end, detail)
        terms.append(f"({term})")
        args += term_args
    return ("(" + " OR ".join(terms) + ")" if terms else "FALSE"), tuple(args)


def unexplained_rows(cur, table: str, day: str) -> int:
    """Rows of `table` dated `day` that no ledger entry explains: put there by another tool.

    The common case, a day without rows, costs one index lookup.
    """
    start = f"{day} 00:00:00"
    stop = f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00"
    where = "datetime >= %s AND datetime < %s"
    cur.execute(f"SELECT MIN(id), MAX(id), COUNT(*) FROM {dbmod.quote_ident(table)} WHERE {where}",
                (start, stop))
    lo_id, hi_id, total = cur.fetchone()
    if not total:
        return 0
    condition, args = explained_condition(cur, table, lo_id, hi_id)
    cur.execute(f"SELECT COUNT(*) FROM {dbmod.quote_ident(table)} WHERE {where} AND {condition}",
                (start, stop, *args))
    return total - cur.fetchone()[0]


def refuse_unexplained(cur, path: Path, table: str, day: str | None) -> None:
    """Stop before importing a file whose day already holds rows no ledger entry explains."""
    if day is None:
        return
    stray = unexplained_rows(cur, table, day)
    if stray:
        raise UnexplainedRows(
            f"{canonical_name(path)}: {table} already holds {stray} row(s) dated {day} that no "
            f"imported_sources entry explains (put there by the legacy scripts or another tool); "
            f"nothing was imported, so the day is not counted twice. Run `hzflow adopt`: it records "
            f"the files whose rows are there and says what to do with one whose rows are only partly there")


def import_wanted(cur, path: Path, table: str) -> dict | None:
    """Before a file's import: what an earlier import of it brought (then there is nothing to do), or
    None after checking that its day holds no rows another tool put there."""
    before = recorded(cur, path, table)
    if before is None:
        refuse_unexplained(cur, path, table, day_of(path.name))
    return before


def forget(conn, file: str, table: str = "all", *, dry_run: bool = False, say=print) -> int:
    """Delete the rows one file brought (web, or userlogin) and its claim; recount webhits of its days.

    The days' hits are counted again from the web rows left, not reduced by
    the file's own counts: once a month was resolved its webhits are
    per-day recounts (and clean-bots may have removed rows), so subtracting
    what the file once added would leave them wrong.
    """
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
                              f"(imported_sources holds the names of imported files; "
                              f"`hzflow status` and the day markers name what was imported)")
        verb = "would delete" if dry_run else "deleted"
        for source_id, target, pk_start, pk_end, detail in records:
            days = set((json.loads(detail) if detail else {}).get("webhits", {})) if target == "web" else set()
            if pk_start is not None:
                where, args = entry_rows(pk_start, pk_end, detail)
                if target == "web":
                    cur.execute(f"SELECT DISTINCT DATE(datetime) FROM web WHERE {where}", args)
                    days |= {str(d) for (d,) in cur.fetchall() if d}
                if dry_run:
                    cur.execute(f"SELECT COUNT(*) FROM {dbmod.quote_ident(target)} WHERE {where}", args)
                    n = cur.fetchone()[0]
                else:
                    n = cur.execute(f"DELETE FROM {dbmod.quote_ident(target)} WHERE {where}", args)
                removed += n
                say(f"{verb} {n} {target} rows of {name} (id {pk_start}..{pk_end})")
            if days and not dry_run:
                recount_webhits(cur, sorted(days))
            if days:
                say(f"{'would recount' if dry_run else 'recounted'} webhits of {len(days)} day(s) "
                    f"({min(days)} .. {max(days)}) from the web rows left")
            if not dry_run:
                cur.execute("DELETE FROM imported_sources WHERE id = %s", (source_id,))
        if dry_run:
            conn.rollback()
    return removed


def recount_webhits(cur, days: list[str]) -> None:
    """One webhits row per day, counted from the day's web rows (none for a day without rows)."""
    for day in days:
        start = f"{day} 00:00:00"
        cur.execute("DELETE FROM webhits WHERE datetime >= %s AND datetime < %s + INTERVAL 1 DAY", (start, start))
        cur.execute("INSERT INTO webhits (datetime, hits) SELECT %s, COUNT(*) FROM web "
                    "WHERE datetime >= %s AND datetime < %s + INTERVAL 1 DAY HAVING COUNT(*) > 0",
                    (start, start, start))
