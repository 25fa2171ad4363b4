"""The demo one can keep using: --keep leaves its servers up for every follow-up command, --stop ends them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hzflow import months

pytestmark = pytest.mark.workflow
REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.skipif(bool(os.environ.get("HZFLOW_TEST_SOCKET") or os.environ.get("HZFLOW_TEST_HOST")),
                    reason="the demo keeps a private server of its own")
def test_a_kept_demo_answers_the_runbook_and_stops_on_request(tmp_path):
    out = tmp_path / "demo"
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'dev'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    demo = [sys.executable, "-m", "hzflow_dev.demo", "--out", str(out)]
    r = subprocess.run([*demo, "--keep", "--visits-per-day", "4"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    kept = json.loads((out / "kept.json").read_text())
    try:
        assert alive(kept["mariadb_pid"]) and alive(kept["ptr_pid"])
        assert str(out / "config.yaml") in r.stdout and "./dev/demo.sh --stop" in r.stdout

        def hzflow(*args):
            return subprocess.run([sys.executable, "-m", "hzflow.cli", *args], capture_output=True, text=True,
                                  env={**env, "HZFLOW_CONFIG": str(out / "config.yaml")})

        doctor = hzflow("doctor")
        assert doctor.returncode == 0 and "PROBLEM" not in doctor.stdout, doctor.stdout
        assert hzflow("status").returncode == 0
        assert "nothing to do" in hzflow("plan").stdout
        assert hzflow("audit", "--all").returncode == 0
        last = months.preceding(months.current())
        show = hzflow("show", last)
        assert show.returncode == 0 and "located:" in show.stdout and "on the map" in show.stdout
        assert hzflow("whoisonline", "-v").returncode == 0
        markers = ET.parse(out / "hub" / "app" / "site" / "stats" / "maps" / "whoisonline.xml").getroot()
        assert len(markers) >= 2                                    # the offline provider draws a map
        assert all(-90 <= float(m.get("lat")) <= 90 and -180 <= float(m.get("lng")) <= 180 for m in markers)
        assert hzflow("report", "--out", str(tmp_path / "by-hand")).returncode == 0
    finally:
        stop = subprocess.run([*demo, "--stop"], capture_output=True, text=True, env=env)
    assert stop.returncode == 0 and not alive(kept["mariadb_pid"]) and not alive(kept["ptr_pid"])
    assert not (out / "kept.json").exists()
