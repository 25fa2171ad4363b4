"""import-apache: one access log into `web` and `webhits`, atomically.

parse → filter → write a TSV → one transaction: claim the file in
`imported_sources`, LOAD DATA into `web`, the file's per-day `webhits`,
new crawler agents into `bot_useragents`, commit.  A file already claimed
is skipped, so importing it again changes nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import db as dbmod
from . import logparse as lp
from . import stream
from .bots import record_bot_agents
from .provenance import Claimed, claim, is_imported

WEB_COLUMNS = ("datetime", "content", "ip", "uidNumber", "apache_pid", "referrer", "useragent",
               "joomla_sessionid", "site_cookie", "auth_type", "component_name", "view_name",
               "task_name", "action_name", "item_name", "dnload")


@dataclass
class Filters:
    """exclude_list entries (lower-cased) and the exact crawler agents, read once per file."""
    ips: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    bots: frozenset[str] = frozenset()

    @classmethod
    def load(cls, cur) -> "Filters":
        cur.execute("SELECT type, filter FROM exclude_list WHERE type IN ('ip', 'useragent', 'url')")
        lists: dict[str, list[str]] = {"ip": [], "useragent": [], "url": []}
        for kind, value in cur.fetchall():
            if value:
                lists[kind].append(value.lower())
        cur.execute("SELECT useragent FROM bot_useragents")
        return cls(lists["ip"], lists["useragent"], lists["url"],
                   frozenset(r[0] for r in cur.fetchall()))


@dataclass
class ScanResult(lp.LineCounts):
    downloads: int = 0
    hits_by_day: Counter = field(default_factory=Counter)
    agents: set[str] = field(default_factory=set)

    def summary(self) -> dict:
        return {**super().summary(), "downloads": self.downloads,
                "hits_by_day": dict(sorted(self.hits_by_day.items()))}


def _fields(line: str, fast=lp.ACCESS_CURRENT_FAST.match):
    """The stored fields of one line, in WEB_COLUMNS order minus dnload, or None."""
    m = fast(line) if line.count('"') == 6 else None
    if m is None:
        m = lp.ACCESS_CURRENT.match(line)
    if m:
        g = m.groups()
        uid = g[14]
        return (g[0], g[1], g[5], g[6], g[7], g[8], g[9], g[10], uid, g[3],
                g[15], g[16], g[17], g[18], g[19], g[20], g[21], g[22])
    m = lp.ACCESS_OLD.match(line)
    if m:
        g = m.groups()
        return (g[0], g[1], g[4], g[5], g[6], g[7], g[8], g[9], "", "",
                "", g[13], "", "", "", "", "", "")
    return None


def _uid(text: str) -> int:
    if not text or text == "-":
        return 0
    try:
        return int(text)
    except ValueError:
        return 0


def _classify_request(request: str, url_words: list[str]):
    """Everything the filters need from a request line; pure, so it is cached per request."""
    method, url = lp.split_request(request)
    events = lp.EVENTS_YEAR.match(url)
    return (method, url, method in ("GET", "POST"), lp.contains_any(url, url_words),
            lp.is_static_or_internal(url) and not lp.RESOURCES.match(url),
            bool(lp.NO_REFERRER_CRAWL.match(url)), int(events.group(1)) if events else None,
            1 if lp.is_download(url) else 0)


def _classify_agent(agent: str, agent_words: list[str], bots: frozenset[str]):
    return (lp.contains_any(agent, agent_words), bool(agent) and agent != "-" and agent in bots,
            lp.is_old_msie(agent, lp.OLD_MSIE_FROM))


_CACHE_LIMIT = 200_000
_TABS_IN_ROW = len(WEB_COLUMNS) - 1


def scan(lines, filters: Filters, write, result: ScanResult, sample_limit: int = 5) -> None:
    """Parse and filter every line, calling write(tsv_line) for each kept row.

    The order of the checks is the legacy importer's, and each skip is counted
    under its reason.  Requests and agents repeat heavily, so their
    classification is computed once and cached.
    """
    skipped = result.skipped
    hits = result.hits_by_day
    agents = result.agents
    tsv = dbmod.tsv_field
    ips, agent_words, url_words, bots = filters.ips, filters.agents, filters.urls, filters.bots
    requests_seen: dict = {}
    agents_seen: dict = {}
    msie_from = lp.OLD_MSIE_FROM
    for f in result.recognised(lines, _fields, sample_limit):
        (day, clock, request, status, size, ip, referrer, agent, uid, pid,
         joomla, cookie, auth, component, view, task, action, item) = f
        req = requests_seen.get(request)
        if req is None:
            if len(requests_seen) > _CACHE_LIMIT:
                requests_seen.clear()
            req = requests_seen[request] = _classify_request(request, url_words)
        method, url, method_ok, url_excluded, internal, crawl_path, events_year, download = req
        ag = agents_seen.get(agent)
        if ag is None:
            if len(agents_seen) > _CACHE_LIMIT:
                agents_seen.clear()
            ag = agents_seen[agent] = _classify_agent(agent, agent_words, bots)
            if agent:
                agents.add(agent)
        agent_excluded, known_bot, msie = ag
        no_referrer = not referrer or referrer == "-"
        if status != "200" or int(size) <= 0 or not method_ok:
            skipped["status"] += 1
        elif url_excluded or agent_excluded or (ips and lp.contains_any(ip, ips)):
            skipped["exclude_list"] += 1
        elif known_bot:
            skipped["bot_agent"] += 1
        elif msie and day >= msie_from:
            skipped["old_msie"] += 1
        elif internal:
            skipped["url"] += 1
        elif no_referrer and crawl_path:
            skipped["no_referrer_crawl"] += 1
        elif (no_referrer and events_year is not None
              and events_year <= int(day[:4]) - lp.EVENTS_LOOKBACK_YEARS):
            skipped["old_events"] += 1
        else:
            result.downloads += download
            result.kept += 1
            hits[day] += 1
            fields = (f"{day} {clock}", url, ip, str(_uid(uid)), pid, referrer, agent, joomla,
                      cookie, auth, component, view, task, action, item, str(download))
            row = "\t".join(fields)
            if row.count("\t") != _TABS_IN_ROW or "\\" in row or "\r" in row or "\0" in row:
                row = "\t".join(map(tsv, fields))
            write(row + "\n")


def scan_file(path: Path, filters: Filters, sample_limit: int, write=None) -> ScanResult:
    """Scan one log file; kept rows go to write(tsv_line) when given."""
    result = ScanResult()
    with lp.reading(path, result) as lines:
        scan(lines, filters, write or (lambda _row: None), result, sample_limit)
    return result


def import_file(settings, path: Path, *, dry_run: bool = False) -> dict:
    """Import one access log; returns what was done (for the log and the day marker)."""
    started = time.monotonic()
    path = Path(path)
    conn = dbmod.metrics(settings)
    try:
        with conn.cursor() as cur:
            if is_imported(cur, path, "web"):
                return {"file": str(path), "table": "web", "status": "already imported",
                        "seconds": round(time.monotonic() - started, 3)}
            filters = Filters.load(cur)
        if dry_run:
            result = scan_file(path, filters, settings.malformed_samples)
            report = {"file": str(path), "table": "web", **result.summary(), "status": "dry-run"}
        else:
            report = _load(conn, path, filters, settings.malformed_samples)
    finally:
        conn.close()
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _load(conn, path: Path, filters: Filters, sample_limit: int) -> dict:
    """The one transaction that makes a file's rows visible, or nothing at all.

    Rows arrive in chunks from the parser process (stream.py) and are loaded
    while it parses on; its totals arrive after the last chunk.
    """
    report = {"file": str(path), "table": "web"}
    loaded = adjusted = 0
    with stream.parsed_chunks(scan_file, path, filters, sample_limit) as chunks:
        try:
            with dbmod.transaction(conn) as cur:
                source = claim(cur, path, "web")
                cur.execute("SELECT COALESCE(MAX(id), 0) FROM web")
                before = cur.fetchone()[0]
                for chunk in chunks:
                    n, a = dbmod.load_file(cur, "web", WEB_COLUMNS, chunk)
                    loaded, adjusted = loaded + n, adjusted + a
                result: ScanResult = chunks.result
                if loaded != result.kept:
                    raise RuntimeError(f"{path}: the server loaded {loaded} rows of {result.kept}")
                cur.execute("SELECT MIN(id), MAX(id) FROM web WHERE id > %s", (before,))
                pk_start, pk_end = cur.fetchone()
                hits = sorted(result.hits_by_day.items())
                cur.executemany("INSERT INTO webhits (datetime, hits) VALUES (%s, %s)",
                                [(f"{d} 00:00:00", n) for d, n in hits])
                bots_added = record_bot_agents(cur, result.agents)
                source.finish(cur, pk_start, pk_end, loaded, {"webhits": dict(hits)})
        except Claimed:
            return {**report, "status": "already imported"}
    report.update(result.summary())
    report.update(status="imported", rows=loaded, values_adjusted=adjusted,
                  pk_range=[pk_start, pk_end], bot_agents_added=bots_added)
    return report
