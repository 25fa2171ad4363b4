"""Log trees for workflow tests: synthetic daily logs and the markers a run leaves."""

from __future__ import annotations

import gzip
import random
from datetime import date, timedelta

from hzflow import synth


def months_back(n: int) -> date:
    d = date.today().replace(day=1)
    for _ in range(n):
        d = (d - timedelta(days=1)).replace(day=1)
    return d


def write_day(hub, day: date, seed: int, gz: bool = False, auth: bool = True):
    rng = random.Random(seed)
    stamp = f"{day:%Y%m%d}"
    access = "\n".join(synth.access_day(day, 40, rng)) + "\n"
    path = hub.apache / f"{hub.site}-access.log-{stamp}"
    hub.apache.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(access.encode()))
    else:
        path.write_text(access)
    if auth:
        hub.hub_logs.mkdir(parents=True, exist_ok=True)
        (hub.hub_logs / f"cmsauth.log-{stamp}").write_text(
            "\n".join(synth.auth_day(day, 10, rng)) + "\n")
    return path


def marker_times(hub) -> dict[str, int]:
    state = hub.work / "state" / hub.site
    return {str(p.relative_to(state)): p.stat().st_mtime_ns for p in state.rglob("*.json")}
