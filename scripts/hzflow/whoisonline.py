"""whoisonline: who is on the hub now, for its map (`jos_session_geo` and whoisonline.xml).

Run every few minutes, outside the month pipeline, under its own flock.
From the CMS's `jos_session` it keeps one row per (address, user) active in
the last hour (the most recent session), names each address (reverse DNS
through hzflow's cache), marks domains listed as 'domain' in exclude_list as
bots, locates addresses with the same providers as fill-ipcountry, and
rewrites the map's XML atomically.  An address without a location keeps
NULL coordinates (the reference wrote '-' into the DOUBLE columns and
stopped) and is simply not on the map.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from . import db as dbmod
from .db import quote_ident as q
from .enrich import dns, geo
from .enrich.domain import get_domain
from .errors import ConfigError
from .locks import Lock

IDLE_SECONDS = 3600
# Crawler hosts the legacy map always labelled by their own name.
FORCED_DOMAINS = (
    "brain.grub.org", "crawl.yahoo.net", "crawl8-public.alexa.com", "hanta.yahoo.com",
    "idle.eidetica.com", "morgue1.corp.yahoo.com", "msnbot.msn.com", "panchma.tivra.com",
    "tpiol.tpiol.com", "xs4.kso.co.uk", "zeus.nj.nec.com", "punch.purdue.edu", "san2.attens.net",
    "search.msn.com", "sac.overture.com", "66.237.109.194.ptr.us.xo.net",
    "67.108.223.130.ptr.us.xo.net", "67.106.152.131.ptr.us.xo.net")


def map_domain(ip: str, host: str | None) -> str:
    """The map's domain label: '(unknown)' for no name, forced crawler names, else get_domain."""
    if not host or host == ip:
        return "(unknown)"
    for forced in FORCED_DOMAINS:
        if host.endswith(forced):
            return forced
    domain = get_domain(host)
    return "(unknown)" if domain in ("", "?") else domain


def xml_path(settings) -> Path | None:
    if settings.hub_dir is None:
        return None
    for sub in ("app/site/stats/maps", "site/stats/maps"):
        if (settings.hub_dir / sub).is_dir():
            return settings.hub_dir / sub / "whoisonline.xml"
    return None


def _names(settings, cur, ips: list[str], resolver=None) -> dict[str, str]:
    """ip -> host for the addresses that have an answer (cache first, then the resolver)."""
    cache = dns.cache_table(settings, cur)
    fresh, args = dns.fresh_condition(settings)
    cur.execute(f"SELECT ip, status, host FROM {cache} WHERE ip IN %s AND {fresh}", (ips, *args))
    known = {ip: (status, host) for ip, status, host in cur.fetchall()}
    missing = [ip for ip in ips if ip not in known]
    if missing:
        own = resolver is None
        resolver = resolver or dns.resolver_for(settings)
        try:
            answers = [a for a in resolver.resolve(missing) if a[1] != "error"]
        finally:
            if own:
                resolver.close()
        dns.store_answers(cur, cache, answers)
        known.update({ip: (status, host) for ip, status, host in answers})
    return {ip: (host.lower() if status == "name" else ip) for ip, (status, host) in known.items()}


def refresh(settings, *, dry_run: bool = False, resolver=None, provider=None, say=print) -> dict:
    target = xml_path(settings)
    if target is None:
        raise ConfigError(f"whoisonline: no app/site/stats/maps (or site/stats/maps) under hub_dir "
                          f"{settings.hub_dir}")
    d = settings.db
    geo_table, sessions = f"{q(d.hub_db)}.{q(d.prefix + 'session_geo')}", f"{q(d.hub_db)}.{q(d.prefix + 'session')}"
    if dry_run:
        say(f"[dry-run] whoisonline: would refresh {d.hub_db}.{d.prefix}session_geo and write {target}")
        return {"stage": "whoisonline", "status": "dry-run"}
    with dbmod.cursor(settings, None) as cur:
        stale = f"DELETE FROM {geo_table} WHERE (UNIX_TIMESTAMP() - time) > %s"
        cur.execute(stale, (IDLE_SECONDS,))
        cur.execute(
            f"INSERT IGNORE INTO {geo_table} (ip, session_id, username, time, guest, userid) "
            f"SELECT ip, session_id, username, time, guest, userid FROM ("
            f"SELECT *, ROW_NUMBER() OVER (PARTITION BY ip, username ORDER BY time DESC, session_id) n "
            f"FROM {sessions} WHERE (UNIX_TIMESTAMP() - time) < %s) latest WHERE n = 1",
            (IDLE_SECONDS,))
        cur.execute(f"UPDATE {geo_table} g JOIN (SELECT ip, MAX(host) host, MAX(domain) domain "
                    f"FROM {geo_table} WHERE host <> '' AND host <> '(unknown)' GROUP BY ip) known "
                    f"ON g.ip = known.ip SET g.host = known.host, g.domain = known.domain")
        cur.execute(f"SELECT DISTINCT ip FROM {geo_table} WHERE (host = '' OR host IS NULL) AND ip <> ''")
        ips = [r[0] for r in cur.fetchall()]
        if ips:
            names = _names(settings, cur, ips, resolver)
            cur.executemany(f"UPDATE {geo_table} SET host = %s, domain = %s WHERE ip = %s",
                            [(h, map_domain(ip, h), ip) for ip, h in names.items()])
        located = _locate(settings, cur, geo_table, provider)
        markers = _write_xml(cur, geo_table, target)
        cur.execute(stale, (IDLE_SECONDS,))
    say(f"whoisonline: {len(ips)} new addresses named, {located} located by {geo.provider_name(settings)}, "
        f"{markers} map markers in {target}")
    return {"stage": "whoisonline", "named": len(ips), "located": located, "markers": markers}


