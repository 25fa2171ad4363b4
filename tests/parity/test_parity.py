"""Golden parity: ../shared/parity/run against hzflow, for every port whose stage exists.

Skipped cleanly when ../shared/parity is not beside the checkout.  Each port
gets fresh databases on the session's private server.
"""

import os
import subprocess
import sys

import pytest

from conftest import PARITY

# Ports whose stages hzflow implements; later stages add theirs here.
IMPLEMENTED_PORTS = ("import_apache", "import_webhits", "import_auth", "identify_bots",
                     "fill_domain", "fill_ipcountry", "fill_user_info", "import_hub_data", "middleware",
                     "logfix_session", "clean_bots", "gen_tool_stats", "gen_tool_tops", "gen_tool_toplists",
                     "andmore_usage", "whoisonline", "summarize_month", "period_sweep", "pipeline")

pytestmark = pytest.mark.skipif(not (PARITY / "run").exists(),
                                reason=f"golden parity data not found at {PARITY}")


@pytest.mark.parametrize("port", IMPLEMENTED_PORTS)
def test_parity_port(port, server, tmp_path):
    env = dict(os.environ, HZFLOW=f"{sys.executable} -m hzflow.cli",
               PARITY_MYSQL_USER=server.user, PARITY_MYSQL_PASSWORD=server.password)
    if server.socket:
        env["PARITY_MYSQL_SOCKET"] = server.socket
    else:
        env.update(PARITY_MYSQL_HOST=server.host, PARITY_MYSQL_PORT=str(server.port))
    r = subprocess.run([sys.executable, str(PARITY / "run"), "--out", str(tmp_path / "out"), port],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    detail = ""
    if r.returncode:
        for f in sorted((tmp_path / "out" / port).glob("*")):
            gold = PARITY / "data" / f"port_{port}" / "golden" / f.name
            if gold.exists() and gold.read_text() != f.read_text():
                diff = subprocess.run(["diff", str(gold), str(f)], capture_output=True, text=True).stdout
                detail += f"\n--- {f.name} (golden vs hzflow)\n{diff[:3000]}"
        log = tmp_path / "out" / port / "run.log"
        if log.exists():
            detail += "\n--- run.log (tail)\n" + log.read_text()[-3000:]
    assert r.returncode == 0, r.stdout + r.stderr + detail
    assert f"PASS  {port}" in r.stdout
