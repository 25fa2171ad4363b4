"""The summarized stage through real Snakemake runs: backlogs, late data, rebuilds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hzflow import months, registry

from conftest import months_back
from logtree import marker_times, write_day

pytestmark = pytest.mark.workflow

STAGES = registry.MONTH_STAGES


def visitors(hub) -> dict[tuple[str, int], int]:
    """summary_misc_vals row 4 (distinct visitors) by (month, period)."""
    return {(str(d)[:7], p): int(v) for d, p, v in hub.query(
        "SELECT CAST(datetime AS CHAR), period, value FROM summary_misc_vals WHERE rowid = 4")}


def changed_since(before: dict, after: dict) -> set[str]:
    return {k for k in after if before.get(k) != after[k]}


def closed_months(first, today) -> list[str]:
    """The months from `first` that are complete (sessions and summaries built)."""
    return months.between(f"{first:%Y-%m}", months.preceding(months.of(today)))


def test_a_twelve_month_backlog_is_caught_up_by_one_run_oldest_first(ready_hub, today):
    first = months_back(today, 12)
    for n in range(12, 0, -1):
        write_day(ready_hub, months_back(today, n) + timedelta(days=4), seed=100 + n)
    # the last month's last day too: it is complete whatever day of the month today is (else it waits for
    # months.grace_days into this one)
    write_day(ready_hub, today.replace(day=1) - timedelta(days=1), seed=99)
    ready_hub.write_config(start_month=f"{first:%Y-%m}")
    months = closed_months(first, today)
    ready_hub.hzflow("cron")
    built = marker_times(ready_hub)
    assert {f"{stage}/{m}.json" for m in months for stage in STAGES} <= set(built)
    chain = [built[f"summarized/{m}.json"] for m in months]
    assert chain == sorted(chain)
    seen = visitors(ready_hub)
    all_time = [seen[(m, 14)] for m in months]
    assert all_time == sorted(all_time) and all_time[-1] > all_time[0] > 0
    assert all(seen[(m, 1)] > 0 for m in months)
    ready_hub.hzflow("cron")
    assert marker_times(ready_hub) == built
    assert "nothing to do" in ready_hub.hzflow("plan").stdout


def test_late_rows_in_an_old_month_rebuild_it_and_later_summaries_only(tree, today):
    tree.hzflow("cron")
    before, cells = marker_times(tree), visitors(tree)
    late = months_back(today, 2) + timedelta(days=10)
    old = f"{late:%Y-%m}"
    later = [m for m in closed_months(months_back(today, 2), today) if m > old]
    write_day(tree, late, seed=77)
    tree.hzflow("cron")
    assert changed_since(before, marker_times(tree)) == (
        {f"imported/day/{late}.json"} | {f"{stage}/{old}.json" for stage in STAGES if stage != "tool-stats"}
        | {f"summarized/{m}.json" for m in later})
    now = visitors(tree)
    assert now[(old, 1)] > cells[(old, 1)]
    for m in later:
        assert now[(m, 14)] > cells[(m, 14)]
        assert now[(m, 1)] == cells[(m, 1)]


def test_rebuild_summaries_redoes_the_months_asked_for(tree, today):
    tree.hzflow("cron")
    months = closed_months(months_back(today, 2), today)
    cells, before = visitors(tree), marker_times(tree)
    plan = tree.hzflow("rebuild-summaries", "--since", months[1], "--dry-run").stdout
    assert "summarize" in plan and months[1] in plan and months[0] not in plan
    assert marker_times(tree) == before
    tree.query("DELETE FROM summary_misc_vals")
    tree.hzflow("rebuild-summaries", "--since", months[0], "--through", months[0])
    after = marker_times(tree)
    assert changed_since(before, after) == {f"summarized/{months[0]}.json"}
    assert {m for m, _ in visitors(tree)} == {months[0]}
    tree.hzflow("rebuild-summaries", "--since", months[1])
    assert changed_since(after, marker_times(tree)) == {f"summarized/{m}.json" for m in months[1:]}
    assert visitors(tree) == cells
