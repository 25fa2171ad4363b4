"""The hubs one workflow run covers: one hub's config, or every hub of a fleet file.

The Snakefile sees both the same way: a set of hubs, each with its
settings, what its logs cover, and how its jobs name its config; the hub
is a wildcard of every rule, and its files are named relative to the run's
working directory exactly as a single hub's are (state/<hub>/…,
logs/<hub>/…, report/<hub>/…).  A fleet whose hubs keep their own work
directories gets a link per hub and kind (state/<hub> -> the hub's state),
so a hub's markers are the same files whether a fleet run or its own cron
writes them.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from .. import config as cfgmod
from .. import coverage
from . import Fleet, is_fleet

# Set by `hzflow --fleet F cron` to the hubs it holds the locks of (and found fit to run).
ONLY_VAR = "HZFLOW_FLEET_HUBS"
# The heavy jobs' resources: one per hub (its jobs one at a time, in the order stage commands would
# run) and one per database server (capped: fleet db_server_jobs).
HUB_RESOURCE, SERVER_RESOURCE = "hub_", "dbserver_"


@dataclass
class Member:
    site: str
    settings: cfgmod.Settings
    coverage: coverage.Coverage
    config_args: str          # how a job names the hub's config on the hzflow command line

    @property
    def server(self) -> str:
        """The database server, as its config names it (credentials files are not read to plan)."""
        db = self.settings.section("db")
        return db.get("socket") or f"{db.get('host') or cfgmod.default('db', 'host')}:" \
                                   f"{db.get('port') or cfgmod.default('db', 'port')}"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", text)


class RunHubs:
    """Every hub of a run: members (they run), problems (name -> why one cannot: its jobs fail)."""

    def __init__(self, config: dict, config_file: str, warn=None):
        self.config_file = os.path.abspath(config_file)
        self.members: dict[str, Member] = {}
        self.problems: dict[str, str] = {}
        if is_fleet(config):
            self.fleet = Fleet.from_mapping(config, Path(self.config_file))
            self.work_dir = self.fleet.work_dir
            self.server_jobs = int(self.fleet.get("db_server_jobs"))
            only = os.environ.get(ONLY_VAR)
            chosen = set(only.split(",")) if only is not None else None
            for name in self.fleet.names:
                if chosen is not None and name not in chosen:
                    continue
                if name in self.fleet.problems:
                    self.problems[name] = self.fleet.problems[name]
                    continue
                settings = self.fleet.settings[name]
                problem = link_hub_dirs(self.work_dir, settings)
                if problem:
                    self.problems[name] = problem
                    continue
                self.members[name] = Member(name, settings, coverage.Coverage(settings, warn=warn),
                                            f"--fleet {shlex.quote(self.config_file)} --hub {shlex.quote(name)}")
        else:
            self.fleet = None
            settings = cfgmod.Settings.from_mapping(config, self.config_file)
            self.work_dir = settings.work_dir
            self.server_jobs = 1
            problem = link_hub_dirs(self.work_dir, settings)
            if problem:
                raise cfgmod.ConfigError(problem)
            self.members[settings.site] = Member(settings.site, settings, coverage.Coverage(settings, warn=warn),
                                                 f"--config {shlex.quote(self.config_file)}")

    @property
    def names(self) -> list[str]:
        return list(self.members)

    def writer_resources(self) -> dict:
        """The resources a heavy job of hub w.hub takes: its hub's and its database server's."""
        resources = {}
        for name in self.members:
            resources[HUB_RESOURCE + slug(name)] = lambda w, name=name: int(w.hub == name)
        for server in {m.server for m in self.members.values()}:
            resources[SERVER_RESOURCE + slug(server)] = \
                lambda w, server=server: int(self.members[w.hub].server == server)
        return resources

    def limits(self) -> dict[str, int]:
        """Each resource's cap: one job per hub at a time, db_server_jobs per database server."""
        caps = {HUB_RESOURCE + slug(n): 1 for n in self.members}
        caps.update({SERVER_RESOURCE + slug(m.server): self.server_jobs for m in self.members.values()})
        return caps


# Kinds of a hub's files that the workflow names relative to its working directory.
def _hub_dirs(settings) -> dict[str, Path]:
    return {"state": settings.site_state, "logs": settings.work_dir / "logs" / settings.site,
            "benchmarks": settings.work_dir / "benchmarks" / settings.site,
            "report": settings.work_dir / "report" / settings.site}


def make_hub_dirs(settings) -> None:
    """The hub's own directories, made by a real run (a dry run writes nothing of the hub's)."""
    for real in _hub_dirs(settings).values():
        real.mkdir(parents=True, exist_ok=True)


def link_hub_dirs(work_dir: Path, settings) -> str | None:
    """Make <work_dir>/<kind>/<site> lead to the hub's own (nothing to do for a hub's own run, whose
    directories are these); say why not when it cannot."""
    for kind, real in _hub_dirs(settings).items():
        link = work_dir / kind / settings.site
        if os.path.abspath(link) == os.path.abspath(real):
            continue
        if link.is_symlink():
            if os.path.realpath(link) == os.path.realpath(real):
                continue
            link.unlink()
        elif link.exists():
            if os.path.realpath(link) == os.path.realpath(real):
                continue
            return (f"{link} is a directory of its own, but hub {settings.site} keeps its {kind} in {real}: "
                    f"move one into the other's place")
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(real, link)
    return None
