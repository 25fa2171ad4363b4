"""hzflow report and hzflow show: the numbers hzflow wrote, as a page, CSV files and a terminal table.

Every usage number is read back from the cells hzflow wrote (summary_*_vals,
the hub's tool and resource statistics): what the hub's usage pages show,
never computed a second way.  The pipeline's own figures come from its
markers and Snakemake's benchmark files, and the DNS/geo coverage from the
rows themselves.

Charts are SVG drawn by matplotlib (a plotting library every Python user
knows, maintained, and able to write static vector images): the page is one
self-contained file with no script and no network access, so it opens the
same in any browser, in a mail attachment or on a machine without Internet.
"""

from __future__ import annotations

import csv
import html
import io
import json
import time
from pathlib import Path

import pymysql

from . import coverage, markers, months, registry, version
from . import db as dbmod
from .db import quote_ident as q
from .enrich import geo
from .errors import UsageError

PERIOD_NAMES = {1: "the month", 0: "calendar year to date", 3: "quarter to date",
                12: "rolling twelve months", 13: "fiscal year (October to September) to date",
                14: "all time (since 1995)"}
PERIOD_ORDER = (1, 3, 0, 13, 12, 14)

# (table, rowid, label, what it counts): the headline figures, in the order the legend explains them.
HEADLINE = (
    ("summary_user_vals", 1, "users (all kinds)",
     "registered users plus interactive and download visitors who never logged in (rows 6 + 7 + 8)"),
    ("summary_user_vals", 6, "registered users who logged in",
     "distinct accounts with a login or a simulation in the CMS auth log"),
    ("summary_user_vals", 7, "interactive visitors",
     "distinct address and host with a session of 15 minutes or more and no tool job, "
     "from an address no registered user logged in from"),
    ("summary_user_vals", 8, "download visitors",
     "distinct address and host that downloaded in a session under 15 minutes, likewise"),
    ("summary_user_vals", 2, "simulation users",
     "distinct accounts with a successful tool run (toolstart, from the hub's job log)"),
    ("summary_simusage_vals", 2, "simulation runs",
     "successful tool runs (toolstart): counts runs, where 'tool jobs' of web sessions count "
     "sessions that started one"),
    ("summary_misc_vals", 2, "sessions (15 min+ or with jobs)", "web sessions long enough to count as use"),
    ("summary_misc_vals", 5, "visits", "all web sessions"),
    ("summary_misc_vals", 6, "new accounts", "accounts registered in the period"),
    ("summary_misc_vals", 8, "web hits", "requests kept by the import (after crawlers and assets)"),
    ("summary_misc_vals", 7, "busiest login day", "the day with the most distinct logins"),
)
# Beside the figures whose definition surprises (the reference's counting rules, kept for parity):
# what a hub manager needs to read them right.  docs/tables.md has each exact rule.
NOTES = {
    "interactive visitors": "an address that any registered user logged in from during the period is not "
                            "counted as a visitor, so over a quarter, a year or all time (more logins) the "
                            "figure can be lower than the month's, even 0",
    "users (all kinds)": "the sum of the three rows below it, each counted by its own rule: it can be higher "
                         "for the month than for the quarter when the quarter's logins rule out more visitor "
                         "addresses. The charts by residence and organisation count these users where that is "
                         "known (a profile's residence or an address's country; a profile's organisation "
                         "type), so their bars add up to fewer",
}
NOTES_LINK = "docs/tables.md (the summary tables, cell by cell)"
COVERAGE_NOTE = ("an address is placed in a country by the hub's own geo cache, then by {provider} "
                 "(geoip.provider); public addresses only: documentation, private and reserved ranges stay "
                 "without a country, and so off the who-is-online map")
RESIDENCE = {3: "United States", 4: "Asia", 5: "Europe", 6: "other"}
ORGTYPE = {8: "education", 9: "industry", 10: "government", 11: "other"}
# The names the hub's usage pages give each summary cell (the reference's decoder, docs/usage-tables.md).
ROW_NAMES = {
    "summary_user_vals": {1: "total users (registered + interactive + download)", 2: "simulation users",
                          3: "unregistered user addresses (before the login filter)",
                          4: "download user addresses (before the login filter)", 5: "unused",
                          6: "registered users", 7: "interactive users (unregistered)", 8: "download users"},
    "summary_simusage_vals": {1: "simulation users", 2: "simulation jobs", 3: "CPU time (s)", 4: "wall time (s)",
                              5: "view time (s)", 6: "users with 10 min or more of CPU",
                              7: "average jobs per user", 8: "average wall time per user (s)",
                              9: "repeat users with 10 or more simulations", 10: "repeat users over 3 months"},
    "summary_misc_vals": {1: "domains served", 2: "user sessions", 3: "session time (s)", 4: "visitors",
                          5: "visits", 6: "new user accounts", 7: "most users logged in on one day",
                          8: "web server hits"},
}
COLUMN_NAMES = {1: "total", 2: "residence known", **{c: f"residence: {n}" for c, n in RESIDENCE.items()},
                7: "organisation type known", **{c: f"organisation: {n}" for c, n in ORGTYPE.items()}}


