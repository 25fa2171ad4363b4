"""hzflow-snakemake: plain Snakemake with hzflow's workflow and its cron-safe profile, started in the work directory.

An installed hzflow carries the workflow as package data; this launcher
names it (`--snakefile`, `--workflow-profile`), starts Snakemake in the
config's work directory (Snakemake writes its own run log, .snakemake/log,
where it starts, before the workflow sets its working directory) and passes
every other argument on unchanged:

    hzflow-snakemake --configfile /etc/hzflow/myhub.yaml -n
    hzflow-snakemake --configfile /etc/hzflow/myhub.yaml -R state/myhub/summarized/2026-10.json

is `snakemake -s <checkout>/Snakefile --configfile …` from a checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import config as hzconfig
from .config import WORKFLOW_ROOT


def argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(WORKFLOW_ROOT / "Snakefile"),
            "--workflow-profile", str(WORKFLOW_ROOT / "profiles" / "default"), *args]


def _absolute_configs(args: list[str]) -> tuple[list[str], Path | None]:
    """The arguments with config file paths made absolute, and the last config file named."""
    out, last, taking = [], None, False
    for arg in args:
        if arg.startswith("--configfile=") or arg.startswith("--configfiles="):
            flag, value = arg.split("=", 1)
            last = Path(value).resolve()
            out.append(f"{flag}={last}")
            continue
        if taking and not arg.startswith("-"):
            last = Path(arg).resolve()
            out.append(str(last))
            continue
        taking = arg in ("--configfile", "--configfiles")
        out.append(arg)
    return out, last


def work_dir_of(config: Path | None) -> Path | None:
    """The config's (or fleet file's) work directory, or None when it cannot be read (Snakemake then says why)."""
    from . import fleet

    chosen = config or os.environ.get(hzconfig.ENV_VAR) or os.environ.get(fleet.ENV_VAR)
    if not chosen:
        return None
    path = Path(chosen)
    try:
        data = hzconfig.read_yaml(path)
        if fleet.is_fleet(data):
            return fleet.Fleet.from_mapping(data, path.resolve()).work_dir
        return hzconfig.Settings(path, data).work_dir
    except (hzconfig.ConfigError, TypeError, AttributeError, ValueError):
        return None


def main() -> None:
    args, config = _absolute_configs(sys.argv[1:])
    work = work_dir_of(config)
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
        os.chdir(work)
    command = argv(args)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
