"""Access-log lines: parse, filter and classify, in the legacy importer's order.

`scan` turns lines into the TSV rows of `web` and counts every line that
is not kept under exactly one reason: malformed, ipv6 (the reference's line
pattern has no room for an IPv6 address, so such lines are counted, not
imported), impossible_date, out_of_range (further from the file's day than
`import.day_tolerance_hours`), then the usage filters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import db as dbmod
from ..progress import Progress
from . import logparse as lp

WEB_COLUMNS = ("datetime", "content", "ip", "uidNumber", "apache_pid", "referrer", "useragent",
               "joomla_sessionid", "site_cookie", "auth_type", "component_name", "view_name",
               "task_name", "action_name", "item_name", "dnload")


ACCESS_LINE = "an Apache access-log line (of either layout)"

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
                "hits_by_day": dict(sorted(self.hits_by_day.items())),
                "rows_by_month": rows_by_month(self.hits_by_day)}


def rows_by_month(by_day) -> dict[str, int]:
    out: Counter = Counter()
    for day, n in by_day.items():
        out[day[:7]] += n
    return dict(sorted(out.items()))


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


def scan(lines, filters: Filters, write, result: ScanResult, dates: lp.LineDates,
         sample_limit: int = 5) -> None:
    """Parse and filter every line, calling write(tsv_line) for each kept row.

    The order of the checks is the legacy importer's, and each skip is counted
    under its reason.  Requests and agents repeat heavily, so their
    classification is computed once and cached.
    """
    skipped = result.skipped
    hits = result.hits_by_day
    agents = result.agents
    tsv_row = dbmod.tsv_row
    ips, agent_words, url_words, bots = filters.ips, filters.agents, filters.urls, filters.bots
    requests_seen: dict = {}
    agents_seen: dict = {}
    check_date = dates.reason
    reading = Progress(print, "lines read")
    for f in result.recognised(lines, _fields, sample_limit, lp.looks_like_ipv6_access, reading):
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
        bad_date = check_date(day, clock)
        if bad_date:
            skipped[bad_date] += 1
            continue
        no_referrer = not referrer or referrer == "-"
        if status != "200" or int(size) <= 0 or not method_ok:
            skipped["status"] += 1
        elif url_excluded or agent_excluded or (ips and lp.contains_any(ip, ips)):
            skipped["exclude_list"] += 1
        elif known_bot:
            skipped["bot_agent"] += 1
        elif msie and day >= lp.OLD_MSIE_FROM:
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
            write(tsv_row(fields))


def scan_file(path: Path, filters: Filters, dates: lp.LineDates, sample_limit: int,
              write=None) -> ScanResult:
    """Scan one log file; kept rows go to write(tsv_line) when given."""
    result = ScanResult()
    with lp.reading(path, result) as lines:
        scan(lines, filters, write or (lambda _row: None), result, dates, sample_limit)
    return result


