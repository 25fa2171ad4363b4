"""Config validation and credential sources."""

import pytest
import yaml

from hzflow import config as hzconfig

BASE = {"site": "myhub", "db": {"user": "u", "hub_db": "myhub", "metrics_db": "myhub_metrics"}}


def write(tmp_path, data, mode=0o600):
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(data))
    p.chmod(mode)
    return p


def test_a_valid_config_loads_with_defaults(tmp_path):
    s = hzconfig.load(write(tmp_path, BASE))
    assert s.site == "myhub" and s.db.metrics_db == "myhub_metrics" and s.db.prefix == "jos_"
    assert s.apache_holding.name == "daily.holding" and s.archive_logs is True


@pytest.mark.parametrize("change, message", [
    (lambda d: d["db"].update(passwrd="x"), "unknown key db.passwrd"),
    (lambda d: d.update(colour="red"), "unknown key colour"),
    (lambda d: d.update(start_month="2025-13"), "start_month"),
    (lambda d: d.update(dns={"timeout": -1}), "dns.timeout"),
    (lambda d: d.pop("site"), "'site' is a required property"),
])
def test_bad_keys_are_named(tmp_path, change, message):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    change(data)
    with pytest.raises(hzconfig.ConfigError, match=message.replace(".", r"\.")):
        hzconfig.load(write(tmp_path, data))


def test_world_readable_password_file_is_refused(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    pw.chmod(0o644)
    data = {**BASE, "db": {**BASE["db"], "password_file": str(pw)}}
    settings = hzconfig.load(write(tmp_path, data))        # credentials are read only when needed
    with pytest.raises(hzconfig.ConfigError, match="readable by group or others"):
        _ = settings.db
    pw.chmod(0o600)
    assert hzconfig.load(write(tmp_path, data)).db.password == "secret"


def test_credentials_from_a_hub_access_cfg(tmp_path):
    cfg = tmp_path / "access.cfg"
    cfg.write_text("<?php\n$db_user = 'hubuser';\n$db_pass = 's3cret';\n$db_host = 'dbhost';\n")
    cfg.chmod(0o600)
    s = hzconfig.load(write(tmp_path, {"site": "myhub", "db": {"credentials_file": str(cfg)}}))
    assert (s.db.user, s.db.password, s.db.host, s.db.metrics_db) == ("hubuser", "s3cret", "dbhost",
                                                                       "myhub_metrics")
    assert "s3cret" not in repr(s.db)


def test_credentials_from_a_reference_hzmetrics_conf(tmp_path):
    cfg = tmp_path / "hzmetrics.conf"
    cfg.write_text("[hub]\nsite = x\n[db]\nhost = h\nuser = v\npassword = p\nhub_db = vhub\n"
                   "hub_db_prefix = jos_\nmetrics_db = vhub_metrics\n")
    cfg.chmod(0o600)
    s = hzconfig.load(write(tmp_path, {"site": "vhub", "db": {"credentials_file": str(cfg)}}))
    assert (s.db.user, s.db.password, s.db.hub_db, s.db.metrics_db) == ("v", "p", "vhub", "vhub_metrics")


def test_missing_config_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(hzconfig.ENV_VAR, raising=False)
    with pytest.raises(hzconfig.ConfigError, match="no config file"):
        hzconfig.load(None)
    with pytest.raises(hzconfig.ConfigError, match="does not exist"):
        hzconfig.load(tmp_path / "nope.yaml")


def test_a_missing_password_file_does_not_stop_parsing(tmp_path):
    data = {**BASE, "db": {**BASE["db"], "password_file": str(tmp_path / "absent")}}
    settings = hzconfig.load(write(tmp_path, data))
    assert settings.site == "myhub"
    with pytest.raises(hzconfig.ConfigError, match="password_file .*absent"):
        _ = settings.db


def test_errors_never_show_a_password(tmp_path):
    data = {**BASE, "db": {**BASE["db"], "password": 98765432123}}
    with pytest.raises(hzconfig.ConfigError) as caught:
        hzconfig.load(write(tmp_path, data))
    assert "db.password" in str(caught.value) and "98765432123" not in str(caught.value)


def test_a_config_holding_a_password_must_be_private(tmp_path):
    data = {**BASE, "db": {**BASE["db"], "password": "s3cret-pw"}}
    settings = hzconfig.load(write(tmp_path, data, mode=0o644))
    with pytest.raises(hzconfig.ConfigError, match="chmod 600") as caught:
        _ = settings.db
    assert "s3cret-pw" not in str(caught.value)
    assert hzconfig.load(write(tmp_path, data)).db.password == "s3cret-pw"


def test_names_from_a_credentials_file_are_validated_like_the_config(tmp_path):
    cfg = tmp_path / "hzmetrics.conf"
    cfg.write_text("[db]\nuser = v\npassword = p\nmetrics_db = hzq` CHARACTER SET latin1 #\n")
    cfg.chmod(0o600)
    settings = hzconfig.load(write(tmp_path, {"site": "vhub", "db": {"credentials_file": str(cfg)}}))
    with pytest.raises(hzconfig.ConfigError, match="db.metrics_db"):
        _ = settings.db


def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path):
    p = tmp_path / "config.yaml"
    p.write_bytes(b"site: caf\xe9\n")
    with pytest.raises(hzconfig.ConfigError, match="not UTF-8"):
        hzconfig.load(p)


