"""resolve-dns: reverse DNS for the period's rows that have no host yet.

Each distinct address is asked once (aiodns `query_dns(…, "PTR")`, bounded
concurrency, a per-query timeout and retry) unless `hzflow_dns_cache` (the hub's, or
the one a fleet's hubs share) holds an answer younger than its TTL (a name: `dns.ttl_days`; no name:
`dns.negative_ttl_days`).  Timeouts and server failures are never cached and
never written as '?': those rows stay empty, the step says how many
addresses went unanswered, and the month stage asks them again after
`dns.retry_minutes`.  Only a resolver that answers nothing at all stops the
step.  Results go back to the rows with one set-based UPDATE per day.
Addresses are handled in keyset batches, so memory stays bounded however
many distinct addresses a month holds.
"""

from __future__ import annotations

import ipaddress
import re
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from .. import db as dbmod
from ..db import quote_ident as q
from ..errors import ResolverUnavailable
from ..progress import Progress
from . import tables
from .domain import get_domain
from .window import days

BATCH = 5000
PLAIN_HOST = re.compile(r"[a-z0-9._-]+")
# The host a cache entry gives a row: its lower-cased name, or '?' for none.
CACHED_HOST = "IF(c.status = 'name', LOWER(c.host), '?')"
# A resolver that has not answered one of this many queries (the first batch) is not there.
PROBE = 20
# Seconds a hub waits for another hub of its shared cache to finish asking.
SHARED_WAIT = 1800
# Bytes of answers the resolver's socket holds (the kernel caps it at net.core.rmem_max).  With the
# default (about 200 KB) a round of answers from a fast resolver overflowed it whenever the asking
# process was briefly off the CPU, and c-ares asked the lost ones again after its timeout.
RECEIVE_BUFFER = 1 << 20


class Resolver:
    """One event loop and one aiodns channel for a whole run (asyncio and c-ares load only here)."""

    def __init__(self, nameservers, concurrency: int = 20, timeout: float = 3.0, tries: int = 2):
        import asyncio

        import aiodns
        import pycares

        self.asyncio, self.aiodns = asyncio, aiodns
        self.no_name = {pycares.errno.ARES_ENOTFOUND, pycares.errno.ARES_ENODATA}
        self.loop = asyncio.new_event_loop()
        self.timeout, self.concurrency, self.tries = timeout, concurrency, tries
        kwargs = {"timeout": timeout, "tries": tries, "loop": self.loop, "socket_receive_buffer_size": RECEIVE_BUFFER}
        if nameservers:
            kwargs["nameservers"] = list(nameservers)
        self.resolver = aiodns.DNSResolver(**kwargs)
        self.queries = 0

    async def _ptr(self, ip: str):
        self.queries += 1
        try:
            name = ipaddress.ip_address(ip).reverse_pointer
        except ValueError:
            return ip, "none", ""
        try:
            async with self.asyncio.timeout(self.timeout * self.tries * 1.5 + 1):
                result = await self.resolver.query_dns(name, "PTR")
        except self.aiodns.error.DNSError as e:
            code = e.args[0] if e.args else None
            return ip, ("none" if code in self.no_name else "error"), ""
        except TimeoutError:
            return ip, "error", ""
        names = [r.data.dname for r in result.answer if getattr(r.data, "dname", None)]
        return (ip, "name", names[0].rstrip(".")) if names else (ip, "none", "")

    def resolve(self, ips: list[str]) -> list[tuple[str, str, str]]:
        """[(ip, 'name'|'none'|'error', host)] for a batch of addresses.

        `concurrency` askers take the next address as each gets its answer: a
        query costs one coroutine step, not a task and a semaphore turn of its own.
        """
        answers: list = [None] * len(ips)
        pending = iter(enumerate(ips))

        async def asker():
            for at, ip in pending:
                answers[at] = await self._ptr(ip)

        async def run():
            await self.asyncio.gather(*(asker() for _ in range(min(self.concurrency, len(ips)))))
        self.loop.run_until_complete(run())
        return answers

    def alive(self) -> bool:
        """Whether the resolver answers at all (any reply, a name or NXDOMAIN, to a loopback PTR).

        Tells a resolver that is down from addresses whose own servers do not answer.
        """
        return any(status != "error" for _, status, _ in self.resolve(["127.0.0.1", "192.0.2.1"]))

    def silent(self, answers) -> bool:
        """No answer among `answers`, nor to a probe: the resolver is down, not only some addresses' servers."""
        return all(status == "error" for _, status, _ in answers) and not self.alive()

    def close(self) -> None:
        try:
            self.resolver.cancel()
            self.loop.run_until_complete(self.asyncio.sleep(0))
        finally:
            self.loop.close()


