"""The reference's command line, translated into hzflow's before it is parsed.

Operators' runbooks and scripts call hzmetrics.py; hzflow runs them as they are.
`translate` rewrites the spellings that hzflow says differently (`-c FILE`,
`setup-db`, `run`, `process`, `import`, `reconstruct-imported-sources`,
`forget-import --table`, `rebuild-webhits --month`).  docs/reference-cli.md
maps every reference command and flag.

The commands hzflow adds for the reference's habits (mark-dirty, fill-geo,
tick, …) live with the command line (cli.reference) and their modules
(dirty.py); this module only translates.
"""

from __future__ import annotations

import sys

from .errors import UsageError
from .registry import IMPORTED, SUMMARY

COMMAND_SPELLINGS = {"setup-db": "init"}


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
        if stage == IMPORTED:
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


_COMMANDS = {"run": _run, "process": _month_work(SUMMARY), "import": _month_work(IMPORTED),
             "reconstruct-imported-sources": _reconstruct, "forget-import": _forget, "rebuild-webhits": _webhits}