def _leaves(node, path=()):
    for key, sub in node.get("properties", {}).items():
        if "properties" in sub:
            yield from _leaves(sub, path + (key,))
        elif "default" in sub:
            yield path + (key,), sub["default"]


def test_the_sample_config_shows_every_default_of_the_schema():
    """Each default is declared once (the schema); config/config.yaml shows each with the same value."""
    text = hzconfig.SAMPLE_FILE.read_text()
    sample = yaml.safe_load(text)
    for path, value in _leaves(hzconfig.schema()):
        node = sample
        for key in path:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if node != {}:
            assert node == value, f"{'.'.join(path)}: sample {node!r}, schema default {value!r}"
        else:
            shown = yaml.safe_dump({path[-1]: value}, default_flow_style=True).strip()[1:-1]
            assert f"# {shown}" in text, f"{'.'.join(path)} (default {value!r}) is not shown in the sample"
        assert hzconfig.default(*path) == value


def test_an_ini_password_with_a_percent_sign_is_read_as_written(tmp_path):
    cfg = tmp_path / "hzmetrics.conf"
    cfg.write_text("[hub]\nsite = x\n[db]\nuser = v\npassword = 50%off%(x)s\nhub_db = vhub\n")
    cfg.chmod(0o600)
    s = hzconfig.load(write(tmp_path, {"site": "vhub", "db": {"credentials_file": str(cfg)}}))
    assert s.db.password == "50%off%(x)s"


@pytest.mark.parametrize("body", ["[hub]\nsite = x\n[db]\nuser = v\npassword PwLEAK-9x7Q\n",
                                  "password = PwLEAK-9x7Q\n[db]\n",
                                  "[hub]\nsite = x\n[db]\npassword = PwLEAK-9x7Q\npassword = PwLEAK-9x7Q\n"])
def test_a_malformed_ini_line_is_named_by_number_never_shown(tmp_path, monkeypatch, body):
    cfg = tmp_path / "hzmetrics.conf"
    cfg.write_text(body)
    cfg.chmod(0o600)
    for load in (lambda: hzconfig.load(cfg),
                 lambda: hzconfig.read_credentials_file(cfg)):
        with pytest.raises(hzconfig.ConfigError) as err:
            load()
        assert "PwLEAK" not in str(err.value) and "line" in str(err.value)


@pytest.mark.parametrize("db", [{"password": "PwLEAK-9x7Q", "pasword": "PwLEAK-9x7Q"},
                                {"password": ["PwLEAK-9x7Q"]}, {"password": {"nested": "PwLEAK-9x7Q"}},
                                "PwLEAK-9x7Q"])
def test_a_schema_error_next_to_a_secret_never_shows_it(tmp_path, db):
    with pytest.raises(hzconfig.ConfigError) as err:
        hzconfig.validate({"site": "x", "db": db})
    assert "PwLEAK" not in str(err.value) and "db" in str(err.value)
