"""Line layouts of the Apache access log and the CMS auth log, and the
URL/user-agent rules that decide which access-log lines count as usage.

The patterns keep the legacy importer's exact matching (greedy quoted
request, the eight trailing CMS fields) so that every line is split the way
HUBzero always split it; `tests/unit/test_logparse.py` pins each rule.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from ..errors import UnreadableLog

# --------------------------------------------------------------- access log
# Current layout, 23 fields:
#   date time zone pid ident "request" status bytes ip "referrer" "agent"
#   ssl-protocol ssl-flag bytes-out uid joomla-session site-cookie auth-type
#   component view task action item
_CMS_FIELD = r"([^_].*)"
ACCESS_CURRENT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})\s+(\d+:\d{2}:\d{2})\s+([\w\-\d]+)\s+(\d+)\s+(\S+)\s+"
    r'"(.+)"\s+([\-\d]+)\s+(\d+)\s+([\w\-\.\d]+)\s+"(.*)"\s+"(.*)"\s+'
    r"([\w\-\.\d]+)\s+([\w\-\d]+)\s+([\w\-\d]+)\s+([\-\d]+)\s+"
    + r"\s+".join([_CMS_FIELD] * 8) + r"\s*$")
# The same layout for the common, unambiguous line: exactly six double quotes
# (so every quoted field's bounds are forced) and single spaces between the
# trailing fields (so each greedy CMS field is exactly one token).  Any line
# it matches, ACCESS_CURRENT matches with identical groups, ~10x faster; any
# other line goes to ACCESS_CURRENT itself.
_TOKEN = r"([^_\s]\S*)"
ACCESS_CURRENT_FAST = re.compile(
    r"^(\d{4}-\d{2}-\d{2})\s+(\d+:\d{2}:\d{2})\s+([\w\-\d]+)\s+(\d+)\s+([^\s\"]+)\s+"
    r'"([^"]+)"\s+([\-\d]+)\s+(\d+)\s+([\w\-\.\d]+)\s+"([^"]*)"\s+"([^"]*)"\s+'
    r"([\w\-\.\d]+)\s+([\w\-\d]+)\s+([\w\-\d]+)\s+([\-\d]+) "
    + " ".join([_TOKEN] * 8) + r"$")
# Old layout, 14 fields: date time zone ident "request" status bytes ip
#   "referrer" "agent" ssl-protocol ssl-flag bytes-out cookie
ACCESS_OLD = re.compile(
    r"^(\d{4}-\d{2}-\d{2})\s+(\d+:\d{2}:\d{2})\s+([\w\-\d]+)\s+(\S+)\s+"
    r'"(.+)"\s+([\-\d]+)\s+(\d+)\s+([\w\-\.\d]+)\s+"(.*)"\s+"(.*)"\s+'
    r"([\w\-\.\d]+)\s+([\w\-\d]+)\s+([\w\-\d]+)\s+(.*)$")

# A line of either layout whose client address is IPv6 (it has a colon).
_IPV6_CLIENT = re.compile(r'"\s+[\-\d]+\s+\d+\s+[0-9A-Fa-f.]*:[0-9A-Fa-f:.%\w]*\s+"')


def looks_like_ipv6_access(line: str) -> str | None:
    return "ipv6" if _IPV6_CLIENT.search(line) else None


# ------------------------------------------------------------------ auth log
AUTH_CURRENT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})\s+(\d+)\s+(\[.+\])\s+([\.\d]+)\s+(\w+)\s*$")
AUTH_OLD = re.compile(
    r"^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})\s+(.+)\s+([\.\d]+)\s+(\w+)\s*$")
AUTH_LARAVEL = re.compile(
    r"^\[(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})\]\s+production\.INFO:\s+"
    r"(\S+)(?:\s+(\[[^\]]*\]))?\s+([\.\d]+)\s+(\w+)(?:\s+\[\]\s+\[\])?\s*$")

# ------------------------------------------------------------ URL rules
SLASHES = re.compile(r"/+")
_STATIC_SUFFIX = re.compile(
    r"\.(css|js|gif|jpeg|jpg|png|ps|ico|svg|otf|ttf|woff|eot)(\?.*=.*(\&.*=.*)*)*$", re.I)
# Paths that are never usage (CMS internals, admin, APIs, mail archives, probes).
_NOT_USAGE_PREFIX = re.compile(
    r"^(?:(/app)*/templates/|/administrator/|/webdav/|/api/|/cron/tick(?:[/?]|$)"
    r"|/pipermail/|/robots\.txt(?:[?#]|$))", re.I)
_SVN = re.compile(r"/projects/.+?/svn/\!svn/", re.I)
RESOURCES = re.compile(r"^/resources/", re.I)
# Crawler walks recognisable by path when the request carries no referrer.
NO_REFERRER_CRAWL = re.compile(
    r"^(?:/login/?\?return=|/resources/browse/?\?|/citations/browse(?:[/?]|$)"
    r"|/members/browse(?:[/?]|$)|/register(?:[/?]|$))", re.I)
EVENTS_YEAR = re.compile(r"^/events/(\d{4})(?:[/?]|$)", re.I)
EVENTS_LOOKBACK_YEARS = 3
# Internet Explorer 7-11 ended in 2022; since then only bots send it.
_OLD_MSIE = re.compile(r"MSIE [789]\.0|MSIE 1[01]\.0|Trident/[4-7]\.0", re.I)
OLD_MSIE_FROM = "2022-01-01"
DOWNLOAD_EXTENSIONS = ("txt", "png", "pdf", "ppt", "pptx", "swf", "docx", "jpg", "doc", "zip", "mp3",
                       "mbtiles", "xml", "xlsx", "webm", "mp4", "xls", "r", "csv", "nc4", "template", "tgz",
                       "mov", "ipynb", "py", "rar", "grd", "tif", "nc", "har")
# A download: anything under /resources/…/download/, or a document file under /resources/.
DOWNLOAD_FILE_PATTERN = r"^/resources/.*\.(" + "|".join(DOWNLOAD_EXTENSIONS) + r")([?#]|$)"
_DOWNLOAD = re.compile(r"^/resources/.*/download/|" + DOWNLOAD_FILE_PATTERN, re.I)

# identify-bots: agent substrings that mark an automated client ...
BOT_AGENT_WORDS = (
    "owler", "serpstatbot", "turnitin", "facebookexternalhit", "googleother", "feedfetcher",
    "msnbot", "gsa-crawler", "googlebot", "yandex", "spider", "bot", "search", "crawl",
    "archive", "harvest", "slurp", "feed", "nutch", "robot", "fetch", "findlinks", "scrapy",
    "prtg", "pycurl", "yeti", "python-requests", "python-urllib", "curl", "wget", "go-http",
    "node-fetch", "libwww")
# ... and the LIKE patterns of agents that look automated but are not.
BOT_AGENT_EXCEPTIONS = ("%searchtool%", "% feed/%")


def is_static_or_internal(url: str) -> bool:
    return bool(_STATIC_SUFFIX.search(url) or _NOT_USAGE_PREFIX.match(url) or _SVN.search(url))


def is_download(url: str) -> bool:
    return bool(_DOWNLOAD.match(url))


def is_old_msie(agent: str, day: str) -> bool:
    return day >= OLD_MSIE_FROM and agent not in ("", "-") and bool(_OLD_MSIE.search(agent))


def looks_automated(agent: str) -> bool:
    lower = agent.lower()
    return any(word in lower for word in BOT_AGENT_WORDS)


def split_request(request: str) -> tuple[str, str]:
    """(method, url) of a request line; a bare path counts as a GET of it."""
    parts = request.strip().split(None, 2)
    method = parts[0] if parts else ""
    url = parts[1] if len(parts) > 1 else ""
    if not url:
        url, method = method, "GET"
    return method, SLASHES.sub("/", url)


def contains_any(value: str, needles: list[str]) -> bool:
    """exclude_list semantics: a case-insensitive substring match (needles already lower-case)."""
    if not value:
        return False
    lower = value.lower()
    return any(n in lower for n in needles)


# ------------------------------------------------------------ line dates
# No period starts before 1995; anything earlier (or far in the future) is a broken clock.
EARLIEST_DAY = "1995-01-01"


class LineDates:
    """Which line dates a file may hold: real calendar dates near the file's own day.

    A log named for day D holds the lines of D and, around midnight, a few of
    the days either side; lines further than `tolerance_hours` from D are
    counted as out of range.  A file without a date in its name (an import by
    hand) accepts any real date from 1995 through tomorrow.  Verdicts are
    cached per distinct day and clock, which repeat heavily.
    """

    def __init__(self, file_day: str | None, tolerance_hours: int, today: date):
        if file_day:
            start = datetime.fromisoformat(file_day)
            self.lo = start - timedelta(hours=tolerance_hours)
            self.hi = start + timedelta(days=1, hours=tolerance_hours)
        else:
            self.lo = datetime.fromisoformat(EARLIEST_DAY)
            self.hi = datetime.combine(today + timedelta(days=2), datetime.min.time())
        self._days: dict[str, str] = {}
        self._clocks: dict[str, bool] = {}

    def reason(self, day: str, clock: str) -> str | None:
        """None for a usable line, else 'impossible_date' or 'out_of_range'."""
        where = self._days.get(day)
        if where is None:
            where = self._days[day] = self._place(day)
        if where in ("impossible_date", "out_of_range"):
            return where
        valid = self._clocks.get(clock)
        if valid is None:
            h, m, s = clock.split(":")
            valid = self._clocks[clock] = int(h) <= 23 and int(m) <= 59 and int(s) <= 59
        if not valid:
            return "impossible_date"
        if where == "inside":
            return None
        h, m, s = clock.split(":")
        when = datetime.fromisoformat(day).replace(hour=int(h), minute=int(m), second=int(s))
        return None if self.lo <= when < self.hi else "out_of_range"

    def _place(self, day: str) -> str:
        try:
            start = datetime.fromisoformat(day)
        except ValueError:
            return "impossible_date"
        if start >= self.hi:
            return "out_of_range"
        end = start + timedelta(days=1)
        if end <= self.lo:
            return "out_of_range"
        return "inside" if self.lo <= start and end <= self.hi else "edge"


# --------------------------------------------------------------- input files
def open_text(path: Path):
    """Text lines of a plain or gzip log; undecodable bytes become U+FFFD.

    Opened without blocking and checked to be a regular file before a byte
    is read: a named pipe put where a log was expected is refused, not waited on.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableLog(f"{path}: not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    raw = os.fdopen(fd, "rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw)
    else:
        raw.seek(0)
        stream = raw
    return io.TextIOWrapper(io.BufferedReader(stream, 1 << 20) if stream is not raw else raw,
                            encoding="utf-8", errors="replace", newline=None)