# ----------------------------------------------------------------- reading
def summary_cells(cur, met: str, months_: list[str]) -> dict[tuple, str]:
    """(table, month, rowid, colid, period) -> value, for the months asked for."""
    out = {}
    stamps = tuple(f"{m}-00" for m in months_) or ("",)
    for table in ("summary_user_vals", "summary_simusage_vals", "summary_misc_vals"):
        cur.execute(f"SELECT DATE_FORMAT(datetime, '%%Y-%%m'), rowid, colid, period, value FROM {met}.{q(table)} "
                    f"WHERE datetime IN %s", (stamps,))
        for month, rowid, colid, period, value in cur.fetchall():
            out[(table, month, int(rowid), int(colid), int(period))] = value
    return out


def number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def summarized_months(settings) -> list[str]:
    cov = coverage.Coverage(settings)
    return [m for m in cov.months if markers.marker(settings, registry.SUMMARY, m).exists()]


def collect(settings, chosen: list[str]) -> dict:
    """Everything the report shows, as plain data."""
    met, hub, prefix = q(settings.db.metrics_db), q(settings.db.hub_db), settings.db.prefix
    with dbmod.cursor(settings, None) as cur:
        cells = summary_cells(cur, met, chosen)
        last = chosen[-1] if chosen else None
        tools, resources = [], []
        if last:
            cur.execute(f"SELECT `rank`, name, value FROM {hub}.{q(prefix + 'stats_topvals')} WHERE top = 2 "
                        f"AND period = 1 AND datetime = %s AND `rank` > 0 ORDER BY `rank` LIMIT 10",
                        (months.stamp(last),))
            tools = [(name.split(" ~ ", 1)[-1], int(v)) for _, name, v in cur.fetchall()]
            cur.execute(f"SELECT r.title, s.users FROM {hub}.{q(prefix + 'resource_stats')} s "
                        f"JOIN {hub}.{q(prefix + 'resources')} r ON r.id = s.resid WHERE s.restype <> 7 "
                        f"AND s.period = 1 AND s.datetime = %s ORDER BY s.users DESC, r.id LIMIT 10",
                        (f"{last}-01",))
            resources = [(title, int(users or 0)) for title, users in cur.fetchall()]
        coverage_rows = []
        for month in chosen:
            lo, hi = months.bounds(month)
            cur.execute(f"SELECT COUNT(*), COUNT(NULLIF(NULLIF(host, ''), '?')), "
                        f"COUNT(NULLIF(NULLIF(ipcountry, ''), '-')) FROM {met}.web "
                        f"WHERE datetime >= %s AND datetime < %s", (lo, hi))
            rows, named, located = cur.fetchone()
            coverage_rows.append({"month": month, "web_rows": rows, "with_host": named, "with_country": located})
        online = who_is_online(cur, hub, prefix)
    return {"cells": cells, "tools": tools, "resources": resources, "coverage": coverage_rows,
            "days": pipeline_days(settings, chosen), "stages": stage_seconds(settings, chosen), "online": online}


def who_is_online(cur, hub: str, prefix: str) -> dict:
    """The map's last refresh: sessions in jos_session_geo, and how many have a place."""
    try:
        cur.execute(f"SELECT COUNT(*), COUNT(ipLATITUDE) FROM {hub}.{q(prefix + 'session_geo')}")
    except pymysql.err.ProgrammingError:     # a hub without the table (whoisonline never ran)
        return {}
    sessions, located = cur.fetchone()
    return {"sessions": int(sessions), "located": int(located)}


