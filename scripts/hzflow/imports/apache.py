"""import-apache: one access log into `web` and `webhits`, atomically.

parse → filter → TSV chunks → one transaction: claim the file in
`imported_sources`, LOAD DATA into `web`, the file's per-day `webhits`,
new crawler agents into `bot_useragents`, commit.  A file already claimed
is skipped, so importing it again changes nothing.
"""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

from .. import db as dbmod
from .. import months
from ..enrich.born import COLUMNS as BORN_COLUMNS
from ..sources import day_of, readable_log
from . import access, stream
from . import logparse as lp
from .bots import record_bot_agents
from .provenance import Claimed, claim, import_wanted


def line_dates(settings, path: Path) -> lp.LineDates:
    """The dates a file may hold: near the day in its name, if it has one."""
    return lp.LineDates(day_of(path.name), int(settings.get("import", "day_tolerance_hours")),
                        months.today())


def import_file(settings, path: Path, *, dry_run: bool = False, born=None) -> dict:
    """Import one access log; returns what was done (for the log and the day marker).

    born (enrich.born.BornFile, the workflow's import only): rows are written with their host.
    """
    started = time.monotonic()
    path = readable_log(settings, Path(path))
    with dbmod.connection(settings) as conn:
        with conn.cursor() as cur:
            before = import_wanted(cur, path, "web")
            if before:
                return {**before, "seconds": round(time.monotonic() - started, 3)}
            filters = access.Filters.load(cur)
        dates = line_dates(settings, path)
        if dry_run:
            result = access.scan_file(path, filters, dates, settings.malformed_samples)
            result.refuse_garbage(path, access.ACCESS_LINE)
            report = {"file": str(path), "table": "web", **result.summary(), "status": "dry-run"}
        else:
            report = _load(conn, settings, path, filters, dates, born)
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _load(conn, settings, path: Path, filters: access.Filters, dates: lp.LineDates, born) -> dict:
    """The one transaction that makes a file's rows visible, or nothing at all.

    Rows arrive in chunks from the parser process (stream.py) and are loaded
    while it parses on; its totals arrive after the last chunk.
    """
    report = {"file": str(path), "table": "web"}
    loaded = adjusted = 0
    with stream.parsed_chunks(access.scan_file, path, filters, dates, settings.malformed_samples,
                              directory=settings.tmp_dir) as chunks:
        try:
            with dbmod.transaction(conn) as cur:
                source = claim(cur, path, "web")
                before = dbmod.next_id(cur, "web") - 1
                ready = ((c, ()) for c in chunks) if born is None else born.chunks(chunks, before + 1)
                with closing(ready):           # a failed load stops the born worker before the transaction ends
                    for chunk, notes in ready:
                        if born is None:
                            n, a = dbmod.load_file(cur, "web", access.WEB_COLUMNS, chunk, first_id=before + loaded + 1)
                        else:                  # the ids are in the file
                            n, a = dbmod.load_file(cur, "web", ("id", *access.WEB_COLUMNS, *BORN_COLUMNS), chunk)
                            Path(chunk).unlink()
                            born.note(cur, notes)
                        loaded, adjusted = loaded + n, adjusted + a
                result: access.ScanResult = chunks.result
                result.refuse_garbage(path, access.ACCESS_LINE)
                if loaded != result.kept:
                    raise RuntimeError(f"{path}: the server loaded {loaded} rows of {result.kept}")
                cur.execute("SELECT MIN(id), MAX(id) FROM web WHERE id > %s", (before,))
                pk_start, pk_end = cur.fetchone()
                hits = sorted(result.hits_by_day.items())
                cur.executemany("INSERT INTO webhits (datetime, hits) VALUES (%s, %s)",
                                [(f"{d} 00:00:00", n) for d, n in hits])
                bots_added = record_bot_agents(cur, result.agents)
                summary = result.summary()
                source.finish(cur, pk_start, pk_end, loaded,
                              {"webhits": dict(hits), "rows_by_month": summary["rows_by_month"],
                               "lines": result.lines, "skipped": summary["skipped"],
                               "malformed": result.malformed})
        except Claimed:
            return {**report, "status": "already imported"}
    report.update(summary)
    if born is not None:
        report["born_hosts"] = born.stats
    report.update(status="imported", rows=loaded, values_adjusted=adjusted,
                  pk_range=[pk_start, pk_end], bot_agents_added=bots_added)
    return report
