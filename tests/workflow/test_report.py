"""The report: built by cron, its numbers are the tables' cells, and it renders in a real browser."""

from __future__ import annotations

import csv
import html.parser
import shutil
from datetime import date
from pathlib import Path

import pytest

from hzflow import months
from hzflow_dev import hubsim

pytestmark = pytest.mark.workflow

TODAY = date(2026, 3, 10)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="module")
def reported_hub(server, ptr, hub_kit, tmp_path_factory):
    """One hub built by cron for the module: every test leaves its tables as it found them."""
    make, drop = hub_kit
    sim = hubsim.Hub("rphub", date(2025, 12, 20), date(2026, 2, 28), visits_per_day=15, seed=5)
    hub = make(server, tmp_path_factory.mktemp("reported"), site=sim.site, nameserver=ptr.nameserver)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(months.TODAY_VAR, str(TODAY))
        hub.init()
        hubsim.build_database(sim, server, hub.hub_db)
        hubsim.write_logs(sim, hub.root, TODAY)
        hub.write_config(start_month=months.of(sim.first_day))
        hub.hzflow("cron", "-q")
    yield hub
    drop(server, [hub])


@pytest.fixture
def reported(reported_hub, monkeypatch):
    monkeypatch.setenv(months.TODAY_VAR, str(TODAY))
    return reported_hub


class Tables(html.parser.HTMLParser):
    """The text of every table cell, table by table."""

    def __init__(self):
        super().__init__()
        self.tables, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def cell(hub, table, month, rowid, period, colid=1):
    rows = hub.query(f"SELECT value FROM {table} WHERE rowid = %s AND colid = %s AND period = %s "
                     f"AND datetime = %s", (rowid, colid, period, f"{month}-00"))
    return rows[0][0] if rows else None


def test_the_report_shows_exactly_the_cells_the_tables_hold(reported):
    page = reported.work / "report" / reported.site / "index.html"
    assert page.exists()
    closed = ["2025-12", "2026-01", "2026-02"]
    with open(page.parent / "periods.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["month"] for r in rows} == set(closed)
    for r in rows:
        assert r["value"] == str(cell(reported, r["table"], r["month"], int(r["rowid"]), int(r["period"]),
                                      int(r["colid"]))), r
    assert len(rows) == sum(reported.query(f"SELECT COUNT(*) FROM {t} WHERE datetime IN %s",
                                           ([f"{m}-00" for m in closed],))[0][0]
                            for t in ("summary_user_vals", "summary_simusage_vals", "summary_misc_vals"))
    with open(page.parent / "monthly.csv") as f:
        monthly = {r["month"]: r for r in csv.DictReader(f)}
    for month in closed:
        assert float(monthly[month]["users (all kinds)"]) == float(cell(reported, "summary_user_vals", month, 1, 1))
        assert float(monthly[month]["web hits"]) == float(cell(reported, "summary_misc_vals", month, 8, 1))
    parser = Tables()
    parser.feed(page.read_text())
    headline = {row[0]: row[1:] for row in parser.tables[0][1:]}
    for label, (table, rowid) in {"users (all kinds)": ("summary_user_vals", 1),
                                  "simulation runs": ("summary_simusage_vals", 2),
                                  "visits": ("summary_misc_vals", 5)}.items():
        for shown, period in zip(headline[label], (1, 3, 0, 13, 12, 14), strict=True):
            assert shown.replace(",", "") == f"{float(cell(reported, table, '2026-02', rowid, period)):.0f}"
    before = page.stat().st_mtime_ns
    reported.hzflow("cron", "-q")
    assert page.stat().st_mtime_ns == before                  # nothing changed: not rewritten
    reported.hzflow("rebuild", "2026-02", "--stage", "summarized", "-q")
    assert page.stat().st_mtime_ns != before                  # a summary changed: rebuilt


def test_show_prints_a_month_s_headline_with_a_legend(reported):
    out = reported.hzflow("show", "2026-02").stdout
    users = float(cell(reported, "summary_user_vals", "2026-02", 1, 14))
    assert f"{users:,.0f}" in out and "simulation runs:" in out and "all time" in out
    r = reported.hzflow("show", "2026-03", check=False)
    assert r.returncode == 1 and "current month" in r.stdout


def test_snakemake_s_own_report_includes_it(reported, tmp_path):
    out = tmp_path / "snakemake-report.html"
    reported.hzflow("cron", "--report", out)
    assert out.exists() and out.stat().st_size > 10_000


# Measured in the rendered page: every chart's axis titles, its legend's text size on screen, and the
# boxes of all its texts, none of which may overlap another (tick labels, titles, legend entries).
CHART_CHECK = """
const out = [];
for (const svg of document.querySelectorAll('figure svg')) {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const titles = ['x-title', 'y-title'].map(k => svg.querySelector(`[id$="-${k}"] text`))
                                        .map(t => t ? t.textContent.trim() : '');
  const legend = [...svg.querySelectorAll('[id$="-legend"] text')]
                   .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
                   .map(t => [t.textContent.trim(), t.getBoundingClientRect()]);
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, q] = boxes[j];
    const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
    const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
    if (w > 1 && h > 1) overlaps.push([a, b]);
  }
  out.push({titles, legend, overlaps, texts: boxes.length});
}
return out;
"""


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")),
                    reason="Debian's chromium and chromium-driver are not installed (./dev/bootstrap.sh as root)")
def test_the_report_renders_readably_at_page_and_phone_width(reported, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,2400", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        page = reported.work / "report" / reported.site / "index.html"
        for width, shot in ((1200, "report.png"), (390, "report-phone.png")):
            driver.set_window_size(width, 2400)
            driver.get(page.as_uri())
            assert driver.title == f"{reported.site} usage"
            assert driver.find_element("css selector", "h1").text.startswith(reported.site)
            charts = driver.execute_script(CHART_CHECK)
            assert len(charts) >= 5 and sum(bool(c["legend"]) for c in charts) >= 4
            for chart in charts:
                assert all(chart["titles"]), chart                    # both axes have a title
                assert min(chart["legend"], default=10) >= 10, chart       # a legend, where there is one
                assert chart["overlaps"] == [], chart
            errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
            assert errors == []
            driver.save_screenshot(str(SCREENSHOTS / shot))
            assert (SCREENSHOTS / shot).stat().st_size > 10_000
    finally:
        driver.quit()
