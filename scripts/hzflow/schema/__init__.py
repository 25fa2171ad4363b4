"""The metrics schema: create it, or adopt an existing one in place.

`metrics.sql` describes every table as it should be.  Bringing a database to
head means: create missing tables, add missing columns and indexes.  No
column is ever dropped or retyped, so a database created by the reference or
the legacy scripts keeps every row and keeps working with them.  Each change
set is recorded once in `hzflow_migrations`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pymysql.constants import CLIENT

from .. import db as dbmod
from .. import version
from ..config import Settings
from ..db import quote_ident as q

HERE = Path(__file__).resolve().parent
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb3"
DEFAULT_REFERENCE_DATA = (HERE / "reference_geo.sql", HERE / "reference_classes.sql")
REFERENCE_TABLES = ("bot_useragents", "continents", "country_continent",
                    "domainclass", "domainclasses", "exclude_list")


@dataclass
class Table:
    name: str
    columns: list[tuple[str, str]] = field(default_factory=list)   # (name, definition)
    indexes: list[tuple[str, str]] = field(default_factory=list)   # (name, definition)

    def create_sql(self, database: str) -> str:
        body = ",\n  ".join([f"`{c}` {d}" for c, d in self.columns] + [d for _, d in self.indexes])
        return f"CREATE TABLE IF NOT EXISTS {q(database)}.{q(self.name)} (\n  {body}\n) {TABLE_OPTIONS}"


_CREATE = re.compile(r"CREATE TABLE (\w+) \((.*?)\n\);", re.S)
_INDEX = re.compile(r"^(PRIMARY KEY|UNIQUE KEY|KEY)\s*(`?\w*`?)\s*\(")


def _split_top_level(body: str) -> list[str]:
    """Split a CREATE TABLE body on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _quote_key_columns(definition: str) -> str:
    """Backtick the column names inside an index definition (`rank` is reserved)."""
    head, _, cols = definition.partition("(")
    cols = re.sub(r"(?<![`\w])([A-Za-z_]\w*)(?![`\w])(?=\s*(\(\d+\))?\s*[,)])",
                  lambda m: f"`{m.group(1)}`", cols)
    return f"{head}({cols}"


def tables() -> dict[str, Table]:
    text = "\n".join(line for line in (HERE / "metrics.sql").read_text().splitlines()
                     if not line.lstrip().startswith("--"))
    result = {}
    for name, body in _CREATE.findall(text):
        table = Table(name)
        for item in _split_top_level(body):
            m = _INDEX.match(item)
            if m:
                kind, index_name = m.group(1), m.group(2).strip("`")
                index_name = "PRIMARY" if kind == "PRIMARY KEY" else index_name
                item = _quote_key_columns(item)
                if kind != "PRIMARY KEY":
                    item = f"{kind} `{index_name}` {item[item.index('('):]}"
                table.indexes.append((index_name, item))
            else:
                col, _, definition = item.partition(" ")
                table.columns.append((col.strip("`"), definition.strip()))
        result[name] = table
    return result


# ---------------------------------------------------------------- migrations
MIGRATIONS = (
    (1, "metrics schema baseline: reference tables and columns, imported_sources.detail"),
    (2, "enrichment caches: hzflow_dns_cache, hzflow_ipgeo_cache"),
    (3, "summary rollups: hzflow_seen_sessions, hzflow_seen_downloads, hzflow_rollup_months"),
    (4, "userlogin_lite indexed by address (ip_user_action)"),
    (5, "adoption record: hzflow_adoption"),
    (6, "web rows born with their country: hzflow_born_country"),
)


def _existing(cur, database: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = %s", (database,))
    columns: dict[str, set[str]] = {}
    for t, c in cur.fetchall():
        columns.setdefault(t, set()).add(c.lower())
    cur.execute("SELECT DISTINCT table_name, index_name FROM information_schema.statistics "
                "WHERE table_schema = %s", (database,))
    indexes: dict[str, set[str]] = {}
    for t, i in cur.fetchall():
        indexes.setdefault(t, set()).add(i)
    return columns, indexes


def plan(cur, database: str) -> list[str]:
    """The statements that bring `database` to head; empty when it is there already."""
    cur.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s",
                (database,))
    statements = []
    if not cur.fetchone()[0]:
        statements.append(f"CREATE DATABASE {q(database)} DEFAULT CHARACTER SET utf8mb3 "
                          f"COLLATE utf8mb3_general_ci")
        columns, indexes = {}, {}
    else:
        columns, indexes = _existing(cur, database)
    for table in tables().values():
        have = columns.get(table.name)
        if have is None:
            statements.append(table.create_sql(database))
            continue
        alters = [f"ADD COLUMN `{c}` {d}" for c, d in table.columns if c.lower() not in have]
        have_idx = indexes.get(table.name, set())
        alters += [f"ADD {d}" for name, d in table.indexes
                   if name not in have_idx and not (name == "PRIMARY" and "PRIMARY" in have_idx)]
        if alters:
            statements.append(f"ALTER TABLE {q(database)}.{q(table.name)} " + ", ".join(alters))
    return statements


