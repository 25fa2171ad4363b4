"""Web rows born with their host: the workflow's import gives them what the month stage would.

The month stage's resolve-dns gives every web row of the month without a
host its address's cached or freshly asked PTR name ('?' for none), the
domain of a plain host and, with the offline geo provider, the row's
country (noting the address in hzflow_born_country for fill-ipcountry).
Rewriting a busy day's rows that way costs more than the whole import, so
the workflow's import (`import_days`) asks each file's new addresses as it
loads them and writes the rows with those values already in place, from
the same cache by the same rules; resolve-dns then finds them done, and
the month ends the same.

Only rows of months whose resolve stage the same run builds are born so,
not those of a month the workflow does not build yet (the first minutes
of a new month in yesterday's log).  What stays for the month stage:
addresses without an answer (asked again there, then retried as before),
and every address but the cached ones when the resolver answers nothing
(the import goes on; the month stage reports it).  `import-apache` never
does this: the reference's import leaves hosts empty.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

from .. import db as dbmod
from ..db import tsv_field
from . import dns, geo

COLUMNS = ("host", "domain", "ipcountry")     # after the id and the import's columns
NOT_BORN = "\t\\N\t\\N\t\\N\n"
LOOKUP_BATCH = 1000


class BornHosts:
    """One per import run: a connection of its own for the PTR cache, and the resolver, opened on first use."""

    def __init__(self, settings, months, say=print):
        self.settings, self.months, self.say = settings, frozenset(months), say
        self.countries = geo.SessionCountries.for_month_stage(settings)
        self.conn = self.cur = self.cache = self.resolver = self.fresh = None
        self.down = self.probed = False

    @classmethod
    def for_import(cls, settings, months, say=print) -> "BornHosts | None":
        """For an import whose rows of `months` (those whose resolve stage the run builds) are born with hosts."""
        return cls(settings, months, say) if dns.enabled(settings) else None

    def __enter__(self) -> "BornHosts":
        return self

    def __exit__(self, *exc) -> None:
        if self.resolver is not None:
            self.resolver.close()
        if self.conn is not None:
            self.conn.close()

    def file(self) -> "BornFile":
        """The rows of one access log."""
        if self.conn is None:
            self.conn = dbmod.connect(self.settings, self.settings.db.metrics_db)
            self.cur = self.conn.cursor()
            self.cache = dns.cache_table(self.settings, self.cur)
            self.fresh = dns.fresh_condition(self.settings, "c")    # as of the start, like resolve-dns
        return BornFile(self)

    def hosts(self, ips: list[str], stats: dict) -> dict[str, str]:
        """ip -> the host resolve-dns would give its rows now (cache first, then the resolver)."""
        found = self._cached(ips)
        to_ask = [ip for ip in ips if ip not in found]
        if to_ask and not self.down:
            with dns.asking_alone(self.settings, self.cur):
                if self.settings.get("dns", "shared_cache"):     # another hub may have asked them meanwhile
                    found.update(self._cached(to_ask))
                    to_ask = [ip for ip in to_ask if ip not in found]
                answers = self._ask(to_ask)
            stats["asked"] += len(answers)
            stats["unanswered"] += sum(1 for _, status, _ in answers if status == "error")
            # what the cache now gives them (dns.CACHED_HOST); the server lower-cases names beyond ASCII itself
            found.update((ip, dns.answered_host(status, name)) for ip, status, name in answers
                         if status == "none" or (status == "name" and name.isascii()))
            found.update(self._cached([ip for ip, status, name in answers if status == "name" and not name.isascii()]))
        stats["cached"] += len(ips) - len(to_ask)
        return found

    def _cached(self, ips: list[str]) -> dict[str, str]:
        fresh, fresh_args = self.fresh
        found = {}
        for at in range(0, len(ips), LOOKUP_BATCH):
            self.cur.execute(f"SELECT c.ip, {dns.CACHED_HOST} FROM {self.cache} c WHERE c.ip IN %s AND {fresh}",
                             (ips[at:at + LOOKUP_BATCH], *fresh_args))
            found.update(self.cur.fetchall())
        return found

    def _ask(self, ips: list[str]) -> list[tuple[str, str, str]]:
        """Ask the resolver and cache its answers (under the shared cache's lock).  The run's first PROBE
        addresses go alone: a resolver that answers none of them, nor a probe, is left alone for the rest
        of the run (seconds, not a batch)."""
        self.resolver = self.resolver or dns.resolver_for(self.settings)
        answers, at = [], 0
        while at < len(ips):
            size = dns.BATCH if self.probed else dns.PROBE
            batch = self.resolver.resolve(ips[at:at + size])
            at += size
            dns.store_answers(self.cur, self.cache, batch)
            answers += batch
            if not self.probed:
                if self.resolver.silent(batch):
                    self.down = True
                    self.say("warning: the resolver answers nothing; the rows of this import are left "
                             "without hosts, and the month stage asks for them")
                    break
                self.probed = True
        return answers


class BornFile:
    """Rewrites the chunks of one file's rows with host, domain and country columns before they load."""

    def __init__(self, born: BornHosts):
        self.born = born
        self.known: dict[str, tuple[str, str, str] | None] = {}      # ip -> the three columns escaped, or no answer
        self.hosts: dict[str, str] = {}
        self.noted: set[tuple[str, str]] = set()
        self.next_id = 1                       # the id of the next chunk's first row (chunks() sets it)
        self.stats = {"addresses": 0, "cached": 0, "asked": 0, "unanswered": 0, "rows": 0, "waited": 0.0}

    @staticmethod
    def read(chunk: str) -> list[str]:
        with open(chunk, encoding="utf-8", newline="\n") as f:
            return f.readlines()

    def rewrite(self, chunk: str, lines: list[str]) -> tuple[str, list[tuple[str, str, str]]]:
        """The chunk's rows with their ids and three more columns, written beside it in a shuffled order,
        and the notes they need.

        Rows that are not born get NULLs (the columns' default).  The notes
        (hzflow_born_country: an address born with a country in a month)
        go in the import's transaction, with the rows.  The ids are those
        the rows would get in file order; the order is shuffled so that
        `web`'s pages split as they fill, as they did when resolve-dns
        rewrote the rows: pages filled in id order have no room left for
        the session stamps (`sessionid` grows from NULL), and InnoDB then
        reorganises a page every few rows (busy day: sessionization 15.3 s
        against 10.8 s).
        """
        months, ip_of = self.born.months, {}
        for i, line in enumerate(lines):
            if line[:7] in months:
                ip = line.split("\t", 3)[2]
                if ip:
                    ip_of[i] = ip
        new = list(dict.fromkeys(ip for ip in ip_of.values() if ip not in self.known))
        if new:
            self._learn(new)
        first, notes, rows = self.next_id, [], []
        self.next_id += len(lines)
        for i, line in enumerate(lines):
            ip = ip_of.get(i)
            columns = self.known.get(ip)
            if columns is None:
                rows.append(f"{first + i}\t{line[:-1]}{NOT_BORN}")
                continue
            rows.append(f"{first + i}\t{line[:-1]}\t{columns[0]}\t{columns[1]}\t{columns[2]}\n")
            self.stats["rows"] += 1
            if columns[2] != "\\N" and (line[:7], ip) not in self.noted:
                self.noted.add((line[:7], ip))
                notes.append((f"{line[:7]}-01", ip, self.hosts[ip]))
        random.Random(first).shuffle(rows)
        born = f"{chunk}.born"
        with open(born, "w", encoding="utf-8", newline="\n") as out:
            out.writelines(rows)
        return born, notes

    def _learn(self, ips: list[str]) -> None:
        born, stats = self.born, self.stats
        stats["addresses"] += len(ips)
        hosts = born.hosts(ips, stats)
        answered = [ip for ip in ips if ip in hosts]
        countries = born.countries(born.cur, answered) if born.countries and answered else {}
        for ip in ips:
            host = hosts.get(ip)
            if host is None:
                self.known[ip] = None
                continue
            self.hosts[ip] = host
            self.known[ip] = (tsv_field(host), tsv_field(dns.plain_domain(host)), tsv_field(countries.get(ip)))

    def note(self, cur, notes) -> None:
        if notes:
            cur.executemany(f"INSERT IGNORE INTO {dbmod.quote_ident(self.born.settings.db.metrics_db)}."
                            f"hzflow_born_country (period_start, ip, host) VALUES (%s, %s, %s)", notes)

    def chunks(self, chunks, first_id: int):
        """(rewritten chunk, its notes) for each chunk of the parser, in order, the next one rewritten
        (its addresses asked) in a thread of its own while the caller loads the one before; the
        file's rows get ids from first_id on."""
        self.next_id = first_id
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="born") as worker:
            ahead = None
            for chunk in chunks:
                following = worker.submit(self.rewrite, chunk, self.read(chunk))
                if ahead is not None:
                    yield self._wait(ahead)
                ahead = following
            if ahead is not None:
                yield self._wait(ahead)

    def _wait(self, rewriting):
        """The rewritten chunk, counting the seconds the load waited for it (for the DNS, mostly)."""
        began = time.monotonic()
        result = rewriting.result()
        self.stats["waited"] = round(self.stats["waited"] + time.monotonic() - began, 2)
        return result
