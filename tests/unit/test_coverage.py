"""Which months a run covers, when a month is complete, which days are pending: no database."""

from __future__ import annotations

import pytest
import yaml

from hzflow import config as hzconfig
from hzflow import coverage, markers, months, registry
from hzflow.cli import _split_passthrough
from hzflow.imports.logparse import LineDates
from hzflow.invocation import translate


@pytest.fixture
def hub(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(months.TODAY_VAR, "2026-03-18")

    def make(days=(), start=None, **months_section):
        tmp_path = tmp_path_factory.mktemp("hub")
        for day in days:
            folder = tmp_path / "a" / "daily"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"hub-access.log-{day.replace('-', '')}").write_text("x\n")
        data = {"site": "hub", "db": {}, "paths": {"apache_daily": str(tmp_path / "a" / "daily"),
                                                   "hub_daily": str(tmp_path / "h" / "daily"),
                                                   "work_dir": str(tmp_path / "w")}}
        if start:
            data["start_month"] = start
        if months_section:
            data["months"] = months_section
        p = tmp_path / "c.yaml"
        p.write_text(yaml.safe_dump(data))
        return hzconfig.load(p)

    return make


def test_months_run_from_the_first_log_through_today(hub):
    cov = coverage.Coverage(hub(["2025-12-30", "2026-02-02"]))
    assert cov.months == ["2025-12", "2026-01", "2026-02", "2026-03"]


def test_a_month_is_complete_by_its_last_day_a_later_day_or_the_grace_period(hub, monkeypatch):
    cov = coverage.Coverage(hub(["2026-01-05", "2026-02-28"]))
    assert cov.complete("2026-01") and cov.complete("2026-02") and not cov.complete("2026-03")
    monkeypatch.setenv(months.TODAY_VAR, "2026-03-05")
    cov = coverage.Coverage(hub(["2026-02-10"], grace_days=5))
    assert not cov.complete("2026-02")
    monkeypatch.setenv(months.TODAY_VAR, "2026-03-06")
    assert coverage.Coverage(hub(["2026-02-10"], grace_days=5)).complete("2026-02")


def test_a_finished_month_without_logs_is_missing_input_unless_declared(hub):
    cov = coverage.Coverage(hub(["2025-12-10", "2026-02-10"]))
    assert cov.missing_input("2026-01") and not cov.missing_input("2025-12")
    assert "missing input" in cov.status_of("2026-01")
    cov = coverage.Coverage(hub(["2025-12-10", "2026-02-10"], no_data=["2026-01"]))
    assert not cov.missing_input("2026-01") and cov.stages("2026-01") == list(registry.MONTH_STAGES)


def test_the_current_month_waits_for_its_close(hub):
    cov = coverage.Coverage(hub(["2026-03-01"]))
    assert cov.stages("2026-03") == ["imported", "dns-resolved", "tool-stats"]
    assert coverage.Coverage(hub(["2026-03-01"], publish_partial=True)).stages("2026-03") == list(registry.MONTH_STAGES)
    assert coverage.Coverage(hub([], start="2026-03")).stages("2026-03") == ["tool-stats"]   # no log yet


def test_pending_days_are_new_days_and_days_that_gained_a_log(hub):
    settings = hub(["2026-02-01", "2026-02-02"])
    markers.write(markers.day_marker(settings, "2026-02-01"),
                  {"files": {"access": {"file": "/x/hub-access.log-20260201"}}})
    cov = coverage.Coverage(settings)
    assert [(u.day, u.again) for u in cov.pending] == [("2026-02-02", False)]
    markers.write(markers.day_marker(settings, "2026-02-02"), {"files": {}})
    cov = coverage.Coverage(settings)
    assert [(u.day, u.again) for u in cov.pending] == [("2026-02-02", True)]
    markers.write(markers.day_marker(settings, "2026-01-31"),
                  {"files": {}, "rows_by_month": {"2026-01": 5, "2026-02": 3}})
    assert coverage.Coverage(settings).late_days("2026-02") == ["2026-01-31"]


def test_month_names_become_markers_and_other_arguments_pass_unchanged(hub):
    settings = hub(["2026-02-01"])
    out = translate(settings, ["-R", "2026-02", "--cores", "2", "summarized/2026-02", "--until",
                               "tool-stats/2026-01", "-n"])
    assert out[0] == "-R" and out[1].endswith("state/hub/imported/2026-02.json")
    assert out[2:4] == ["--cores", "2"] and out[4].endswith("summarized/2026-02.json")
    assert out[5] == "--until" and out[6].endswith("tool-stats/2026-01.json") and out[7] == "-n"


@pytest.mark.parametrize("argv, own, rest", [
    (["cron", "-R", "x.json", "--cores", "2"], ["cron"], ["-R", "x.json", "--cores", "2"]),
    (["--config", "c", "cron", "-q"], ["--config", "c", "cron", "-q"], []),
    (["cron", "--config", "c", "-n"], ["cron", "--config", "c"], ["-n"]),
    (["plan", "--report", "r.html", "-v"], ["plan", "-v"], ["--report", "r.html"]),
    (["status", "--json"], ["status", "--json"], None),
])
def test_cron_and_plan_pass_every_other_argument_on_verbatim(argv, own, rest):
    assert _split_passthrough(argv) == (own, rest)


@pytest.mark.parametrize("day, clock, verdict", [
    ("2026-04-10", "10:00:00", None), ("2026-04-11", "05:00:00", None), ("2026-04-09", "23:59:59", None),
    ("2026-04-31", "10:00:00", "impossible_date"), ("2026-02-30", "10:00:00", "impossible_date"),
    ("2026-13-01", "10:00:00", "impossible_date"), ("2026-04-10", "24:00:00", "impossible_date"),
    ("2026-04-10", "10:61:00", "impossible_date"), ("2026-04-12", "00:00:00", "out_of_range"),
    ("1970-01-01", "00:00:00", "out_of_range"), ("9999-12-31", "23:59:59", "out_of_range"),
])
def test_line_dates_near_their_files_day(day, clock, verdict):
    assert LineDates("2026-04-10", 24, months.today()).reason(day, clock) == verdict


def test_a_file_without_a_date_accepts_real_dates_from_1995_through_tomorrow():
    dates = LineDates(None, 24, months.first_day("2026-03"))
    assert dates.reason("1995-01-01", "00:00:00") is None and dates.reason("2026-03-02", "23:00:00") is None
    assert dates.reason("1994-12-31", "23:59:59") == "out_of_range"
    assert dates.reason("2026-03-03", "00:00:00") == "out_of_range"
