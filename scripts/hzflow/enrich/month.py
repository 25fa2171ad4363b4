"""The dns-resolved month stage: every enrichment step for one month, in the reference's order.

Each step fills only what is still empty, so rerunning the month changes
nothing, and a new day in the current month gets its hosts, domains and
countries on the next run (known addresses straight from the caches).
"""

from __future__ import annotations

import time

from .. import markers
from . import dns, domain, geo, hubdata
from .window import month_bounds


def enrich_month(settings, month: str, *, marker=None, dry_run: bool = False, say=print) -> dict:
    start, stop = month_bounds(month)
    met = settings.db.metrics_db
    began = time.monotonic()
    steps = [
        ("import-hub-data", lambda: hubdata.import_hub_data(settings, dry_run=dry_run, say=say)),
        ("resolve-dns sessionlog_metrics",
         lambda: dns.resolve_dns(settings, met, "sessionlog_metrics", start, stop, dry_run=dry_run, say=say)),
        ("fill-domain sessionlog_metrics",
         lambda: domain.fill_domain(settings, met, "sessionlog_metrics", start, stop, dry_run=dry_run, say=say)),
        ("fill-user-info sessionlog_metrics",
         lambda: hubdata.fill_user_info(settings, met, "sessionlog_metrics", dry_run=dry_run, say=say)),
        ("fill-ipcountry sessionlog_metrics",
         lambda: geo.fill_ipcountry(settings, met, "sessionlog_metrics", start, stop, dry_run=dry_run, say=say)),
        ("middleware-wall", lambda: hubdata.middleware(settings, "walltime", dry_run=dry_run, say=say)),
        ("middleware-cpu", lambda: hubdata.middleware(settings, "cputime", dry_run=dry_run, say=say)),
        ("resolve-dns web", lambda: dns.resolve_dns(settings, met, "web", start, stop, dry_run=dry_run, say=say)),
        ("resolve-dns toolstart",
         lambda: dns.resolve_dns(settings, met, "toolstart", start, stop, dry_run=dry_run, say=say)),
        ("fill-domain web", lambda: domain.fill_domain(settings, met, "web", start, stop, dry_run=dry_run, say=say)),
        ("fill-domain toolstart",
         lambda: domain.fill_domain(settings, met, "toolstart", start, stop, dry_run=dry_run, say=say)),
        ("fill-user-info toolstart",
         lambda: hubdata.fill_user_info(settings, met, "toolstart", dry_run=dry_run, say=say)),
        ("fill-ipcountry web",
         lambda: geo.fill_ipcountry(settings, met, "web", start, stop, dry_run=dry_run, say=say)),
        ("fill-ipcountry toolstart",
         lambda: geo.fill_ipcountry(settings, met, "toolstart", start, stop, dry_run=dry_run, say=say)),
    ]
    done = {}
    for name, step in steps:
        t = time.monotonic()
        done[name] = {**step(), "seconds": round(time.monotonic() - t, 2)}
    record = {"stage": "dns-resolved", "site": settings.site, "month": month, "steps": done,
              "seconds": round(time.monotonic() - began, 2)}
    if marker and not dry_run:
        markers.write(marker, record)
    return record
