"""What every run needs before it builds anything: the log directories and the database.

`hzflow cron`, `plan` and `status` check these on every call (a stat of two
directories and one connection), so a wrong path or password is said by the
exit status and one line each time, until it is fixed, not only by
`hzflow doctor`.  Each problem is kept as a failure record (stage
"preflight"), with an event when it appears, and cleared when the check
passes again.
"""

from __future__ import annotations

import os

from . import errors, events, markers

STAGE = "preflight"
# Problems after which a run cannot build anything at all.
BLOCKING = (errors.CONFIG, errors.DATABASE)


def _log_directories(settings) -> list[tuple[int, str]]:
    out = []
    for key, path in (("paths.apache_daily", settings.apache_daily), ("paths.hub_daily", settings.hub_daily)):
        if not path.exists():
            out.append((errors.INPUT, f"log directory {path} ({key}) does not exist: no new log can be "
                                      f"imported; fix {key} in {settings.path} or create the directory"))
        elif not path.is_dir():
            out.append((errors.INPUT, f"log directory {path} ({key}) is not a directory; fix {key} in "
                                      f"{settings.path}"))
        elif not os.access(path, os.R_OK | os.X_OK):
            out.append((errors.RESOURCES, f"log directory {path} ({key}) cannot be read by this user "
                                          f"(uid {os.geteuid()}); give it read access"))
    return out


def _database(settings) -> list[tuple[int, str]]:
    from . import db as dbmod
    from . import schema

    try:
        with dbmod.connection(settings) as conn, conn.cursor() as cur:
            applied = schema.applied_migrations(cur, settings.db.metrics_db)
    except Exception as exc:          # a wrong password, an unreadable password file, a server that is down
        code, message = errors.classify(exc)
        return [(code, message)]
    if schema.head_id() not in applied:           # an upgrade of hzflow not followed by `hzflow init`
        missing = [f"{mid} ({what})" for mid, what in schema.MIGRATIONS if mid not in applied]
        return [(errors.CONFIG, f"the metrics database {settings.db.metrics_db} is not at schema head: "
                                f"this hzflow needs {'; '.join(missing)}; run `hzflow init` (it adds tables, "
                                f"columns and indexes and never changes a row)")]
    return []


def check(settings, *, database: bool = True) -> list[tuple[int, str, str]]:
    """(exit status, unit, message) of every problem found now."""
    found = [(code, "logs", text) for code, text in _log_directories(settings)]
    if database:
        found += [(code, "database", text) for code, text in _database(settings)]
    return found


def run(settings, *, database: bool = True) -> list[tuple[int, str, str]]:
    """check(), with each problem recorded (an event when it is new) and each solved one cleared."""
    found = check(settings, database=database)
    units = {"logs", "database"} if database else {"logs"}
    for unit in units:
        path = markers.failure_record(settings, STAGE, unit)
        mine = [(code, text) for code, u, text in found if u == unit]
        if not mine:
            path.unlink(missing_ok=True)
            continue
        code = errors.most_severe(c for c, _ in mine)
        text = "; ".join(t for _, t in mine)
        known = markers.read(path)
        if known is None or known.get("error") != text:
            events.emit(settings, "fail", STAGE, unit, exit_status=code, error=text)
        try:
            markers.write(path, {"stage": STAGE, "unit": unit, "step": unit, "exit_status": code, "error": text})
        except OSError:
            pass
    return found


def blocking(found) -> bool:
    return any(code in BLOCKING for code, _, _ in found)


def report(found, who: str, say) -> int:
    """One line per problem (printed even by quiet commands); the exit status they stand for."""
    for code, _, text in found:
        say(f"{who}: {errors.NAMES.get(code, code).upper()}: {text}")
    return errors.most_severe(code for code, _, _ in found)