READ_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile)


class _Lines:
    """A file's lines, where only a failure to read the file itself becomes UnreadableLog."""

    def __init__(self, path: Path, counts: "LineCounts"):
        self.path, self.counts, self.stream = path, counts, None

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            if self.stream is None:
                self.stream = open_text(self.path)
            return next(self.stream)
        except StopIteration:
            raise
        except READ_ERRORS as e:
            raise UnreadableLog(f"{self.path}: cannot read the log to the end "
                                f"(after {self.counts.lines} lines): {e}") from None

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


@contextmanager
def reading(path: Path, counts: "LineCounts"):
    """The text lines of a log; an error reading it (not one of the caller's) names the file and line."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UnreadableLog(f"{path}: no such file") from None
    except OSError as e:
        raise UnreadableLog(f"{path}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(mode):
        raise UnreadableLog(f"{path}: is a directory, not a log file")
    if not stat.S_ISREG(mode):
        raise UnreadableLog(f"{path}: is not a regular file (a named pipe, socket or device), not a log file")
    lines = _Lines(path, counts)
    try:
        yield lines
    finally:
        lines.close()


SAMPLE_CHARS = 60


def sample(line: str) -> str:
    """Enough of a malformed line to recognise it, and no more (it may hold anything)."""
    text = "".join(c if c.isprintable() else "?" for c in line[:SAMPLE_CHARS])
    return text + ("…" if len(line) > SAMPLE_CHARS else "")


@dataclass
class LineCounts:
    """What a scan saw: every line is read, kept, skipped for a reason, or malformed."""
    lines: int = 0
    kept: int = 0
    malformed: int = 0
    malformed_samples: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    def recognised(self, lines, parse, sample_limit: int, skip_reason=None, progress=None):
        """Yield parse(line) for each line it recognises; count and sample the others.

        skip_reason(line) names a known kind of unparsed line (counted under
        that reason, not as malformed); progress.tick(lines) is called every
        100,000 lines.
        """
        for raw in lines:
            self.lines += 1
            if progress is not None and not self.lines % 100_000:
                progress.tick(self.lines)
            line = raw.rstrip("\r\n")
            fields = parse(line)
            if fields is None:
                reason = skip_reason(line) if skip_reason else None
                if reason:
                    self.skipped[reason] += 1
                    continue
                self.malformed += 1
                if len(self.malformed_samples) < sample_limit:
                    self.malformed_samples.append(sample(line))
                continue
            yield fields

    def nothing_parsed(self) -> bool:
        """Lines were read and not one of them is a log line: garbage, not a log."""
        return self.lines > 0 and self.malformed == self.lines

    def refuse_garbage(self, path, what: str) -> None:
        if self.nothing_parsed():
            raise UnreadableLog(f"{path}: none of its {self.lines:,} lines is {what}; nothing was imported "
                                f"(is it the right file?)")

    def summary(self) -> dict:
        return {"lines": self.lines, "kept": self.kept, "malformed": self.malformed,
                "malformed_samples": self.malformed_samples, "skipped": dict(self.skipped)}
