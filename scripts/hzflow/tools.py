"""Per-tool and per-resource statistics in the hub database.

gen-tool-stats      jos_resource_stats_tools (+ the subset in jos_resource_stats) per tool and period
gen-tool-tops       jos_resource_stats_tools_topvals: a tool's users by country, domain, org type
gen-tool-toplists   jos_stats_topvals: tools ranked by users, runs, wall, CPU and interaction time
andmore-usage       jos_resource_stats: distinct visitors of every other resource (periods 12, 14, 1)

Legacy semantics: tool windows compare `start > first day AND start < stop`
(the first midnight of a period is outside); rows are dated
'YYYY-MM-00 00:00:00'.  The hub tables are MyISAM in HUBzero, so each cell
is replaced by its own statement; rerunning a month rewrites the same cells.
"""

from __future__ import annotations

import re

from . import db as dbmod
from . import periods
from .db import quote_ident as q
from .months import stamp as month_stamp

STAT_FIELDS = ("users", "sessions", "simulations", "jobs", "avg_wall", "tot_wall", "avg_cpu", "tot_cpu",
               "avg_view", "tot_view", "avg_wait", "tot_wait", "avg_cpus", "tot_cpus")


class _Hub:
    """Qualified hub and metrics table names for one config."""

    def __init__(self, settings):
        d = settings.db
        self.hub, self.met, self.p = q(d.hub_db), q(d.metrics_db), d.prefix

    def __call__(self, name: str) -> str:
        return f"{self.hub}.{q(self.p + name)}"

    def raw(self, name: str) -> str:
        return f"{self.hub}.{q(name)}"


def tool_aliases(cur, t: _Hub, alias: str) -> list[str]:
    """The tool's alias and every non-development instance name of it."""
    cur.execute(f"SELECT DISTINCT instance FROM {t('tool_version')} WHERE toolname = %s "
                f"AND instance NOT LIKE %s", (alias, "%\\_dev"))
    return [alias] + [inst for (inst,) in cur.fetchall() if inst]


def _tool_names(cur, table: str, like: str, tools) -> str:
    """A temporary (tool, appname) table of each tool's names, spelled as `like`'s appname column.

    Joining it matches a row's appname to the names as `appname IN (names)`
    does (under the same collation), for every tool in one question.
    """
    cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TEMPORARY TABLE {table} (UNIQUE KEY (appname, tool)) "
                f"SELECT CAST(0 AS SIGNED) AS tool, appname FROM {like} LIMIT 0")
    pairs = [(tool, name) for tool, names in tools for name in names]
    if pairs:
        cur.executemany(f"INSERT IGNORE INTO {table} (tool, appname) VALUES (%s, %s)", pairs)
    return table


def gather_tool_sessions(cur, t: _Hub, tools, stop: str) -> str:
    """The hub's sessions of every tool that a period of the month can count, keyed (tool, sessnum).

    The hub's sessionlog has no index on appname or start: asking it per
    tool and period walked all its years a few hundred times.  One walk
    copies each tool's sessions (every column, as they are) under the tool's
    resource id; a tool's counts then read its own rows, in sessnum order
    as a walk of sessionlog meets them, so even the floating-point sums
    add up in the same order.  A session whose appname two tools claim is
    under both, as each tool's own query counted it.
    """
    gathered = f"{t.met}.hz_tool_sessions"
    names = _tool_names(cur, f"{t.met}.hz_tool_names", t.raw("sessionlog"),
                        [(resid, aliases) for resid, _, aliases in tools])
    cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {gathered}")
    cur.execute(f"CREATE TEMPORARY TABLE {gathered} (PRIMARY KEY (tool, sessnum)) IGNORE "
                f"SELECT n.tool, s.* FROM {t.raw('sessionlog')} s JOIN {names} n ON n.appname = s.appname "
                f"WHERE s.start > %s AND s.start < %s", (periods.ALL_TIME_START, stop))
    return gathered