def pipeline_days(settings, chosen: list[str]) -> list[dict]:
    """Per imported day: rows, lines, malformed and crawler lines, from the day markers."""
    out = []
    cov = coverage.Coverage(settings)
    for day, record in sorted(cov.records.items()):
        if day[:7] not in chosen:
            continue
        row = {"day": day, "web_rows": 0, "logins": 0, "lines": 0, "malformed": 0, "crawlers": 0}
        for kind, f in (record.get("files") or {}).items():
            row["lines"] += f.get("lines") or 0
            row["malformed"] += f.get("malformed") or 0
            if kind == "access":
                row["web_rows"] += f.get("rows") or 0
                skipped = f.get("skipped") or {}
                row["crawlers"] += (skipped.get("bot_agent") or 0) + (skipped.get("no_referrer_crawl") or 0)
            else:
                row["logins"] += f.get("rows") or 0
        out.append(row)
    return out


def stage_seconds(settings, chosen: list[str]) -> list[dict]:
    """Seconds each month's stages took, from Snakemake's benchmark files."""
    root = settings.work_dir / "benchmarks" / settings.site
    out = []
    for month in chosen:
        row = {"month": month}
        for rule in ("resolve_month", "tool_stats", "sessionize_month", "summarize"):
            tsv = root / rule / f"{month}.tsv"
            try:
                with open(tsv) as f:
                    row[rule] = float(list(csv.DictReader(f, delimiter="\t"))[-1]["s"])
            except (OSError, IndexError, KeyError, ValueError):
                row[rule] = None
        out.append(row)
    return out


# ----------------------------------------------------------------- headline (hzflow show)
def headline(cells: dict, month: str) -> list[tuple[str, dict, str]]:
    """(label, {period: value}, what it counts) for the month's headline figures."""
    out = []
    for table, rowid, label, what in HEADLINE:
        values = {p: cells.get((table, month, rowid, 1, p)) for p in PERIOD_ORDER}
        out.append((label, values, what))
    return out


def show(settings, month: str, say=print) -> int:
    with dbmod.cursor(settings) as cur:
        cells = summary_cells(cur, q(settings.db.metrics_db), [month])
    if not cells:
        state = coverage.Coverage(settings).status_of(month) if months.is_month(month) else "not a month"
        say(f"{month}: no summary yet ({state})")
        return 1
    rows = headline(cells, month)
    width = max(len(label) for label, _, _ in rows)
    say(f"{settings.site} {month}: what the hub's usage pages show (summary tables)")
    say(f"  {'':<{width}} " + " ".join(f"{period_header(p):>12}" for p in PERIOD_ORDER))
    for label, values, _ in rows:
        say(f"  {label:<{width}} " + " ".join(f"{_short(values[p]):>12}" for p in PERIOD_ORDER))
    say("")
    say("periods: " + "; ".join(f"{period_header(p)} = {PERIOD_NAMES[p]}" for p in PERIOD_ORDER))
    for label, _, what in rows:
        say(f"  {label}: {what}" + (f". Note: {NOTES[label]}" if label in NOTES else ""))
    say(f"  (exact rules: {NOTES_LINK})")
    with dbmod.cursor(settings) as cur:
        lo, hi = months.bounds(month)
        cur.execute("SELECT COUNT(*), COUNT(NULLIF(NULLIF(ipcountry, ''), '-')), COUNT(NULLIF(ipcountry, '')) "
                    "FROM web WHERE datetime >= %s AND datetime < %s", (lo, hi))
        rows, located, looked_up = cur.fetchone()
        online = who_is_online(cur, q(settings.db.hub_db), settings.db.prefix)
    say(f"located: {located:,} of {rows:,} web rows of {month} have a country, by {geo.provider_name(settings)}"
        + _unlocated(rows, located, looked_up)
        + (f"; who is online now: {online['sessions']} session(s), {online['located']} on the map" if online else ""))
    return 0


def _unlocated(rows: int, located: int, looked_up: int) -> str:
    """Why the other rows have no country: looked up without an answer ('-'), or not looked up yet."""
    parts = []
    if looked_up > located:
        parts.append(f"{looked_up - located:,} marked '-', addresses no geo database places (private, "
                     f"reserved or documentation ranges, or unknown to the provider)")
    if rows > looked_up:
        parts.append(f"{rows - looked_up:,} not looked up yet, which the month's resolve stage does")
    return "".join(f"; {p}" for p in parts)


def period_header(p: int) -> str:
    return {1: "month", 0: "year", 3: "quarter", 12: "12 months", 13: "fiscal year", 14: "all time"}[p]


