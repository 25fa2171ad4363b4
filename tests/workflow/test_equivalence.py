"""The contract of the workflow: one `hzflow cron` leaves exactly the database the stage commands
leave over the same logs in date order, whatever the job order, after kill -9 and rerun, run to run.

A synthetic hub of three months (crawler agents first seen mid-period, visits across midnight and
a month's end, logins, tool sessions, logs rotated a few minutes after midnight so each file holds
the first minutes of the next day) is processed

  (a) by the stage commands in date order: import-apache and import-auth for each day, oldest
      first, then `analyze --month M` and `summarize --month M` for each month, and for the
      current month what the reference's daily tick does (here: its tool statistics);
  (b) by one `hzflow cron` over the same logs, laid out as logrotate leaves them;
  (c) by `hzflow cron` killed (kill -9 of its process group) at six random moments (HZFLOW_EQUIVALENCE_KILLS), rerun each
      time, then once to the end;
  (e) by plain `snakemake` with the shipped profile (hzflow-snakemake), to the end, and killed at
      half as many random moments (each followed by the `--unlock` Snakemake asks for), then to the end;
  (d) by two other runs from scratch: a plain one, and one that first runs only up to the
      last month's enrichment;

and every table hzflow writes, in the metrics and the hub database, must be identical
(`web.sessionid` and `toolstart.sessionid` compared through the session they point to).
HZFLOW_EQUIVALENCE_DAYS / _VISITS / _KILLS make it larger (./dev/bench.sh runs it at a larger size).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from hzflow import cli, months
from hzflow_dev import dumps, hubsim

pytestmark = pytest.mark.workflow

FIRST_DAY = date(2025, 9, 24)
TODAY = date(2025, 12, 8)
KILLS = int(os.environ.get("HZFLOW_EQUIVALENCE_KILLS", "6"))


def simulated() -> hubsim.Hub:
    span = int(os.environ.get("HZFLOW_EQUIVALENCE_DAYS", "68"))
    return hubsim.Hub("eqhub", FIRST_DAY, FIRST_DAY + timedelta(days=span - 1),
                      visits_per_day=int(os.environ.get("HZFLOW_EQUIVALENCE_VISITS", "24")), seed=7)


def canonical(hub):
    return dumps.canonical(hub.server, hub.metrics_db, hub.hub_db)


@pytest.fixture
def fresh(server, make_hub, tmp_path, monkeypatch):
    """A factory of hubs with the same logs and hub data, each with its own databases and tree."""
    monkeypatch.setenv(months.TODAY_VAR, str(TODAY))
    sim = simulated()

    def make(name: str):
        hub = make_hub(tmp_path / name, sim.site)
        hub.init()
        hubsim.build_database(sim, server, hub.hub_db)
        hubsim.write_logs(sim, hub.root, TODAY)
        hub.write_config(start_month=months.of(sim.first_day))
        return hub

    return make


def by_stage_commands(hub) -> None:
    """(a): the reference's way, by hand: every day's logs oldest first, then each month."""
    def command(*args):
        assert cli.main(["--config", str(hub.config_path), *map(str, args)]) == 0, args

    for log in hubsim.logs_in_date_order(hub.root):
        command("import-auth" if "cmsauth" in log.name else "import-apache", log)
    for month in months.between(months.of(FIRST_DAY), months.preceding(months.of(TODAY))):
        command("analyze", "--month", month)
        command("summarize", "--month", month)
    command("tool-stats", months.of(TODAY))             # the current month has no log of its own yet


def killed_at_random(start, kills: int, seed: int, longest: float, after_each=None) -> list[float]:
    """(c): start a run, kill -9 its whole process group at a random moment, again and again.

    Each rerun starts with Snakemake's start-up and goes on where the last one
    was killed, so moments up to `longest` seconds (sized from an uninterrupted
    run on the same machine) walk the kills through every stage of the run and
    through Snakemake's own bookkeeping. Returns the moments of the kills that
    landed inside a run.
    """
    rng, moments = random.Random(seed), []
    for _ in range(kills):
        moment = rng.uniform(0.3, longest)
        proc = start()
        try:
            proc.wait(moment)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            moments.append(round(moment, 1))
        if after_each:
            after_each()
    return moments


def cron(hub) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hzflow.cli", "--config", str(hub.config_path), "cron", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


_expected: dict = {}


def expected_tables(fresh, capsys) -> dict:
    """(a), computed once for the module."""
    if not _expected:
        reference = fresh("commands")
        by_stage_commands(reference)
        capsys.readouterr()
        _expected.update(canonical(reference))
    return _expected


def plain_snakemake(hub, *args, **kw):
    return subprocess.Popen([sys.executable, "-m", "hzflow.launcher", "--configfile", str(hub.config_path), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def test_one_cron_equals_the_stage_commands_in_date_order_whatever_happens(fresh, capsys):
    expected = expected_tables(fresh, capsys)
    assert expected["web"] and expected["websessions"] and expected["summary_user_vals"]
    assert expected["hub.jos_resource_stats_tools"]
    assert any(r for r in expected["web"] if "LateCrawler" in str(r))       # kept on its first day only

    whole = fresh("cron")
    started = time.monotonic()
    whole.hzflow("cron", "-q")
    uninterrupted = time.monotonic() - started
    assert dumps.differences(expected, canonical(whole)) == []

    killed = fresh("killed")
    seed = int(os.environ.get("HZFLOW_KILL_SEED", "20251208"))
    moments = killed_at_random(lambda: cron(killed), KILLS, seed, longest=1.5 + 2 * uninterrupted / KILLS)
    killed.hzflow("cron", "-q")
    assert dumps.differences(expected, canonical(killed)) == [], f"kills at {moments} s (seed {seed})"
    assert moments, "no kill landed inside a run"

    staged = fresh("staged")                # a second whole run, in two parts, with every cache warm
    last = months.preceding(months.of(TODAY))
    staged.hzflow("cron", "-q", "--until", f"dns-resolved/{last}")
    assert not (staged.work / "state" / staged.site / "sessionized").exists()
    staged.hzflow("cron", "-q")
    assert dumps.differences(expected, canonical(staged)) == []


def test_plain_snakemake_killed_and_rerun_equals_the_stage_commands(fresh, capsys):
    """(e): the same contract through plain `snakemake` with the shipped profile (hzflow-snakemake), killed
    with -9 at random moments; after each kill the operator's `--unlock`, as Snakemake asks for."""
    expected = expected_tables(fresh, capsys)
    whole = fresh("plain-whole")
    started = time.monotonic()
    assert plain_snakemake(whole).wait() == 0
    uninterrupted = time.monotonic() - started
    assert dumps.differences(expected, canonical(whole)) == []
    killed = fresh("plain-killed")
    kills, seed = KILLS // 2, int(os.environ.get("HZFLOW_KILL_SEED", "20251208")) + 1
    moments = killed_at_random(lambda: plain_snakemake(killed, start_new_session=True), kills, seed,
                               longest=1.5 + 2 * uninterrupted / kills,
                               after_each=lambda: plain_snakemake(killed, "--unlock").wait())
    assert plain_snakemake(killed).wait() == 0
    assert dumps.differences(expected, canonical(killed)) == [], f"kills at {moments} s"
    assert moments, "no kill landed inside a run"
