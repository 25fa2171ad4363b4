"""Load and validate an hzflow config file, and resolve database credentials.

Every CLI command and the Snakefile go through this module, so a bad key is
reported the same way everywhere: the dotted path of the key and what is
wrong with it.  Credentials are read here and handed only to the database
driver; they never reach argv, logs or markers.
"""

from __future__ import annotations

import configparser
import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import jsonschema
import yaml

ENV_VAR = "HZFLOW_CONFIG"
PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parents[1]
SCHEMA_FILE = REPO_ROOT / "config" / "config.schema.yaml"


class ConfigError(Exception):
    """A configuration problem an operator must fix; the message says which key."""


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_FILE.read_text())


def validate(data: dict, source: str = "config") -> None:
    """Raise ConfigError naming the first offending key, if data breaks the schema."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    lines = []
    for err in errors:
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "additionalProperties":
            unexpected = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            parent = where if err.absolute_path else ""
            keys = ", ".join(f"{parent + '.' if parent else ''}{k}" for k in unexpected)
            lines.append(f"unknown key {keys}")
        else:
            lines.append(f"{where}: {err.message}")
    raise ConfigError(f"{source}: " + "; ".join(lines))


def resolve_path(arg: str | os.PathLike | None) -> Path:
    """The config file named by --config, else $HZFLOW_CONFIG."""
    chosen = arg or os.environ.get(ENV_VAR)
    if not chosen:
        raise ConfigError(f"no config file: pass --config FILE or set {ENV_VAR}")
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    return path.resolve()


def load(arg: str | os.PathLike | None = None) -> "Settings":
    path = resolve_path(arg)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return Settings.from_mapping(data, path)


def _read_private_file(path: Path, what: str) -> str:
    try:
        st = path.stat()
    except OSError as e:
        raise ConfigError(f"{what} {path}: {e.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{what} {path} is readable by group or others (mode {stat.S_IMODE(st.st_mode):04o});"
            f" run: chmod 600 {path}")
    return path.read_text()


_PHP_ASSIGN = re.compile(r"""^\s*\$(\w+)\s*=\s*(['"])(.*?)\2\s*;""", re.M)


def read_credentials_file(path: Path) -> dict:
    """Database settings from a hub's access.cfg (PHP) or a reference hzmetrics.conf (INI)."""
    text = _read_private_file(path, "credentials_file")
    php = {k: v for k, _, v in _PHP_ASSIGN.findall(text)}
    if php:
        mapping = {"db_user": "user", "db_pass": "password", "db_password": "password",
                   "db_host": "host", "db_port": "port", "hub_db": "hub_db",
                   "metrics_db": "metrics_db", "db_prefix": "prefix"}
        return {mapping[k]: v for k, v in php.items() if k in mapping and v != ""}
    ini = configparser.ConfigParser()
    try:
        ini.read_string(text)
    except configparser.Error as e:
        raise ConfigError(f"credentials_file {path}: neither access.cfg nor INI: {e}") from None
    if not ini.has_section("db"):
        raise ConfigError(f"credentials_file {path}: no $db_user assignments and no [db] section")
    section = ini["db"]
    mapping = {"user": "user", "password": "password", "host": "host", "port": "port",
               "hub_db": "hub_db", "metrics_db": "metrics_db", "hub_db_prefix": "prefix"}
    return {mapping[k]: section[k] for k in mapping if section.get(k)}


@dataclass(frozen=True)
class DbSettings:
    user: str
    hub_db: str
    metrics_db: str
    prefix: str
    socket: str | None
    host: str
    port: int
    _password: str = ""

    def __repr__(self) -> str:  # never show the password
        where = self.socket or f"{self.host}:{self.port}"
        return f"DbSettings(user={self.user!r}, at={where!r}, metrics_db={self.metrics_db!r})"

    @property
    def password(self) -> str:
        return self._password


@dataclass(frozen=True)
class Settings:
    path: Path
    raw: dict

    @classmethod
    def from_mapping(cls, data: dict, path: Path | str = "config") -> "Settings":
        validate(data, str(path))
        settings = cls(Path(path), data)
        settings.db  # resolve credentials now, so a bad password_file is reported at start
        return settings

    def section(self, name: str) -> dict:
        return self.raw.get(name) or {}

    @property
    def site(self) -> str:
        return self.raw["site"]

    @property
    def hub_dir(self) -> Path | None:
        return Path(self.raw["hub_dir"]) if self.raw.get("hub_dir") else None

    @property
    def start_month(self) -> str | None:
        return self.raw.get("start_month")

    @cached_property
    def db(self) -> DbSettings:
        d = dict(self.section("db"))
        if d.get("credentials_file"):
            from_file = read_credentials_file(Path(d["credentials_file"]))
            for key, value in from_file.items():
                d.setdefault(key, value)
        password = d.get("password", "")
        if d.get("password_file"):
            password = _read_private_file(Path(d["password_file"]), "password_file").rstrip("\r\n")
        site = self.site.replace("-", "_").replace(".", "_")
        hub_db = d.get("hub_db") or site
        return DbSettings(
            user=d.get("user", "hzflow"), hub_db=hub_db,
            metrics_db=d.get("metrics_db") or f"{hub_db}_metrics",
            prefix=d.get("prefix", "jos_"), socket=d.get("socket"),
            host=d.get("host", "localhost"), port=int(d.get("port", 3306)), _password=password)

    def _path(self, key: str, default: str | Path) -> Path:
        value = self.section("paths").get(key)
        return Path(value) if value else Path(default)

    @property
    def apache_daily(self) -> Path:
        return self._path("apache_daily", "/var/log/apache2/daily")

    @property
    def apache_holding(self) -> Path:
        return self._path("apache_holding", self.apache_daily.with_name("daily.holding"))

    @property
    def apache_imported(self) -> Path:
        return self._path("apache_imported", self.apache_daily.with_name("imported"))

    @property
    def hub_daily(self) -> Path:
        return self._path("hub_daily", "/var/log/hubzero/daily")

    @property
    def hub_holding(self) -> Path:
        return self._path("hub_holding", self.hub_daily.with_name("daily.holding"))

    @property
    def hub_imported(self) -> Path:
        return self._path("hub_imported", self.hub_daily.with_name("imported"))

    @property
    def work_dir(self) -> Path:
        default = Path(self.section("paths")["state_dir"]).parent \
            if self.section("paths").get("state_dir") else "/var/lib/hzflow"
        return self._path("work_dir", default)

    @property
    def state_dir(self) -> Path:
        return self._path("state_dir", self.work_dir / "state")

    @property
    def site_state(self) -> Path:
        """state/<site>: every marker of this hub lives below it."""
        return self.state_dir / self.site

    @property
    def malformed_samples(self) -> int:
        return int(self.section("import").get("malformed_samples", 5))

    @property
    def archive_logs(self) -> bool:
        return bool(self.section("import").get("archive", True))