def _short(value, *, compact: bool = True) -> str:
    if value is None:
        return "-"
    n = number(value)
    if n is None:
        return str(value).replace(" users on ", "@") if compact else str(value)
    return f"{n:,.0f}"


# ----------------------------------------------------------------- writing
def count(value):
    """A cell as a number: whole numbers as integers (a count is never 63.0), others as they are."""
    n = number(value)
    if n is None:
        return value
    return int(n) if n.is_integer() else n


def monthly_series(data: dict, chosen: list[str]) -> list[dict]:
    cells, out = data["cells"], []
    for month in chosen:
        row = {"month": month}
        for table, rowid, label, _ in HEADLINE:
            row[label] = count(cells.get((table, month, rowid, 1, 1)))
        out.append(row)
    return out


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A text cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and number(value) is None:
        return "'" + value
    return value


def period_rows(cells: dict) -> list[dict]:
    """Every summary cell, with the names the usage pages give its row, column and period beside the codes."""
    return [{"table": t, "month": m, "rowid": r, "row": ROW_NAMES.get(t, {}).get(r, ""), "colid": c,
             "column": COLUMN_NAMES.get(c, ""), "period": p, "period_name": PERIOD_NAMES.get(p, ""), "value": v}
            for (t, m, r, c, p), v in sorted(cells.items())]


def write_csv(path: Path, rows: list[dict]) -> None:
    """UTF-8, a header row, text cells neutralised against formula injection; written atomically."""
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    tmp.replace(path)


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


# Titles and labels are the hub's text (resource and tool names), never TeX: '$' is a dollar sign.
CHART_STYLE = {"svg.fonttype": "none", "font.size": 10, "figure.figsize": (8, 3.2),
               "figure.constrained_layout.use": True, "text.parse_math": False, "text.usetex": False,
               "axes.spines.top": False, "axes.spines.right": False}


def chart_style():
    """The house style for the charts drawn inside it (a context: nothing global is changed)."""
    import matplotlib

    return matplotlib.rc_context(CHART_STYLE)


def new_chart(nrows: int = 1, ncols: int = 1, **figure):
    """(figure, axes) drawn without pyplot, whose import alone cost the report about half a second."""
    from matplotlib.figure import Figure

    fig = Figure(**figure)
    return fig, fig.subplots(nrows, ncols)


LEGEND_POINTS = 10          # 13 px on the page (the SVG is shown at its own size, never scaled down)
AXES_POINTS = 330           # the width of a chart's data area, less its axis and legend


