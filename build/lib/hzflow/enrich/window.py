"""Date windows of the enrichment stages, in the reference's grammar and quirks."""

from __future__ import annotations

from datetime import date, timedelta

from .. import months
from ..errors import UsageError


def _token(text: str, *, end: bool) -> date:
    parts = text.strip().split("-")
    if len(parts) == 1:
        y = int(parts[0])
        return date(y + 1 if end else y, 1, 1)
    if len(parts) == 2:
        first = date(int(parts[0]), int(parts[1]), 1)
        return months.bounds(f"{first:%Y-%m}")[1] if end else first
    d = date(int(parts[0]), int(parts[1]), int(parts[2]))
    return d + timedelta(days=1) if end else d


def spec_bounds(spec: str) -> tuple[date | None, date | None]:
    """YYYY, YYYY-MM, YYYY-MM-DD, or LEFT..RIGHT (either side optional) -> [start, end).

    `..RIGHT` means "before RIGHT begins"; `LEFT..RIGHT` includes RIGHT.
    """
    try:
        if ".." in spec:
            left, right = spec.split("..", 1)
            start = _token(left, end=False) if left.strip() else None
            stop = _token(right, end=bool(left.strip())) if right.strip() else None
        else:
            start, stop = _token(spec, end=False), _token(spec, end=True)
    except (ValueError, IndexError):
        raise UsageError(f"not a date or range: {spec!r} (YYYY, YYYY-MM, YYYY-MM-DD, A..B)") from None
    if start and stop and stop <= start:
        raise UsageError(f"empty date range: {spec!r}")
    return start, stop


def default_bounds(spec: str | None, *, days_back: int | None = None) -> tuple[date | None, date | None]:
    """The window a stage covers when called without a date: this month so far, or the last N days."""
    if spec:
        return spec_bounds(spec)
    today = months.today()
    if days_back is not None:
        return today - timedelta(days=days_back), today
    return today.replace(day=1), today + timedelta(days=1)


def legacy_week_window(start: date, stop: date) -> tuple[date, date]:
    """The window the legacy week-chunk loop really covered: (start - 1 day, stop].

    The legacy scripts walk seven-day chunks from the day before the period
    with `col > chunk_start AND col <= chunk_end`; the union of the chunks is
    this half-open-at-the-left window, midnight of the following first day
    included.  Kept because it changes which rows are filled.
    """
    return start - timedelta(days=1), stop


def days(lo: date | None, hi: date | None):
    """Day-sized windows over [lo, hi), so that big months are written a day at a time.

    An open-ended window is yielded whole.
    """
    if lo is None or hi is None:
        yield lo, hi
        return
    while lo < hi:
        yield lo, min(lo + timedelta(days=1), hi)
        lo += timedelta(days=1)
