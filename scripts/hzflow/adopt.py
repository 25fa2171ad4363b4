"""hzflow adopt: take over a metrics database other tools filled, so that no day is imported twice.

Hubs switching to hzflow have years of `web` and `userlogin` rows put there
by the legacy scripts or by hzmetrics.py, and the logs they came from in
`imported/`, mostly without a ledger entry saying which file brought which
rows.  For every log hzflow can see that the ledger does not know, adopt
reads each line into the key its row would have ((time, address, URL) for
`web`, (time, address, user, action) for `userlogin`) and looks for those
rows among the file's dates:

* present: the rows of every line hzflow's import would keep are there
  (for `web`, lines of addresses without a single row are allowed to be
  missing: clean-bots removed them after the import) -> recorded in
  `imported_sources` as origin 'reconstruct', so hzflow never imports it;
* absent: none of its rows are there -> left for `hzflow cron` to import;
* partial: some are, some are not -> reported with the two ways out
  (`--accept FILE` keeps what is there; `--discard FILE` removes those rows
  and imports the file again, whole, at once: its day may lie before the
  first month cron builds), never guessed.

It then sets the first month the workflow builds: the month of the newest
data, or the month after it when that month is complete and summarized.
Earlier months are left exactly as they are.  Until a database holding
rows has been adopted, `hzflow cron` refuses to run (`require`); an empty
database, and one every row of which hzflow imported itself, need no
adoption (and get no record in the database).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from . import db as dbmod
from . import markers, months, sources, version
from .errors import ConfigError, NotAdopted, UsageError
from .imports import access, auth
from .imports import logparse as lp
from .imports.apache import line_dates
from .imports.provenance import explained_condition, recount_webhits

TABLE_OF = {"access": "web", "auth": "userlogin"}
CONTENT_BYTES = 255                                 # web.content is a TINYTEXT


def _content(url: str) -> str:
    return url.encode("utf-8")[:CONTENT_BYTES].decode("utf-8", "ignore")


# ------------------------------------------------------------------ one file
@dataclass
class FileCheck:
    """What adopt found for one log: its lines, the rows of them in the table, and the verdict."""

    kind: str
    day: str
    path: Path
    lines: int = 0
    kept_now: int = 0                  # lines hzflow's import would keep today
    matched: int = 0                   # rows found for the file's lines
    missing: int = 0                   # kept lines without a row, from addresses that have rows
    removed: int = 0                   # kept lines without a row, from addresses without any (clean-bots)
    duplicates: int = 0                # rows found more often than the file has the line
    ids: list = field(default_factory=list)
    first: str | None = None
    last: str | None = None
    verdict: str = "absent"

    @property
    def table(self) -> str:
        return TABLE_OF[self.kind]

    @property
    def name(self) -> str:
        return sources.canonical_name(self.path)


def _access_line_key(line: str, dates) -> tuple | None:
    f = access._fields(line)
    if f and not dates.reason(f[0], f[1]):
        return f"{f[0]} {f[1]}", f[5], _content(lp.split_request(f[2])[1])
    return None


def _access_row_key(row: str) -> tuple:
    when, url, ip = row.split("\t", 3)[:3]
    return when, ip, _content(url)


def _auth_line_key(line: str, dates) -> tuple | None:
    event = auth._event(line)
    if event and not dates.reason(*event[0].split(" ")):
        when, _uid, user, ip, action = event
        return when, ip, (user or "-").lower(), action.lower()
    return None


def _auth_row_key(row: str) -> tuple:
    when, _uid, user, ip, action = row.rstrip("\n").split("\t")
    return when, ip, user.lower(), action.lower()


# kind -> (the import's scanner, its result, the key of a line, the key of a kept row)
_KEYS = {"access": (access.scan, access.ScanResult, _access_line_key, _access_row_key),
         "auth": (auth.scan, auth.AuthScan, _auth_line_key, _auth_row_key)}


def _file_keys(settings, src: sources.Source, filters) -> tuple[Counter, Counter, int]:
    """One read of the log: every importable line's key, the keys of the lines the import keeps today,
    and the number of lines."""
    scan, new_result, line_key, row_key = _KEYS[src.kind]
    dates = line_dates(settings, src.path)
    every, kept = Counter(), Counter()

    def noted(lines):
        for line in lines:
            key = line_key(line, dates)
            if key:
                every[key] += 1
            yield line

    def keep(row: str) -> None:
        kept[row_key(row)] += 1

    result = new_result()
    with lp.reading(src.path, result) as lines:
        scan(noted(lines), filters, keep, result, dates, 0)
    return every, kept, result.lines


_ROWS_SQL = {
    "web": "SELECT id, datetime, ip, content FROM web WHERE datetime BETWEEN %s AND %s",
    "userlogin": "SELECT id, datetime, ip, user, action FROM userlogin WHERE datetime BETWEEN %s AND %s",
}


def _row_key(table: str, row) -> tuple:
    when = row[1].strftime("%Y-%m-%d %H:%M:%S")
    if table == "web":
        return when, row[2], _content(row[3] or "")
    return when, row[2], (row[3] or "-").lower(), (row[4] or "").lower()


def examine(settings, cur, src: sources.Source, filters, ip_filters) -> FileCheck:
    check = FileCheck(src.kind, src.day, src.path)
    every, kept, check.lines = _file_keys(settings, src, filters if src.kind == "access" else ip_filters)
    check.kept_now = sum(kept.values())
    if not every:
        check.verdict = "absent"
        return check
    lo, hi = min(every)[0], max(every)[0]
    cur.execute(_ROWS_SQL[check.table], (lo, hi))
    rows = cur.fetchall()
    if rows:                                    # rows another entry already explains are not this file's
        condition, args = explained_condition(cur, check.table, min(r[0] for r in rows), max(r[0] for r in rows))
        cur.execute(f"SELECT id FROM {check.table} WHERE datetime BETWEEN %s AND %s AND {condition}",
                    (lo, hi, *args))
        taken = {r[0] for r in cur.fetchall()}
        rows = [r for r in rows if r[0] not in taken]
    left, found, seen_ips = Counter(every), Counter(), set()
    for row in rows:
        key = _row_key(check.table, row)
        if key not in every:
            continue
        if left[key] > 0:
            left[key] -= 1
            found[key] += 1
            check.ids.append(row[0])
            seen_ips.add(key[1])
            stamp = key[0]
            check.first = min(check.first or stamp, stamp)
            check.last = max(check.last or stamp, stamp)
        else:
            check.duplicates += 1
    check.matched = len(check.ids)
    for key, n in (kept - found).items():
        if check.table == "web" and key[1] not in seen_ips:
            check.removed += n
        else:
            check.missing += n
    check.verdict = "absent" if not check.matched else ("partial" if check.missing else "present")
    return check


# ------------------------------------------------------------------ the run
def _ledger_names(cur) -> set[tuple[str, str]]:
    cur.execute("SELECT filename, target_table FROM imported_sources")
    return {(sources.canonical_name(name), table) for name, table in cur.fetchall()}


def _filters(cur):
    return access.Filters.load(cur), auth.load_ip_filters(cur)


def _newest_data_day(cur) -> str | None:
    newest = None
    for table in ("web", "userlogin"):
        cur.execute(f"SELECT DATE(MAX(datetime)) FROM {table} WHERE datetime <= %s",
                    (f"{months.today()} 23:59:59",))
        day = cur.fetchone()[0]
        if day and (newest is None or str(day) > newest):
            newest = str(day)
    return newest


def first_month_for(cur, newest_day: str | None) -> str | None:
    """The month of the newest data, or the one after when that month is complete and summarized."""
    if newest_day is None:
        return None
    month = newest_day[:7]
    cur.execute("SELECT COUNT(*) FROM summary_user_vals WHERE period = 1 AND datetime = %s", (f"{month}-00",))
    summarized = cur.fetchone()[0] > 0
    if newest_day == str(months.last_day(month)) and summarized and month < months.current():
        return months.following(month)
    return month


def _counts(cur) -> dict:
    out = {}
    for table in ("web", "userlogin"):
        cur.execute(f"SELECT COUNT(*), MIN(datetime), MAX(datetime) FROM {table}")
        n, lo, hi = cur.fetchone()
        out[table] = {"rows": n, "first": str(lo) if lo else None, "last": str(hi) if hi else None}
    return out


def _matches(names: list[str], check: FileCheck) -> bool:
    return any(sources.canonical_name(n) == check.name for n in names)


def adopt(settings, *, dry_run: bool = False, since: str | None = None, first_month: str | None = None,
          accept: list[str] = (), accept_partial: bool = False, discard: list[str] = (), say=print) -> dict:
    """Examine every untracked log, record the present ones, set the first month; returns what it did."""
    began = time.monotonic()
    if not dry_run:
        _finish_discards(settings, say)
    found = sources.discover_all(settings, warn=lambda m: say(f"warning: {m}"))
    with dbmod.connection(settings) as conn:
        with conn.cursor() as cur:
            counts = _counts(cur)
            tracked = _ledger_names(cur)
            filters, ip_filters = _filters(cur)
            checks = []
            for day, by_kind in found.items():
                if since and day[:7] < since:
                    continue
                for kind, src in sorted(by_kind.items()):
                    if (src.name, TABLE_OF[kind]) not in tracked:
                        checks.append(examine(settings, cur, src, filters, ip_filters))
        by_verdict = Counter(c.verdict for c in checks)
        say(f"adopt: {settings.db.metrics_db} holds {counts['web']['rows']:,} web rows "
            f"({counts['web']['first']} .. {counts['web']['last']}) and {counts['userlogin']['rows']:,} "
            f"userlogin rows; {len(tracked)} files already in the ledger, {len(checks)} examined")
        asked = [n for n in (*accept, *discard) if not any(_matches([n], c) for c in checks)]
        known = {name for name, _ in tracked}
        done_before = [n for n in asked if sources.canonical_name(n) in known]
        for n in done_before:               # a rerun after the file was dealt with (or an adopt killed midway)
            say(f"  {n}: in the ledger already; nothing to do for it")
        unknown = [n for n in asked if n not in done_before]
        if unknown:
            raise UsageError(f"not an examined log: {', '.join(unknown)} (a file the ledger already knows, "
                             f"or one hzflow does not see in the log directories)")
        record = [c for c in checks if c.verdict == "present"
                  or (c.verdict == "partial" and (accept_partial or _matches(accept, c)))]
        # --discard F of a file without a row left (an earlier discard on MyISAM killed between its
        # DELETE and its record): nothing to remove, and it is imported whole all the same
        discarded = [c for c in checks if c.verdict in ("partial", "absent") and _matches(discard, c)]
        _say_checks(checks, record, discarded, say)
        with dbmod.transaction(conn) as cur:
            if not dry_run:
                for c in record:
                    _record(cur, c)
                for c in discarded:
                    _discard(cur, c, say)
            newest = _newest_data_day(cur)
            chosen = first_month or _kept_first_month(cur) or first_month_for(cur, newest)
            summary = {"kind": "adopted", "first_month": chosen, "newest_data_day": newest,
                       "recorded": len(record), "discarded": len(discarded), **by_verdict,
                       "discarded_files": [str(c.path) for c in discarded],
                       "seconds": round(time.monotonic() - began, 1)}
            if not dry_run:
                _write_adoption(cur, "adopted", chosen, summary)
    if not dry_run:
        for c in discarded:
            _import_whole(settings, c, say)
        write_marker(settings, "adopted", chosen)
    _say_first_month(settings, chosen, newest, first_month is not None, say)
    if dry_run:
        say("adopt: dry run, nothing was written")
    return summary


def _kept_first_month(cur) -> str | None:
    """An earlier adoption's first month stays (a second adopt must not move finished months out)."""
    row = latest(cur)
    return row["first_month"] if row and row["kind"] == "adopted" else None


