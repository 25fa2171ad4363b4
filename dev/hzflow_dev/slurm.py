"""A single-node SLURM cluster on this machine, for the fleet's cluster test and benchmark.

Debian's slurm-wlm and munge (installed when missing, as the MariaDB
server is), configured as ../shared/spec/SLURM.md measured it: one node
(this host) in one partition, no cgroups, no accounting (the executor
plugin asks squeue, or sacct which then asks slurmctld).  The daemons keep
everything under a scratch directory and are stopped by their pid files.

    with slurm.cluster(scratch) as env:      # env: SLURM_CONF for sbatch, squeue, Snakemake
        subprocess.run([...], env={**os.environ, **env})

Needs root (slurmd runs jobs as their submitter), as CI and the
development machines have.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

PACKAGES = ("slurm-wlm", "munge")
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
PARTITION = "standard"
OURS = "# A single-node development cluster: written by hzflow's dev/hzflow_dev/slurm.py\n"

CONF = """ClusterName=hzdev
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={scratch}/state
SlurmdSpoolDir={scratch}/spool
SlurmctldPidFile={scratch}/slurmctld.pid
SlurmdPidFile={scratch}/slurmd.pid
SlurmctldLogFile={scratch}/slurmctld.log
SlurmdLogFile={scratch}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AuthType=auth/munge
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName={host} CPUs={cpus} RealMemory=8000 State=UNKNOWN
PartitionName={partition} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def available() -> bool:
    return all(shutil.which(b) for b in ("slurmctld", "slurmd", "munged", "sbatch", "squeue"))


def install() -> None:
    """Debian's packages, when missing (a fresh CI machine); needs root and the Debian mirror."""
    if available():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", *PACKAGES], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def _munge() -> None:
    """munged with Debian's key (made by the package), unless one already answers."""
    if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        subprocess.run(["mungekey", "--create"], check=True)
        shutil.chown(key, "munge", "munge")
        key.chmod(0o400)
    MUNGE_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    shutil.chown(MUNGE_SOCKET.parent, "munge", "munge")
    subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
    for _ in range(50):
        if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("munged did not start")


def _conf_path(scratch: Path) -> Path:
    """Where the cluster's slurm.conf goes: SLURM's default place, where the srun a job step runs
    finds it as on a real cluster (slurmd hands jobs no SLURM_CONF), unless a config of
    someone else's is there."""
    default = Path("/etc/slurm/slurm.conf")
    if not default.exists() or default.read_text().startswith(OURS):
        default.parent.mkdir(parents=True, exist_ok=True)
        return default
    return scratch / "slurm.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(scratch: Path) -> dict[str, str]:
    """Start the cluster; returns the environment its client commands need."""
    install()
    _munge()
    scratch.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool"):
        (scratch / sub).mkdir(exist_ok=True)
    host = socket.gethostname()
    conf = _conf_path(scratch)
    conf.write_text(OURS + CONF.format(host=host, scratch=scratch, cpus=os.cpu_count() or 2, partition=PARTITION,
                                ctld_port=_free_port(), d_port=_free_port()))
    env = {"SLURM_CONF": str(conf)}
    full = {**os.environ, **env}
    subprocess.run(["slurmctld", "-f", str(conf)], check=True, env=full)
    subprocess.run(["slurmd", "-f", str(conf)], check=True, env=full)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=full)
        if r.returncode == 0 and r.stdout.strip() in ("idle", "mixed", "allocated"):
            return env
        time.sleep(0.5)
    stop(scratch)
    raise RuntimeError(f"the SLURM node did not come up; see {scratch}/slurmctld.log and slurmd.log")


def stop(scratch: Path) -> None:
    """Stop the daemons and take our slurm.conf away again.

    A config naming a controller that is not running makes every later
    Snakemake start wait 9 s: its SLURM executor plugin asks `scontrol show
    config` at import, whatever the executor.
    """
    for daemon in ("slurmd", "slurmctld"):
        pid_file = scratch / f"{daemon}.pid"
        try:
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
    default = Path("/etc/slurm/slurm.conf")
    if default.exists() and default.read_text().startswith(OURS):
        default.unlink()


@contextmanager
def cluster(scratch: Path):
    env = start(scratch)
    try:
        yield env
    finally:
        stop(scratch)
