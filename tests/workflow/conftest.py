"""Fixtures of the workflow tests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from logtree import months_back, write_day


@pytest.fixture
def tree(ready_hub):
    """Three months of logs ending yesterday: a few days in each month."""
    first = months_back(2)
    days = [first + timedelta(days=k) for k in (0, 3, 33, 40)]
    days += [date.today().replace(day=1) + timedelta(days=k) for k in (0, 1)]
    days = sorted({d for d in days if d < date.today()})
    for i, d in enumerate(days):
        write_day(ready_hub, d, seed=i, gz=i % 2 == 0)
    ready_hub.write_config(start_month=f"{first:%Y-%m}")
    ready_hub.days = days
    return ready_hub
