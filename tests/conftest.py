"""Shared fixtures: one private MariaDB server per test session, a fresh hub per test."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hzflow import config as hzconfig
from hzflow import schema
from hzflow_dev import hubschema, sandbox
from hzflow_dev.ptrserver import PtrServer

REPO = Path(__file__).resolve().parents[1]
PARITY = REPO.parent / "shared" / "parity"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with sandbox.private_server(tmp_path_factory.mktemp("mariadb")) as s:
        yield s


@pytest.fixture(scope="session")
def ptr():
    """A loopback PTR server that names every public address host-a-b-c-d.hosts.example.net."""
    with PtrServer({"192.0.2.10": "WWW.Example.EDU"}, synthetic="hosts.example.net") as s:
        yield s


class Hub:
    """A test hub: config file, log directories and its own metrics database."""

    def __init__(self, server: sandbox.Server, root: Path, site: str = "testhub", nameserver=None):
        n = next(_counter)
        self.nameserver = nameserver
        self.server, self.root, self.site = server, root, site
        self.metrics_db = f"t{os.getpid()}_{n}_metrics"
        self.hub_db = f"t{os.getpid()}_{n}_hub"
        self.apache = root / "apache" / "daily"
        self.hub_logs = root / "hubzero" / "daily"
        self.work = root / "work"
        self.config_path = root / "config.yaml"
        self.write_config()

    def write_config(self, **overrides):
        data = {"site": self.site, "hub_dir": str(self.root / "hub"),
                "db": self.server.db_config(hub_db=self.hub_db, metrics_db=self.metrics_db),
                "paths": {"apache_daily": str(self.apache),
                          "apache_imported": str(self.root / "apache" / "imported"),
                          "hub_daily": str(self.hub_logs),
                          "hub_imported": str(self.root / "hubzero" / "imported"),
                          "work_dir": str(self.work), "state_dir": str(self.work / "state")},
                "dns": {"nameservers": [self.nameserver] if self.nameserver else ["127.0.0.1:9"],
                        "concurrency": 20, "timeout": 0.5}}
        data.update(overrides)
        self.config_path.write_text(yaml.safe_dump(data))
        self.config_path.chmod(0o600)

    @property
    def settings(self) -> hzconfig.Settings:
        return hzconfig.load(self.config_path)

    def init(self):
        schema.init(self.settings, say=lambda _: None)
        return self

    def make_ready(self):
        """Initialised, with an empty bot list, beside an empty hub database."""
        self.init()
        self.query("DELETE FROM bot_useragents")
        conn = self.server.connect()
        with conn.cursor() as cur:
            hubschema.create(cur, self.hub_db)
        conn.close()
        return self

    def hzflow(self, *args, check=True, **kw) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "hzflow.cli", "--config", str(self.config_path),
                            *map(str, args)], capture_output=True, text=True, **kw)
        if check and r.returncode:
            raise AssertionError(f"hzflow {' '.join(map(str, args))} exited {r.returncode}:\n"
                                 f"{r.stdout}\n{r.stderr}")
        return r

    def query(self, sql: str, params=(), database: str | None = None) -> list[tuple]:
        conn = self.server.connect(database or self.metrics_db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        finally:
            conn.close()

    def dump(self, table: str, columns: str = "*", order: str = "id") -> list[tuple]:
        return self.query(f"SELECT {columns} FROM `{table}` ORDER BY {order}")

    def insert(self, table: str, columns: str, rows) -> None:
        """Seed rows into a metrics table: insert("web", "datetime, ip", [(…), …])."""
        conn = self.server.connect(self.metrics_db)
        try:
            with conn.cursor() as cur:
                marks = ", ".join(["%s"] * len(columns.split(",")))
                cur.executemany(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", rows)
        finally:
            conn.close()

    def hub_query(self, sql: str, params=()) -> list[tuple]:
        return self.query(sql, params, self.hub_db)


def drop(server, hubs) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        for h in hubs:
            cur.execute(f"DROP DATABASE IF EXISTS `{h.metrics_db}`")
            cur.execute(f"DROP DATABASE IF EXISTS `{h.hub_db}`")
    conn.close()


@pytest.fixture
def hub(server, ptr, tmp_path) -> Hub:
    h = Hub(server, tmp_path, nameserver=ptr.nameserver)
    yield h
    drop(server, [h])


@pytest.fixture
def make_hub(server, ptr):
    """A factory of further hubs (own databases, own tree under root), all dropped afterwards."""
    made = []

    def make(root: Path, site: str = "testhub") -> Hub:
        root.mkdir(parents=True, exist_ok=True)
        made.append(Hub(server, root, site=site, nameserver=ptr.nameserver))
        return made[-1]

    yield make
    drop(server, made)


@pytest.fixture
def ready_hub(hub) -> Hub:
    """A hub whose metrics database is initialised (empty exclude and bot lists) beside an empty hub database."""
    return hub.make_ready()


@pytest.fixture(scope="session")
def hub_kit():
    """(Hub, drop), for fixtures of a wider scope than make_hub's (a module's twins)."""
    return Hub, drop
