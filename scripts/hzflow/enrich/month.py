"""The dns-resolved month stage: every enrichment step for one month, in the reference's order.

Each step fills only what is still empty, so rerunning the month changes
nothing, and a new day in the current month gets its hosts, domains and
countries on the next run (known addresses straight from the caches).
"""

from __future__ import annotations

from .. import markers
from . import dns, domain, geo, hubdata
from .window import month_bounds


def _steps(settings):
    """(label, function, arguments) in the reference's order; `period` marks a dated step."""
    met = settings.db.metrics_db
    return [
        ("import-hub-data", hubdata.import_hub_data, ()),
        ("resolve-dns sessionlog_metrics", dns.resolve_dns, (met, "sessionlog_metrics", "period")),
        ("fill-domain sessionlog_metrics", domain.fill_domain, (met, "sessionlog_metrics", "period")),
        ("fill-user-info sessionlog_metrics", hubdata.fill_user_info, (met, "sessionlog_metrics")),
        ("fill-ipcountry sessionlog_metrics", geo.fill_ipcountry, (met, "sessionlog_metrics", "period")),
        ("middleware-wall", hubdata.middleware, ("walltime",)),
        ("middleware-cpu", hubdata.middleware, ("cputime",)),
        ("resolve-dns web", dns.resolve_dns, (met, "web", "period")),
        ("resolve-dns toolstart", dns.resolve_dns, (met, "toolstart", "period")),
        ("fill-domain web", domain.fill_domain, (met, "web", "period")),
        ("fill-domain toolstart", domain.fill_domain, (met, "toolstart", "period")),
        ("fill-user-info toolstart", hubdata.fill_user_info, (met, "toolstart")),
        ("fill-ipcountry web", geo.fill_ipcountry, (met, "web", "period")),
        ("fill-ipcountry toolstart", geo.fill_ipcountry, (met, "toolstart", "period")),
    ]


def enrich_month(settings, month: str, *, marker=None, dry_run: bool = False, say=print) -> dict:
    start, stop = month_bounds(month)

    def bound(step, args):
        if args and args[-1] == "period":
            args = (*args[:-1], start, stop)
        return lambda: step(settings, *args, dry_run=dry_run, say=say)

    steps = [(label, bound(step, args)) for label, step, args in _steps(settings)]
    return markers.run_stage(settings, "dns-resolved", month, steps, marker=marker, dry_run=dry_run)
