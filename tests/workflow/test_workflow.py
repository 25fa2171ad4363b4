"""Real snakemake runs through `hzflow cron` on a temporary log tree covering three months."""

from __future__ import annotations

import fcntl
from datetime import timedelta

import pytest
import yaml

from hzflow import locks, months, registry
from hzflow_dev import synth

from conftest import months_back
from logtree import marker_times, write_day

pytestmark = pytest.mark.workflow

WEB = "datetime, content, ip, useragent, dnload, host, domain, ipcountry"


def yaml_config(hub):
    return yaml.safe_load(hub.config_path.read_text())


def db_state(hub):
    return (hub.dump("web", WEB, "datetime, ip, content"),
            hub.dump("userlogin", "datetime, user, ip, action", "datetime, user, ip, action"),
            hub.dump("webhits", "datetime, hits", "datetime, hits"),
            hub.dump("imported_sources", "filename, target_table, row_count", "filename, target_table"))


def test_first_run_builds_everything_and_a_second_run_nothing(tree, today):
    r = tree.hzflow("cron", "-q")
    assert r.stdout == "" and r.stderr == ""                       # a cron line stays silent
    all_months = months.between(f"{months_back(today, 2):%Y-%m}", months.of(today))
    built = marker_times(tree)
    for m in all_months[:-1]:
        for stage in registry.MONTH_STAGES:
            assert f"{stage}/{m}.json" in built
    current = all_months[-1]
    has_current = any(months.of(d) == current for d in tree.days)
    assert (f"dns-resolved/{current}.json" in built) == has_current
    assert f"sessionized/{current}.json" not in built and f"summarized/{current}.json" not in built
    for d in tree.days:
        assert f"imported/day/{d}.json" in built
    web, logins, hits, sources = db_state(tree)
    assert len(sources) == 2 * len(tree.days) and web and logins
    assert tree.query("SELECT COUNT(*) FROM web WHERE host IS NULL OR domain IS NULL OR ipcountry IS NULL")[0][0] == 0
    assert not list(tree.apache.rglob("*access*"))          # every log archived
    assert len(list((tree.root / "apache" / "imported").glob("*.gz"))) == len(tree.days)
    before = db_state(tree)
    r = tree.hzflow("cron")
    assert marker_times(tree) == built and db_state(tree) == before
    assert "nothing to do" in r.stdout
    assert "nothing to do" in tree.hzflow("plan").stdout


def test_a_new_day_reruns_only_that_day_and_its_month(tree, today):
    tree.hzflow("cron")
    before = marker_times(tree)
    new_day = today - timedelta(days=1) if max(tree.days) < today - timedelta(days=1) else None
    if new_day is None or months.of(new_day) != months.of(today):
        new_day = max(tree.days) + timedelta(days=2)           # a day of a finished month instead
    write_day(tree, new_day, seed=99)
    plan = tree.hzflow("plan").stdout
    assert "import_days" in plan and "resolve_month" in plan
    tree.hzflow("cron")
    after = marker_times(tree)
    changed = {k for k in after if before.get(k) != after[k]}
    month = months.of(new_day)
    expected = {f"imported/day/{new_day}.json", f"imported/{month}.json", f"dns-resolved/{month}.json"}
    if month != months.of(today):
        later = [m for m in months.between(month, months.of(today)) if f"summarized/{m}.json" in before]
        expected |= {f"sessionized/{month}.json"} | {f"summarized/{m}.json" for m in later}
    assert changed == expected
    new_rows = tree.query("SELECT COUNT(*), COUNT(host), COUNT(domain), COUNT(ipcountry) FROM web "
                          "WHERE DATE(datetime) = %s", (new_day,))[0]
    assert new_rows[0] > 0 and len(set(new_rows)) == 1          # enriched like the older days


