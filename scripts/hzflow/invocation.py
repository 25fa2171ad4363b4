"""The Snakemake command line hzflow runs: the workflow, its profile, the operator's config, the
environment of a service account, and month names (2026-10, summarized/2026-10) as marker targets.

cron, plan and the failure records all start Snakemake through here, so a
hub's every run is the same plain `snakemake` command an operator would type
(docs/snakemake.md).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from . import coverage, markers, months, registry
from .config import WORKFLOW_ROOT, Settings, config_homes
from .errors import UsageError

SNAKEFILE = WORKFLOW_ROOT / "Snakefile"
PROFILE = WORKFLOW_ROOT / "profiles" / "default"
# Snakemake options whose values are targets (files), where hzflow also accepts month names.
TARGET_OPTIONS = {"-R", "--forcerun", "--until", "-U", "--omit-from", "-O", "-P", "--prioritize",
                  "--forcerun-until"}


def profile_dir(name: str | None) -> Path:
    """A profile by name (default, slurm: the shipped ones) or by its directory."""
    if not name or name == "default":
        return PROFILE
    shipped = PROFILE.parent / name
    return shipped if "/" not in name and shipped.is_dir() else Path(name).expanduser()


def snakemake_argv(settings, extra: list[str]) -> list[str]:
    """Exactly the plain Snakemake command an operator would type (docs/snakemake.md), with the
    interpreter that runs hzflow; run in the work directory, which the config also sets as the
    workflow's (Snakemake's own run log goes where it starts).  settings: a hub's, or a Fleet
    (whose `profile` may send the jobs to a cluster)."""
    profile = profile_dir(settings.get("profile") if hasattr(settings, "names") else None)
    config = getattr(settings, "fleet", None) or settings.path
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--configfile", str(config),
            "--workflow-profile", str(profile), *extra]


def run_dir(settings) -> Path:
    """Where Snakemake runs for these settings: the hub's work_dir, or, for a hub of a fleet file, the
    fleet's (its run is the fleet's, restricted to the hub)."""
    if getattr(settings, "fleet", None):
        from .fleet import Fleet

        return Fleet.load(settings.fleet).work_dir
    return settings.work_dir


def service_env(settings: Settings) -> dict:
    """The environment of Snakemake and its jobs: caches and configs under the work directory.

    A service account's home is often not writable (apache, www-data):
    Snakemake's source cache, matplotlib's font cache and anything else that
    follows the XDG rules must land where hzflow may write.
    """
    env = {**os.environ, **config_homes(settings)}
    if getattr(settings, "fleet", None):
        from .fleet.members import ONLY_VAR

        env[ONLY_VAR] = settings.site
    return env


# ------------------------------------------------------------ month names
def target_path(settings, name: str, *, first: bool) -> str:
    """A month name as a marker: 'STAGE/YYYY-MM' is that stage's; a bare month is its first
    stage (first=True: for -R, the whole month and what follows) or its last one built."""
    stage, _, month = name.rpartition("/")
    if stage not in registry.MONTH_TARGETS:
        built = coverage.Coverage(settings).stages(month)
        stage = built[0] if first else built[-1]
    return markers.target(settings, markers.marker(settings, stage, month))


def _is_month_name(arg: str) -> bool:
    stage, _, month = arg.rpartition("/")
    return months.is_month(month) and (not stage or stage in registry.MONTH_TARGETS)


_MONTHISH = re.compile(r"(?:[\w-]+/)?\d{4}-\d{1,2}")


def translate(settings, args: list[str]) -> list[str]:
    """Snakemake arguments with month names turned into marker paths.

    `--month M` (the reference's habit) names a month as a target.  A word
    that looks like a month and is not one (2026-13) is an argument error,
    not something for Snakemake to guess at.
    """
    out, option, args = [], None, list(args)
    while args:
        arg = args.pop(0)
        if arg in ("--month", "--day") or arg.startswith(("--month=", "--day=")):
            value = arg.split("=", 1)[1] if "=" in arg else (args.pop(0) if args else "")
            month = value[:7] if arg.startswith("--day") else value
            if not months.is_month(month):
                raise UsageError(f"{arg.split('=')[0]}: expected "
                                 f"{'a day as YYYY-MM-DD' if arg.startswith('--day') else 'a month as YYYY-MM'},"
                                 f" got {value!r}")
            args.insert(0, month)
            continue
        if arg.startswith("-"):
            option = arg if arg in TARGET_OPTIONS else None
            out.append(arg)
            continue
        if _is_month_name(arg):
            out.append(target_path(settings, arg, first=option in ("-R", "--forcerun")))
        elif os.path.isabs(arg) and Path(arg).is_relative_to(settings.work_dir):
            out.append(markers.target(settings, arg))        # Snakemake names its files relative to work_dir
        elif _MONTHISH.fullmatch(arg):
            raise UsageError(f"{arg}: not a month (YYYY-MM, 01 to 12) or STAGE/YYYY-MM with a stage of "
                             f"{', '.join(registry.MONTH_TARGETS)}")
        else:
            out.append(arg)
    return out
