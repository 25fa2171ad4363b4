"""fill-ipcountry: the country of each client address.

Order of sources, as the reference: the hub's `<prefix>metrics_ipgeo_cache`
(answers younger than 90 days), then the configured provider:

* `offline` (default): geoip2fast, a maintained package that ships its own
  country database; no network.
* `service`: the HUBzero ipinfo protocol at `geoip.url` (batches of up to
  100 addresses per request); its answers are written back to the cache.

The legacy cache keys addresses by a signed INT, which cannot hold
128.0.0.0 and above; those answers go to hzflow's own `hzflow_ipgeo_cache`
instead of aborting the run as the reference does.  Addresses that are not
IPv4 (IPv6 clients) get '-', as in the reference, which cannot key them.
"""

from __future__ import annotations

import re
import socket
from functools import cache

from .. import db as dbmod
from ..db import quote_ident as q
from ..errors import ConfigError, GeoLookupFailed
from . import tables
from .window import legacy_week_window

PRIVATE_SQL_REGEXP = r"^(10|127|192\.168|169\.254|172\.(1[6-9]|2[0-9]|3[01]))\."
PRIVATE = re.compile(PRIVATE_SQL_REGEXP)
CACHE_DAYS = 90
LEGACY_CACHE_MAX = 2**31 - 1
BATCH = 100
GEO_FIELDS = ("countrySHORT", "countryLONG", "ipREGION", "ipCITY", "ipLATITUDE", "ipLONGITUDE")


def ip_number(ip: str) -> int | None:
    """The 32-bit integer of a dotted IPv4 address (PHP ip2long), or None.

    The strict dotted-quad grammar of `ipaddress.IPv4Address` (four decimal
    octets, no leading zeros, none above 255) checked by hand: a month asks
    this of every distinct address twice, and the class costs 30 µs a call.
    """
    try:
        parts = ip.strip().split(".")
    except AttributeError:
        return None
    if len(parts) != 4:
        return None
    number = 0
    for part in parts:
        if not (0 < len(part) <= 3 and part.isascii() and part.isdigit()) or (part[0] == "0" and len(part) > 1):
            return None
        octet = int(part)
        if octet > 255:
            return None
        number = number << 8 | octet
    return number


def dotted(number: int) -> str:
    return socket.inet_ntoa(number.to_bytes(4, "big"))