def _say_checks(checks, record, discarded, say) -> None:
    def few(items):
        names = [c.name for c in items]
        return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")

    present = [c for c in checks if c.verdict == "present"]
    absent = [c for c in checks if c.verdict == "absent"]
    partial = [c for c in checks if c.verdict == "partial"]
    say(f"  present: {len(present)} files, their rows all there: recorded in imported_sources"
        + (f" ({sum(c.removed for c in present):,} kept lines of addresses whose rows were removed later)"
           if any(c.removed for c in present) else ""))
    if absent:
        days = sorted({c.day for c in absent})
        say(f"  absent: {len(absent)} files without a row ({days[0]} .. {days[-1]}): hzflow cron imports those "
            f"of the months it builds")
    for c in partial:
        fate = ("recorded as it is" if c in record else "rows removed; imported again whole" if c in discarded
                else "NOT recorded: its day stays blocked until you choose")
        say(f"  partial: {c.name}: {c.matched:,} of its rows are there, {c.missing:,} kept line(s) are not; {fate}")
    waiting = [c for c in partial if c not in record and c not in discarded]
    if waiting:
        say(f"  for a partial file, either keep what is there: hzflow adopt --accept {waiting[0].name}")
        say(f"  or remove those rows and import the file again, whole: hzflow adopt --discard "
            f"{waiting[0].name}   ({few(waiting)}; --accept-partial keeps them all)")
    dup = [c for c in checks if c.duplicates]
    if dup:
        say(f"  note: {sum(c.duplicates for c in dup):,} rows are there more often than their lines "
            f"(an earlier double import?) in {few(dup)}; hzflow audit lists them by month")


