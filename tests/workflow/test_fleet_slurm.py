"""The fleet through a real workload manager: a single-node SLURM (slurm-wlm, munge) on this machine.

The fleet file asks for `profile: slurm` (profiles/slurm: the executor
plugin, every job through sbatch); every table of every hub must equal its
twin's, built by the hub's own local `hzflow cron`.  Opt-in
(HZFLOW_TEST_SLURM=1: it installs Debian's slurm-wlm and munge when missing
and needs root); `./dev/bench.sh fleet-slurm` runs it with figures.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml
from fleettree import GOOD, TODAY, _hub, assert_equal_to_twins, fleet_cmd

from hzflow import months
from hzflow_dev import slurm

pytestmark = [pytest.mark.workflow,
              pytest.mark.skipif(os.environ.get("HZFLOW_TEST_SLURM") != "1",
                                 reason="opt-in: HZFLOW_TEST_SLURM=1 (a single-node SLURM; ./dev/bench.sh fleet-slurm)")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    if os.geteuid() != 0:
        pytest.skip("a single-node SLURM needs root")
    scratch = tmp_path_factory.mktemp("slurm")
    with slurm.cluster(scratch) as env:
        yield env


def test_the_fleet_builds_through_sbatch_and_equals_the_local_runs(cluster, server, hub_kit, counting_ptr,
                                                                   twins, tmp_path, monkeypatch):
    monkeypatch.setenv(months.TODAY_VAR, str(TODAY))
    hubs = {name: _hub(hub_kit, server, tmp_path / name, name, seed, counting_ptr.nameserver)
            for name, seed in GOOD.items()}
    shared = f"t{os.getpid()}_slurmdns"
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"hubs": {n: f"{n}/config.yaml" for n in hubs}, "profile": "slurm",
                                    "work_dir": str(tmp_path / "fleet-work"), "dns_cache": shared}))
    try:
        r = fleet_cmd(path, "cron", "--slurm-status-command", "squeue",
                      "--slurm-init-seconds-before-status-checks", "1", env=cluster, timeout=3000)
        assert r.returncode == 0, r.stdout + r.stderr
        assert_equal_to_twins(hubs, twins)
        jobs = subprocess.run(["scontrol", "-o", "show", "jobs"], capture_output=True, text=True,
                              env={**os.environ, **cluster}).stdout.splitlines()
        completed = [j for j in jobs if "JobState=COMPLETED" in j and f"WorkDir={tmp_path}/fleet-work" in j]
        # each hub: its import, three months' resolve and tool statistics, two closed months' sessions,
        # summaries and the report, every one through sbatch (slurmctld keeps finished jobs MinJobAge)
        assert len(completed) >= len(hubs) * 10, jobs[-3:]
    finally:
        hub_kit[1](server, hubs.values())
        conn = server.connect()
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{shared}`")
        conn.close()
