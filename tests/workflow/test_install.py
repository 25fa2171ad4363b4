"""The install kit: `make install` into a DESTDIR, the tree it lays down, and the installed hzflow at work."""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import stat
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from logtree import write_day

REPO = Path(__file__).resolve().parents[2]
VENV = "opt/hzflow/venv"
# The hub's own interpreter (Debian's), which a service account can run; a developer's pyenv under
# /root cannot be entered by one.
SYSTEM_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else "python3"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(target: str, stage: Path, build: Path, **variables) -> subprocess.CompletedProcess:
    args = [f"{k}={v}" for k, v in {"DESTDIR": stage, "BUILDDIR": build, "PYTHON": SYSTEM_PYTHON,
                                    **variables}.items()]
    r = subprocess.run(["make", "-C", str(REPO), target, *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def installed(stage: Path, *args, env=None) -> subprocess.CompletedProcess:
    """The installed command, run with the staged venv's interpreter (its #! names the final path)."""
    venv = stage / VENV
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / "python"), str(venv / "bin" / "hzflow"), *map(str, args)],
                          capture_output=True, text=True, env={**clean, **(env or {})})


@pytest.fixture(scope="module")
def stage():
    """One staged install with systemd timers, as a packager would build it, in a directory any user may
    enter (the installed job is also run as an unprivileged service account)."""
    root = Path(tempfile.mkdtemp(prefix="hzflow-install-"))
    root.chmod(0o755)
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    r = make("install", root / "stage", root / "build", SITE="testhub", HZFLOW_USER=user, HZFLOW_GROUP=group,
             SCHEDULER="systemd")
    yield root / "stage", root / "build", user, r.stdout + r.stderr
    shutil.rmtree(root, ignore_errors=True)