def _float_or_none(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class Caches:
    """The hub's legacy cache (signed INT keys) and hzflow's own for the rest."""

    def __init__(self, settings, cur):
        d = settings.db
        self.legacy = f"{q(d.hub_db)}.{q(d.prefix + 'metrics_ipgeo_cache')}"
        self.own = f"{q(d.metrics_db)}.hzflow_ipgeo_cache"
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s "
                    "AND table_name = %s", (d.hub_db, d.prefix + "metrics_ipgeo_cache"))
        self.has_legacy = bool(cur.fetchone()[0])

    def lookup(self, cur, numbers: list[int]) -> dict[int, tuple]:
        found = {}
        for table, keys in ((self.legacy, [n for n in numbers if n <= LEGACY_CACHE_MAX and self.has_legacy]),
                            (self.own, [n for n in numbers if n > LEGACY_CACHE_MAX or not self.has_legacy])):
            for i in range(0, len(keys), 1000):
                part = keys[i:i + 1000]
                cur.execute(f"SELECT ip, {', '.join(GEO_FIELDS)} FROM {table} WHERE ip IN %s "
                            f"AND TO_DAYS(CURDATE()) - TO_DAYS(lookup_datetime) <= %s",
                            (part, CACHE_DAYS))
                found.update({row[0]: row[1:] for row in cur.fetchall()})
        return found

    def store(self, cur, answers: dict[int, tuple]) -> None:
        columns = ", ".join(GEO_FIELDS)
        update = ", ".join(f"{c} = VALUES({c})" for c in GEO_FIELDS) + ", lookup_datetime = NOW()"
        for table, rows in ((self.legacy, [(n, *g) for n, g in answers.items()
                                           if n <= LEGACY_CACHE_MAX and self.has_legacy]),
                            (self.own, [(n, *g) for n, g in answers.items()
                                        if n > LEGACY_CACHE_MAX or not self.has_legacy])):
            if rows:
                cur.executemany(f"INSERT INTO {table} (ip, {columns}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                                f"ON DUPLICATE KEY UPDATE {update}", rows)


class ServiceProvider:
    """The HUBzero ipinfo service: GET <url>/?&hub_key=K&n_ips=N1,N2,… -> XML ipsets."""

    caches_answers = True

    def __init__(self, url: str, hub_key: str, timeout: float = 5.0, concurrency: int = 10):
        self.url, self.hub_key, self.timeout, self.concurrency = url.rstrip("/"), hub_key, timeout, concurrency
        self.failures: list[str] = []
        self.unasked: set[int] = set()

    def _batch(self, numbers: list[int]) -> dict[int, tuple]:
        import urllib.error
        import urllib.parse
        import urllib.request
        import xml.etree.ElementTree as ET

        query = urllib.parse.urlencode({"hub_key": self.hub_key, "n_ips": ",".join(map(str, numbers))})
        try:
            with urllib.request.urlopen(f"{self.url}/?&{query}", timeout=self.timeout) as resp:
                root = ET.fromstring(resp.read().decode("utf-8", errors="replace"))
        except (urllib.error.URLError, ET.ParseError, TimeoutError, OSError) as e:
            self.failures.append(f"{self.url}: {e}")
            self.unasked.update(numbers)
            return {}
        if (root.findtext("status") or "").strip() == "_INVALID_KEY_OR_KEY-HUB_HOSTNAME_MISMATCH_":
            self.failures.append("the ipinfo service rejected the hub key (geoip.hub_key)")
            self.unasked.update(numbers)
            return {}
        out = {}
        for ipset in root.findall("ipset"):
            if (ipset.findtext("status") or "").strip() != "_SUCCESS_":
                continue
            try:
                n = int((ipset.findtext("n_ip") or "").strip())
            except ValueError:
                continue
            text = {tag: (ipset.findtext(tag) or "-").strip() or "-"
                    for tag in ("countryCode", "countryName", "region", "city", "lat", "long")}
            out[n] = (text["countryCode"], text["countryName"], text["region"], text["city"],
                      _float_or_none(text["lat"]), _float_or_none(text["long"]))
        return out

    def lookup(self, numbers: list[int]) -> dict[int, tuple]:
        from concurrent.futures import ThreadPoolExecutor

        batches = [numbers[i:i + BATCH] for i in range(0, len(numbers), BATCH)]
        out = {}
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(batches)))) as pool:
            for answer in pool.map(self._batch, batches):
                out.update(answer)
        return out


@cache
def country_centre(code: str) -> tuple[float, float] | tuple[None, None]:
    """A country's centre (latitude, longitude) from countryinfo's bundled data, for the map.

    The offline database answers countries only; the who-is-online map needs
    a point, and a country's centre is the honest one (every address of a
    country on one marker, as the map merges markers of one place).
    """
    from countryinfo import CountryInfo

    try:
        lat, lng = CountryInfo(code).latlng()[:2]
        return float(lat), float(lng)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None, None


class OfflineProvider:
    """geoip2fast's bundled country database; answers countries, placed at their centre."""

    caches_answers = False

    def __init__(self, load: bool = True):
        if load:
            from geoip2fast import GeoIP2Fast

            self.db = GeoIP2Fast(verbose=False)
        self.failures: list[str] = []
        self.unasked: set[int] = set()

    @classmethod
    def idle(cls) -> "OfflineProvider":
        """A provider for a step with no address to look up (loading the database takes a while)."""
        return cls(load=False)

    def lookup(self, numbers: list[int]) -> dict[int, tuple]:
        out = {}
        for n in numbers:
            r = self.db.lookup(dotted(n))
            code = (r.country_code or "").strip()
            if len(code) == 2 and code != "--":
                out[n] = (code, r.country_name or "-", "-", "-", *country_centre(code))
        return out


