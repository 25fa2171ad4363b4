"""The six reporting periods' windows at month, quarter, year and fiscal-year boundaries."""

import pytest

from hzflow import months, periods


@pytest.mark.parametrize("month, expected", [
    ("2025-07", {0: "2025-01-01", 1: "2025-07-01", 3: "2025-07-01", 12: "2024-08-01", 13: "2024-10-01"}),
    ("2025-01", {0: "2025-01-01", 1: "2025-01-01", 3: "2025-01-01", 12: "2024-02-01", 13: "2024-10-01"}),
    ("2024-12", {0: "2024-01-01", 1: "2024-12-01", 3: "2024-10-01", 12: "2024-01-01", 13: "2024-10-01"}),
    ("2024-10", {0: "2024-01-01", 1: "2024-10-01", 3: "2024-10-01", 12: "2023-11-01", 13: "2024-10-01"}),
    ("2024-09", {0: "2024-01-01", 1: "2024-09-01", 3: "2024-07-01", 12: "2023-10-01", 13: "2023-10-01"}),
    ("2024-02", {0: "2024-01-01", 1: "2024-02-01", 3: "2024-01-01", 12: "2023-03-01", 13: "2023-10-01"}),
])
def test_period_starts(month, expected):
    for period, start in expected.items():
        assert periods.window(month, period)[0] == start
    assert periods.window(month, periods.ALL_TIME)[0] == "1995-01-01"


@pytest.mark.parametrize("month, stop", [("2024-02", "2024-03-01"), ("2024-12", "2025-01-01"),
                                         ("2023-02", "2023-03-01"), ("2025-07", "2025-08-01")])
def test_every_window_ends_where_the_month_ends(month, stop):
    assert {periods.window(month, p)[1] for p in periods.ALL} == {stop}


def test_rolling_twelve_months_cover_twelve_months_across_leap_years():
    from datetime import date
    for month in ("2024-02", "2024-03", "2025-02", "2028-02"):
        start, stop = (date.fromisoformat(d) for d in periods.window(month, periods.ROLLING_12))
        assert (stop.year - start.year) * 12 + stop.month - start.month == 12 and start.day == 1


def test_unknown_period_is_refused_and_months_are_stamped_day_zero():
    with pytest.raises(ValueError):
        periods.window("2025-07", 2)
    assert months.stamp("2025-07") == "2025-07-00 00:00:00"