def _say_first_month(settings, chosen, newest, asked: bool, say) -> None:
    if chosen is None:
        say("adopt: no data before today; the workflow starts at start_month or the earliest log")
        return
    why = "as asked" if asked else f"newest data {newest}"
    say(f"adopt: first month the workflow builds: {chosen} ({why}); earlier months are left as they are")
    configured = settings.start_month
    if configured and configured < chosen:
        say(f"adopt: warning: start_month {configured} in {settings.path} is earlier; the workflow builds "
            f"from there (files already imported are not imported again); remove it to start at {chosen}")


def _record(cur, c: FileCheck) -> None:
    detail = {"reconstructed": True, "first": c.first, "last": c.last, "lines": c.lines,
              "kept_now": c.kept_now, "matched": c.matched, "missing": c.missing, "removed_later": c.removed}
    cur.execute("INSERT INTO imported_sources (id, filename, target_table, pk_start, pk_end, row_count, "
                "imported_at, origin, detail) VALUES (%s, %s, %s, %s, %s, %s, NOW(), 'reconstruct', %s)",
                (dbmod.next_id(cur, "imported_sources"), c.name, c.table, min(c.ids), max(c.ids), c.matched,
                 json.dumps(detail, sort_keys=True)))


def _discard(cur, c: FileCheck, say) -> None:
    """Remove a partial file's rows (and, for an access log, its day's hits) so it is imported afresh."""
    if not c.ids:
        return
    for start in range(0, len(c.ids), 10_000):
        chunk = c.ids[start:start + 10_000]
        cur.execute(f"DELETE FROM {c.table} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)
    if c.table == "web":                     # what is left of those days is counted again; the import adds its own
        recount_webhits(cur, months.days_between(c.first[:10], c.last[:10]))
    say(f"  discarded {len(c.ids):,} {c.table} rows of {c.name}")


def _finish_discards(settings, say) -> None:
    """Files an earlier adopt discarded but was stopped before importing again (kill -9): import them now.

    On MyISAM (a legacy database not migrated yet) the stopped import may have
    left part of the file's rows without its claim; they are discarded again
    first, so the file comes back whole and never twice.
    """
    from .imports.days import IMPORTERS

    with dbmod.cursor(settings) as cur:
        cur.execute("SELECT detail FROM hzflow_adoption WHERE kind = 'adopted' ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
        try:
            paths = [Path(p) for p in json.loads(row[0]).get("discarded_files", [])] if row and row[0] else []
        except ValueError:
            paths = []
        left = []
        for path in paths:
            kind = "access" if path.name.startswith(f"{settings.site}-access") else "auth"
            cur.execute("SELECT 1 FROM imported_sources WHERE filename IN (%s, %s) AND target_table = %s",
                        (sources.canonical_name(path), sources.canonical_name(path) + ".gz", TABLE_OF[kind]))
            if cur.fetchone() is None:
                left.append((kind, path))
        if left:
            filters, ip_filters = _filters(cur)
            for kind, path in left:
                check = examine(settings, cur, sources.Source(kind, sources.day_of(path.name), path),
                                filters, ip_filters)
                _discard(cur, check, say)
    for kind, path in left:
        importer, _ = IMPORTERS[kind]
        report = importer(settings, path)
        say(f"adopt: {path.name}, discarded by the last adopt, imported again whole: "
            f"{report.get('rows', 0):,} rows ({report['status']})")


def _import_whole(settings, c: FileCheck, say) -> None:
    """Import a discarded file at once: its day may lie before the first month cron builds."""
    from .imports.days import IMPORTERS

    importer, _ = IMPORTERS[c.kind]
    report = importer(settings, c.path)
    say(f"  imported {c.name} again, whole: {report.get('rows', 0):,} {c.table} rows ({report['status']})")


# ------------------------------------------------------------------ the record
def latest(cur) -> dict | None:
    cur.execute("SELECT kind, first_month, adopted_at FROM hzflow_adoption ORDER BY id DESC LIMIT 1")
    row = cur.fetchone()
    return {"kind": row[0], "first_month": row[1], "adopted_at": str(row[2])} if row else None


def _write_adoption(cur, kind: str, first_month: str | None, detail: dict) -> None:
    cur.execute("INSERT INTO hzflow_adoption (kind, first_month, hzflow_version, detail) VALUES (%s, %s, %s, %s)",
                (kind, first_month, version(), json.dumps(detail, sort_keys=True, default=str)))


def write_marker(settings, kind: str, first_month: str | None) -> None:
    markers.write(markers.adoption_marker(settings), {"kind": kind, "first_month": first_month,
                                                      "metrics_db": settings.db.metrics_db})


def rows_outside_own_imports(cur, table: str) -> bool:
    """Whether any row lies outside the id ranges of hzflow's own imports (a few index probes)."""
    cur.execute("SELECT pk_start, pk_end FROM imported_sources WHERE target_table = %s AND origin = 'importer' "
                "AND detail IS NOT NULL AND pk_start IS NOT NULL ORDER BY pk_start", (table,))
    merged: list[list[int]] = []
    for a, b in cur.fetchall():
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    gaps = [(None, merged[0][0])] if merged else [(None, None)]
    gaps += [(merged[i][1], merged[i + 1][0]) for i in range(len(merged) - 1)]
    gaps += [(merged[-1][1], None)] if merged else []
    for after, before in gaps:
        conditions = ([f"id > {int(after)}"] if after is not None else []) + \
                     ([f"id < {int(before)}"] if before is not None else [])
        cur.execute(f"SELECT 1 FROM {table} WHERE {' AND '.join(conditions) or 'TRUE'} LIMIT 1")
        if cur.fetchone():
            return True
    return False


def require(settings, *, record: bool = True) -> dict:
    """The cron gate: raise NotAdopted for a database holding rows hzflow did not import, unless adopted.

    An empty database, or one whose every row hzflow imported, needs no adoption:
    nothing is written to it (so cron leaves exactly what the stage commands
    leave), the few index probes are simply made again each run, and only the
    adopted.json marker notes it (record=False, for a dry run, writes nothing).
    """
    try:
        with dbmod.connection(settings) as conn, dbmod.transaction(conn) as cur:
            row = latest(cur)
            if row is None:
                foreign = [t for t in ("web", "userlogin") if rows_outside_own_imports(cur, t)]
                if foreign:
                    raise NotAdopted(
                        f"{settings.db.metrics_db} holds {' and '.join(foreign)} rows that hzflow did not import "
                        f"(a database filled by the legacy scripts or hzmetrics.py); importing logs into it "
                        f"could count days twice, so cron has not run. Run `hzflow adopt --dry-run`, then "
                        f"`hzflow adopt` (docs/migrating.md)")
                cur.execute("SELECT EXISTS (SELECT 1 FROM web) OR EXISTS (SELECT 1 FROM userlogin)")
                kind = "hzflow" if cur.fetchone()[0] else "empty"
                row = {"kind": kind, "first_month": None}
    except pymysql.err.ProgrammingError as exc:
        if exc.args and exc.args[0] == 1146:
            raise ConfigError(f"the metrics database {settings.db.metrics_db} is not at schema head: "
                              f"run `hzflow init`") from None
        raise
    if record and (markers.read(markers.adoption_marker(settings)) is None
                   or markers.adopted_first_month(settings) != row["first_month"]):
        write_marker(settings, row["kind"], row["first_month"])
    return row