def _locate(settings, cur, geo_table, provider) -> int:
    cur.execute(f"SELECT DISTINCT ip, domain, bot FROM {geo_table} WHERE ipLATITUDE IS NULL")
    rows = cur.fetchall()
    if not rows:
        return 0
    cur.execute(f"SELECT filter FROM {q(settings.db.metrics_db)}.exclude_list WHERE type = 'domain'")
    bot_domains = {f.lower() for (f,) in cur.fetchall()}
    provider = provider or geo.provider_for(settings)
    answers = geo.geo_for(cur, geo.Caches(settings, cur), provider, sorted({r[0] for r in rows}))
    updates = []
    for ip, domain, bot in rows:
        bot = bot or (1 if (domain or "").lower() in bot_domains else 0)
        code, name, region, city, lat, lng = answers.get(ip, ("-", "-", "-", "-", None, None))
        updates.append((code, name, region, city, lat, lng, bot, ip))
    cur.executemany(f"UPDATE {geo_table} SET countrySHORT = %s, countryLONG = %s, ipREGION = %s, ipCITY = %s, "
                    f"ipLATITUDE = %s, ipLONGITUDE = %s, bot = %s WHERE ip = %s", updates)
    return sum(1 for u in updates if u[4] is not None)


def _count_line(cur, geo_table, domain, lat, lng) -> str:
    parts = []
    for label, sql in (("Users", "COUNT(DISTINCT username) FROM {t} WHERE guest = 0"),
                       ("Guests", "COUNT(DISTINCT ip) FROM {t} WHERE guest = 1 AND bot = 0"),
                       ("Bots", "COUNT(DISTINCT ip) FROM {t} WHERE guest = 1 AND bot = 1")):
        cur.execute(f"SELECT {sql.format(t=geo_table)} AND domain = %s AND ipLATITUDE = %s "
                    f"AND ipLONGITUDE = %s", (domain, lat, lng))
        n = cur.fetchone()[0]
        if n:
            parts.append(f"_br_ - {label}: {n}")
    return "".join(parts) + "_br_"


def _write_xml(cur, geo_table, target: Path) -> int:
    cur.execute(f"SELECT ipLATITUDE, ipLONGITUDE, MAX(ipCITY), MAX(ipREGION), MAX(countrySHORT), MAX(bot) "
                f"FROM {geo_table} WHERE ipLATITUDE IS NOT NULL GROUP BY ipLATITUDE, ipLONGITUDE "
                f"ORDER BY ipLATITUDE, ipLONGITUDE")
    locations = cur.fetchall()
    lines = ["<markers>"]
    for lat, lng, city, region, country, bot in locations:
        cur.execute(f"SELECT DISTINCT domain FROM {geo_table} WHERE ipLATITUDE = %s AND ipLONGITUDE = %s "
                    f"ORDER BY domain", (lat, lng))
        info = "".join(f"_b_{dom if dom is not None else ''}_bb_{_count_line(cur, geo_table, dom, lat, lng)}"
                       for (dom,) in cur.fetchall())
        while info.endswith("_br_"):
            info = info[:-4]
        place = f"_b_{city}, {region}, {country}_bb__hr_{info}"
        lines.append(f'<marker lat="{_attr(lat)}" lng="{_attr(lng)}" info = "{_attr(place)}" '
                     f'bot = "{_attr(bot or 0)}"/>')
    lines.append("</markers>")
    fd, tmp = tempfile.mkstemp(prefix=".whoisonline.", dir=target.parent)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return len(locations)


def _attr(value) -> str:
    """An XML attribute value: names come from PTR records and sessions, so nothing is trusted."""
    return escape(str(value), {'"': "&quot;"})


def run_locked(settings, *, dry_run: bool = False, say=print) -> int:
    """whoisonline under its own non-blocking flock: a second one exits 0 at once."""
    with Lock(settings.site_state / ".hzflow-whoisonline.lock") as held:
        if not held:
            say(f"whoisonline: another run holds the lock ({datetime.now():%H:%M:%S}); nothing to do")
            return 0
        refresh(settings, dry_run=dry_run, say=say)
        return 0