def _label_axes(ax, name: str, xlabel: str, ylabel: str, *, counts_on: str = "y") -> None:
    """Axis titles with units (found by the browser test through their ids), integer ticks for counts."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.label.set_gid(f"{name}-x-title")
    ax.yaxis.label.set_gid(f"{name}-y-title")
    axis = ax.yaxis if counts_on == "y" else ax.xaxis
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=3))
    ax.grid(axis=counts_on, color="#ddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _legend_outside(ax, name: str) -> None:
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=LEGEND_POINTS, frameon=False)
    legend.set_gid(f"{name}-legend")


def _thin_labels(ax, labels: list[str]) -> None:
    """Category labels along x, every k-th one, horizontal: as many as fit without touching."""
    widest = max((len(label) for label in labels), default=1) * 6.5 + 14      # points, at 10 pt
    fit = max(2, int(AXES_POINTS // widest))
    step = max(1, -(-len(labels) // fit))
    ax.set_xticks(range(len(labels))[::step], labels[::step])


def charts(data: dict, chosen: list[str]) -> dict[str, str]:
    """Title -> inline SVG: every chart with axis titles and units, linear count axes, the legend outside
    the data, labels that never overlap; each title says which population it counts."""
    with chart_style():
        return _charts(data, chosen)


def _charts(data: dict, chosen: list[str]) -> dict[str, str]:
    out, series = {}, monthly_series(data, chosen)
    x = [r["month"] for r in series]
    at = list(range(len(x)))

    def val(r, key):
        value = r.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0

    def done(title, fig):
        out[title] = _svg(fig)

    fig, ax = new_chart()
    bottom = [0.0] * len(series)
    for key in ("registered users who logged in", "interactive visitors", "download visitors"):
        ys = [val(r, key) for r in series]
        ax.bar(at, ys, bottom=bottom, label=key)
        bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
    ax.plot(at, [val(r, "simulation users") for r in series], color="black", marker="o", label="simulation users")
    ax.set_title("Users of each month, by kind (the month's cells)")
    _thin_labels(ax, x)
    _label_axes(ax, "users", "month", "users (distinct, in the month)")
    _legend_outside(ax, "users")
    done("Users per month", fig)

    def month_lines(chart, name, keys, title, ylabel, colors):
        fig, ax = new_chart()
        for key, color in zip(keys, colors, strict=True):
            ax.plot(at, [val(r, key) for r in series], marker="o", color=color, label=key)
        ax.set_title(title)
        _thin_labels(ax, x)
        _label_axes(ax, name, "month", ylabel)
        _legend_outside(ax, name)
        done(chart, fig)

    month_lines("Sessions and visits per month", "sessions", ("sessions (15 min+ or with jobs)", "visits"),
                "Web sessions and visits of each month", "sessions (in the month)", ("tab:blue", "tab:orange"))
    month_lines("Web hits per month", "hits", ("web hits",), "Web hits of each month (requests kept by the import)",
                "requests (in the month)", ("tab:green",))

    if chosen:
        last, cells = chosen[-1], data["cells"]
        fig, (left, right) = new_chart(1, 2, figsize=(8, 2.8))
        fig.suptitle(f"Users of {last} (all kinds) whose residence or organisation type is known")
        for ax, names, title, name in ((left, RESIDENCE, "residence", "residence"),
                                       (right, ORGTYPE, "organisation type", "orgtype")):
            values = [number(cells.get(("summary_user_vals", last, 1, c, 1))) or 0 for c in names]
            ax.barh(list(names.values()), values, label="users")
            ax.set_title(f"by {title}")
            _label_axes(ax, name, "users (distinct)", title, counts_on="x")
        done("Where users come from", fig)
    for items, title, unit in ((data["tools"], "Top tools by simulation users", "simulation users (distinct)"),
                               (data["resources"], "Top resources by visitors", "visitors (distinct)")):
        if items:
            name = title.split()[1]
            fig, ax = new_chart(figsize=(8, 0.32 * len(items) + 1.2))
            ax.barh([n for n, _ in items][::-1], [v for _, v in items][::-1], label=unit.split(" (")[0])
            ax.set_title(f"{title}, {chosen[-1]} (the month)")
            _label_axes(ax, name, unit, "tool" if name == "tools" else "resource", counts_on="x")
            _legend_outside(ax, name)
            done(title, fig)
    if data["days"]:
        days = [d["day"] for d in data["days"]]
        fig, ax = new_chart()
        ax.plot(range(len(days)), [d["web_rows"] for d in data["days"]], label="web rows kept")
        ax.plot(range(len(days)), [d["crawlers"] for d in data["days"]], label="crawler lines left out")
        ax.set_title("What the import kept, day by day")
        _thin_labels(ax, days)
        _label_axes(ax, "days", "day (of the log)", "lines / rows (per day)")
        _legend_outside(ax, "days")
        done("Rows imported per day", fig)
    return out


def table_html(headers, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class=wide><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def build(settings, chosen: list[str] | None = None, out_dir: Path | None = None, say=print) -> Path:
    """Write index.html and the CSV files; returns the page's path."""
    chosen = chosen if chosen is not None else summarized_months(settings)
    out_dir = _output_dir(out_dir or settings.work_dir / "report" / settings.site)
    data = collect(settings, chosen)
    series = monthly_series(data, chosen)
    write_csv(out_dir / "monthly.csv", series)
    write_csv(out_dir / "periods.csv", period_rows(data["cells"]))
    write_csv(out_dir / "tools.csv", [{"tool": n, "simulation_users": v} for n, v in data["tools"]])
    write_csv(out_dir / "resources.csv", [{"resource": n, "visitors": v} for n, v in data["resources"]])
    write_csv(out_dir / "coverage.csv", data["coverage"])
    write_csv(out_dir / "days.csv", data["days"])
    write_csv(out_dir / "stages.csv", data["stages"])
    svgs = charts(data, chosen)
    last = chosen[-1] if chosen else None
    sections = [f"<h1>{html.escape(settings.site)}: usage {html.escape(chosen[0] if chosen else '')} .. "
                f"{html.escape(last or '')}</h1>",
                f"<p class=meta>written {time.strftime('%Y-%m-%d %H:%M')} by hzflow {html.escape(version())} "
                f"from the summary and statistics tables; CSV files of every series beside this page.</p>"]
    if last:
        rows = headline(data["cells"], last)
        sections.append(f"<h2>{html.escape(last)}, the six periods</h2>")
        sections.append(table_html(["figure"] + [period_header(p) for p in PERIOD_ORDER],
                                   [[label] + [_short(v[p], compact=False) for p in PERIOD_ORDER]
                                    for label, v, _ in rows]))
        sections.append("<dl>" + "".join(f"<dt>{html.escape(period_header(p))}</dt><dd>{PERIOD_NAMES[p]}</dd>"
                                         for p in PERIOD_ORDER)
                        + "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(what)}"
                                  + (f"<br><em>Note:</em> {html.escape(NOTES[label])}" if label in NOTES else "")
                                  + "</dd>" for label, _, what in rows) + "</dl>"
                        + f"<p class=meta>Exact rules: {html.escape(NOTES_LINK)}.</p>")
    for title, svg in svgs.items():
        sections.append(f"<h2>{html.escape(title)}</h2><figure>{svg}</figure>")
    sections.append("<h2>Every month</h2>" + table_html(list(series[0]) if series else [],
                                                      [[_short(v, compact=False) if k != "month" else v
                                                        for k, v in r.items()] for r in series]))
    note = COVERAGE_NOTE.format(provider=geo.provider_name(settings))
    online = data.get("online") or {}
    note += (f". Who is online now: {online.get('sessions', 0)} session(s), {online.get('located', 0)} on the map"
             if online else "")
    sections.append(f"<h2>Reverse DNS and country coverage</h2><p class=meta>{html.escape(note)}.</p>"
                    + table_html(
        ["month", "web rows", "with a host", "with a country"],
        [[c["month"], c["web_rows"], _percent(c["with_host"], c["web_rows"]),
          _percent(c["with_country"], c["web_rows"])] for c in data["coverage"]]))
    sections.append("<h2>Seconds each stage took</h2>" + table_html(
        ["month", "resolve", "tool stats", "sessions", "summary"],
        [[s["month"]] + ["-" if s[k] is None else f"{s[k]:.1f}" for k in
                         ("resolve_month", "tool_stats", "sessionize_month", "summarize")] for s in data["stages"]]))
    page = out_dir / "index.html"
    (out_dir / "report.json").write_text(json.dumps({"months": chosen, "version": version()}))
    partial = out_dir / ".index.html.partial"
    partial.write_text(PAGE.format(title=html.escape(f"{settings.site} usage"), body="\n".join(sections)))
    partial.replace(page)
    say(f"report: {page} ({len(chosen)} month(s), {len(svgs)} chart(s))")
    return page


