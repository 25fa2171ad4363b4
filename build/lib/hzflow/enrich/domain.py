"""fill-domain: the registrable domain of each resolved host, by the legacy rules.

get_domain keeps HUBzero's own notion of "domain" (which the org-type
classification in `domainclass` is keyed by), not the Public Suffix List:
`cs.purdue.edu` is `purdue.edu`, `host.co.jp` stays `host.co.jp`.
"""

from __future__ import annotations

import re

from .. import db as dbmod
from ..db import quote_ident as q
from . import tables
from .window import days, legacy_week_window

NO_PROMOTION = {"ub"}
MILITARY = {"af", "army", "navy"}
GENERIC_SECOND_LEVEL = {"com", "net", "org", "edu", "gov", "mil", "ac", "co", "ne", "or", "ed"}
US_LOCALITY = {"k12", "lib", "cc", "tec"}
# A second-level label of four or more dash/underscore parts keeps only its tail.
_LONG_LABEL = [re.compile(p) for p in (r"^(.+-.+-.+-.+)-(.+)$", r"^(.+_.+_.+_.+)-(.+)$",
                                       r"^(.+_.+_.+_.+)_(.+)$", r"^(.+-.+-.+-.+)_(.+)$")]

def get_domain(host: str | None) -> str:
    """The domain of a host name, or '?' for anything that is not one."""
    if not host or "." not in host:
        return "?"
    labels = host.split(".")[::-1]          # top-level first
    domain = f"{labels[1]}.{labels[0]}"
    if len(labels) >= 3:
        tld, sld = labels[0], labels[1]
        if ((sld not in NO_PROMOTION and len(sld) == 2 and len(tld) == 2)
                or (sld in GENERIC_SECOND_LEVEL and len(tld) == 2)
                or (sld in MILITARY and tld == "mil")):
            domain = f"{labels[2]}.{sld}.{tld}"
        if len(labels) >= 4 and labels[2] in US_LOCALITY and tld == "us":
            domain = f"{labels[3]}.{labels[2]}.{sld}.{tld}"
    else:
        for pattern in _LONG_LABEL:
            m = pattern.match(labels[1])
            if m:
                domain = f"{m.group(2)}.{labels[0]}"
                break
    return "?" if domain in ("", ".") else domain


def _period(col: str, lo, hi) -> tuple[str, list]:
    sql, params = "", []
    if lo:
        sql += f" AND t.{col} >= %s"
        params.append(f"{lo} 00:00:00")
    if hi:
        sql += f" AND t.{col} < %s"
        params.append(f"{hi} 00:00:00")
    return sql, params


def fill_domain(settings, database: str, table: str, start, stop, *, dry_run: bool = False,
                say=print) -> dict:
    """Set `domain` from `host` for the period's rows that have a host but no domain.

    Keeps two legacy quirks: the window starts a day early (see
    legacy_week_window), and on `web` only hosts stored in lower case are
    matched (the legacy web path compared case-sensitively).
    """
    tables.check(table, "fill-domain")
    col = tables.date_column(table)
    lo, hi = legacy_week_window(start, stop) if start else (None, stop)
    unfilled = ("(t.domain = '' OR t.domain = '?' OR t.domain IS NULL) "
                "AND t.host <> '' AND t.host IS NOT NULL")
    with dbmod.cursor(settings, database) as cur:
        period, params = _period(col, lo, hi)
        cur.execute(f"SELECT DISTINCT LOWER(t.host) FROM {q(table)} t WHERE {unfilled}{period}", params)
        pairs = [(h, get_domain(h)) for (h,) in cur.fetchall() if h]
        say(f"fill-domain {table}: {len(pairs)} distinct hosts without a domain")
        if dry_run or not pairs:
            for h, dmn in pairs[:10]:
                say(f"[dry-run] {h} -> {dmn}")
            return {"stage": f"fill-domain {table}", "hosts": len(pairs), "rows": 0}
        cur.execute("CREATE TEMPORARY TABLE hz_host_domain (host VARCHAR(255) NOT NULL PRIMARY KEY, "
                    "domain VARCHAR(255) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3")
        cur.executemany("INSERT IGNORE INTO hz_host_domain VALUES (%s, %s)", pairs)
        match = "t.host = d.host AND BINARY t.host = d.host" if table == "web" else "t.host = d.host"
        rows = 0
        # one statement per day keeps the row locks of a big month bounded
        for day_lo, day_hi in days(lo, hi):
            period, params = _period(col, day_lo, day_hi)
            rows += cur.execute(f"UPDATE {q(table)} t JOIN hz_host_domain d ON {match} "
                                f"SET t.domain = d.domain WHERE {unfilled}{period}", params)
        cur.execute("DROP TEMPORARY TABLE hz_host_domain")
        tables.edited(settings, cur, database, table, start, stop, rows)
    say(f"fill-domain {table}: {rows} rows updated")
    return {"stage": f"fill-domain {table}", "hosts": len(pairs), "rows": rows}