def test_the_install_says_nothing_is_wrong_and_a_failing_step_fails_it(stage, tmp_path):
    assert "tar:" not in stage[3] and "Exiting with failure" not in stage[3]
    broken = tmp_path / "checkout"                      # a checkout that lacks a directory the wheel needs
    shutil.copytree(REPO, broken, ignore=shutil.ignore_patterns(".venv", ".git", "envs", "test-output", "build"))
    r = subprocess.run(["make", "-C", str(broken), "wheel", f"BUILDDIR={tmp_path / 'build'}"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "envs" in r.stderr


def test_the_tree_install_lays_down(stage):
    root, _, user, output = stage
    venv = root / VENV
    assert (venv / "bin" / "hzflow").read_text().splitlines()[0] == "#!/opt/hzflow/venv/bin/python"
    leaks = subprocess.run(["grep", "-rlI", str(root), str(venv / "bin"), str(venv / "pyvenv.cfg")],
                           capture_output=True, text=True).stdout
    assert leaks == ""                                        # nothing points into the staging tree
    assert (root / "etc/hzflow/hzflow.yaml.sample").read_text() == (REPO / "config/config.yaml").read_text()
    config = root / "etc/hzflow/testhub.yaml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    values = yaml.safe_load(config.read_text())
    assert values["site"] == "testhub" and values["db"]["metrics_db"] == "testhub_metrics"
    assert values["paths"]["work_dir"] == "/var/lib/hzflow/testhub"
    assert values["db"]["password_file"] == "/etc/hzflow/testhub.password"
    for directory in ("var/lib/hzflow/testhub", "var/lib/hzflow/testhub/state"):
        assert stat.S_IMODE((root / directory).stat().st_mode) == 0o750
    assert (root / "opt/hzflow/share/doc/hzflow/install.md").is_file()
    units = root / "etc/systemd/system"
    assert sorted(p.name for p in units.iterdir()) == ["hzflow-whoisonline@.service", "hzflow-whoisonline@.timer",
                                                       "hzflow@.service", "hzflow@.timer"]
    service = (units / "hzflow@.service").read_text()
    assert f"User={user}\n" in service and "ExecStart=/opt/hzflow/venv/bin/hzflow cron -q\n" in service
    assert "Environment=HZFLOW_CONFIG=/etc/hzflow/%i.yaml\n" in service
    assert "OnCalendar=*:0/10\n" in (units / "hzflow@.timer").read_text()
    assert "OnCalendar=*:0/5\n" in (units / "hzflow-whoisonline@.timer").read_text()
    assert not (root / "etc/cron.d").exists()                   # one scheduler, never both
    assert "systemctl enable --now hzflow@testhub.timer hzflow-whoisonline@testhub.timer" in output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(stage, tmp_path):
    root = stage[0]
    for unit in (root / "etc/systemd/system").iterdir():      # instantiated, with the staged executable
        text = unit.read_text().replace("/opt/hzflow/venv/bin/hzflow", str(root / VENV / "bin" / "hzflow"))
        (tmp_path / unit.name.replace("@.", "@testhub.")).write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("logrotate") is None or os.geteuid() != 0, reason="needs logrotate and root")
def test_the_logrotate_stanza_rotates_the_event_log(stage, tmp_path):
    work = tmp_path / "work"
    events = work / "logs/testhub/events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text('{"event": "finish"}\n')
    stanza = (stage[0] / "etc/logrotate.d/hzflow-testhub").read_text().replace("/var/lib/hzflow/testhub", str(work))
    conf = tmp_path / "hzflow-testhub"
    conf.write_text(stanza)
    r = subprocess.run(["logrotate", "-f", "-s", str(tmp_path / "state"), str(conf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (events.parent / "events.jsonl.1").read_text() == '{"event": "finish"}\n' and events.read_text() == ""


def test_the_installed_hzflow_imports_every_module_and_runs_a_hub(stage, ready_hub, today):
    root = stage[0]
    probe = ("import importlib, pkgutil, hzflow\n"
             "for m in pkgutil.walk_packages(hzflow.__path__, 'hzflow.'):\n"
             "    importlib.import_module(m.name)\n"
             "print(hzflow.__file__)")
    r = subprocess.run([str(root / VENV / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert r.returncode == 0 and r.stdout.startswith(str(root / VENV)), r.stderr   # no test extras needed
    version = installed(root, "--version")
    assert version.returncode == 0 and "0." in version.stdout
    last_month = today.replace(day=1) - timedelta(days=1)
    for day in (last_month.replace(day=1), last_month):
        write_day(ready_hub, day, seed=day.day)
    ready_hub.write_config(start_month=f"{last_month:%Y-%m}")
    doctor = installed(root, "doctor", env={"HZFLOW_CONFIG": str(ready_hub.config_path)})
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    plan = installed(root, "--config", ready_hub.config_path, "plan")
    assert plan.returncode == 0 and re.search(rf"summarize\s+{last_month:%Y-%m}", plan.stdout), plan.stdout + plan.stderr
    launcher = subprocess.run([str(root / VENV / "bin" / "python"), "-m", "hzflow.launcher", "--configfile",
                               str(ready_hub.config_path), "-n"], capture_output=True, text=True,
                              env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert launcher.returncode == 0 and "summarize" in launcher.stdout + launcher.stderr, launcher.stderr
    assert (root / VENV / "bin" / "hzflow-snakemake").is_file()
    cron = installed(root, "--config", ready_hub.config_path, "cron", "-q")
    assert cron.returncode == 0 and cron.stdout == "", cron.stdout + cron.stderr
    assert (ready_hub.work / "state" / ready_hub.site / "summarized" / f"{last_month:%Y-%m}.json").is_file()
    assert ready_hub.query("SELECT COUNT(*) FROM web")[0][0] > 0
    assert not list(root.rglob(".snakemake"))                     # it ran in the hub's work dir, not the venv


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None or not os.access("/usr/bin/python3", os.X_OK),
                    reason="needs root (to become the service account), runuser and Debian's python3")
def test_the_installed_job_runs_as_a_service_account_whose_home_is_read_only(stage, make_hub, server, today):
    """cron's line, as the stock `nobody` account with a read-only home and an empty environment."""
    root = stage[0].parent
    home = root / "home-of-nobody"
    home.mkdir()
    home.chmod(0o555)
    hub = make_hub(root / "hub").make_ready()
    last_month = today.replace(day=1) - timedelta(days=1)
    for day in (last_month.replace(day=1), last_month):
        write_day(hub, day, seed=day.day)
    db = {"user": server.user, "password": server.password, "host": "127.0.0.1", "port": server.port,
          "hub_db": hub.hub_db, "metrics_db": hub.metrics_db}
    if server.socket is None or server.process is None:
        pytest.skip("the test server is not a private one reachable over loopback TCP")
    hub.write_config(start_month=f"{last_month:%Y-%m}", db=db)
    subprocess.run(["chown", "-R", "nobody", str(hub.root)], check=True)
    venv = stage[0] / VENV
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", f"HZFLOW_CONFIG={hub.config_path}",
           f"HZFLOW_TODAY={today}", "LANG=C.UTF-8"]
    job = subprocess.run(["runuser", "-u", "nobody", "--", *env, str(venv / "bin" / "python"),
                          str(venv / "bin" / "hzflow"), "cron", "-q"], capture_output=True, text=True)
    assert job.returncode == 0 and job.stdout == "", job.stdout + job.stderr
    assert (hub.work / "state" / hub.site / "summarized" / f"{last_month:%Y-%m}.json").is_file()
    assert hub.query("SELECT COUNT(*) FROM web")[0][0] > 0
    assert list(home.iterdir()) == []
    report = hub.work / "report" / hub.site / "index.html"
    assert report.is_file() and report.stat().st_uid != 0


def test_install_again_keeps_the_config_and_uninstall_keeps_the_data(stage):
    root, build, user, _ = stage
    config = root / "etc/hzflow/testhub.yaml"
    config.write_text(config.read_text().replace("hub_db: testhub", "hub_db: edited_by_the_operator"))
    marker = root / "var/lib/hzflow/testhub/state/keep.json"
    marker.write_text("{}")
    r = make("install", root, build, SITE="testhub", HZFLOW_USER=user, SCHEDULER="cron")
    assert "keeping /etc/hzflow/testhub.yaml" in r.stdout
    assert "edited_by_the_operator" in config.read_text()
    cron = (root / "etc/cron.d/hzflow-testhub").read_text().splitlines()
    jobs = [line.split() for line in cron if line and not line.startswith("#")]
    assert jobs == [["*/10", "*", "*", "*", "*", user, "HZFLOW_CONFIG=/etc/hzflow/testhub.yaml",
                     "/opt/hzflow/venv/bin/hzflow", "cron", "-q"],
                    ["*/5", "*", "*", "*", "*", user, "HZFLOW_CONFIG=/etc/hzflow/testhub.yaml",
                     "/opt/hzflow/venv/bin/hzflow", "whoisonline"]]
    make("uninstall", root, build, SITE="testhub")
    assert not (root / VENV).exists() and not (root / "etc/cron.d/hzflow-testhub").exists()
    assert not (root / "etc/systemd/system/hzflow@.service").exists()
    assert not (root / "etc/logrotate.d/hzflow-testhub").exists()
    assert config.exists() and marker.exists()
