"""Plain Snakemake is a first-class interface: the same runs, short month targets, the hub's lock shared.

`snakemake` is run exactly as docs/snakemake.md says (from anywhere, with the
operator's config, the shipped profile found beside the Snakefile, no
--directory), and also through the installed launcher's argument list.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import pytest

from hzflow import coverage, launcher, locks, markers, months, registry
from hzflow_dev import dumps

from logtree import marker_times

pytestmark = pytest.mark.workflow


def snakemake(hub, *args, cwd, check=True, **kw) -> subprocess.CompletedProcess:
    """`hzflow-snakemake --configfile CONFIG ARGS` (the installed launcher), from `cwd`."""
    r = subprocess.run([sys.executable, "-m", "hzflow.launcher", "--configfile",
                        os.path.relpath(hub.config_path, cwd), *map(str, args)], cwd=cwd,
                       capture_output=True, text=True, **kw)
    if check and r.returncode:
        raise AssertionError(f"snakemake {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def target(hub, stage: str, month: str) -> str:
    return f"state/{hub.site}/{stage}/{month}.json"


def without_session_ids(dump: dict) -> dict:
    """A dump where a reworked month's sessions may have new ids (AUTO_INCREMENT moves on, as in the
    reference): sessions compared by what they are, and the rollups' fingerprints of them left out."""
    out = {k: v for k, v in dump.items() if k != "hzflow_rollup_months"}
    out["websessions"] = sorted((row[1:] for row in dump["websessions"]), key=repr)
    return out


def closed(tree, today):
    return months.between(months.of(min(tree.days)), months.preceding(months.of(today)))


def test_plain_snakemake_builds_what_hzflow_cron_builds_and_writes_only_under_the_work_dir(tree, make_hub, tmp_path):
    twin = make_hub(tmp_path / "twin").make_ready()             # the same logs, run by hzflow cron
    for sub in ("apache", "hubzero"):
        subprocess.run(["cp", "-a", str(tree.root / sub), str(twin.root / sub)], check=True)
    twin.write_config(start_month=tree.settings.start_month)
    elsewhere = tmp_path / "started-here"
    elsewhere.mkdir()
    snakemake(tree, "--quiet", cwd=elsewhere)
    assert list(elsewhere.iterdir()) == []
    assert {f"summarized/{m}.json" for m in closed(tree, months.today())} <= set(marker_times(tree))
    assert "nothing to do" in tree.hzflow("plan").stdout
    twin.hzflow("cron", "-q")
    assert dumps.differences(dumps.canonical(tree.server, tree.metrics_db, tree.hub_db),
                             dumps.canonical(twin.server, twin.metrics_db, twin.hub_db)) == []


def test_each_stage_forced_by_its_short_target_reruns_it_and_what_follows_only(tree, today, tmp_path):
    tree.hzflow("cron", "-q")
    first = closed(tree, today)[0]
    cov = coverage.Coverage(tree.settings)
    before_db = dumps.canonical(tree.server, tree.metrics_db, tree.hub_db)
    follows = {registry.IMPORTED: {registry.IMPORTED, registry.RESOLVED, registry.SESSIONS, registry.SUMMARY},
               registry.RESOLVED: {registry.IMPORTED, registry.RESOLVED, registry.SESSIONS, registry.SUMMARY},
               registry.TOOLS: {registry.TOOLS},
               registry.SESSIONS: {registry.SESSIONS, registry.SUMMARY},
               registry.SUMMARY: {registry.SUMMARY}}
    for stage in registry.MONTH_STAGES:
        before = marker_times(tree)
        snakemake(tree, "--quiet", "-R", target(tree, stage, first), cwd=tmp_path)
        changed = {k for k, v in marker_times(tree).items() if before.get(k) != v}
        expected = {f"{s}/{first}.json" for s in follows[stage]}
        expected |= {f"{s}/{m}.json" for s in follows[stage] if registry.BY_NAME[s].chained
                     for m in cov.months if m > first and s in cov.stages(m)}
        assert changed == expected, (stage, sorted(changed ^ expected))
    before = marker_times(tree)
    snakemake(tree, "--quiet", "-f", target(tree, registry.SUMMARY, first), cwd=tmp_path)
    assert {k for k, v in marker_times(tree).items() if before.get(k) != v} == {f"summarized/{first}.json"}
    after_db = dumps.canonical(tree.server, tree.metrics_db, tree.hub_db)
    assert dumps.differences(without_session_ids(before_db), without_session_ids(after_db)) == []
    before = marker_times(tree)
    snakemake(tree, "--quiet", "--until", target(tree, registry.RESOLVED, first), cwd=tmp_path)
    assert marker_times(tree) == before                           # built already: --until builds nothing


def test_plain_snakemake_and_hzflow_commands_never_run_together(tree, today, tmp_path):
    lock = locks.hub_lock_path(tree.settings)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as held:                                 # a hzflow command (or run) holds the hub
        fcntl.flock(held, fcntl.LOCK_EX)
        r = snakemake(tree, cwd=tmp_path, check=False)
    assert r.returncode == 7 and r.stderr.strip().splitlines()[-1].startswith("hzflow: another run")
    assert not (tree.work / "state" / tree.site / "imported" / "day").exists()      # nothing was done

    proc = subprocess.Popen([sys.executable, "-m", "hzflow.launcher", "--configfile", str(tree.config_path)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:                       # until the plain run holds the hub's lock
            with open(lock, "a") as probe:
                try:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(probe, fcntl.LOCK_UN)
                except BlockingIOError:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the plain snakemake run never took the hub's lock")
        tick = tree.hzflow("cron", "-q", check=False)
        assert tick.returncode == 0 and tick.stdout == ""
        rebuild = tree.hzflow("rebuild", months.of(min(tree.days)), "--wait", "0.5", check=False)
        assert rebuild.returncode == 7
    finally:
        assert proc.wait(300) == 0
    assert "nothing to do" in tree.hzflow("plan").stdout


def test_a_config_from_the_environment_and_a_foreign_directory(tree, tmp_path):
    env = {**os.environ, "HZFLOW_CONFIG": str(tree.config_path)}
    r = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(launcher.WORKFLOW_ROOT / "Snakefile"), "-n"],
                       cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "import_days" in r.stdout + r.stderr, r.stderr
    r = snakemake(tree, "-n", "--directory", tmp_path, cwd=tmp_path, check=False)
    assert r.returncode == 2 and "drop --directory" in r.stderr
    assert markers.target(tree.settings, markers.marker(tree.settings, registry.SUMMARY, "2026-01")) == \
        f"state/{tree.site}/summarized/2026-01.json"
