"""Fixtures of the workflow tests: "today" pinned, hubs with logs laid out as logrotate leaves them.

HZFLOW_TODAY pins the date every hzflow process sees.  The tests pin it to
a fixed mid-month day unless the environment already sets it, so the whole
suite can be run as of any day:  HZFLOW_TODAY=2027-01-01 ./dev/test.sh
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from fleettree import build_twins

from hzflow import months
from hzflow_dev.ptrserver import PtrServer

from logtree import write_day

DEFAULT_TODAY = "2026-03-18"


@pytest.fixture(autouse=True)
def today(monkeypatch) -> date:
    pinned = os.environ.get(months.TODAY_VAR) or DEFAULT_TODAY
    monkeypatch.setenv(months.TODAY_VAR, pinned)
    return date.fromisoformat(pinned)


def months_back(today: date, n: int) -> date:
    """The first day of the month n months before today's."""
    month = months.of(today)
    for _ in range(n):
        month = months.preceding(month)
    return months.first_day(month)


@pytest.fixture
def tree(ready_hub, today):
    """Logs of a few days in each of the last three months (the current one included when it has any).

    The last day of the previous month has a log, so every finished month is complete whatever
    day of the month today is.
    """
    first = months_back(today, 2)
    days = [first + timedelta(days=k) for k in (0, 3, 33, 40)] + [today.replace(day=1) - timedelta(days=1)]
    days += [today.replace(day=1) + timedelta(days=k) for k in (0, 1)]
    days = sorted({d for d in days if d < today})
    for i, d in enumerate(days):
        write_day(ready_hub, d, seed=i, gz=i % 2 == 0)
    ready_hub.write_config(start_month=f"{first:%Y-%m}")
    ready_hub.days = days
    return ready_hub


@pytest.fixture(scope="session")
def counting_ptr():
    """A PTR server of the fleet tests alone: how often each address was asked (PtrServer.asked)."""
    with PtrServer(synthetic="hosts.example.net") as ptr:
        yield ptr


@pytest.fixture(scope="session")
def twins(server, hub_kit, counting_ptr, tmp_path_factory):
    """The fleet tests' hubs, each built by its own cron: their tables (fleettree.build_twins)."""
    return build_twins(server, hub_kit, tmp_path_factory.mktemp("twins"), counting_ptr.nameserver)
