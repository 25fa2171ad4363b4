"""The import stage as the workflow runs it: one day, one month, archiving.

`import-day` imports whatever logs a day has (access and auth, each file in
its own transaction) and writes the day marker after both committed.
`import-month` checks that every day with logs is imported and writes the
month marker the enrichment stage depends on.  `archive-logs` then gzips
the month's imported logs and moves them into the imported directories;
the markers already record the files, so nothing is rebuilt because of it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from pathlib import Path

from .. import db as dbmod
from .. import markers
from ..layout import next_month
from ..sources import Source, discover_all, is_archived
from . import apache, auth
from .provenance import is_imported

IMPORTERS = {"access": (apache.import_file, "web"), "auth": (auth.import_file, "userlogin")}


def import_day(settings, day: str, *, marker: Path | None = None, dry_run: bool = False,
               say=print) -> dict:
    """Import every log of `day`; the marker is written only when all of them committed."""
    started = time.monotonic()
    sources = discover_all(settings, warn=say).get(day, {})
    if not sources:
        say(f"no logs found for {day}")
    files = {}
    for kind, src in sorted(sources.items()):
        importer, _ = IMPORTERS[kind]
        report = importer(settings, src.path, dry_run=dry_run)
        report["source"] = markers.file_fingerprint(src.path)
        files[kind] = report
        say(_one_line(kind, report))
    record = {"stage": "imported-day", "site": settings.site, "day": day, "files": files,
              "seconds": round(time.monotonic() - started, 3)}
    if marker and not dry_run:
        markers.write(marker, record)
    return record


def _one_line(kind: str, r: dict) -> str:
    if "lines" not in r:
        return f"{kind}: {Path(r['file']).name}: {r['status']} ({r['seconds']} s)"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(r.get("skipped", {}).items())) or "none"
    rows = f"{r['rows']} rows" if "rows" in r else ""
    return (f"{kind}: {Path(r['file']).name}: {r['status']}; {r['lines']} lines, kept {r['kept']}"
            f"{', ' + rows if rows else ''}, malformed {r['malformed']}, skipped: {skipped}"
            f" ({r['seconds']} s)")


def import_month(settings, month: str, *, marker: Path | None = None, dry_run: bool = False,
                 say=print) -> dict:
    """Make sure every log of `month` is imported (importing any that is not), then mark the month.

    Files already recorded are skipped, so forcing this job (`-f`) re-runs the
    month's import without duplicating a row.
    """
    by_day = {d: s for d, s in discover_all(settings).items() if d.startswith(month)}
    conn = dbmod.metrics(settings)
    try:
        with conn.cursor() as cur:
            pending = [src for sources in by_day.values() for kind, src in sorted(sources.items())
                       if not is_imported(cur, src.path, IMPORTERS[kind][1])]
    finally:
        conn.close()
    for src in pending:
        report = IMPORTERS[src.kind][0](settings, src.path, dry_run=dry_run)
        say(_one_line(src.kind, report))
    conn = dbmod.metrics(settings)
    totals = {"web": 0, "userlogin": 0}
    try:
        with conn.cursor() as cur:
            start, end = f"{month}-01", next_month(month) + "-01"
            for table in totals:
                cur.execute(f"SELECT COUNT(*) FROM {table} WHERE datetime >= %s AND datetime < %s",
                            (start, end))
                totals[table] = cur.fetchone()[0]
    finally:
        conn.close()
    record = {"stage": "imported", "site": settings.site, "month": month,
              "days": sorted(by_day), "imported_now": [str(s.path) for s in pending],
              "rows_in_month": totals}
    say(f"{month}: {len(by_day)} days with logs, all imported ({len(pending)} just now); "
        f"web {totals['web']} rows, userlogin {totals['userlogin']} rows in the month")
    if marker and not dry_run:
        markers.write(marker, record)
    return record


def _gzip_to(src: Path, dst: Path) -> None:
    """Compress src into dst (atomically, keeping mtime); src is removed only afterwards."""
    tmp = dst.with_name(f".{dst.name}.partial")
    with open(src, "rb") as fin, gzip.open(tmp, "wb", compresslevel=6) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    shutil.copystat(src, tmp)
    os.replace(tmp, dst)
    src.unlink()


def _free_name(path: Path) -> Path:
    n, candidate = 1, path
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.~{n}~")
        n += 1
    return candidate


KEEP_FILE = ".hzflow-keep"


def keep_directory(directory: Path) -> None:
    """Leave a placeholder so the directory is never empty.

    At the end of a run Snakemake removes the (empty) directories of job inputs
    that no longer exist; without this, archiving a day's logs would delete the
    daily directory logrotate writes into.
    """
    if directory.is_dir() and not (directory / KEEP_FILE).exists():
        (directory / KEEP_FILE).write_text(
            "hzflow: keeps this directory in place after its logs are archived.\n")


def archive_month(settings, month: str, *, marker: Path | None = None, dry_run: bool = False,
                  say=print) -> dict:
    """gzip and move into imported/ every log of `month` whose import has committed."""
    if not dry_run:
        for directory in (settings.apache_daily, settings.hub_daily):
            keep_directory(directory)
    by_day = {d: s for d, s in discover_all(settings).items() if d.startswith(month)}
    conn = dbmod.metrics(settings)
    moved, kept = [], []
    try:
        with conn.cursor() as cur:
            for sources in by_day.values():
                for kind, src in sources.items():
                    if is_archived(settings, src):
                        continue
                    if not is_imported(cur, src.path, IMPORTERS[kind][1]):
                        kept.append(str(src.path))
                        continue
                    dst = _archive_one(settings, src, dry_run)
                    moved.append([str(src.path), str(dst)])
                    say(f"{'would archive' if dry_run else 'archived'} {src.path} -> {dst}")
    finally:
        conn.close()
    record = {"stage": "archived", "site": settings.site, "month": month,
              "archived": sorted(moved), "not_imported_left_in_place": kept}
    if marker and not dry_run:
        markers.write(marker, record)
    return record


def _archive_one(settings, src: Source, dry_run: bool) -> Path:
    target_dir = settings.apache_imported if src.kind == "access" else settings.hub_imported
    name = src.path.name if src.path.name.endswith(".gz") else src.path.name + ".gz"
    dst = _free_name(target_dir / name)
    if dry_run:
        return dst
    target_dir.mkdir(parents=True, exist_ok=True)
    if src.path.name.endswith(".gz"):
        shutil.move(str(src.path), str(dst))
    else:
        _gzip_to(src.path, dst)
    parent = src.path.parent
    if parent not in (settings.apache_daily, settings.hub_daily) and not any(parent.iterdir()):
        parent.rmdir()
    return dst
