"""Database connections, transactions and bulk loads (pymysql only).

Every statement that carries data is parameterised; identifiers (database
and table names) come only from the validated config and are quoted with
`quote_ident`.  Credentials go straight from the config to the driver.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator, Sequence

import pymysql

from .config import DbSettings, Settings
from .errors import DatabaseError

_IDENT = re.compile(r"^[A-Za-z0-9_]+$")


def quote_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f"`{name}`"


def connect(db: DbSettings | Settings, database: str | None = None, *,
            autocommit: bool = True, client_flag: int = 0) -> pymysql.Connection:
    """Open a connection as the configured user; database=None selects no default schema."""
    if isinstance(db, Settings):
        db = db.db
    args = dict(user=db.user, password=db.password, database=database, charset="utf8mb4",
                local_infile=True, autocommit=autocommit, connect_timeout=10,
                client_flag=client_flag)
    if db.socket:
        # TLS over a local socket protects nothing, and setting it up costs more than the connection
        args.update(unix_socket=db.socket, ssl_disabled=True)
    else:
        args.update(host=db.host, port=db.port)
    where = db.socket or f"{db.host}:{db.port}"
    try:
        conn = pymysql.connect(**args)
    except pymysql.err.OperationalError as e:
        code = e.args[0] if e.args else "?"
        raise DatabaseError(
            f"cannot connect to MariaDB at {where} as {db.user!r}"
            f"{f' (database {database})' if database else ''}: [{code}] {e.args[-1]}") from None
    with conn.cursor() as cur:
        cur.execute("SET SESSION wait_timeout = 86400, net_read_timeout = 3600, "
                    "net_write_timeout = 3600")
    return conn


def metrics(settings: Settings, **kw) -> pymysql.Connection:
    return connect(settings, settings.db.metrics_db, **kw)


METRICS = object()


@contextmanager
def connection(settings: Settings, database=METRICS, **kw) -> Iterator[pymysql.Connection]:
    """A connection that is closed however the block ends; database=None selects no schema."""
    conn = connect(settings, settings.db.metrics_db if database is METRICS else database, **kw)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def cursor(settings: Settings, database=METRICS, *, atomic: bool = False) -> Iterator:
    """A cursor on its own connection; atomic=True wraps the block in one transaction."""
    with connection(settings, database) as conn:
        if atomic:
            with transaction(conn) as cur:
                yield cur
        else:
            with conn.cursor() as cur:
                yield cur


@contextmanager
def transaction(conn: pymysql.Connection) -> Iterator[pymysql.cursors.Cursor]:
    """BEGIN … COMMIT, rolling back on any exception (including KeyboardInterrupt)."""
    conn.begin()
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        try:
            conn.rollback()
        except pymysql.err.Error:
            pass
        raise


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def tsv_field(value) -> str:
    """One field in LOAD DATA's default escaping (NULL is \\N)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    return str(value)


def tsv_row(fields: Sequence[str]) -> str:
    """One line of LOAD DATA input: the fields joined as they are when all are text and none needs
    escaping (the common row, at a fraction of the cost of escaping each field)."""
    try:
        row = "\t".join(fields)
    except TypeError:                              # a NULL or a number among them
        return "\t".join(map(tsv_field, fields)) + "\n"
    if row.count("\t") != len(fields) - 1 or "\\" in row or "\n" in row or "\r" in row or "\0" in row:
        row = "\t".join(map(tsv_field, fields))
    return row + "\n"


def next_id(cur, table: str) -> int:
    """The id after the table's highest, with that end of the index locked until commit.

    Rows get their ids from here rather than from AUTO_INCREMENT, whose
    counter a rolled-back transaction (a killed run) moves on for good: the
    same logs then get the same ids however often an import was interrupted.
    """
    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote_ident(table)} FOR UPDATE")
    return int(cur.fetchone()[0]) + 1


def load_file(cur, table: str, columns: Sequence[str], path: str, *,
              ignore_duplicates: bool = False, first_id: int | None = None) -> tuple[int, int]:
    """LOAD DATA LOCAL INFILE of an already written TSV file (default escaping, utf8mb4).

    With ignore_duplicates, rows that collide with a unique key are skipped
    (INSERT IGNORE semantics) and do not count as adjusted values.  With
    first_id, the rows get consecutive ids from there, in file order.
    """
    cols = ", ".join(quote_ident(c) for c in columns)
    cur.execute("SET @hzflow_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
    try:
        ignore = "IGNORE " if ignore_duplicates else ""
        numbered = ""
        if first_id is not None:
            cur.execute("SET @hzflow_id = %s", (first_id - 1,))
            numbered = " SET id = (@hzflow_id := @hzflow_id + 1)"
        cur.execute(f"LOAD DATA LOCAL INFILE %s {ignore}INTO TABLE {quote_ident(table)} "
                    f"CHARACTER SET utf8mb4 ({cols}){numbered}", (path,))
        loaded = cur.rowcount
        cur.execute("SHOW WARNINGS")
        adjusted = sum(1 for level, code, _ in cur.fetchall() if code != 1062)
        return loaded, adjusted
    finally:
        cur.execute("SET SESSION sql_mode = @hzflow_sql_mode")
