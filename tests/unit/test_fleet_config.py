"""The fleet file: its schema, each hub's settings laid over the defaults, a broken hub kept apart."""

from __future__ import annotations

import os

import pytest
import yaml

from hzflow import cli
from hzflow.errors import ConfigError
from hzflow.fleet import Fleet, members


def hub_file(tmp_path, name, **data):
    path = tmp_path / f"{name}.yaml"
    body = {"site": name, "db": {"user": "u"}, "paths": {"work_dir": str(tmp_path / "work" / name)}}
    body.update(data)
    path.write_text(yaml.safe_dump(body))
    path.chmod(0o600)
    return path


def fleet_file(tmp_path, **data):
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)
    return path


def test_the_minimal_form_names_each_hubs_own_config_relative_to_the_fleet_file(tmp_path):
    hub_file(tmp_path, "nanohub")
    hub_file(tmp_path, "geo")
    fleet = Fleet.load(fleet_file(tmp_path, hubs={"nanohub": "nanohub.yaml", "geo": str(tmp_path / "geo.yaml")}))
    assert fleet.names == ["nanohub", "geo"] and not fleet.problems
    assert fleet.hub("geo").work_dir == tmp_path / "work" / "geo"
    assert fleet.hub("nanohub").get("dns", "shared_cache") == "hzflow_fleet"
    assert fleet.work_dir == tmp_path / "work" / "nanohub" / "fleet-fleet"


def test_defaults_lie_under_each_hubs_own_keys(tmp_path):
    hub_file(tmp_path, "a", dns={"concurrency": 7, "shared_cache": "own_cache"})
    hub_file(tmp_path, "b", paths={})
    fleet = Fleet.load(fleet_file(tmp_path, hubs={"a": "a.yaml", "b": "b.yaml"}, dns_cache="",
                                  defaults={"dns": {"concurrency": 99, "timeout": 1.5},
                                            "paths": {"work_dir": str(tmp_path / "shared")}}))
    a, b = fleet.hub("a"), fleet.hub("b")
    assert (a.get("dns", "concurrency"), a.get("dns", "timeout")) == (7, 1.5)
    assert b.get("dns", "concurrency") == 99 and b.get("dns", "shared_cache") == ""
    assert a.get("dns", "shared_cache") == "own_cache"
    assert a.work_dir == tmp_path / "work" / "a" and b.work_dir == tmp_path / "shared"


def test_a_hub_that_cannot_load_is_that_hubs_problem_alone(tmp_path):
    hub_file(tmp_path, "good")
    hub_file(tmp_path, "other", site="not-other")
    hub_file(tmp_path, "typo", dsn={"enabled": True})
    fleet = Fleet.load(fleet_file(tmp_path, hubs={"good": "good.yaml", "other": "other.yaml",
                                                  "typo": "typo.yaml", "gone": "gone.yaml"}))
    assert list(fleet.settings) == ["good"]
    assert set(fleet.problems) == {"other", "typo", "gone"}
    assert "site is 'not-other'" in fleet.problems["other"] and "unknown key dsn" in fleet.problems["typo"]
    assert "does not exist" in fleet.problems["gone"]
    with pytest.raises(ConfigError):
        fleet.hub("typo")


@pytest.mark.parametrize("data, says", [
    ({}, "'hubs' is a required property"),
    ({"hubs": {}}, "hubs"),
    ({"hubs": {"a": "a.yaml"}, "hub": 1}, "unknown key hub"),
    ({"hubs": {"a b": "a.yaml"}}, "hubs"),
    ({"hubs": {"a": "a.yaml"}, "db_server_jobs": 0}, "db_server_jobs"),
])
def test_the_fleet_file_is_checked_against_its_schema(tmp_path, data, says):
    with pytest.raises(ConfigError, match=says):
        Fleet.load(fleet_file(tmp_path, **data))


def test_a_password_in_the_defaults_needs_a_private_fleet_file(tmp_path):
    hub_file(tmp_path, "a")
    path = fleet_file(tmp_path, hubs={"a": "a.yaml"}, defaults={"db": {"password": "s3cret"}})
    path.chmod(0o644)
    with pytest.raises(ConfigError) as err:
        Fleet.load(path)
    assert "s3cret" not in str(err.value)


def test_the_run_names_each_hubs_files_under_the_fleets_work_dir(tmp_path):
    hub_file(tmp_path, "a")
    hub_file(tmp_path, "b", db={"user": "u", "host": "db2", "port": 3307})
    path = fleet_file(tmp_path, hubs={"a": "a.yaml", "b": "b.yaml"}, work_dir=str(tmp_path / "fleet"),
                      db_server_jobs=3)
    run = members.RunHubs(yaml.safe_load(path.read_text()), str(path))
    assert run.names == ["a", "b"]
    for kind in ("state", "logs", "report"):
        link = tmp_path / "fleet" / kind / "a"
        assert link.is_symlink() and os.path.realpath(link).startswith(str(tmp_path / "work" / "a"))
    assert run.limits() == {"hub_a": 1, "hub_b": 1, "dbserver_localhost_3306": 3, "dbserver_db2_3307": 3}
    assert "--fleet" in run.members["b"].config_args and "--hub b" in run.members["b"].config_args


def test_the_fleet_comes_from_the_environment_when_no_hub_config_is_named(tmp_path, monkeypatch, capsys):
    hub_file(tmp_path, "a")
    path = fleet_file(tmp_path, hubs={"a": "a.yaml"}, work_dir=str(tmp_path / "fleet"))
    monkeypatch.delenv("HZFLOW_CONFIG", raising=False)
    monkeypatch.setenv("HZFLOW_FLEET", str(path))
    assert cli.main(["check-config"]) == 0
    assert "a: config" in capsys.readouterr().out
    assert cli.main(["doctor"]) == 2                       # one hub's command: --hub is needed
    assert "add --hub NAME" in capsys.readouterr().err
    monkeypatch.delenv("HZFLOW_FLEET")
    assert cli.main(["--hub", "a", "check-config"]) == 2   # --hub without a fleet