def describe(sql: str) -> str:
    """A one-line account of a schema statement: 'create table web', 'add to web: dnload, …'."""
    m = re.match(r"CREATE (DATABASE|TABLE IF NOT EXISTS) `[^`]+`(?:\.`([^`]+)`)?", sql)
    if m:
        return "create database" if m.group(1) == "DATABASE" else f"create table {m.group(2)}"
    m = re.match(r"ALTER TABLE `[^`]+`\.`([^`]+)` (.*)", sql, re.S)
    if m:
        added = re.findall(r"ADD (?:COLUMN|UNIQUE KEY|KEY|PRIMARY KEY) `?([^`( ]+)", m.group(2))
        return f"add to {m.group(1)}: {', '.join(added)}"
    return " ".join(sql.split())


def applied_migrations(cur, database: str) -> set[int]:
    cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = 'hzflow_migrations'", (database,))
    if not cur.fetchone()[0]:
        return set()
    cur.execute(f"SELECT id FROM {q(database)}.hzflow_migrations")
    return {r[0] for r in cur.fetchall()}


def head_id() -> int:
    return MIGRATIONS[-1][0]


def run_sql_file(conn, path: Path) -> None:
    """Execute a whole file of SQL statements (e.g. a mysqldump) on a multi-statement connection."""
    with conn.cursor() as cur:
        cur.execute(path.read_text())
        while cur.nextset():
            pass


def _statements_by_table(path: Path) -> list[tuple[str, str]]:
    """(table, statement) for each INSERT of one of hzflow's reference-data files."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
    out = []
    for stmt in re.split(r";\s*\n", text):
        m = re.match(r"\s*INSERT IGNORE INTO (\w+)", stmt)
        if m:
            out.append((m.group(1), stmt))
    return out


def empty_reference_tables(cur, database: str) -> list[str]:
    empty = []
    for t in REFERENCE_TABLES:
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {q(database)}.{q(t)})")
        if not cur.fetchone()[0]:
            empty.append(t)
    return empty


def init(settings: Settings, *, dry_run: bool = False, reference_data: Path | None = None,
         say=print) -> list[str]:
    """Create or adopt the metrics database and load reference data; returns the statements."""
    database = settings.db.metrics_db
    with dbmod.connection(settings, None) as conn:
        with conn.cursor() as cur:
            statements = plan(cur, database)
            done = applied_migrations(cur, database)
        created = []
        for sql in statements:
            account = describe(sql)
            if dry_run:
                say(f"[dry-run] {' '.join(sql.split())};")
            elif account.startswith("create table "):
                created.append(account[len("create table "):])
            else:
                say(account)
            if not dry_run:
                with conn.cursor() as cur:
                    cur.execute(sql)
        if created:
            say(f"created {len(created)} tables: {', '.join(created)}")
        for mid, desc in MIGRATIONS:
            if mid in done:
                continue
            if dry_run:
                say(f"[dry-run] record migration {mid}: {desc}")
                continue
            with conn.cursor() as cur:
                cur.execute(f"INSERT IGNORE INTO {q(database)}.hzflow_migrations "
                            f"(id, description, hzflow_version) VALUES (%s, %s, %s)",
                            (mid, desc, version()))
    if dry_run:
        say("[dry-run] reference data: " + (f"load {reference_data}" if reference_data
                                            else "hzflow defaults into whichever tables are empty"))
    else:
        load_reference_data(settings, reference_data, say=say)
    return statements


def load_reference_data(settings: Settings, dump: Path | None, *, say=print) -> None:
    """Load an operator's dump, or hzflow's defaults into reference tables that are empty."""
    database = settings.db.metrics_db
    with dbmod.connection(settings, database, client_flag=CLIENT.MULTI_STATEMENTS) as conn:
        if dump is not None:
            run_sql_file(conn, dump)
            say(f"loaded reference data from {dump}")
            return
        with conn.cursor() as cur:
            empty = set(empty_reference_tables(cur, database))
            for path in DEFAULT_REFERENCE_DATA:
                for table, stmt in _statements_by_table(path):
                    if table in empty:
                        cur.execute(stmt)
        loaded = sorted(empty - {"exclude_list"})
        if loaded:
            say("loaded hzflow's default reference data into empty tables: " + ", ".join(loaded))