def provider_name(settings) -> str:
    """Which provider places addresses, as status lines and the report say it."""
    if settings.get("geoip", "provider") == "service":
        return f"the geo service {settings.get('geoip', 'url')} (countries and cities)"
    return "the offline database (geoip2fast: countries, each placed at its centre by countryinfo)"


def provider_for(settings):
    if settings.get("geoip", "provider") == "service":
        if not settings.get("geoip", "url"):
            raise ConfigError("geoip.provider is 'service' but geoip.url is not set")
        return ServiceProvider(settings.get("geoip", "url"), settings.get("geoip", "hub_key"),
                               float(settings.get("geoip", "timeout")))
    return OfflineProvider()


def geo_for(cur, caches: Caches, provider, ips: list[str]) -> dict[str, tuple]:
    """ip -> geo tuple for every address with an answer (cache first, then the provider)."""
    numbers = {ip: ip_number(ip) for ip in ips}
    wanted = sorted({n for n in numbers.values() if n is not None})
    found = caches.lookup(cur, wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        fresh = provider.lookup(missing)
        if provider.caches_answers and fresh:
            caches.store(cur, fresh)
        found.update(fresh)
    return {ip: found[n] for ip, n in numbers.items() if n is not None and n in found}


def country_code(answer: tuple) -> str:
    """The ipcountry an answer gives a row: its country code, or '-'."""
    return answer[0] if answer[0] and answer[0] != "-" else "-"


class SessionCountries:
    """The country fill-ipcountry gives a new session's rows, known when the session is written.

    For the month stage's sessions (sessionize_month), whose fill-ipcountry
    comes in the same job: each address gets what that step would give it
    (private addresses '-', then the caches, then the offline database,
    '-' without an answer), so the rows are born filled and the step has
    nothing left to write.  Only with the offline provider: it writes no
    cache, so asking early changes nothing but the moment.
    """

    def __init__(self, settings):
        self.settings, self.known, self.provider, self.caches = settings, {}, None, None

    @classmethod
    def for_month_stage(cls, settings) -> "SessionCountries | None":
        return None if settings.get("geoip", "provider") == "service" else cls(settings)

    def __call__(self, cur, ips) -> dict[str, str]:
        """ip -> country for `ips` (looked up once per run)."""
        new = sorted({ip for ip in ips if ip not in self.known})
        public = [ip for ip in new if not PRIVATE.match(ip)]
        self.known.update((ip, "-") for ip in new)
        if public:
            self.caches = self.caches or Caches(self.settings, cur)
            self.provider = self.provider or OfflineProvider()
            self.known.update((ip, country_code(g)) for ip, g in
                              geo_for(cur, self.caches, self.provider, public).items())
        return {ip: self.known[ip] for ip in ips}


def fill_ipcountry(settings, database: str, table: str, start, stop, *, provider=None, born_filled=False,
                   born_noted=False, dry_run: bool = False, say=print) -> dict:
    """Set `ipcountry` for the period's rows that have none ('' or NULL).

    Legacy semantics kept: the period is the week-chunk window
    (start - 1 day, stop]; private and loopback addresses get '-'; an
    address with an answer is filled on *all* its unfilled rows, whatever
    their date, and one without gets '-' the same way.

    born_filled: the rows of [start, stop) were written with their country
    (SessionCountries).  Their addresses would have been among the step's,
    so those that still have unfilled rows elsewhere are added.

    born_noted: resolve-dns gave rows of [start, stop) their country with
    their host (web), noting each address and host in hzflow_born_country.
    An address whose rows of that host clean-bots left would have been among
    the step's; those that still have unfilled rows elsewhere are added.
    The notes of the period go when the fill is done.
    """
    tables.check(table, "fill-ipcountry")
    col = tables.date_column(table)
    lo, hi = legacy_week_window(start, stop)
    tbl = f"{q(database)}.{q(table)}"
    unfilled = "(ipcountry = '' OR ipcountry IS NULL)"
    period = f"{col} > %s AND {col} <= %s"
    with dbmod.cursor(settings) as cur:
        cur.execute(f"SELECT DISTINCT ip FROM {tbl} WHERE {period} AND {unfilled} "
                    f"AND ip NOT REGEXP %s", (lo, hi, PRIVATE_SQL_REGEXP))
        ips, extra = [r[0] for r in cur.fetchall()], []     # extra: the born rows' addresses the step would ask
        if born_filled:
            cur.execute(f"SELECT DISTINCT u.ip FROM {tbl} u WHERE (u.ipcountry = '' OR u.ipcountry IS NULL) "
                        f"AND u.ip NOT REGEXP %s AND EXISTS (SELECT 1 FROM {tbl} m WHERE m.ip = u.ip "
                        f"AND m.{col} >= %s AND m.{col} < %s)", (PRIVATE_SQL_REGEXP, start, stop))
            extra += [ip for (ip,) in cur.fetchall()]
        if born_noted:
            cur.execute(f"SELECT DISTINCT b.ip FROM {q(database)}.hzflow_born_country b JOIN {tbl} u ON u.ip = b.ip "
                        f"WHERE b.period_start = %s AND b.ip NOT REGEXP %s AND (u.ipcountry = '' OR u.ipcountry "
                        f"IS NULL) AND EXISTS (SELECT 1 FROM {tbl} m WHERE m.ip = b.ip AND m.{col} >= %s "
                        f"AND m.{col} < %s AND BINARY m.host = b.host)", (start, PRIVATE_SQL_REGEXP, start, stop))
            extra += [ip for (ip,) in cur.fetchall()]
        asked = set(ips)
        ips += [ip for ip in dict.fromkeys(extra) if ip not in asked]
        say(f"fill-ipcountry {table}: {len(ips)} distinct public addresses without a country")
        if dry_run:
            return {"stage": f"fill-ipcountry {table}", "addresses": len(ips), "status": "dry-run"}
        private = cur.execute(f"UPDATE {tbl} SET ipcountry = '-' WHERE {period} AND {unfilled} "
                              f"AND ip REGEXP %s", (lo, hi, PRIVATE_SQL_REGEXP))
        provider = provider or (provider_for(settings) if ips else OfflineProvider.idle())
        answers = geo_for(cur, Caches(settings, cur), provider, ips) if ips else {}
        country = {ip: country_code(g) for ip, g in answers.items()}
        for ip in ips:
            if not provider.unasked or ip_number(ip) not in provider.unasked:
                country.setdefault(ip, "-")
        cur.execute("CREATE TEMPORARY TABLE hz_ip_country (ip VARCHAR(45) NOT NULL PRIMARY KEY, "
                    "country CHAR(2) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3")
        filled, pending = 0, sorted(country.items())
        rows_of_batch = tables.by_address(cur, database, table, "hz_ip_country c", f"{tbl} t ON t.ip = c.ip")
        # a few thousand addresses per statement keeps the row locks bounded
        for i in range(0, len(pending), 2000):
            cur.execute("DELETE FROM hz_ip_country")
            cur.executemany("INSERT INTO hz_ip_country VALUES (%s, %s)", pending[i:i + 2000])
            filled += cur.execute(f"UPDATE {rows_of_batch} SET "
                                  f"t.ipcountry = c.country WHERE (t.ipcountry = '' OR t.ipcountry IS NULL)")
        cur.execute("DROP TEMPORARY TABLE hz_ip_country")
        tables.edited(settings, cur, database, table, start, stop, filled)
        if born_noted:
            cur.execute(f"DELETE FROM {q(database)}.hzflow_born_country WHERE period_start = %s", (start,))
    unanswered = sum(1 for c in country.values() if c == "-")
    say(f"fill-ipcountry {table}: {filled} rows filled ({unanswered} addresses without an answer), "
        f"{private} private-address rows marked '-'")
    if provider.unasked:
        raise GeoLookupFailed(f"fill-ipcountry {table}: {len(provider.unasked)} addresses could not be "
                              f"looked up ({provider.failures[0]}); they stay unfilled for the next run")
    return {"stage": f"fill-ipcountry {table}", "addresses": len(ips), "rows": filled,
            "private_rows": private, "unanswered": unanswered, "provider_errors": len(provider.failures)}
