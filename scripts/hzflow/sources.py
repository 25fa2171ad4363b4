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
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .config import Settings
from .errors import UnreadableLog

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


def log_directories(settings: Settings) -> list[Path]:
    """Every directory hzflow reads logs from (a followed symbolic link must point inside one)."""
    return [place for kind in KINDS for place, _ in _places(settings, kind)]


def refusal(settings: Settings, path: Path) -> str | None:
    """Why a log path is not read (None: it is a regular file hzflow may read).

    Policy (docs/operations.md, "Logs hzflow will not read"): only regular
    files are logs.  A symbolic link is skipped unless import.follow_symlinks
    is set, and then only followed to a regular file inside a configured log
    directory, so a link planted in a log directory can never make hzflow
    read (and quote, and archive) a file it was not meant to see.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return f"cannot be examined ({e.strerror})"
    if stat.S_ISLNK(st.st_mode):
        if not settings.get("import", "follow_symlinks"):
            return "is a symbolic link (not followed; see import.follow_symlinks)"
        target = Path(os.path.realpath(path))
        inside = [d for d in log_directories(settings) if target.is_relative_to(os.path.realpath(d))]
        if not inside:
            return "is a symbolic link to a file outside the configured log directories (not followed)"
        try:
            st = os.stat(target)
        except OSError:
            return "is a symbolic link to nothing"
    if stat.S_ISREG(st.st_mode):
        return None
    what = ("a directory" if stat.S_ISDIR(st.st_mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode)
            else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
            or stat.S_ISBLK(st.st_mode) else "not a regular file")
    return f"is {what}, not a log file"


def readable_log(settings: Settings, path: Path) -> Path:
    """The path, if hzflow may read it as a log; else UnreadableLog saying why (exit status 4)."""
    why = refusal(settings, Path(path))
    if why:
        raise UnreadableLog(f"{path} {why}")
    return Path(path)


def _files(settings: Settings, directory: Path, pattern: str, warn) -> list[tuple[str, Path]]:
    """(name, path) of the regular files matching pattern, sorted (one directory read; anything but a
    plain file is looked at closer, and skipped with a warning when refused)."""
    try:
        with os.scandir(directory) as entries:
            named = [(e.name, e) for e in entries if fnmatch.fnmatchcase(e.name, pattern)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for name, entry in named:
        path = directory / name
        if not entry.is_symlink() and entry.is_file(follow_symlinks=False):
            out.append((name, path))
            continue
        why = refusal(settings, path)
        if why is None:
            out.append((name, path))
        elif warn and not name.endswith("~"):
            warn(f"{path} {why}: skipped")
    return sorted(out)


def _candidates(settings: Settings, directory: Path, pattern: str, with_years: bool, warn):
    yield from _files(settings, directory, pattern, warn)
    if with_years and directory.is_dir():
        for sub in sorted(directory.iterdir()):
            if re.fullmatch(r"\d{4}", sub.name) and not sub.is_symlink() and sub.is_dir():
                yield from _files(settings, sub, pattern, warn)


def discover(settings: Settings, kind: str, warn=None) -> dict[str, Source]:
    """day -> Source for every log of `kind` found, highest-priority place first."""
    found: dict[str, Source] = {}
    for directory, with_years in _places(settings, kind):
        for name, path in _candidates(settings, directory, _pattern(settings, kind), with_years, warn):
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
