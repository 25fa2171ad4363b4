"""hzflow audit: is the data whole?  Per-month checks, each finding with the command that repairs it.

The reference's checks, with the same meaning:

  enrichment   a month whose share of rows without host, domain or country (web, websessions)
               exceeds five times the median of the other months and --floor (months of 100 rows and more)
  summaries    web rows but no month summary; some of the six periods missing; total users not
               registered + interactive + download; the stored hits cell not the sum of webhits;
               an all-time (period 14) figure lower than the month before's; the newest summary
               older than the newest finished month
  sources      web rows but no logins (or logins but no web rows) in a month; a week or more of
               days without any imported log
  sessions     web or toolstart rows stamped with a session that no longer exists
  webhits      a month's webhits not adding up to its web rows
  ledger       rows no imported_sources entry covers; an import's id span not its row count;
               overlapping imports; a reconstructed userlogin entry whose rows changed;
               AUTO_INCREMENT at or below MAX(id)

and what hzflow's markers and ledger add: a month stage older than what it was built from, a
month summarized before its last day was imported, and a ledger entry whose rows are gone.  The
reference's "dirty month stuck for two days" is a month marked with `hzflow mark-dirty` that no run
has reworked for 48 hours; its pipeline_state shape check has no counterpart (hzflow keeps no
such state).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import cached_property

from . import coverage, events, markers, months, periods, registry
from . import db as dbmod
from .imports.provenance import entry_rows
from .registry import AUDIT, RESOLVED, SESSIONS, SUMMARY

MIN_ROWS = 100
GAP_DAYS = 7
DIRTY_HOURS = 48
HITS_PERIODS = (periods.MONTH, periods.QUARTER)
ENRICHMENT = {"web": ("host", "domain", "ipcountry"), "websessions": ("host", "domain", "ipcountry")}
SUMMARY_TABLES = ("summary_user_vals", "summary_misc_vals", "summary_simusage_vals")


@dataclass
class Finding:
    check: str
    month: str          # YYYY-MM, or '' for the whole database
    detail: str
    fix: str


class Audit:
    """The checks over months [first, last]; `fix` spells the repair for a month in or out of the workflow."""

    def __init__(self, settings, cur, first: str, last: str, floor: float):
        self.settings, self.cur, self.first, self.last, self.floor = settings, cur, first, last, floor
        self.cov = coverage.Coverage(settings)
        self.findings: list[Finding] = []
        self.start, self.stop = f"{first}-01 00:00:00", f"{months.following(last)}-01 00:00:00"

    def add(self, check: str, month: str, detail: str, fix: str) -> None:
        self.findings.append(Finding(check, month, detail, fix))

    def rows(self, sql: str, args=()) -> list[tuple]:
        self.cur.execute(sql, args)
        return list(self.cur.fetchall())

    def fix(self, month: str, stage: str) -> str:
        if month in self.cov.months and stage in self.cov.stages(month):
            return f"hzflow rebuild {month} --stage {stage}"
        by_hand = {RESOLVED: f"hzflow resolve-dns metrics web {month} && hzflow fill-domain metrics web "
                                   f"{month} && hzflow fill-ipcountry metrics web {month} && hzflow "
                                   f"logfix-session {month} && hzflow summarize-month {month}",
                   SESSIONS: f"hzflow logfix-session {month} && hzflow summarize-month {month}",
                   SUMMARY: f"hzflow summarize-month {month}"}
        return by_hand[stage] + "   (outside the months the workflow builds)"

    def per_month(self, sql: str, args=()) -> dict[str, int]:
        return {m: int(n) for m, n in self.rows(sql, args) if m}

    @cached_property
    def web_by_month(self) -> dict[str, int]:
        """web rows per month of the scope (read once; three checks use it)."""
        return self.per_month("SELECT DATE_FORMAT(datetime, '%%Y-%%m') m, COUNT(*) FROM web WHERE datetime >= %s "
                              "AND datetime < %s GROUP BY m", (self.start, self.stop))

    # ------------------------------------------------------------ the reference's checks
    def enrichment(self) -> None:
        for table, columns in ENRICHMENT.items():          # one pass over a table's months for all its columns
            empties = ", ".join(f"SUM({c} IS NULL OR {c} = '')" for c in columns)
            found = self.rows(f"SELECT DATE_FORMAT(datetime, '%%Y-%%m') m, COUNT(*), {empties} FROM {table} "
                              f"WHERE datetime >= %s AND datetime < %s GROUP BY m HAVING COUNT(*) >= %s ORDER BY m",
                              (self.start, self.stop, MIN_ROWS))
            for i, column in enumerate(columns):
                shares = [(m, int(total), int(missing[i] or 0), int(missing[i] or 0) / int(total))
                          for m, total, *missing in found]
                for month, total, missing, share in shares:
                    others = sorted(s for m, *_, s in shares if m != month)
                    median = others[(len(others) - 1) // 2] if others else 0.0
                    if missing and share > max(median * 5, self.floor):
                        self.add("enrichment", month, f"{table}.{column} missing in {missing:,} of {total:,} rows "
                                 f"({share:.1%}; median month {median:.1%})", self.fix(month, RESOLVED))

    def summaries(self) -> None:
        web = self.web_by_month
        stored = defaultdict(set)
        for stamp, period in self.rows("SELECT DISTINCT datetime, period FROM summary_user_vals "
                                       "WHERE datetime >= %s AND datetime < %s", (f"{self.first}-00", self.stop)):
            stored[str(stamp)[:7]].add(int(period))
        for month in sorted(web):
            if periods.MONTH not in stored.get(month, set()):
                self.add("summary missing", month, f"{web[month]:,} web rows but no month summary",
                         self.fix(month, SUMMARY))
        for month, have in sorted(stored.items()):
            if set(periods.ALL) - have:
                self.add("summary periods", month, "periods " + ", ".join(map(str, sorted(set(periods.ALL) - have)))
                         + " missing", self.fix(month, SUMMARY))
        for (stamp,) in self.rows(
                "SELECT DISTINCT s1.datetime FROM summary_user_vals s1 LEFT JOIN summary_user_vals s2 "
                "ON s2.datetime = s1.datetime AND s2.period = s1.period AND s2.colid = s1.colid "
                "AND s2.valfmt = s1.valfmt AND s2.rowid IN (6, 7, 8) WHERE s1.rowid = 1 AND s1.value <> '' "
                "AND s1.datetime >= %s AND s1.datetime < %s GROUP BY s1.datetime, s1.period, s1.colid, s1.valfmt, "
                "s1.value HAVING CAST(s1.value AS DECIMAL(20,4)) <> COALESCE(SUM(CAST(s2.value AS DECIMAL(20,4))), 0)",
                (f"{self.first}-00", self.stop)):
            month = str(stamp)[:7]
            self.add("summary total", month, "total users is not registered + interactive + download",
                     self.fix(month, SUMMARY))
        self._hits()
        self._all_time()
        self._fresh()

    def _hits(self) -> None:
        for month in months.between(self.first, self.last):
            for period in HITS_PERIODS:
                start, stop = periods.window(month, period)
                (expected,), = self.rows("SELECT SUM(hits) FROM webhits WHERE datetime >= %s AND datetime < %s",
                                         (start, stop))
                cell = self.rows("SELECT value FROM summary_misc_vals WHERE rowid = 8 AND colid = 1 AND period = %s "
                                 "AND datetime = %s", (period, f"{month}-00"))
                if not cell:
                    continue
                have = cell[0][0]
                want = "" if expected is None else str(int(expected))
                if (have or "") != want and not (want == "" and have in ("0", "")):
                    self.add("hits cell", month, f"period {period} hits cell {have or '(empty)'}, webhits add up to "
                             f"{want or '(none)'}", self.fix(month, SUMMARY))
                    break

    def _all_time(self) -> None:
        for table in SUMMARY_TABLES:
            for stamp, rowid, colid, value, before in self.rows(
                    f"SELECT s1.datetime, s1.rowid, s1.colid, s1.value, s2.value FROM {table} s1 JOIN {table} s2 "
                    f"ON s2.rowid = s1.rowid AND s2.colid = s1.colid AND s2.valfmt = s1.valfmt AND s2.period = 14 "
                    f"AND s2.datetime = DATE_SUB(s1.datetime, INTERVAL 1 MONTH) WHERE s1.period = 14 "
                    f"AND s1.datetime >= %s AND s1.datetime < %s AND s1.value REGEXP '^[0-9]+(\\\\.[0-9]+)?$' "
                    f"AND s2.value REGEXP '^[0-9]+(\\\\.[0-9]+)?$' "
                    f"AND CAST(s1.value AS DECIMAL(30,4)) < CAST(s2.value AS DECIMAL(30,4))",
                    (f"{self.first}-00", self.stop)):
                month = str(stamp)[:7]
                self.add("all-time drop", month, f"{table} row {rowid} column {colid}: all-time figure fell from "
                         f"{before} to {value}", self.fix(month, SUMMARY))

    def _fresh(self) -> None:
        finished = [m for m in self.cov.months
                    if m <= self.last and self.cov.complete(m) and not self.cov.is_no_data(m)]
        if not finished:
            return
        newest = finished[-1]
        for table in ("summary_user_vals", "summary_misc_vals"):
            (latest,), = self.rows(f"SELECT MAX(datetime) FROM {table} WHERE value <> ''")
            if latest is None or str(latest)[:7] < newest:
                self.add("summary stale", newest, f"{table}: newest month {str(latest)[:7] if latest else 'none'}, "
                         f"but {newest} is finished", self.fix(newest, SUMMARY))

    def sources(self) -> None:
        web = self.web_by_month
        logins = self.per_month("SELECT DATE_FORMAT(datetime, '%%Y-%%m') m, COUNT(*) FROM userlogin "
                                "WHERE datetime >= %s AND datetime < %s GROUP BY m", (self.start, self.stop))
        for month in sorted(set(web) | set(logins)):
            w, u = web.get(month, 0), logins.get(month, 0)
            if w and not u:
                self.add("no logins", month, f"{w:,} web rows but no userlogin rows: the auth logs were lost or "
                         f"never imported", f"put the month's cmsauth logs in {self.settings.hub_daily}; "
                         f"hzflow cron imports them and rebuilds the month")
            elif u >= 10 and not w:
                self.add("no web rows", month, f"{u:,} logins but no web rows: the access logs were lost or never "
                         f"imported", f"put the month's access logs in {self.settings.apache_daily}; "
                         f"hzflow cron imports them and rebuilds the month")
        covered = {d for (d,) in self.rows("SELECT DISTINCT DATE(datetime) FROM web WHERE datetime >= %s "
                                           "AND datetime < %s", (self.start, self.stop)) if d}
        for (name,) in self.rows("SELECT filename FROM imported_sources"):
            stamp = re.findall(r"(?<!\d)(\d{8})(?!\d)", name or "")
            if stamp:
                try:
                    covered.add(date(int(stamp[-1][:4]), int(stamp[-1][4:6]), int(stamp[-1][6:])))
                except ValueError:
                    pass
        inside = sorted(d for d in covered if self.start[:10] <= str(d) < self.stop[:10])
        for a, b in zip(inside, inside[1:], strict=False):
            if (b - a).days > GAP_DAYS:
                first, last = a + timedelta(days=1), b - timedelta(days=1)
                self.add("import gap", months.of(first), f"{(last - first).days + 1} days without any imported "
                         f"log: {first} .. {last}", "look for those days' logs (daily/, daily.holding/, imported/); "
                         "list months that truly had no traffic under months.no_data")

    def sessions(self) -> None:
        for table in ("web", "toolstart"):
            for month, n in self.rows(f"SELECT DATE_FORMAT(x.datetime, '%%Y-%%m') m, COUNT(*) FROM {table} x "
                                      f"LEFT JOIN websessions s ON s.id = x.sessionid WHERE x.datetime >= %s "
                                      f"AND x.datetime < %s AND x.sessionid IS NOT NULL AND x.sessionid <> 0 "
                                      f"AND s.id IS NULL GROUP BY m", (self.start, self.stop)):
                self.add("orphan stamps", month, f"{n:,} {table} rows stamped with a session that no longer exists",
                         self.fix(month, SESSIONS))

    def webhits(self) -> None:
        hits = self.per_month("SELECT DATE_FORMAT(datetime, '%%Y-%%m') m, COALESCE(SUM(hits), 0) FROM webhits "
                              "WHERE datetime >= %s AND datetime < %s GROUP BY m", (self.start, self.stop))
        for month, rows in sorted(self.web_by_month.items()):
            if rows != hits.get(month, 0):
                self.add("webhits", month, f"{rows:,} web rows but webhits add up to {hits.get(month, 0):,}",
                         f"hzflow rebuild-webhits {month} && " + self.fix(month, SUMMARY))

    def ledger(self) -> None:
        for table in ("web", "userlogin"):
            entries = self.rows("SELECT filename, pk_start, pk_end, row_count, origin, detail FROM imported_sources "
                                "WHERE target_table = %s AND pk_start IS NOT NULL ORDER BY pk_start, pk_end", (table,))
            uncovered, high, importer_high = [], None, None
            for name, a, b, n, origin, detail in entries:
                if origin == "importer":
                    if table == "web" and b - a + 1 != n:       # userlogin skips duplicates' ids
                        self.add("ledger span", "", f"{name}: ids {a}..{b} for {n:,} {table} rows",
                                 f"hzflow forget-import {name} {table}, then hzflow cron imports it again")
                    if importer_high is not None and a <= importer_high:
                        self.add("ledger overlap", "", f"{name}: {table} ids {a}..{b} overlap an earlier import",
                                 f"compare the two files' rows; hzflow forget-import {name} {table} if it is the copy")
                    importer_high = max(importer_high or 0, b)
                if high is not None and a > high + 1:
                    uncovered.append((high + 1, a - 1))
                high = b if high is None else max(high, b)
                where, args = entry_rows(a, b, detail)
                (left,), = self.rows(f"SELECT COUNT(*) FROM {table} WHERE {where}", args)
                if n and not left:
                    self.add("ledger rows gone", "", f"{name}: its {n:,} {table} rows are no longer there",
                             f"hzflow forget-import {name} {table}, then hzflow cron imports it again")
                elif origin == "reconstruct" and table == "userlogin" and left != n:
                    self.add("ledger drift", "", f"{name}: {left:,} userlogin rows in its range, {n:,} recorded",
                             f"hzflow forget-import {name} userlogin && hzflow adopt")
            (lo, hi), = self.rows(f"SELECT MIN(id), MAX(id) FROM {table}")
            if lo is None:
                continue
            if not entries:
                uncovered = [(lo, hi)]
            else:
                if lo < entries[0][1]:
                    uncovered.append((lo, entries[0][1] - 1))
                if hi > high:
                    uncovered.append((high + 1, hi))
            outside = sum(self.rows(f"SELECT COUNT(*) FROM {table} WHERE id BETWEEN %s AND %s", r)[0][0]
                          for r in uncovered)
            if outside:
                self.add("ledger coverage", "", f"{outside:,} {table} rows no imported_sources entry covers",
                         "hzflow adopt   (records the logs those rows came from, where the logs are still there)")
            (auto,), = self.rows("SELECT auto_increment FROM information_schema.tables WHERE table_schema = %s "
                                 "AND table_name = %s", (self.settings.db.metrics_db, table))
            if auto is not None and auto <= hi:
                self.add("auto_increment", "", f"{table}: AUTO_INCREMENT {auto} is not above MAX(id) {hi}; hzflow "
                         f"numbers rows itself, the legacy scripts would collide", f"ALTER TABLE {table} "
                         f"AUTO_INCREMENT = {hi + 1}   (as the database owner)")

    # ------------------------------------------------------------ what markers add
    def markers(self) -> None:
        cov = self.cov
        for month in cov.months:
            if not self.first <= month <= self.last:
                continue
            times = {}
            for stage in registry.MONTH_STAGES:
                path = markers.marker(self.settings, stage, month)
                if path.exists():
                    times[stage] = path.stat().st_mtime
            for before, after in registry.chain():
                if before in times and after in times and times[after] < times[before]:
                    self.add("stale stage", month, f"{after} was built before its {before} input changed",
                             "hzflow cron   (rebuilds it)")
            dirty = markers.dirty_note(self.settings, month)
            if dirty.exists() and not markers.marker(self.settings, RESOLVED, month).exists():
                hours = (time.time() - dirty.stat().st_ctime) / 3600
                if hours > DIRTY_HOURS:
                    self.add("dirty stuck", month, f"marked dirty {hours:.0f} hours ago and not reworked "
                             f"since: no cron has run, or its runs fail (hzflow status)",
                             f"hzflow cron   (or: hzflow clear-dirty {month})")
            days = cov.recorded_days_of(month) + cov.late_days(month)
            if SUMMARY in times and days:
                newest = max(markers.day_marker(self.settings, d).stat().st_mtime for d in days)
                if times[SUMMARY] < newest:
                    self.add("summarized early", month, "summarized before its last day's logs were imported",
                             self.fix(month, SUMMARY))

    def run(self) -> list[Finding]:
        for check in (self.enrichment, self.summaries, self.sources, self.sessions, self.webhits, self.ledger,
                      self.markers):
            check()
        return self.findings


def scope(settings, *, month: str | None, last_months: int, every: bool, cur) -> tuple[str, str]:
    """The months audited: one, the last N finished ones, or every month with data."""
    if month:
        return month, month
    last = months.preceding(months.current())
    if every:
        return (_first_data_month(cur) or last), last
    first = last
    for _ in range(max(1, last_months) - 1):
        first = months.preceding(first)
    return first, last


def _first_data_month(cur) -> str | None:
    cur.execute("SELECT DATE_FORMAT(MIN(d), '%Y-%m') FROM (SELECT MIN(datetime) d FROM web WHERE datetime > "
                "'1000-01-01' UNION ALL SELECT MIN(datetime) FROM websessions WHERE datetime > '1000-01-01') t")
    return cur.fetchone()[0]


def audit(settings, *, month: str | None = None, last_months: int = 24, every: bool = False, floor: float = 0.05,
          as_json: bool = False, marker=None, say=print) -> int:
    """Print (or, for a workflow job with its marker, record) the findings; a job's start and finish are events."""
    job = bool(month and marker)
    began = time.monotonic()
    if job:
        events.emit(settings, "start", AUDIT, month)
    with dbmod.cursor(settings) as cur:
        first, last = scope(settings, month=month, last_months=last_months, every=every, cur=cur)
        found = Audit(settings, cur, first, last, floor).run()
    if job:
        markers.write(marker, {"stage": AUDIT, "site": settings.site, "unit": month,
                               "findings": [asdict(f) for f in found]})
        events.emit(settings, "finish", AUDIT, month, seconds=round(time.monotonic() - began, 3),
                    findings=len(found))
    if as_json:
        say(json.dumps({"first": first, "last": last, "findings": [asdict(f) for f in found]}, indent=2))
    else:
        say(f"audit {first} .. {last}: " + (f"{len(found)} finding(s)" if found else "no findings"))
        for f in found:
            say(f"  {f.month or 'database':<9} {f.check:<17} {f.detail}")
            say(f"  {'':<9} {'':<17} fix: {f.fix}")
    return 1 if found and not marker else 0
