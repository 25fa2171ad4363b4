"""A day's logs: import each (access first, then auth), and say what the day brought.

Each file is its own transaction (import-apache / import-auth).  The day's
record lists every file with its fingerprint and what its import did, and
how many rows it brought into each month: a file of 1 November that holds a
few lines of 31 October brings rows into October, whose stages then run
again.
"""

from __future__ import annotations

from collections import Counter

from .. import markers
from . import apache, auth

IMPORTERS = {"access": (apache.import_file, "web"), "auth": (auth.import_file, "userlogin")}


def import_day(settings, day: str, found: dict, *, dry_run: bool = False, born=None, say=print) -> dict:
    """Import the day's logs (`found`: kind -> Source); returns the day's record.

    born (enrich.born.BornHosts): the access log's rows are written with their host.
    """
    files, by_month = {}, Counter()
    for kind, src in sorted(found.items()):
        importer, _ = IMPORTERS[kind]
        extra = {"born": born.file()} if born is not None and kind == "access" else {}
        report = importer(settings, src.path, dry_run=dry_run, **extra)
        report["source"] = markers.file_fingerprint(src.path)
        files[kind] = report
        by_month.update(report.get("rows_by_month") or {})
        say(one_line(kind, report))
    return {"day": day, "files": files, "rows_by_month": dict(sorted(by_month.items()))}


def one_line(kind: str, r: dict) -> str:
    name = r["file"].rsplit("/", 1)[-1]
    if "lines" not in r:
        return f"{kind}: {name}: {r['status']}"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(r.get("skipped", {}).items())) or "none"
    rows = f", {r['rows']} rows" if r.get("rows") is not None else ""
    born = r.get("born_hosts")
    hosts = (f"; born with a host: {born['rows']} rows ({born['addresses']} addresses: {born['cached']} cached, "
             f"{born['asked']} asked, {born['unanswered']} unanswered)" if born else "")
    return (f"{kind}: {name}: {r['status']}; {r['lines']} lines, kept {r.get('kept', '?')}{rows}, "
            f"malformed {r.get('malformed', 0)}, skipped: {skipped}{hosts}")
