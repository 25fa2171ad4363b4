"""Log trees for workflow tests: synthetic daily logs and the markers a run leaves."""

from __future__ import annotations

import gzip
import random
from datetime import date

from hzflow_dev import synth


def write_day(hub, day: date, seed: int, gz: bool = False, auth: bool = True, lines: int = 40):
    rng = random.Random(seed)
    stamp = f"{day:%Y%m%d}"
    access = "\n".join(synth.access_day(day, lines, rng)) + "\n"
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
    """Every marker (not the per-run import batches) and its mtime."""
    state = hub.work / "state" / hub.site
    return {str(p.relative_to(state)): p.stat().st_mtime_ns for p in state.rglob("*.json")
            if "batch" not in p.parts and "failed" not in p.parts and p.name != "last-run.json"}
