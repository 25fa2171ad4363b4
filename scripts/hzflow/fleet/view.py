"""`hzflow --fleet F status` and `report`: the fleet at a glance, hubs side by side.

status reads each hub's markers and failure records (and makes each hub's
preflight checks), as the hub's own `status` does, and folds every month
into one word: built, waiting, FAILED, missing (input).  report writes one
page that links each hub's own report and sets each hub's headline figures
(the summary tables' month cells, as each hub's report shows them) side by
side, month by month.
"""

from __future__ import annotations

import html
import json
import os
import time
from pathlib import Path

from .. import coverage, errors, markers, preflight
from .. import db as dbmod
from .. import report as hubreport
from ..db import quote_ident as q
from ..failures import failures
from ..status import exit_status, month_states
from . import Fleet

CELL = {"built": "built", "waiting": "waiting", "failed": "FAILED", "missing input": "missing"}
# Months shown by the text view besides every month that is not built everywhere.
RECENT = 12


def month_word(row: dict, cov: coverage.Coverage) -> str:
    cells = set(row["stages"].values())
    if "failed" in cells or row["days_failed"]:
        return "failed"
    if cov.missing_input(row["month"]):
        return "missing input"
    if "waiting" in cells or row["days_pending"]:
        return "waiting"
    return "built"


def hub_state(fleet: Fleet, name: str) -> dict:
    if name in fleet.problems:
        return {"hub": name, "ok": False, "exit_status": errors.CONFIG, "problem": fleet.problems[name],
                "months": {}, "failures": [], "last_successful_run": None}
    settings = fleet.settings[name]
    cov = coverage.Coverage(settings, warn=lambda _: None)
    checks = preflight.run(settings)
    records = failures(settings)
    failed = {(r.get("stage"), r.get("unit")): r for r in records}
    rows = month_states(settings, cov, failed)
    code = exit_status(records, any(cov.missing_input(m) for m in cov.months))
    return {"hub": name, "ok": not code, "exit_status": code, "problem": checks[0][2] if checks else None,
            "months": {r["month"]: month_word(r, cov) for r in rows},
            "failures": [{k: r.get(k) for k in ("stage", "unit", "exit_status", "error", "log")} for r in records],
            "last_successful_run": markers.read(markers.last_run(settings))}


def status(fleet: Fleet, *, as_json: bool = False, say=print) -> int:
    hubs = [hub_state(fleet, name) for name in fleet.names]
    every = sorted({m for h in hubs for m in h["months"]})
    code = errors.most_severe(h["exit_status"] for h in hubs) if any(h["exit_status"] for h in hubs) else 0
    if as_json:
        say(json.dumps({"fleet": str(fleet.path), "months": every, "hubs": hubs, "ok": not code,
                        "exit_status": code}, indent=2, default=str))
        return code
    shown = [m for m in every if m in every[-RECENT:]
             or any(h["months"].get(m, "built") != "built" for h in hubs)]
    width = max([len(n) for n in fleet.names] + [8])
    say(f"fleet {fleet.path}: {len(hubs)} hub(s), months {every[0] if every else '-'} .. "
        f"{every[-1] if every else '-'}" + (f" ({len(every) - len(shown)} earlier months built everywhere "
                                             f"not shown)" if len(shown) < len(every) else ""))
    say(f"{'month':<8} " + " ".join(f"{n:<{width}}" for n in fleet.names))
    for month in shown:
        say(f"{month:<8} " + " ".join(f"{CELL.get(h['months'].get(month), '.'):<{width}}" for h in hubs))
    for h in hubs:
        last = h["last_successful_run"]
        state = "ok" if h["ok"] else f"{errors.NAMES.get(h['exit_status'], h['exit_status'])} " \
                                      f"(exit {h['exit_status']})"
        say(f"{h['hub']}: {state}; last successful run "
            f"{last['finished_at'] if last else 'none yet'}")
        if h["problem"] and not any(f["error"] == h["problem"] for f in h["failures"]):
            say(f"    {h['problem']}")
        for f in h["failures"][:3]:
            say(f"    FAILED {f['stage']} {f['unit']}: {f['error']}")
    return code


# ------------------------------------------------------------ the fleet's page
def report_dir(fleet: Fleet) -> Path:
    return fleet.work_dir / "fleet" / "report"