def resolver_for(settings) -> Resolver:
    return Resolver(settings.get("dns", "nameservers") or None, int(settings.get("dns", "concurrency")),
                    float(settings.get("dns", "timeout")), int(settings.get("dns", "tries")))


def enabled(settings) -> bool:
    return bool(settings.get("dns", "enabled"))


def fresh_condition(settings, alias: str = "") -> tuple[str, tuple]:
    now = datetime.now().replace(microsecond=0)
    named = now - timedelta(days=int(settings.get("dns", "ttl_days")))
    nameless = now - timedelta(days=int(settings.get("dns", "negative_ttl_days")))
    a = f"{alias}." if alias else ""
    return (f"(({a}status = 'name' AND {a}resolved_at >= %s) OR "
            f"({a}status = 'none' AND {a}resolved_at >= %s))", (named, nameless))


def cache_table(settings, cur) -> str:
    """The PTR cache the hub reads and fills: its own, or the one a fleet's hubs share (dns.shared_cache,
    made on first use with the same columns), so an address one hub asked is not asked by another."""
    own = f"{q(settings.db.metrics_db)}.hzflow_dns_cache"
    shared = settings.get("dns", "shared_cache")
    if not shared:
        return own
    cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = 'hzflow_dns_cache'", (shared,))
    if not cur.fetchone()[0]:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {q(shared)}")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {q(shared)}.hzflow_dns_cache LIKE {own}")
    return f"{q(shared)}.hzflow_dns_cache"


@contextmanager
def asking_alone(settings, cur):
    """While one hub of a shared cache asks the resolver, the others wait, then find its answers cached.

    A server lock (GET_LOCK): it holds across hosts (a cluster's nodes) and
    goes with the connection when a job is killed.  A hub that waited
    SHARED_WAIT seconds asks anyway: duplicate questions, never a stall.
    """
    shared = settings.get("dns", "shared_cache")
    if not shared:
        yield
        return
    name = f"hzflow-dns-{shared}"[:64]
    cur.execute("SELECT GET_LOCK(%s, %s)", (name, SHARED_WAIT))
    try:
        yield
    finally:
        cur.execute("SELECT RELEASE_LOCK(%s)", (name,))


def plain_domain(host: str) -> str | None:
    """get_domain of a host whose domain fill-domain would give its rows whatever else is in the window:
    '?' and names of lower-case ASCII letters, digits, dots, dashes and underscores, which no other
    host equals under the column's collation.  None for the rest, which fill-domain sees to."""
    return get_domain(host) if host == "?" or PLAIN_HOST.fullmatch(host) else None