def _percent(part, whole) -> str:
    return f"{part / whole:.0%}" if whole else "-"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 60em; padding: 0 0.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
dl {{ font-size: 0.85em; }} dt {{ font-weight: bold; }} dd {{ margin: 0 0 0.4em 1em; }}
.meta {{ color: #666; font-size: 0.85em; }}
td {{ white-space: nowrap; }} .wide, figure {{ overflow-x: auto; margin: 0; }}
svg {{ max-width: none; height: auto; }}
</style></head>
<body>
{body}
</body></html>
"""


def chosen_months(settings, spec: str | None) -> list[str]:
    """--months A..B (either side optional, or one month) among the summarized months.

    A spec that is not a month or a range of months, or a range that ends
    before it begins, is an argument error: the report is not written.
    """
    built = summarized_months(settings)
    if spec is None:
        return built
    first, dots, last = spec.strip().partition("..")
    last = last if dots else first
    for side in (first, last):
        if side and not months.is_month(side):
            raise UsageError(f"--months {spec!r}: expected YYYY-MM or YYYY-MM..YYYY-MM (either side may be "
                             f"left open), with months 01 to 12")
    if not (first or last):
        raise UsageError(f"--months {spec!r}: name at least one month")
    if first and last and last < first:
        raise UsageError(f"--months {spec}: the range ends before it begins")
    return [m for m in built if (not first or m >= first) and (not last or m <= last)]


def by_hand_dir(settings) -> Path:
    """Where `hzflow report` writes when not told: beside the published report, never over it."""
    return settings.work_dir / "report" / f"{settings.site}.by-hand"


def _output_dir(out_dir: Path) -> Path:
    """The report's directory, made if missing; a path that cannot be one is an argument error."""
    for part in (out_dir, *out_dir.parents):
        if part.exists():
            if not part.is_dir():
                raise UsageError(f"--out {out_dir}: {part} is not a directory")
            break
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out_dir}: cannot create it ({e.strerror})") from None
    return out_dir
