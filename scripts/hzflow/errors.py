"""Failures an operator can act on, their exit status, and which of several matters most.

    0 ok                         4 input: a log cannot be read, a month has no logs
    1 unexpected (a bug; traceback in the log)
    2 configuration or arguments 5 a service: DNS resolver or geo provider unreachable
    3 database                   6 local resources: no space left, no permission on hzflow's paths
                                 7 busy: another run holds the hub's lock; try again later

`hzflow cron` exits with the most severe code among its failed jobs, in the
order of SEVERITY (a configuration or database failure stops everything;
one unreadable log stops one month).
"""

from __future__ import annotations

import errno

import pymysql

OK, UNEXPECTED, CONFIG, DATABASE, INPUT, SERVICE, RESOURCES, BUSY = 0, 1, 2, 3, 4, 5, 6, 7
SEVERITY = (CONFIG, DATABASE, RESOURCES, UNEXPECTED, INPUT, SERVICE, BUSY)
NAMES = {UNEXPECTED: "unexpected error", CONFIG: "configuration", DATABASE: "database",
         INPUT: "input", SERVICE: "service unavailable", RESOURCES: "local resources", BUSY: "busy"}


class ConfigError(Exception):
    """A configuration problem an operator must fix; the message says which key."""


class UsageError(Exception):
    """A command was given an argument it cannot use (a table, a date range)."""


class DatabaseError(Exception):
    """The database could not be reached or refused a statement; the message says what to check."""


class MissingInput(Exception):
    """Logs the month needs are not there (or could not be imported)."""


class UnreadableLog(Exception):
    """A source file that cannot be read to the end (truncated or corrupt gzip, I/O error)."""


class ResolverUnavailable(Exception):
    """No query got an answer at all: the resolver is down or unreachable."""


class GeoLookupFailed(Exception):
    """The provider could not be asked about some addresses; they stay unfilled for the next run."""


class UnexplainedRows(Exception):
    """A file's day already holds rows that no ledger entry explains: importing it would count them twice."""


class NotAdopted(Exception):
    """The metrics database holds rows hzflow did not import and `hzflow adopt` has not been run."""


class NotRecorded(Exception):
    """forget-import was asked about a file the ledger does not know."""


class Busy(Exception):
    """Another run holds the hub's lock and did not let go in time."""


def most_severe(codes) -> int:
    codes = {c for c in codes if c}
    for code in SEVERITY:
        if code in codes:
            return code
    return max(codes, default=OK)


def classify(exc: BaseException) -> tuple[int, str]:
    """(exit status, one-line message) for an exception that ended a command."""
    if isinstance(exc, ConfigError):
        return CONFIG, f"config error: {exc}"
    if isinstance(exc, UsageError):
        return CONFIG, f"argument error: {exc}"
    if isinstance(exc, (DatabaseError,)):
        return DATABASE, f"database error: {exc}"
    if isinstance(exc, pymysql.err.InterfaceError) or (
            isinstance(exc, pymysql.err.OperationalError) and exc.args and exc.args[0] in (0, 2006, 2013)):
        return DATABASE, ("database error: the connection to MariaDB was lost; the server may have "
                          "stopped (check its error log and the free space of its datadir); "
                          "a transaction that was open wrote nothing")
    if isinstance(exc, pymysql.err.Error):
        code = exc.args[0] if exc.args else "?"
        return DATABASE, (f"database error [{code}]: {exc.args[-1] if exc.args else exc}; "
                          f"the statement that failed wrote nothing")
    if isinstance(exc, (ResolverUnavailable, GeoLookupFailed)):
        return SERVICE, str(exc)
    if isinstance(exc, NotAdopted):
        return CONFIG, str(exc)
    if isinstance(exc, (UnreadableLog, MissingInput, UnexplainedRows)):
        return INPUT, f"input error: {exc}"
    if isinstance(exc, NotRecorded):
        return INPUT, f"input error: {exc}"
    if isinstance(exc, Busy):
        return BUSY, str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" on {exc.filename}" if exc.filename else ""
        return RESOURCES, f"no space left{where}: free some space and run again (nothing half-done was kept)"
    if isinstance(exc, PermissionError):
        return RESOURCES, f"permission denied: {exc.filename or exc}"
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return RESOURCES, f"cannot use {exc.filename}: {exc.strerror}"
    return UNEXPECTED, f"{type(exc).__name__}: {exc}"
