"""A fleet of hubs in one run: the contract per hub, isolation of a broken hub, one DNS cache, the locks.

Two synthetic hubs with overlapping client addresses (alpha, beta) run as a
fleet beside two that cannot (gamma: its database server is down; delta:
its config file is missing).  Each good hub's tables must equal those of a
twin built by its own `hzflow cron` over the same logs (which the
equivalence test ties to the stage commands), after a plain fleet run,
after a fleet run killed at random moments and rerun, and through plain
`snakemake --configfile FLEET`.  The loopback PTR server counts what it is
asked: across the fleet, each address at most once.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml
from fleettree import FIRST_DAY, GOOD, OWN_CACHE, TODAY, _hub, assert_equal_to_twins, fleet_cmd

from hzflow import locks, months
from hzflow.fleet import Fleet

from logtree import marker_times

pytestmark = pytest.mark.workflow

@pytest.fixture
def fleet(server, hub_kit, counting_ptr, tmp_path, today, monkeypatch):
    """The fleet file of alpha, beta, gamma (database down) and delta (no config file)."""
    monkeypatch.setenv(months.TODAY_VAR, str(TODAY))
    hubs = {name: _hub(hub_kit, server, tmp_path / name, name, seed, counting_ptr.nameserver) for name, seed in GOOD.items()}
    gamma = _hub(hub_kit, server, tmp_path / "gamma", "gamma", 5, counting_ptr.nameserver)
    db = dict(yaml.safe_load(gamma.config_path.read_text())["db"], port=9, host="127.0.0.1")
    db.pop("socket", None)
    gamma.write_config(start_month=months.of(FIRST_DAY), db=db)
    shared = f"t{os.getpid()}_fleetdns"
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({
        "hubs": {**{n: f"{n}/config.yaml" for n in hubs}, "gamma": "gamma/config.yaml",
                 "delta": "delta/config.yaml"},
        "work_dir": str(tmp_path / "fleet-work"), "dns_cache": shared}))
    yield path, hubs, gamma
    hub_kit[1](server, [*hubs.values(), gamma])
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{shared}`")
    conn.close()


def test_one_fleet_run_builds_each_good_hub_as_its_own_cron_and_says_which_failed(fleet, twins, counting_ptr):
    path, hubs, gamma = fleet
    counting_ptr.asked.clear()
    r = fleet_cmd(path, "cron", "-q", timeout=1200)
    assert r.returncode == 2, r.stdout + r.stderr              # delta: a config error is the most severe
    lines = [line for line in r.stdout.splitlines() if line.startswith("  ") and ":" in line]
    named = {line.split(":")[0].strip() for line in lines if not line.strip().startswith("run log")}
    assert named == {"gamma", "delta"}, r.stdout
    assert_equal_to_twins(hubs, twins)
    asked = {ip: n for ip, n in counting_ptr.asked.items() if ip and ip not in ("127.0.0.1", "192.0.2.1")}
    assert asked and max(asked.values()) == 1, sorted(asked.items(), key=lambda kv: -kv[1])[:5]
    shared = hubs["alpha"].query(f"SELECT ip FROM `{Fleet.load(path).get('dns_cache')}`.{OWN_CACHE}")
    assert set(asked) <= {ip for ip, in shared}                   # every answer is in the shared cache

    status = json.loads(fleet_cmd(path, "status", "--json").stdout)
    by_hub = {h["hub"]: h for h in status["hubs"]}
    assert by_hub["alpha"]["ok"] and by_hub["beta"]["ok"]
    assert set(by_hub["alpha"]["months"].values()) == {"built"}
    assert by_hub["gamma"]["exit_status"] == 3 and by_hub["delta"]["exit_status"] == 2
    assert status["exit_status"] == 2
    grid = fleet_cmd(path, "status").stdout.splitlines()          # months x hubs, one word each
    assert grid[1].split()[:3] == ["month", "alpha", "beta"] and len(grid[1].split()) == 5
    assert [row.split()[1:3] for row in grid[2:5]] == [["built", "built"]] * 3

    again = fleet_cmd(path, "cron", "-q", timeout=600)            # nothing new: good hubs untouched
    assert again.returncode == 2
    assert_equal_to_twins(hubs, twins)

    summarized = hubs["alpha"].work / "state" / "alpha" / "summarized" / "2025-11.json"
    before = summarized.stat().st_mtime_ns                        # one hub's command, through the fleet
    r = fleet_cmd(path, "--hub", "alpha", "rebuild", "2025-11", "--stage", "summarized", "-q", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert summarized.stat().st_mtime_ns > before
    assert_equal_to_twins(hubs, twins)

    assert fleet_cmd(path, "report").returncode == 2              # written, with delta's problem on it
    page = (path.parent / "fleet-work" / "fleet" / "report" / "index.html").read_text()
    assert "../../../alpha/work/report/alpha/index.html" in page and "users (all kinds)" in page
    gamma_item = next(line for line in page.splitlines() if ">gamma<" in line)
    assert "database error" in gamma_item                        # down before its first summary: still named
    only_gamma = path.parent / "fleet-gamma.yaml"
    only_gamma.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "hubs": {
        n: f for n, f in yaml.safe_load(path.read_text())["hubs"].items() if n in ("alpha", "gamma")}}))
    assert fleet_cmd(only_gamma, "report").returncode == 3        # the database failure is the exit status


def test_fleet_and_single_hub_runs_take_the_same_hub_lock(fleet):
    path, hubs, _ = fleet
    settings = Fleet.load(path).hub("alpha")
    settings.site_state.mkdir(parents=True, exist_ok=True)
    with open(locks.hub_lock_path(settings), "a") as held:        # alpha's own cron is running
        fcntl.flock(held, fcntl.LOCK_EX)
        r = fleet_cmd(path, "cron", timeout=1200)
    assert "alpha: another run holds" in r.stdout
    assert hubs["alpha"].query("SELECT COUNT(*) FROM web") == [(0,)]
    assert hubs["beta"].query("SELECT COUNT(*) FROM web")[0][0] > 0
    work = path.parent / "fleet-work"
    with open(work / ".hzflow-fleet.lock", "a") as held:          # a second fleet run exits at once
        fcntl.flock(held, fcntl.LOCK_EX)
        r = fleet_cmd(path, "cron", "-q", timeout=60)
    assert r.returncode == 0 and r.stdout == ""
    assert hubs["alpha"].query("SELECT COUNT(*) FROM web") == [(0,)]

    data = yaml.safe_load(path.read_text())                        # beta leaves the fleet; alpha is free
    del data["hubs"]["beta"]
    path.write_text(yaml.safe_dump(data))
    before, rows = marker_times(hubs["beta"]), hubs["beta"].query("SELECT COUNT(*) FROM web")
    fleet_cmd(path, "cron", "-q", timeout=1200)
    assert hubs["alpha"].query("SELECT COUNT(*) FROM web")[0][0] > 0
    assert (hubs["alpha"].work / "state" / "alpha" / "summarized").is_dir()
    assert marker_times(hubs["beta"]) == before and hubs["beta"].query("SELECT COUNT(*) FROM web") == rows


def test_a_fleet_run_killed_at_random_moments_then_plain_snakemake_equals_the_twins(fleet, twins):
    path, hubs, _ = fleet
    rng = random.Random(int(os.environ.get("HZFLOW_KILL_SEED", "18")))
    for _ in range(int(os.environ.get("HZFLOW_FLEET_KILLS", "2"))):
        proc = subprocess.Popen([sys.executable, "-m", "hzflow.cli", "--fleet", str(path), "cron", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(2.0, 25.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    fleet_cmd(path, "cron", "-q", timeout=1200)
    assert_equal_to_twins(hubs, twins)
    for hub in hubs.values():                                      # a plain snakemake over the fleet redoes it all
        for done in (hub.work / "state" / hub.site).rglob("*.json"):
            if "summarized" in done.parts:
                done.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("HZFLOW_CONFIG",)}
    r = subprocess.run([sys.executable, "-m", "hzflow.launcher", "--configfile", str(path)], env=env,
                       capture_output=True, text=True, timeout=1200, cwd=path.parent)
    assert r.returncode != 0                                       # gamma and delta fail; the others are built
    assert_equal_to_twins(hubs, twins)
    assert all((hub.work / "state" / hub.site / "summarized").glob("*.json") for hub in hubs.values())
