"""Hubs for the fleet tests: synthetic hubs with overlapping client addresses, and their twins.

A twin is the same hub (same logs, same hub database) built by its own
`hzflow cron`: what every fleet run, local or through SLURM, must leave.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

from hzflow import months
from hzflow_dev import dumps, hubsim

FIRST_DAY = date(2025, 10, 18)
TODAY = date(2025, 12, 6)
GOOD = {"alpha": 3, "beta": 4}


def simulated(site: str, seed: int) -> hubsim.Hub:
    return hubsim.Hub(site, FIRST_DAY, TODAY - timedelta(days=1), visits_per_day=10, seed=seed)


# hzflow's own PTR cache: a fleet's hubs share one (dns_cache), so a hub's own stays empty.
OWN_CACHE = "hzflow_dns_cache"


def canonical(hub):
    tables = dumps.canonical(hub.server, hub.metrics_db, hub.hub_db)
    tables.pop(OWN_CACHE, None)
    return tables


def fleet_cmd(fleet_file, *args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hzflow.cli", "--fleet", str(fleet_file), *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


def _hub(kit, server, root, name, seed, nameserver, **config):
    root.mkdir(parents=True, exist_ok=True)
    hub = kit[0](server, root, site=name, nameserver=nameserver)
    hub.init()
    sim = simulated(name, seed)
    hubsim.build_database(sim, server, hub.hub_db)
    hubsim.write_logs(sim, hub.root, TODAY)
    hub.write_config(start_month=months.of(FIRST_DAY), **config)
    return hub


def build_twins(server, kit, root, nameserver) -> dict:
    """Each good hub built by its own `hzflow cron` (today pinned): what every fleet run must leave."""
    made = {name: _hub(kit, server, root / name, name, seed, nameserver) for name, seed in GOOD.items()}
    old = os.environ.get(months.TODAY_VAR)
    os.environ[months.TODAY_VAR] = str(TODAY)
    try:
        for hub in made.values():
            hub.hzflow("cron", "-q")
        return {name: canonical(hub) for name, hub in made.items()}
    finally:
        kit[1](server, made.values())
        if old is None:
            os.environ.pop(months.TODAY_VAR, None)
        else:
            os.environ[months.TODAY_VAR] = old


def assert_equal_to_twins(hubs, twins):
    for name, hub in hubs.items():
        diff = dumps.differences(canonical(hub), twins[name])
        assert not diff, f"{name}: " + "\n".join(diff[:20])
