"""import-apache: one access log into `web` and `webhits`, atomically.

parse → filter → write a TSV → one transaction: claim the file in
`imported_sources`, LOAD DATA into `web`, the file's per-day `webhits`,
new crawler agents into `bot_useragents`, commit.  A file already claimed
is skipped, so importing it again changes nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import db as dbmod
from . import logparse as lp
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
class ScanResult:
    lines: int = 0
    kept: int = 0
    malformed: int = 0
    malformed_samples: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    downloads: int = 0
    hits_by_day: Counter = field(default_factory=Counter)
    agents: set[str] = field(default_factory=set)

    def summary(self) -> dict:
        return {"lines": self.lines, "kept": self.kept, "malformed": self.malformed,
                "malformed_samples": self.malformed_samples, "skipped": dict(self.skipped),
                "downloads": self.downloads,
                "hits_by_day": dict(sorted(self.hits_by_day.items()))}


def _fields(line: str):
    """The stored fields of one line, in WEB_COLUMNS order minus dnload, or None."""
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


def scan(lines, filters: Filters, write, result: ScanResult, sample_limit: int = 5) -> None:
    """Parse and filter every line, calling write(tsv_line) for each kept row.

    The order of the checks is the legacy importer's, and each skip is counted
    under its reason.
    """
    skipped = result.skipped
    hits = result.hits_by_day
    agents = result.agents
    tsv = dbmod.tsv_field
    ips, agent_words, url_words, bots = filters.ips, filters.agents, filters.urls, filters.bots
    contains_any = lp.contains_any
    for raw in lines:
        result.lines += 1
        line = raw.rstrip("\r\n")
        f = _fields(line)
        if f is None:
            result.malformed += 1
            if len(result.malformed_samples) < sample_limit:
                result.malformed_samples.append(line[:300])
            continue
        (day, clock, request, status, size, ip, referrer, agent, uid, pid,
         joomla, cookie, auth, component, view, task, action, item) = f
        if agent:
            agents.add(agent)
        method, url = lp.split_request(request)
        if status != "200" or int(size) <= 0 or method not in ("GET", "POST"):
            skipped["status"] += 1
        elif (contains_any(ip, ips) or contains_any(agent, agent_words)
              or contains_any(url, url_words)):
            skipped["exclude_list"] += 1
        elif agent and agent != "-" and agent in bots:
            skipped["bot_agent"] += 1
        elif lp.is_old_msie(agent, day):
            skipped["old_msie"] += 1
        elif lp.is_static_or_internal(url) and not lp.RESOURCES.match(url):
            skipped["url"] += 1
        elif lp.is_crawl_without_referrer(url, referrer):
            skipped["no_referrer_crawl"] += 1
        elif lp.is_old_events_walk(url, day, referrer):
            skipped["old_events"] += 1
        else:
            download = 1 if lp.is_download(url) else 0
            result.downloads += download
            result.kept += 1
            hits[day] += 1
            write("\t".join((f"{day} {clock}", tsv(url), ip, str(_uid(uid)), tsv(pid),
                             tsv(referrer), tsv(agent), tsv(joomla), tsv(cookie), tsv(auth),
                             tsv(component), tsv(view), tsv(task), tsv(action), tsv(item),
                             str(download))) + "\n")


def scan_file(path: Path, filters: Filters, tsv_path: str | None, sample_limit: int) -> ScanResult:
    result = ScanResult()
    out = open(tsv_path, "w", encoding="utf-8", newline="\n") if tsv_path else None
    try:
        with lp.open_text(path) as lines:
            scan(lines, filters, out.write if out else (lambda _row: None), result, sample_limit)
    except lp.READ_ERRORS as e:
        raise lp.UnreadableLog(f"{path}: cannot read the log to the end "
                               f"(after {result.lines} lines): {e}") from None
    finally:
        if out:
            out.close()
    return result


def import_file(settings, path: Path, *, dry_run: bool = False) -> dict:
    """Import one access log; returns what was done (for the log and the day marker)."""
    started = time.monotonic()
    path = Path(path)
    conn = dbmod.metrics(settings)
    fd, tmp_path = tempfile.mkstemp(prefix="hzflow-web-", suffix=".tsv")
    os.close(fd)
    try:
        with conn.cursor() as cur:
            if is_imported(cur, path, "web"):
                return {"file": str(path), "table": "web", "status": "already imported",
                        "seconds": round(time.monotonic() - started, 3)}
            filters = Filters.load(cur)
        result = scan_file(path, filters, None if dry_run else tmp_path, settings.malformed_samples)
        report = {"file": str(path), "table": "web", **result.summary()}
        if dry_run:
            report["status"] = "dry-run"
        else:
            report.update(_load(conn, path, tmp_path, result))
    finally:
        os.unlink(tmp_path)
        conn.close()
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _load(conn, path: Path, tsv_path: str, result: ScanResult) -> dict:
    """The one transaction that makes a scanned file's rows visible, or nothing at all."""
    hits = sorted(result.hits_by_day.items())
    try:
        with dbmod.transaction(conn) as cur:
            source = claim(cur, path, "web")
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM web")
            before = cur.fetchone()[0]
            loaded, adjusted = dbmod.load_file(cur, "web", WEB_COLUMNS, tsv_path)
            cur.execute("SELECT MIN(id), MAX(id) FROM web WHERE id > %s", (before,))
            pk_start, pk_end = cur.fetchone()
            cur.executemany("INSERT INTO webhits (datetime, hits) VALUES (%s, %s)",
                            [(f"{d} 00:00:00", n) for d, n in hits])
            bots_added = record_bot_agents(cur, result.agents)
            source.finish(cur, pk_start, pk_end, loaded, {"webhits": dict(hits)})
    except Claimed:
        return {"status": "already imported"}
    return {"status": "imported", "rows": loaded, "values_adjusted": adjusted,
            "pk_range": [pk_start, pk_end], "bot_agents_added": bots_added}