def tool_stats(cur, t: _Hub, gathered: str, tool: int, aliases: list[str], start: str, stop: str) -> dict:
    """Users, sessions, runs and times of a tool's sessions started within (start, stop).

    Two questions of the tool's gathered sessions (gather_tool_sessions), one
    over the sessions and one over their jobs, each summing under the
    conditions the legacy per-figure queries put in their WHERE.
    """
    s = dict.fromkeys(STAT_FIELDS, 0)
    args = (tool, aliases, start, stop)
    window = "s.tool = %s AND s.appname IN %s AND s.start > %s AND s.start < %s"
    source = f"{gathered} s WHERE "
    cur.execute(f"SELECT COUNT(DISTINCT s.username), COUNT(*), COALESCE(SUM(s.walltime), 0), "
                f"COALESCE(SUM(s.viewtime), 0) FROM {source}{window}", args)
    users, sessions, wall, view = cur.fetchone()
    s["users"] = users or 0
    if not s["users"]:
        return s
    counted, waiting = "j.event <> '[waiting]' AND j.job > 0", "j.event = '[waiting]' AND j.job > 0"
    joined = f"{gathered} s JOIN {t.raw('joblog')} j ON s.sessnum = j.sessnum WHERE "
    cur.execute(f"SELECT COALESCE(SUM({counted}), 0), COALESCE(SUM(j.event <> 'application' AND j.superjob = 0), 0), "
                f"COALESCE(SUM(IF({counted}, j.cputime, 0)), 0), COALESCE(SUM(IF({waiting}, j.walltime, 0)), 0), "
                f"SUM(j.ncpus) FROM {joined}{window}", args)
    jobs, runs, cpu, wait, cpus = cur.fetchone()
    s["jobs"], s["sessions"], s["simulations"] = int(jobs), sessions or 0, int(runs)
    runs = s["simulations"]
    for name, total in (("wall", wall), ("cpu", cpu), ("view", view), ("wait", wait)):
        s[f"tot_{name}"] = total = float(total or 0)
        if total and runs:
            s[f"avg_{name}"] = total / runs
    s["tot_cpus"] = int(cpus or 0)
    if s["tot_cpus"] and runs:
        s["avg_cpus"] = round(s["tot_cpus"] / runs)
    return s


def _tools(cur, t: _Hub):
    cur.execute(f"SELECT id, alias FROM {t('resources')} WHERE type = '7' AND alias <> '' ORDER BY title")
    return cur.fetchall()


