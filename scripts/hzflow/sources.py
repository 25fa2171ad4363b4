"""Where a day's logs are.

Access logs are `<site>-access*log*` and auth logs `cmsauth*log*`, each
dated by the first eight-digit token of the file name.  They are looked for
in the daily directory (and its `YYYY/` subdirectories), then the holding
directory, then the imported directory.  When one date appears in two
places, the earlier place wins and the other file is reported, not used.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .config import Settings

KINDS = ("access", "auth")
_DATE_TOKEN = re.compile(r"(?<!\d)(\d{8})(?!\d)")
COMPRESSED_SUFFIXES = (".gz",)


@dataclass(frozen=True)
class Source:
    kind: str
    day: str        # YYYY-MM-DD
    path: Path

    @property
    def name(self) -> str:
        return canonical_name(self.path)


def canonical_name(path: Path | str) -> str:
    """The file name without a compression suffix: the key provenance is recorded under."""
    name = os.path.basename(path)
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def day_of(name: str) -> str | None:
    """YYYY-MM-DD from the first valid eight-digit date in a file name."""
    for token in _DATE_TOKEN.findall(name):
        try:
            return date(int(token[:4]), int(token[4:6]), int(token[6:])).isoformat()
        except ValueError:
            continue
    return None


def _places(settings: Settings, kind: str) -> list[tuple[Path, bool]]:
    if kind == "access":
        return [(settings.apache_daily, True), (settings.apache_holding, False),
                (settings.apache_imported, False)]
    return [(settings.hub_daily, True), (settings.hub_holding, False),
            (settings.hub_imported, False)]


def _pattern(settings: Settings, kind: str) -> str:
    return f"{settings.site}-access*log*" if kind == "access" else "cmsauth*log*"


def _files(directory: Path, pattern: str) -> list[tuple[str, Path]]:
    """(name, path) of the regular files matching pattern, sorted (one directory read, no stat each)."""
    try:
        with os.scandir(directory) as entries:
            return sorted((e.name, directory / e.name) for e in entries
                          if fnmatch.fnmatchcase(e.name, pattern) and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _candidates(directory: Path, pattern: str, with_years: bool):
    yield from _files(directory, pattern)
    if with_years and directory.is_dir():
        for sub in sorted(directory.iterdir()):
            if sub.is_dir() and re.fullmatch(r"\d{4}", sub.name):
                yield from _files(sub, pattern)


def discover(settings: Settings, kind: str, warn=None) -> dict[str, Source]:
    """day -> Source for every log of `kind` found, highest-priority place first."""
    found: dict[str, Source] = {}
    for directory, with_years in _places(settings, kind):
        for name, path in _candidates(directory, _pattern(settings, kind), with_years):
            if name.endswith("~"):
                continue
            day = day_of(name)
            if day is None:
                continue
            if day in found:
                if warn and found[day].path != path:
                    warn(f"two {kind} logs for {day}: using {found[day].path}, ignoring {path}")
                continue
            found[day] = Source(kind, day, path)
    return found


def discover_all(settings: Settings, warn=None) -> dict[str, dict[str, Source]]:
    """day -> {kind: Source} over both kinds."""
    by_day: dict[str, dict[str, Source]] = {}
    for kind in KINDS:
        for day, src in discover(settings, kind, warn).items():
            by_day.setdefault(day, {})[kind] = src
    return dict(sorted(by_day.items()))


def is_archived(settings: Settings, src: Source) -> bool:
    imported = settings.apache_imported if src.kind == "access" else settings.hub_imported
    return src.path.parent == imported
