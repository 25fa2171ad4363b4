"""The six reporting periods HUBzero uses, by code, and their date windows.

    0 calendar year to date    1 month    3 quarter to date
    12 rolling twelve months   13 fiscal year (October-September) to date
    14 all time (since 1995-01-01)

Each window is [start, first day after the month), as 'YYYY-MM-DD' strings.
"""

from __future__ import annotations

from .months import following

CALENDAR_YEAR, MONTH, QUARTER, ROLLING_12, FISCAL_YEAR, ALL_TIME = 0, 1, 3, 12, 13, 14
ALL = (CALENDAR_YEAR, MONTH, QUARTER, ROLLING_12, FISCAL_YEAR, ALL_TIME)
ALL_TIME_START = "1995-01-01"


def window(month: str, period: int) -> tuple[str, str]:
    y, m = int(month[:4]), int(month[5:7])
    stop = f"{following(f'{y:04d}-{m:02d}')}-01"
    if period == CALENDAR_YEAR:
        start = f"{y:04d}-01-01"
    elif period == MONTH:
        start = f"{y:04d}-{m:02d}-01"
    elif period == QUARTER:
        start = f"{y:04d}-{(m - 1) // 3 * 3 + 1:02d}-01"
    elif period == ROLLING_12:
        start = f"{y - 1:04d}-{m + 1:02d}-01" if m < 12 else f"{y:04d}-01-01"
    elif period == FISCAL_YEAR:
        start = f"{y if m >= 10 else y - 1:04d}-10-01"
    elif period == ALL_TIME:
        start = ALL_TIME_START
    else:
        raise ValueError(f"unknown period code {period}")
    return start, stop