def gen_tool_stats(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    t = _Hub(settings)
    stamp = month_stamp(month)
    cells = 0
    with dbmod.cursor(settings, None) as cur:
        tools = [(resid, alias, tool_aliases(cur, t, alias)) for resid, alias in _tools(cur, t)]
        gathered = gather_tool_sessions(cur, t, tools, periods.window(month, periods.MONTH)[1])
        for resid, alias, aliases in tools:
            for period in periods.ALL:
                stats = tool_stats(cur, t, gathered, resid, aliases, *periods.window(month, period))
                cells += 1
                if dry_run:
                    say(f"[dry-run] tool {resid} ({alias}) period {period}: {stats['users']} users, "
                        f"{stats['simulations']} runs")
                    continue
                _store_tool_stats(cur, t, resid, stamp, period, stats)
                _store_resource_stats(cur, t, resid, stamp, period)
    say(f"gen-tool-stats {month}: {cells} tool/period cells")
    return {"stage": "gen-tool-stats", "cells": cells}


def _store_tool_stats(cur, t, resid, stamp, period, stats):
    cur.execute(f"SELECT id FROM {t('resource_stats_tools')} WHERE restype = '7' AND datetime = %s "
                f"AND resid = %s AND period = %s", (stamp, resid, period))
    row = cur.fetchone()
    values = tuple(stats[f] for f in STAT_FIELDS)
    if row:
        assignments = ", ".join(f"{f} = %s" for f in STAT_FIELDS)
        cur.execute(f"UPDATE {t('resource_stats_tools')} SET {assignments}, processed_on = NOW() "
                    f"WHERE id = %s", (*values, row[0]))
    else:
        cur.execute(f"INSERT INTO {t('resource_stats_tools')} (resid, restype, {', '.join(STAT_FIELDS)}, "
                    f"datetime, period, processed_on) VALUES (%s, '7', {', '.join(['%s'] * len(values))}, "
                    f"%s, %s, NOW())", (resid, *values, stamp, period))


def _store_resource_stats(cur, t, resid, stamp, period):
    """Copy the tool row's summary columns to jos_resource_stats.

    The values travel as their decimal text, as the legacy code's did, so the
    integer columns round a fraction of exactly .5 up.
    """
    cur.execute(f"SELECT id FROM {t('resource_stats')} WHERE restype = '7' AND datetime = %s "
                f"AND period = %s AND resid = %s", (stamp, period, resid))
    row = cur.fetchone()
    cur.execute(f"SELECT resid, restype, users, jobs, avg_wall, tot_wall, avg_cpu, tot_cpu "
                f"FROM {t('resource_stats_tools')} WHERE datetime = %s AND period = %s AND resid = %s",
                (stamp, period, resid))
    for values in cur.fetchall():
        values = tuple(str(v) if isinstance(v, float) else v for v in values)
        if row:
            cur.execute(f"UPDATE {t('resource_stats')} SET resid = %s, restype = %s, users = %s, "
                        f"jobs = %s, avg_wall = %s, tot_wall = %s, avg_cpu = %s, tot_cpu = %s, "
                        f"processed_on = NOW() WHERE id = %s", (*values, row[0]))
        else:
            cur.execute(f"INSERT INTO {t('resource_stats')} (resid, restype, users, jobs, avg_wall, "
                        f"tot_wall, avg_cpu, tot_cpu, datetime, period, processed_on) "
                        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NOW())", (*values, stamp, period))


# ------------------------------------------------------------------ tops
TOP_COUNTRY, TOP_DOMAIN, TOP_ORGTYPE = 1, 2, 3


# What each breakdown groups sessions by, the name it shows for a group, and the table that name comes from.
_TOP_GROUPS = {TOP_COUNTRY: ("s.countryresident", "c.name", "LEFT JOIN {met}.countries c ON s.countryresident = c.code"),
               TOP_DOMAIN: ("s.domain", "s.domain", ""),
               TOP_ORGTYPE: ("u.orgtype", "u.orgtype", "JOIN {met}.{profiles} u ON s.user = u.username")}
_TOP_LIMIT = {TOP_COUNTRY: 10, TOP_DOMAIN: 10, TOP_ORGTYPE: None}


def _top_rows(cur, t: _Hub, top: int, aliases, start, stop):
    """(name, users) ranked for one tool, one breakdown, one window: the legacy question as it is."""
    sessions = "appname IN %s AND start > %s AND start < %s"
    if top == TOP_COUNTRY:
        cur.execute(f"SELECT countryresident AS country, name, COUNT(DISTINCT user) AS cnt "
                    f"FROM {t.met}.sessionlog_metrics LEFT JOIN {t.met}.countries ON countryresident = code "
                    f"WHERE {sessions} GROUP BY country ORDER BY cnt DESC, country ASC LIMIT 10",
                    (aliases, start, stop))
        return [(name or "Unknown", cnt) for _, name, cnt in cur.fetchall()]
    if top == TOP_DOMAIN:
        cur.execute(f"SELECT domain AS dom, COUNT(DISTINCT user) AS cnt FROM {t.met}.sessionlog_metrics "
                    f"WHERE {sessions} GROUP BY dom ORDER BY cnt DESC, dom ASC LIMIT 10", (aliases, start, stop))
        return [(dom or "Unknown", cnt) for dom, cnt in cur.fetchall()]
    cur.execute(f"SELECT u.orgtype, COUNT(DISTINCT s.user) AS cnt FROM {t.met}.sessionlog_metrics s "
                f"JOIN {t.met}.{q(t.p + 'xprofiles_metrics')} u ON s.user = u.username "
                f"WHERE s.appname IN %s AND s.start > %s AND s.start < %s "
                f"GROUP BY u.orgtype ORDER BY cnt DESC, u.orgtype ASC", (aliases, start, stop))
    return [(org or "Unknown", cnt) for org, cnt in cur.fetchall()]


def _tops(cur, t: _Hub, top: int, tools: dict[str, list[str]], names: str, windows) -> dict:
    """{(alias, window): ranked (name, users)} for one breakdown of every tool, in one question.

    The legacy question is asked once per tool and period, and the periods
    of a month share their stop, so one walk of the widest window counts
    each group's distinct users after every period's start at once.  The
    groups come back in the collation's order of the group, which is the
    legacy tie-break of equal counts.  A group's name is that of the
    first row the server meets, so where a group holds spellings that
    differ (case, trailing spaces) the name would depend on the server's
    plan for each window: such a tool is asked the legacy questions.
    `names` is the _tool_names table of `tools`, numbered in sorted alias order.
    """
    starts = sorted({start for start, _ in windows})
    stop = {stop for _, stop in windows}
    if len(stop) != 1:
        raise ValueError(f"the periods of one month end together, not at {sorted(stop)}")
    stop = stop.pop()
    by_alias = sorted(tools)
    group, shown, joined = _TOP_GROUPS[top]
    joined = joined.format(met=t.met, profiles=q(t.p + "xprofiles_metrics"))
    counts = ", ".join(["COUNT(DISTINCT IF(s.start > %s, s.user, NULL))"] * len(starts))
    cur.execute(f"SELECT n.tool, {shown}, (MIN(BINARY {shown}) <=> MAX(BINARY {shown})) "
                f"AND COUNT({shown}) IN (0, COUNT(*)), {counts} "
                f"FROM {t.met}.sessionlog_metrics s JOIN {names} n ON n.appname = s.appname {joined} "
                f"WHERE s.start > %s AND s.start < %s GROUP BY n.tool, {group} ORDER BY n.tool, {group}",
                (*starts, starts[0], stop))
    groups: dict[str, list] = {alias: [] for alias in by_alias}
    for tool, name, one_spelling, *users in cur.fetchall():
        groups[by_alias[tool]].append((name, one_spelling, users))
    column = {start: at for at, start in enumerate(starts)}
    out = {}
    for alias, rows in groups.items():
        one_spelling_each = all(one for _, one, _ in rows)
        for window in windows:
            if not one_spelling_each:
                out[alias, window] = _top_rows(cur, t, top, tools[alias], *window)
                continue
            at = column[window[0]]
            ranked = sorted(((name or "Unknown", users[at]) for name, _, users in rows if users[at]),
                            key=lambda row: -row[1])
            out[alias, window] = ranked[:_TOP_LIMIT[top]]
    return out


def gen_tool_tops(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    """For every standalone tool's stats row of the month: users by country, domain and org type."""
    t = _Hub(settings)
    with dbmod.cursor(settings, None) as cur:
        cur.execute(f"SELECT st.id, res.alias, st.users, st.period FROM {t('resource_stats_tools')} st "
                    f"JOIN {t('resources')} res ON st.resid = res.id WHERE st.restype = '7' "
                    f"AND res.standalone = '1' AND st.datetime = %s", (month_stamp(month),))
        stats_rows = [(stat_id, alias, users, periods.window(month, period))
                      for stat_id, alias, users, period in cur.fetchall()]
        written = _write_tops(cur, t, stats_rows, dry_run=dry_run, say=say) if stats_rows else 0
    say(f"gen-tool-tops {month}: {written} ranked rows")
    return {"stage": "gen-tool-tops", "rows": written}


def _write_tops(cur, t: _Hub, stats_rows: list, *, dry_run: bool, say) -> int:
    """Each stats row's ranked lists, written in place of its old ones; the number of rows written."""
    written = 0
    tools = {alias: tool_aliases(cur, t, alias) for alias in {alias for _, alias, _, _ in stats_rows}}
    windows = sorted({window for *_, window in stats_rows})
    names = _tool_names(cur, f"{t.met}.hz_top_names", f"{t.met}.sessionlog_metrics",
                        [(i, tools[alias]) for i, alias in enumerate(sorted(tools))])
    for top in (TOP_COUNTRY, TOP_DOMAIN, TOP_ORGTYPE):
        ranked = _tops(cur, t, top, tools, names, windows)
        for stat_id, alias, users, window in stats_rows:
            rows = ranked[alias, window]
            if top == TOP_COUNTRY and not rows:
                rows = [("Unknown", users)]
            if dry_run:
                say(f"[dry-run] top {top} of stats row {stat_id}: {rows[:3]}")
                continue
            cur.execute(f"DELETE FROM {t('resource_stats_tools_topvals')} WHERE id = %s AND top = %s",
                        (stat_id, top))
            cur.executemany(f"INSERT INTO {t('resource_stats_tools_topvals')} (id, top, `rank`, name, "
                            f"value) VALUES (%s, %s, %s, %s, %s)",
                            [(stat_id, top, 0, "Total Users", users)]
                            + [(stat_id, top, rank, name, cnt)
                               for rank, (name, cnt) in enumerate(rows, start=1)])
            written += 1 + len(rows)
    return written


# ------------------------------------------------------------ toplists
TOPLISTS = ((2, "Total Simulation Users", "users"), (5, "Total Simulation Runs", "jobs"),
            (6, "Total Simulation Wall Time", "tot_wall"), (7, "Total Simulation CPU Time", "tot_cpu"),
            (8, "Total Simulation Interaction Time", "tot_view"))


def gen_tool_toplists(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    """Published tools ranked per measure and period (rank 0 is the hub-wide total).

    Equal values are ranked by resource id, so a rerun gives the same order.
    """
    t = _Hub(settings)
    stamp = month_stamp(month)
    written = 0
    with dbmod.cursor(settings, None) as cur:
        for top, label, column in TOPLISTS:
            for period in periods.ALL:
                start, stop = periods.window(month, period)
                if column == "users":
                    cur.execute(f"SELECT COUNT(DISTINCT user) FROM {t.met}.sessionlog_metrics "
                                f"WHERE start > %s AND start < %s", (start, stop))
                else:
                    cur.execute(f"SELECT SUM({column}) FROM {t('resource_stats_tools')} "
                                f"WHERE period = %s AND datetime = %s", (period, stamp))
                total = cur.fetchone()[0] or 0
                cur.execute(f"SELECT res.title, st.resid, st.{column} AS cnt FROM {t('resource_stats_tools')} st "
                            f"JOIN {t('resources')} res ON res.id = st.resid WHERE res.published = 1 "
                            f"AND st.period = %s AND st.datetime = %s ORDER BY cnt DESC, st.resid ASC",
                            (period, stamp))
                rows = [(top, stamp, period, 0, label, total)] + [
                    (top, stamp, period, rank, f"{resid} ~ {title}", cnt or 0)
                    for rank, (title, resid, cnt) in enumerate(cur.fetchall(), start=1)]
                if dry_run:
                    say(f"[dry-run] toplist {top} period {period}: {len(rows)} rows")
                    continue
                cur.execute(f"DELETE FROM {t('stats_topvals')} WHERE top = %s AND datetime = %s "
                            f"AND period = %s", (top, stamp, period))
                cur.executemany(f"INSERT INTO {t('stats_topvals')} (top, datetime, period, `rank`, name, "
                                f"value) VALUES (%s, %s, %s, %s, %s, %s)", rows)
                written += len(rows)
    say(f"gen-tool-toplists {month}: {written} rows")
    return {"stage": "gen-tool-toplists", "rows": written}


# -------------------------------------------------------- andmore usage
ANDMORE_PERIODS = (periods.ROLLING_12, periods.ALL_TIME, periods.MONTH)
_NUMBERED_PATH = re.compile(r"^([0-9]+)(.+)$")
_SITE_PATH = re.compile(r"^/(resources|site/resources|local|site)/(.+)$")
_TOPICS_PATH = re.compile(r"^/topics/(.+)$")
_LM_FILE = re.compile(r"^lm/(.+)/(.+)\.(.+)$")


def _descendants(cur, t: _Hub, parent: int) -> list[int]:
    """The resource and every resource below it in jos_resource_assoc."""
    seen, frontier = {int(parent)}, {int(parent)}
    while frontier:
        cur.execute(f"SELECT DISTINCT child_id FROM {t('resource_assoc')} WHERE parent_id IN %s "
                    f"AND child_id NOT IN %s", (sorted(frontier), sorted(seen)))
        frontier = {int(r[0]) for r in cur.fetchall()} - seen
        seen |= frontier
    return sorted(seen)


def content_matches(paths) -> list[tuple[str, str]]:
    """(SQL condition on web.content, value) for each resource file path, by the legacy path rules."""
    out = []
    for path in paths:
        path = path.replace(" ", "%20")
        if _NUMBERED_PATH.match(path):
            parts = path.split("/")
            if parts[-1] == "viewer.swf":
                out.append(("content LIKE %s", f"/site/resources/{path[:path.rfind('viewer.swf')]}%"))
            else:
                out.append(("content = %s", f"/site/resources/{path}"))
                second_last = parts[-2] if len(parts) >= 2 else ""
                out.append(("content = %s", f"/resources/{second_last.lstrip('0')}/download/{parts[-1]}"))
        elif _SITE_PATH.match(path):
            out.append(("content = %s", path))
        elif _TOPICS_PATH.match(path):
            out.append(("content LIKE %s", f"{path}%"))
        elif path.startswith("lm/") and _LM_FILE.match(path):
            out.append(("content LIKE %s", f"{path[:path.rfind('/')]}/%"))
        else:
            out.append(("content = %s", f"/site/resources/{path}"))
    return out


def andmore_usage(settings, month: str, *, dry_run: bool = False, say=print) -> dict:
    """Distinct (ip, host) visitors of each published non-tool resource and its children."""
    t = _Hub(settings)
    stamp = f"{month}-01"
    scored = skipped = 0
    with dbmod.cursor(settings, None) as cur:
        cur.execute(f"SELECT DISTINCT id, type FROM {t('resources')} WHERE published = 1 "
                    f"AND standalone = 1 AND type <> 7 ORDER BY publish_up DESC")
        for resid, restype in cur.fetchall():
            family = _descendants(cur, t, resid)
            cur.execute(f"SELECT path FROM {t('resources')} WHERE path <> '' AND id IN %s "
                        f"AND path NOT LIKE 'http%%'", (family,))
            matches = content_matches([p for (p,) in cur.fetchall()])
            if not matches:
                skipped += 1
                continue
            where = " OR ".join(cond for cond, _ in matches)
            for period in ANDMORE_PERIODS:
                start, stop = periods.window(month, period)
                cur.execute(f"SELECT COUNT(DISTINCT ip, host) FROM {t.met}.web WHERE ({where}) "
                            f"AND datetime >= %s AND datetime < %s",
                            [v for _, v in matches] + [start, stop])
                users = cur.fetchone()[0] or 0
                if dry_run:
                    say(f"[dry-run] resource {resid} period {period}: {users} users")
                    continue
                cur.execute(f"INSERT INTO {t('resource_stats')} (resid, restype, users, datetime, period) "
                            f"VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE users = VALUES(users)",
                            (resid, restype, users, stamp, period))
            scored += 1
    say(f"andmore-usage {month}: {scored} resources scored, {skipped} without paths")
    return {"stage": "andmore-usage", "resources": scored, "without_paths": skipped}
