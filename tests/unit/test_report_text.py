"""The report's text is the hub's text: titles are never typeset, CSV cells never run as formulas."""

from __future__ import annotations

import csv

from hzflow import report


def test_a_title_with_dollar_signs_and_backslashes_is_drawn_as_text():
    title = r"Cost $\notacommand{x}$ per run"
    data = {"cells": {}, "tools": [(title, 3)], "resources": [(title, 5), ("=HYPERLINK(1)", 2)], "days": []}
    svgs = report.charts(data, ["2026-01"])
    assert any(r"\notacommand" in svg for svg in svgs.values())


def test_formula_like_text_cells_are_neutralised_and_numbers_kept(tmp_path):
    rows = [{"resource": value, "visitors": n} for value, n in
            (("=cmd|' /C calc'!A0", 1), ("+1+1", 2), ("-2+3", 3), ("@SUM(A1)", 4), ("plain", 5), ("-7", 6))]
    path = tmp_path / "x.csv"
    report.write_csv(path, rows)
    with open(path, newline="", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [r["resource"] for r in got] == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(A1)", "plain", "-7"]
    assert [r["visitors"] for r in got] == ["1", "2", "3", "4", "5", "6"]


def test_counts_are_integers_and_every_summary_cell_is_named():
    cells = {("summary_user_vals", "2026-01", 1, 3, 14): "63.0", ("summary_misc_vals", "2026-01", 7, 1, 1):
             "12 users on 2026-01-05", ("summary_simusage_vals", "2026-01", 7, 1, 1): "2.5"}
    rows = report.period_rows(cells)
    assert [(r["row"], r["column"], r["period_name"]) for r in rows] == [
        ("most users logged in on one day", "total", "the month"),
        ("average jobs per user", "total", "the month"),
        ("total users (registered + interactive + download)", "residence: United States", "all time (since 1995)")]
    assert [report.count(v) for v in ("63.0", "2.5", "12 users on 2026-01-05", None)] == \
        [63, 2.5, "12 users on 2026-01-05", None]


def test_show_says_why_rows_have_no_country():
    assert report._unlocated(100, 100, 100) == ""
    said = report._unlocated(8279, 0, 8200)
    assert "8,200 marked '-'" in said and "79 not looked up yet" in said
    assert "not looked up" not in report._unlocated(10, 4, 10)
