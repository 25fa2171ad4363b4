"""hzflow audit: a whole hub has no findings; each defect is found in its month, and the fix it prints repairs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from hzflow import months

from conftest import months_back
from logtree import write_day

pytestmark = pytest.mark.workflow


def audit(hub, *args) -> tuple[int, list[dict]]:
    r = hub.hzflow("audit", "--json", *args, check=False)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r.returncode, json.loads(r.stdout)["findings"]


def run_fix(hub, fix: str) -> None:
    """The fix exactly as printed, through a shell, with hzflow on the PATH and the hub's config."""
    command = fix.split("   (")[0]
    env = {**os.environ, "HZFLOW_CONFIG": str(hub.config_path),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run(command, shell=True, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{command}\n{r.stdout}\n{r.stderr}"


@pytest.fixture
def audited(tree, today):
    """The tree with a small log on every day between its first and its last, so no week is missing."""
    day = tree.days[0]
    while day < tree.days[-1]:
        if day not in tree.days:
            write_day(tree, day, seed=day.toordinal(), lines=8)
        day += timedelta(days=1)
    tree.hzflow("cron", "-q")
    return tree


def test_a_whole_hub_has_no_findings(audited):
    code, found = audit(audited, "--all")
    assert (code, found) == (0, []), found


@pytest.mark.parametrize("defect", ["webhits", "orphan stamps", "summary missing", "enrichment", "stale stage"])
def test_each_defect_is_found_in_its_month_and_its_fix_repairs_it(audited, today, defect):
    month = months.of(months_back(today, 2))
    first, following = months.bounds(month)
    window = (f"{first}", f"{following}")
    if defect == "webhits":
        audited.query("DELETE FROM webhits WHERE datetime >= %s AND datetime < %s LIMIT 1", window)
    elif defect == "orphan stamps":
        audited.query("DELETE FROM websessions WHERE datetime >= %s AND datetime < %s LIMIT 1", window)
    elif defect == "summary missing":
        audited.query("DELETE FROM summary_user_vals WHERE period = 1 AND datetime = %s", (f"{month}-00",))
    elif defect == "enrichment":
        audited.query("UPDATE web SET host = NULL, domain = NULL WHERE datetime >= %s AND datetime < %s", window)
    elif defect == "stale stage":
        state = audited.work / "state" / audited.site
        earlier = (state / "imported" / f"{month}.json").stat().st_mtime - 60
        os.utime(state / "dns-resolved" / f"{month}.json", (earlier, earlier))
    code, found = audit(audited, "--all")
    mine = [f for f in found if f["check"] == defect]
    assert code == 1 and mine and {f["month"] for f in mine} == {month}, found
    for fix in sorted({f["fix"] for f in found}):
        run_fix(audited, fix)
    code, found = audit(audited, "--all")
    assert (code, found) == (0, []), found


def test_rows_no_ledger_explains_and_a_ledger_entry_whose_rows_are_gone(audited):
    (name, a, b), = audited.query("SELECT filename, pk_start, pk_end FROM imported_sources WHERE target_table = 'web' "
                                  "ORDER BY id LIMIT 1")
    audited.query("DELETE FROM web WHERE id BETWEEN %s AND %s", (a, b))
    _, found = audit(audited, "--all")
    gone = [f for f in found if f["check"] == "ledger rows gone"]
    assert gone and name in gone[0]["detail"] and f"forget-import {name}" in gone[0]["fix"]
    audited.query("DELETE FROM imported_sources WHERE filename = %s", (name,))
    audited.query("INSERT INTO web (id, datetime, content, ip) VALUES (%s, '2001-01-01 10:00:00', '/x', '192.0.2.1')",
                  (a,))
    _, found = audit(audited, "--all")
    assert any(f["check"] == "ledger coverage" and "hzflow adopt" in f["fix"] for f in found)


def test_cron_keeps_a_per_month_audit_when_asked(tree, today):
    tree.write_config(start_month=months.of(tree.days[0]), audit={"enabled": True})
    tree.hzflow("cron", "-q")
    month = months.of(months_back(today, 2))
    record = json.loads((tree.work / "state" / tree.site / "audited" / f"{month}.json").read_text())
    assert record["findings"] == []
    tree.query("DELETE FROM summary_user_vals WHERE period = 3 AND datetime = %s", (f"{month}-00",))
    tree.hzflow("cron", "-q", "-R", f"audited/{month}")
    record = json.loads((tree.work / "state" / tree.site / "audited" / f"{month}.json").read_text())
    assert [f["check"] for f in record["findings"]] == ["summary periods"]
    status = json.loads(tree.hzflow("status", "--json", check=False).stdout)
    assert next(r for r in status["months"] if r["month"] == month)["audit_findings"] == 1