def test_a_late_auth_log_reimports_its_day(tree):
    day = tree.days[0]
    (tree.hub_logs / f"cmsauth.log-{day:%Y%m%d}").unlink()
    tree.hzflow("cron")
    assert tree.query("SELECT COUNT(*) FROM userlogin WHERE DATE(datetime) = %s", (day,))[0][0] == 0
    before = marker_times(tree)
    (tree.hub_logs / f"cmsauth.log-{day:%Y%m%d}").write_text(
        synth.auth_line(synth.datetime(day.year, day.month, day.day, 9), 1001, "user1001",
                        "192.0.2.5", "login") + "\n")
    tree.hzflow("cron")
    assert tree.query("SELECT COUNT(*) FROM userlogin WHERE DATE(datetime) = %s", (day,))[0][0] == 1
    after = marker_times(tree)
    changed = {k for k in after if before.get(k) != after[k]}
    month = months.of(day)
    assert {f"imported/day/{day}.json", f"imported/{month}.json", f"summarized/{month}.json"} <= changed
    assert not any(k.startswith("imported/day/") and str(day) not in k for k in changed)
    tree.hzflow("cron")
    assert marker_times(tree) == after


def test_archiving_by_hand_reruns_nothing(tree):
    tree.write_config(**{**yaml_config(tree), "import": {"archive": False}})
    tree.hzflow("cron")
    assert list(tree.apache.glob("*access*"))
    before, state = marker_times(tree), db_state(tree)
    for month in sorted({months.of(d) for d in tree.days}):
        tree.hzflow("archive-logs", month)
    assert not list(tree.apache.glob("*access*"))
    assert "nothing to do" in tree.hzflow("plan").stdout
    tree.hzflow("cron")
    assert marker_times(tree) == before and db_state(tree) == state


def test_dry_run_lists_the_work_and_writes_nothing(tree):
    state = db_state(tree)
    r = tree.hzflow("cron", "-n")
    assert r.returncode == 0
    assert not (tree.work / "state").exists() or marker_times(tree) == {}
    assert db_state(tree) == state
    assert list(tree.apache.glob("*access*"))                # nothing archived either
    assert "import_days" in tree.hzflow("plan").stdout


def test_rebuilding_a_month_reimports_without_duplicating_a_row(tree):
    for log in tree.apache.glob("*access*"):  # crawler agents known before any import, in any order
        tree.hzflow("identify-bots", log)
    tree.hzflow("cron")
    state = db_state(tree)
    forgotten = tree.days[1]
    tree.hzflow("forget-import", f"{tree.site}-access.log-{forgotten:%Y%m%d}")
    assert db_state(tree) != state
    tree.hzflow("rebuild", months.of(forgotten))
    assert db_state(tree) == state
    tree.hzflow("rebuild", months.of(tree.days[0]), "--stage", "imported")
    assert db_state(tree) == state


def test_a_second_cron_exits_at_once_while_one_runs(tree):
    tree.settings.site_state.mkdir(parents=True, exist_ok=True)
    with open(locks.hub_lock_path(tree.settings), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        quiet = tree.hzflow("cron", "-q", timeout=60)
        r = tree.hzflow("cron", timeout=60)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert r.returncode == 0 and "another run holds" in r.stdout
    assert db_state(tree)[0] == [] and not list((tree.work / "state").rglob("*.json"))


def test_whoisonline_has_a_lock_of_its_own_and_is_quiet(tree):
    (tree.root / "hub" / "app" / "site" / "stats" / "maps").mkdir(parents=True)
    tree.settings.site_state.mkdir(parents=True, exist_ok=True)
    with open(locks.hub_lock_path(tree.settings), "a") as cron_lock:
        fcntl.flock(cron_lock, fcntl.LOCK_EX)                  # a long pipeline run does not delay the map
        r = tree.hzflow("whoisonline")
        assert r.stdout == "" and (tree.root / "hub/app/site/stats/maps/whoisonline.xml").exists()
        with open(tree.settings.site_state / ".hzflow-whoisonline.lock", "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            r = tree.hzflow("whoisonline", "-v", timeout=60)
    assert r.returncode == 0 and "another run holds the lock" in r.stdout


def test_a_stale_snakemake_lock_and_leftovers_are_cleared_under_the_flock(tree):
    locks = tree.work / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("stale\n")
    state = tree.work / "state" / tree.site / "imported" / "day"
    state.mkdir(parents=True)
    leftover = state / ".2026-01-01.json.x1y2z3"
    leftover.write_text("")
    scratch = tree.settings.tmp_dir / "rows-abc"
    scratch.mkdir(parents=True)
    tree.hzflow("cron")
    assert db_state(tree)[0] and not leftover.exists() and not scratch.exists()
