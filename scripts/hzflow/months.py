"""Month arithmetic and "today", in one place.

Months are 'YYYY-MM' strings throughout hzflow (they sort as dates).
`today()` is the machine's date unless HZFLOW_TODAY pins it: tests, the
demo and an operator reproducing yesterday's run use that to make every
"which months are complete" decision repeatable.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta

TODAY_VAR = "HZFLOW_TODAY"
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def today() -> date:
    pinned = os.environ.get(TODAY_VAR)
    if pinned:
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise ValueError(f"{TODAY_VAR}={pinned!r} is not a date (YYYY-MM-DD)") from None
    return date.today()


def now_iso() -> str:
    """The wall-clock time as the markers write it (retry times are real time, never pinned)."""
    return datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def is_month(text: str) -> bool:
    return bool(MONTH_PATTERN.fullmatch(text))


def of(day: date | str) -> str:
    """The month of a date or of a 'YYYY-MM-DD…' string."""
    return day[:7] if isinstance(day, str) else f"{day:%Y-%m}"


def current() -> str:
    return of(today())


def following(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def preceding(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def between(first: str, last: str) -> list[str]:
    """Every month from first through last (empty when first > last)."""
    months, m = [], first
    while m <= last:
        months.append(m)
        m = following(m)
    return months


def bounds(month: str) -> tuple[date, date]:
    """[first day, first day of the next month)."""
    return date.fromisoformat(f"{month}-01"), date.fromisoformat(f"{following(month)}-01")


def first_day(month: str) -> date:
    return bounds(month)[0]


def last_day(month: str) -> date:
    return bounds(month)[1] - timedelta(days=1)


def days_of(month: str) -> list[str]:
    """'YYYY-MM-DD' of every day of the month."""
    first, stop = bounds(month)
    return [str(first + timedelta(days=n)) for n in range((stop - first).days)]


def days_between(first: str, last: str) -> list[str]:
    """'YYYY-MM-DD' of every day from first through last."""
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [str(a + timedelta(days=n)) for n in range((b - a).days + 1)]


def stamp(month: str) -> str:
    """How the stats tables date a whole month: 'YYYY-MM-00 00:00:00'."""
    return f"{month}-00 00:00:00"


def expand(specs) -> set[str]:
    """Months named by 'YYYY-MM' or 'YYYY-MM..YYYY-MM' entries."""
    out: set[str] = set()
    for spec in specs or ():
        first, _, last = str(spec).partition("..")
        out.update(between(first, last or first))
    return out