def figures(settings) -> dict[str, dict[str, float | None]]:
    """label -> month -> the month's cell (period 1, column 1) of each headline figure, as the hub's report."""
    chosen = hubreport.summarized_months(settings)
    with dbmod.cursor(settings, None) as cur:       # a hub down before its first summary is named all the same
        if not chosen:
            return {}
        cells = hubreport.summary_cells(cur, q(settings.db.metrics_db), chosen)
    return {label: {m: hubreport.count(cells.get((table, m, rowid, 1, 1))) for m in chosen}
            for table, rowid, label, _ in hubreport.HEADLINE}


def report(fleet: Fleet, say=print) -> int:
    out = report_dir(fleet)
    out.mkdir(parents=True, exist_ok=True)
    by_hub, problems = {}, dict(fleet.problems)
    codes = [errors.CONFIG] if fleet.problems else []
    for name, settings in fleet.settings.items():
        try:
            by_hub[name] = figures(settings)
        except Exception as exc:             # one hub's database down: the page shows the others
            code, problems[name] = errors.classify(exc)
            codes.append(code)
    every = sorted({m for f in by_hub.values() for series in f.values() for m in series})
    parts = [f"<h1>Usage of {len(fleet.names)} hubs</h1>",
             f"<p class=meta>hzflow fleet report, {time.strftime('%Y-%m-%d %H:%M')}; each figure is the "
             f"month's cell of the hub's summary tables, as on its own report and usage pages.</p>",
             "<h2>Hubs</h2><ul>"]
    for name in fleet.names:
        if name in fleet.settings:
            page = fleet.settings[name].work_dir / "report" / name / "index.html"
            link = os.path.relpath(page, out)
            note = "" if page.exists() else " (not written yet)"
            parts.append(f"<li><a href=\"{html.escape(link)}\">{html.escape(name)}</a>{note}"
                         + (f": {html.escape(problems[name])}" if name in problems else "") + "</li>")
        else:
            parts.append(f"<li>{html.escape(name)}: {html.escape(problems[name])}</li>")
    parts.append("</ul>")
    names = [n for n in fleet.names if n in by_hub]
    svgs = _charts(by_hub, names, every)
    for _, _, label, what in hubreport.HEADLINE:
        parts.append(f"<h2>{html.escape(label)}</h2><p class=meta>{html.escape(what)}</p>")
        if label in svgs:
            parts.append(f"<figure>{svgs[label]}</figure>")
        rows = [[m] + [_cell(by_hub[n].get(label, {}).get(m)) for n in names] for m in every]
        parts.append(hubreport.table_html(["month", *names], rows))
    page = out / "index.html"
    tmp = out / ".index.html.partial"
    tmp.write_text(hubreport.PAGE.format(title="hzflow fleet report", body="\n".join(parts)))
    tmp.replace(page)
    hubreport.write_csv(out / "figures.csv", [
        {"hub": n, "month": m, "figure": label, "value": by_hub[n][label].get(m)}
        for n in names for label in by_hub[n] for m in every if m in by_hub[n][label]])
    say(f"fleet report: {page}")
    for name in problems:
        say(f"  {name}: {problems[name]}")
    return errors.most_severe(codes)


def _cell(value) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _charts(by_hub: dict, names: list[str], every: list[str]) -> dict[str, str]:
    """A line per hub for the figures a manager compares first."""
    if not every or not names:
        return {}
    with hubreport.chart_style():
        return {label: _hub_lines(by_hub, names, every, label, name)
                for label, name in (("users (all kinds)", "users"), ("simulation runs", "runs"), ("visits", "visits"))}


def _hub_lines(by_hub: dict, names: list[str], every: list[str], label: str, name: str) -> str:
    fig, ax = hubreport.new_chart()
    for hub in names:
        series = by_hub[hub].get(label, {})
        ax.plot(range(len(every)), [series.get(m) or 0 for m in every], marker="o", label=hub)
    ax.set_title(f"{label}, each hub (the month's cell)")
    hubreport._thin_labels(ax, every)
    hubreport._label_axes(ax, name, "month", f"{label} (in the month)")
    hubreport._legend_outside(ax, name)
    return hubreport._svg(fig)