def resolve_dns(settings, database: str, table: str, start, stop, *, resolver=None,
                with_domains: bool = False, countries=None, dry_run: bool = False, say=print) -> dict:
    """Fill `host` (lower-cased PTR name, or '?' when there is none) for rows in [start, stop).

    Returns counts; `failed` addresses got no answer (timeout, server failure)
    and keep their rows empty for a later attempt.  with_domains (the month
    stages, whose fill-domain comes next) also gives the rows of a plain
    host the domain fill-domain would give them, in the same row write.
    countries (geo.SessionCountries; web in a month stage, whose
    fill-ipcountry comes after clean-bots) gives the rows without a country
    theirs in that write too, and notes each such address and its host in
    hzflow_born_country for the fill.
    """
    tables.check(table, "resolve-dns")
    stats = {"stage": f"resolve-dns {table}", "addresses": 0, "cached": 0, "asked": 0,
             "named": 0, "nameless": 0, "failed": 0, "rows": 0}
    if not enabled(settings):
        say(f"resolve-dns {table}: reverse DNS is off (dns.enabled: false)")
        return {**stats, "status": "disabled"}
    col = tables.date_column(table)
    tbl = f"{q(database)}.{q(table)}"
    fresh, fresh_args = fresh_condition(settings, "c")
    started = time.monotonic()
    with dbmod.cursor(settings) as cur:
        cache = cache_table(settings, cur)
        # unfilled (with countries): the address has a row without a host and without a country, which
        # is noted when it is born with one
        cur.execute("CREATE TEMPORARY TABLE hz_dns_todo (ip VARCHAR(45) NOT NULL PRIMARY KEY, "
                    "unfilled TINYINT NOT NULL DEFAULT 0) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3")
        day_rows = f"FROM {tbl} WHERE {col} >= %s AND {col} < %s AND (host IS NULL OR host = '') AND ip <> ''"
        collect = (f"INSERT INTO hz_dns_todo SELECT ip, MAX(ipcountry = '' OR ipcountry IS NULL) {day_rows} "
                   f"GROUP BY ip ON DUPLICATE KEY UPDATE unfilled = GREATEST(unfilled, VALUES(unfilled))"
                   if countries else f"INSERT IGNORE INTO hz_dns_todo (ip) SELECT DISTINCT ip {day_rows}")
        for lo, hi in days(start, stop):
            cur.execute(collect, (lo, hi))
        cur.execute("SELECT COUNT(*) FROM hz_dns_todo")
        stats["addresses"] = total = cur.fetchone()[0]
        cur.execute(f"SELECT COUNT(*) FROM hz_dns_todo t JOIN {cache} c ON c.ip = t.ip WHERE {fresh}",
                    fresh_args)
        stats["cached"] = cached = cur.fetchone()[0]
        say(f"resolve-dns {table} {start}..{stop}: {total} addresses without a host, "
            f"{cached} answered from the cache, {total - cached} to ask")
        if dry_run:
            stats["status"] = "dry-run"
            return stats
        unfilled = "(t.ipcountry = '' OR t.ipcountry IS NULL)"
        # noted from the table of addresses, not the rows: one row per address, whatever its rows
        born = (f"INSERT IGNORE INTO {q(database)}.hzflow_born_country (period_start, ip, host) "
                f"SELECT %s, t.ip, {CACHED_HOST} FROM hz_dns_todo t JOIN {cache} c ON c.ip = t.ip ")
        if countries and cached:             # the cached addresses' rows get their country in the day writes below
            cur.execute(f"SELECT t.ip FROM hz_dns_todo t JOIN {cache} c ON c.ip = t.ip WHERE {fresh}", fresh_args)
            placed = countries(cur, [ip for (ip,) in cur.fetchall()])
            cur.execute("CREATE TEMPORARY TABLE hz_dns_placed (ip VARCHAR(45) NOT NULL PRIMARY KEY, "
                        "country CHAR(2) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3")
            cur.executemany("INSERT INTO hz_dns_placed VALUES (%s, %s)", sorted(placed.items()))
            cur.execute(f"{born}JOIN hz_dns_placed x ON x.ip = t.ip WHERE t.unfilled AND {fresh}", (start, *fresh_args))
        if total > cached:
            cur.execute("CREATE TEMPORARY TABLE hz_dns_answered (ip VARCHAR(45) NOT NULL PRIMARY KEY, "
                        "host VARCHAR(255) NOT NULL, domain VARCHAR(255), country CHAR(2)) "
                        "ENGINE=InnoDB DEFAULT CHARSET=utf8mb3")
            rows_of_batch = tables.by_address(cur, database, table, "hz_dns_answered a", f"{tbl} t ON t.ip = a.ip")
            domain = (f"t.domain = IF(a.domain IS NOT NULL AND BINARY a.host = {CACHED_HOST} AND "
                      f"(t.domain = '' OR t.domain = '?' OR t.domain IS NULL), a.domain, t.domain), "
                      if with_domains else "")
            country = f"t.ipcountry = IF({unfilled}, a.country, t.ipcountry), " if countries else ""
            hostless = (f"(t.host IS NULL OR t.host = '') AND t.{col} >= %s AND t.{col} < %s AND {fresh}",
                        (start, stop, *fresh_args))

            def fill(answers) -> None:
                """Give the rows of just-answered addresses their host while the next batch is asked."""
                named = [(ip, answered_host(status, name)) for ip, status, name in answers if status != "error"]
                if not named:
                    return
                placed = countries(cur, [ip for ip, _ in named]) if countries else {}
                cur.execute("DELETE FROM hz_dns_answered")
                cur.executemany("INSERT INTO hz_dns_answered VALUES (%s, %s, %s, %s)",
                                [(ip, name, plain_domain(name), placed.get(ip)) for ip, name in named])
                if countries:      # noted before the rows change: a kill between the two leaves them unfilled
                    cur.execute(f"{born}JOIN hz_dns_answered a ON a.ip = t.ip WHERE t.unfilled AND {fresh}",
                                (start, *fresh_args))
                stats["rows"] += cur.execute(
                    f"UPDATE {rows_of_batch} JOIN {cache} c ON c.ip = t.ip SET {domain}{country}"
                    f"t.host = {CACHED_HOST} WHERE {hostless[0]}", hostless[1])

            with asking_alone(settings, cur):
                _ask(settings, cur, resolver, cache, fresh, fresh_args, total - cached, stats, say, fill)
            cur.execute("DROP TEMPORARY TABLE hz_dns_answered")
        placed_join, placed_country = "", ""
        if countries and cached:
            placed_join = " LEFT JOIN hz_dns_placed x ON x.ip = t.ip"
            placed_country = f"t.ipcountry = IF({unfilled} AND x.country IS NOT NULL, x.country, t.ipcountry), "
        for lo, hi in days(start, stop):
            stats["rows"] += cur.execute(
                f"UPDATE {tbl} t JOIN {cache} c ON c.ip = t.ip{placed_join} SET {placed_country}"
                f"t.host = {CACHED_HOST} "
                f"WHERE (t.host IS NULL OR t.host = '') AND t.{col} >= %s AND t.{col} < %s "
                f"AND {fresh}", (lo, hi, *fresh_args))
        cur.execute("DROP TEMPORARY TABLE IF EXISTS hz_dns_todo, hz_dns_placed")
        tables.edited(settings, cur, database, table, start, stop, stats["rows"])
    stats["seconds"] = round(time.monotonic() - started, 2)
    say(f"resolve-dns {table}: {stats['rows']} rows got a host; asked {stats['asked']} "
        f"({stats['named']} names, {stats['nameless']} without, {stats['failed']} unanswered) "
        f"in {stats['seconds']} s")
    if stats["failed"]:
        say(f"resolve-dns {table}: {stats['failed']} addresses got no answer (timeout or server "
            f"failure); their rows stay empty and are asked again later")
    return stats


