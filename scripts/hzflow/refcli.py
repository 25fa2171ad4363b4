"""The reference's command line, accepted: its spellings translated, its extra commands given a meaning.

Operators' runbooks and scripts call hzmetrics.py; hzflow runs them as they are.
`translate` rewrites the spellings that hzflow says differently before
parsing (`-c FILE`, `setup-db`, `run`, `process`, `import`,
`reconstruct-imported-sources`, `forget-import --table`,
`rebuild-webhits --month`); `register` adds the commands hzflow has no word
of its own for.  docs/reference-cli.md maps every reference command and flag.

Dirty months: the reference keeps a set of months to rework.  In hzflow a
month is reworked when one of its stage markers is missing, so `mark-dirty`
sets its dns-resolved marker aside (state/<site>/dirty/) and `clear-dirty`
puts it back, unless a run has rebuilt the month since.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

from . import months
from .errors import UsageError

COMMAND_SPELLINGS = {"setup-db": "init"}
GZIP_MAGIC = b"\x1f\x8b"


def _note(text: str) -> None:
    print(f"hzflow: {text}", file=sys.stderr)


def _command_index(argv: list[str]) -> int | None:
    i = 0
    while i < len(argv):
        if argv[i] in ("-c", "--config"):
            i += 2
        elif argv[i].startswith("-"):
            i += 1
        else:
            return i
    return None


def _take(words: list[str], flag: str, *, value: bool) -> str | bool | None:
    """Remove `flag` (and its value) from words; what it was, or None/False when absent."""
    for i, w in enumerate(words):
        if w == flag:
            if not value:
                del words[i]
                return True
            if i + 1 >= len(words):
                raise UsageError(f"{flag} needs a value")
            found = words[i + 1]
            del words[i:i + 2]
            return found
        if value and w.startswith(flag + "="):
            del words[i]
            return w.split("=", 1)[1]
    return None if value else False


def translate(argv: list[str]) -> list[str]:
    """The hzflow command line a reference command line stands for."""
    argv = list(argv)
    at = _command_index(argv)
    head = ["--config" if w == "-c" else w for w in argv[:at]] if at is not None else \
        ["--config" if w == "-c" else w for w in argv]
    if at is None:
        return head
    command, rest = argv[at], argv[at + 1:]
    if command != "resolve-dns":                  # there -c is the reference's --concurrency
        rest = ["--config" if w == "-c" else w for w in rest]
    command = COMMAND_SPELLINGS.get(command, command)
    words = _COMMANDS.get(command, lambda r: [command, *r])(rest)
    return head + words


def _run(rest: list[str]) -> list[str]:
    dry = _take(rest, "--dry-run", value=False)
    return ["plan", *rest] if dry else ["cron", "-q", *rest]


def _month_work(stage: str):
    """process (stage summarized) and import (stage imported): --next, --month M or --day D."""
    def words(rest: list[str]) -> list[str]:
        dry = _take(rest, "--dry-run", value=False)
        if _take(rest, "--force", value=False):
            _note("--force: hzflow builds any month asked for; the flag changes nothing")
        day, month = _take(rest, "--day", value=True), _take(rest, "--month", value=True)
        _take(rest, "--next", value=False)
        if day:
            return ["import-day", day, *(["--dry-run"] if dry else []), *rest]
        if month:
            return ["plan" if dry else "cron", *([] if dry else ["-q"]), f"{stage}/{month}", *rest]
        if stage == "imported":
            return ["import-days", *(["--dry-run"] if dry else []), *rest]
        return ["plan" if dry else "cron", *([] if dry else ["-q"]), *rest]
    return words


def _reconstruct(rest: list[str]) -> list[str]:
    apply = _take(rest, "--apply", value=False)
    if _take(rest, "--validate", value=False):
        apply = False
    target = _take(rest, "--target", value=True)
    if target:
        _note(f"--target {target}: hzflow adopts the access and auth logs together")
    return ["adopt", *([] if apply else ["--dry-run"]), *rest]


def _forget(rest: list[str]) -> list[str]:
    table = _take(rest, "--table", value=True)
    if table == "webhits":
        raise UsageError("forget-import: hzflow forgets a file's webhits together with its web rows "
                         "(--table web), so the two never disagree")
    return ["forget-import", *rest, *([table] if table else [])]


def _webhits(rest: list[str]) -> list[str]:
    month = _take(rest, "--month", value=True)
    return ["rebuild-webhits", *rest, *([month] if month else [])]


_COMMANDS = {"run": _run, "process": _month_work("summarized"), "import": _month_work("imported"),
             "reconstruct-imported-sources": _reconstruct, "forget-import": _forget, "rebuild-webhits": _webhits}


# ------------------------------------------------------------------ commands hzflow adds for the reference
def _dirty_note(settings, month: str) -> Path:
    return settings.site_state / "dirty" / f"{month}.json"


def _outside_a_run(settings, command: str):
    """Markers are moved only while no cron run holds its lock (a running job would write them back)."""
    from .locks import exclusive
    return exclusive(settings, command, wait=600)


def mark_dirty(settings, month_list, *, dry_run: bool = False, say=print) -> int:
    """Have the next cron redo each month from its enrichment on (analyze, then summarize).

    The month's dns-resolved marker is set aside under dirty/: a target missing its
    output is rebuilt, and every later stage of the month follows, being older.
    """
    from .coverage import Coverage
    from .markers import marker
    cov = Coverage(settings)
    outside = [m for m in month_list if "dns-resolved" not in cov.stages(m) or m not in cov.months]
    if outside:
        why = cov.status_of(outside[0]) if outside[0] in cov.months else "set start_month to include it"
        raise UsageError(f"mark-dirty {', '.join(outside)}: the workflow does not build that now (it builds "
                         f"{cov.months[0]} .. {cov.months[-1]}; {outside[0]}: {why}); nothing was marked")
    with _outside_a_run(settings, "mark-dirty"):
        for month in month_list:
            built, note = marker(settings, "dns-resolved", month), _dirty_note(settings, month)
            if not built.exists():
                say(f"{month}: {'already marked dirty' if note.exists() else 'not built yet'}; "
                    f"the next cron builds it")
            elif dry_run:
                say(f"[dry-run] {month}: would be reworked by the next cron (enrich, sessions, summaries)")
            else:
                note.parent.mkdir(parents=True, exist_ok=True)
                built.replace(note)
                say(f"{month}: the next cron reworks it (enrich, sessions, summaries); hzflow plan shows it")
    return 0


def clear_dirty(settings, month_list, *, every: bool = False, dry_run: bool = False, say=print) -> int:
    """Undo mark-dirty: the set-aside marker put back, unless the month was rebuilt since."""
    from .markers import marker
    folder = settings.site_state / "dirty"
    if every or not month_list:               # bare clear-dirty, as the reference's: every month marked
        month_list = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    if not month_list:
        say("no month is marked dirty")
    with _outside_a_run(settings, "clear-dirty"):
        for month in month_list:
            built, note = marker(settings, "dns-resolved", month), _dirty_note(settings, month)
            if not note.exists():
                say(f"{month}: not marked dirty")
            elif dry_run:
                say(f"[dry-run] {month}: would no longer be reworked")
            elif built.exists():
                note.unlink()
                say(f"{month}: rebuilt since it was marked; nothing to undo")
            else:
                note.replace(built)
                say(f"{month}: no longer reworked")
    return 0


def rebuild_from(settings, month: str, *, dry_run: bool = False, say=print) -> int:
    """Mark every built month from `month` through the current one dirty."""
    from .coverage import Coverage
    if month > months.current():
        raise UsageError(f"rebuild-from {month}: that month has not begun")
    cov = Coverage(settings)
    chosen = [m for m in months.between(month, months.current()) if m in cov.months
              and "dns-resolved" in cov.stages(m)]
    if not chosen:
        raise UsageError(f"rebuild-from {month}: no month from there on is built now "
                         f"(the workflow builds {cov.months[0]} .. {cov.months[-1]})")
    return mark_dirty(settings, chosen, dry_run=dry_run, say=say)


def fill_geo(settings, month: str | None, *, every: bool = False, dry_run: bool = False, say=print) -> int:
    """The country of every row of a month (or of each month that lacks some), in all four tables."""
    from .enrich import geo
    from .enrich.tables import ENRICHABLE
    from .imports.repair import months_with_web
    chosen = months_with_web(settings, "ipcountry IS NULL OR ipcountry = ''") if every else [month]
    if not chosen:
        say("no month has rows without a country")
    for m in chosen:
        first, following = months.bounds(m)
        for table in ENRICHABLE:
            geo.fill_ipcountry(settings, settings.db.metrics_db, table, first, following, dry_run=dry_run, say=say)
    return 0


def spooled_stdin(settings) -> Path:
    """Standard input as a file named by its content, so feeding the same log twice imports it once."""
    folder = settings.tmp_dir
    folder.mkdir(parents=True, exist_ok=True)
    digest, head = hashlib.sha1(), b""
    with tempfile.NamedTemporaryFile(dir=folder, prefix="stdin-", delete=False) as out:
        for block in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
            head = head or block[:2]
            digest.update(block)
            out.write(block)
    suffix = ".log.gz" if head == GZIP_MAGIC else ".log"
    final = folder / f"stdin-{digest.hexdigest()[:16]}{suffix}"
    Path(out.name).replace(final)
    return final


NOTHING_TO_DO = {
    "fetch-logs": "hzflow reads each day's logs where logrotate leaves them (paths.apache_daily, "
                  "paths.hub_daily); nothing is staged. `hzflow plan` lists the days it found.",
    "repair-imported-sources": "hzflow records each import's id range from the rows it loaded, in the "
                               "same transaction; there is nothing to repair. `hzflow audit` checks every range.",
}


def register(add, month_type) -> None:
    """The reference's commands that hzflow has no word of its own for."""
    sp = add("mark-dirty", lambda s, a: mark_dirty(s, a.months, dry_run=a.dry_run),
             "have the next cron rework these months (enrich, sessions, summaries)")
    sp.add_argument("months", type=month_type, nargs="+", metavar="YYYY-MM")
    sp = add("clear-dirty", lambda s, a: clear_dirty(s, a.months, every=a.all, dry_run=a.dry_run),
             "undo mark-dirty for these months (no month, or --all: every month marked dirty)")
    sp.add_argument("months", type=month_type, nargs="*", metavar="YYYY-MM")
    sp.add_argument("--all", action="store_true", help="every month marked dirty")
    sp = add("rebuild-from", lambda s, a: rebuild_from(s, a.month, dry_run=a.dry_run),
             "have the next cron rework every month from this one on")
    sp.add_argument("month", type=month_type, metavar="YYYY-MM")
    sp = add("fill-geo", lambda s, a: fill_geo(s, a.month, every=a.all, dry_run=a.dry_run),
             "fill missing countries of a month's rows (or of every month missing some)")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", type=month_type)
    which.add_argument("--all", action="store_true")
    add("tick", tick, "the reference's five-minute cron entry: whoisonline, then cron -q")
    for name, text in NOTHING_TO_DO.items():
        sp = add(name, lambda s, a: _note(NOTHING_TO_DO[a.command]) or 0, f"(the reference's) {text}")
        sp.add_argument("words", nargs="*", help=argparse.SUPPRESS)
        sp.add_argument("--apply", action="store_true", help=argparse.SUPPRESS)


def tick(settings, a) -> int:
    """whoisonline always, then the workflow (flock-guarded and cheap when there is nothing to do)."""
    from .cron import cron, plan
    from .whoisonline import run_locked
    online = run_locked(settings, dry_run=a.dry_run, say=lambda _text: None) or 0
    workflow = plan(settings, [], say=print) if a.dry_run else cron(settings, [], quiet=True, say=print)
    return online or workflow or 0
