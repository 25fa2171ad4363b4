"""The fleet's commands (`hzflow --fleet FILE COMMAND`): cron, plan, status, report, check-config.

Any other command is one hub's: `hzflow --fleet FILE --hub NAME COMMAND`.
"""

from __future__ import annotations

import os

from .. import config as cfgmod
from .. import errors
from ..fleet import Fleet
from .common import say

COMMANDS = ("cron", "plan", "status", "report", "check-config")


def run(fleet_file: str, a) -> int:
    if a.command not in COMMANDS:
        raise errors.UsageError(f"{a.command} is one hub's command: add --hub NAME (the fleet's own commands are "
                                f"{', '.join(COMMANDS)})")
    fleet = Fleet.load(fleet_file)
    fleet.work_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(cfgmod.config_homes(fleet))   # Snakemake's caches: under the fleet's work directory
    if a.command == "cron":
        from ..fleet.run import cron
        return cron(fleet, a.snakemake_args, quiet=a.quiet, verbose=a.verbose, say=say)
    if a.command == "plan":
        from ..fleet.run import plan
        return plan(fleet, a.snakemake_args, say=say)
    if a.command == "status":
        from ..fleet.view import status
        return status(fleet, as_json=a.json, say=say)
    if a.command == "report":
        from ..fleet.view import report
        return report(fleet, say=say)
    for name, problem in fleet.problems.items():
        say(f"{name}: {problem}")
    for name, settings in fleet.settings.items():
        say(f"{name}: config {settings.path} is valid (work_dir {settings.work_dir})")
    return errors.CONFIG if fleet.problems else 0
