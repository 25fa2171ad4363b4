"""Canonical dumps of every table hzflow writes, for comparing two runs cell for cell.

Columns that record when something happened (not what) are left out, and
session stamps (`web.sessionid`, `toolstart.sessionid`) are shown as the
session they point to, so two databases that hold the same data compare
equal even where an id is allowed to differ.
"""

from __future__ import annotations

VOLATILE = {"imported_sources": {"imported_at"}, "hzflow_dns_cache": {"resolved_at"},
            "hzflow_ipgeo_cache": {"lookup_datetime"}, "hzflow_rollup_months": {"refreshed_at"},
            "hzflow_migrations": {"applied_at"}, "jos_resource_stats": {"processed_on", "id"},
            "jos_resource_stats_tools": {"processed_on"}, "jos_stats_topvals": {"id"},
            "jos_metrics_ipgeo_cache": {"lookup_datetime"}}
HUB_TABLES = ("jos_resource_stats", "jos_resource_stats_tools", "jos_resource_stats_tools_topvals",
              "jos_stats_topvals", "jos_metrics_ipgeo_cache", "jos_session_geo")
SESSION = "(SELECT CONCAT_WS('|', s.datetime, s.ip, s.host) FROM websessions s WHERE s.id = t.sessionid)"
TOPVALS = ("SELECT s.resid, s.datetime, s.period, t.top, t.rank, t.name, t.value FROM "
           "jos_resource_stats_tools_topvals t JOIN jos_resource_stats_tools s ON s.id = t.id")


def _rows(cur, sql, params=()):
    cur.execute(sql, params)
    return sorted(cur.fetchall(), key=repr)


def _columns(cur, database: str, table: str) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s ORDER BY ordinal_position", (database, table))
    return [c for (c,) in cur.fetchall() if c not in VOLATILE.get(table, ())]


def canonical(server, metrics_db: str, hub_db: str) -> dict[str, list[tuple]]:
    out = {}
    conn = server.connect(metrics_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (metrics_db,))
            for (table,) in sorted(cur.fetchall()):
                cols = [f"`{c}`" if c != "sessionid" else f"{SESSION} AS sessionid"
                        for c in _columns(cur, metrics_db, table)]
                out[table] = _rows(cur, f"SELECT {', '.join(cols)} FROM `{table}` t")
            cur.execute(f"USE `{hub_db}`")
            for table in HUB_TABLES:
                if table == "jos_resource_stats_tools_topvals":   # its id is the stats row it belongs to
                    out[f"hub.{table}"] = _rows(cur, TOPVALS)
                    continue
                cols = [c for c in _columns(cur, hub_db, table) if c != "id" or table == "jos_session_geo"]
                out[f"hub.{table}"] = _rows(cur, f"SELECT {', '.join(f'`{c}`' for c in cols)} FROM `{table}`")
    finally:
        conn.close()
    return out


def differences(a: dict, b: dict) -> list[str]:
    """One line per table whose rows differ, with a few of the differing rows (linear in the rows)."""
    from collections import Counter

    out = []
    for table in sorted(set(a) | set(b)):
        left, right = a.get(table, []), b.get(table, [])
        if left != right:
            only_a, only_b = Counter(left) - Counter(right), Counter(right) - Counter(left)
            out.append(f"{table}: {len(left)} vs {len(right)} rows; only in first {sorted(only_a, key=repr)[:3]}; "
                       f"only in second {sorted(only_b, key=repr)[:3]}")
    return out