def answered_host(status: str, name: str) -> str:
    """The host an answer ('name' or 'none') gives its rows, as CACHED_HOST reads the entry store_answers
    writes: the name lower-cased and cut to the column, or '?'."""
    return name.lower()[:255] if status == "name" else "?"


def store_answers(cur, cache: str, answers) -> None:
    """Cache the names and no-names among (ip, status, host) answers; errors are never cached."""
    now = datetime.now().replace(microsecond=0)
    rows = [(ip, host.lower()[:255], status, now) for ip, status, host in answers if status != "error"]
    if rows:
        cur.executemany(f"INSERT INTO {cache} (ip, host, status, resolved_at) VALUES (%s, %s, %s, %s) "
                        f"ON DUPLICATE KEY UPDATE host = VALUES(host), status = VALUES(status), "
                        f"resolved_at = VALUES(resolved_at)", rows)


def _ask(settings, cur, resolver, cache, fresh, fresh_args, to_ask, stats, say, fill):
    """Query the addresses without a fresh cache entry, batch by batch, caching the answers.

    The resolver works on one batch (in a thread of its own) while this one
    caches the previous batch's answers and `fill`s their rows: waiting for
    DNS and writing to the database overlap.
    """
    from concurrent.futures import ThreadPoolExecutor

    own = resolver is None
    resolver = resolver or resolver_for(settings)
    progress, last = Progress(say, "addresses asked", total=to_ask), ""

    def next_batch(size: int = BATCH) -> list[str]:
        nonlocal last
        cur.execute(f"SELECT t.ip FROM hz_dns_todo t LEFT JOIN {cache} c ON c.ip = t.ip "
                    f"AND {fresh} WHERE c.ip IS NULL AND t.ip > %s ORDER BY t.ip LIMIT %s",
                    (*fresh_args, last, size))
        batch = [r[0] for r in cur.fetchall()]
        last = batch[-1] if batch else last
        return batch

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="resolver") as asker:
            batch = next_batch(PROBE)          # a resolver that is down shows in seconds, not after a whole batch
            asking = asker.submit(resolver.resolve, batch) if batch else None
            while asking is not None:
                following = next_batch()
                began = time.monotonic()
                answers = asking.result()
                stats["waited"] = round(stats.get("waited", 0) + time.monotonic() - began, 2)
                failed = sum(1 for _, status, _ in answers if status == "error")
                stats["asked"] += len(answers)
                stats["failed"] += failed
                stats["named"] += sum(1 for _, status, _ in answers if status == "name")
                stats["nameless"] += sum(1 for _, status, _ in answers if status == "none")
                progress.tick(stats["asked"], f"{stats['failed']} unanswered")
                if stats["failed"] == stats["asked"] >= min(PROBE, to_ask) and resolver.silent(answers):
                    servers = ", ".join(settings.get("dns", "nameservers")) or "(system, /etc/resolv.conf)"
                    raise ResolverUnavailable(
                        f"resolve-dns: none of the first {stats['asked']} queries got an answer; is the "
                        f"resolver {servers} reachable? Nothing was written for them; the next run asks again")
                asking = asker.submit(resolver.resolve, following) if following else None
                store_answers(cur, cache, answers)
                fill(answers)
    finally:
        if own:
            resolver.close()
