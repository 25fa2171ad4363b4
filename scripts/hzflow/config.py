"""Load and validate an hzflow config file, and resolve database credentials.

Every CLI command and the Snakefile go through this module, so a bad key is
reported the same way everywhere: the dotted path of the key and what is
wrong with it (never the value of a secret).  Defaults live in the schema
(`default()` reads them).  Credentials are resolved only when a connection
is opened, so the workflow can be parsed, dry-run and linted without them;
they go straight to the database driver, never to argv, logs or markers.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml

from . import refconfig
from .errors import ConfigError

ENV_VAR = "HZFLOW_CONFIG"
PACKAGE_ROOT = Path(__file__).resolve().parent
WORKFLOW_ROOT = PACKAGE_ROOT / "workflow"
SCHEMA_FILE = WORKFLOW_ROOT / "config" / "config.schema.yaml"
SAMPLE_FILE = WORKFLOW_ROOT / "config" / "config.yaml"
SECRET_KEYS = ("password",)
# Sections whose values are never quoted in an error (a password may sit where a mapping belongs).
SECRET_SECTIONS = ("db",)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when it is there: 10x faster
# Where tools that follow the XDG rules (Snakemake's source cache, matplotlib) keep their files,
# relative to <work_dir>/.home: never the service account's home, which may be read-only.
TOOL_HOMES = {"XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config", "XDG_DATA_HOME": "data",
              "XDG_STATE_HOME": "state", "MPLCONFIGDIR": "config/matplotlib"}


@cache
def schema_text() -> str:
    return SCHEMA_FILE.read_text()


@cache
def schema() -> dict:
    return yaml.load(schema_text(), Loader=_LOADER)


def default(*path: str):
    """The schema's default for a key, e.g. default("dns", "concurrency")."""
    node = schema()
    for key in path:
        node = node["properties"][key]
    return node.get("default")


def _holds_secret(instance) -> bool:
    if isinstance(instance, dict):
        return any(str(k) in SECRET_KEYS or _holds_secret(v) for k, v in instance.items())
    if isinstance(instance, list):
        return any(_holds_secret(v) for v in instance)
    return False


def _message(err) -> str:
    """What is wrong with one key, by its dotted path: never a value that is or holds a secret."""
    where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    if err.validator == "additionalProperties":
        unexpected = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        parent = where if err.absolute_path else ""
        return "unknown key " + ", ".join(f"{parent + '.' if parent else ''}{k}" for k in unexpected)
    path = [str(p) for p in err.absolute_path]
    if any(p in SECRET_KEYS for p in path) or (path and path[0] in SECRET_SECTIONS):
        expected = err.schema.get("type") or err.validator
        return f"{where}: must be {expected} (value not shown: this section holds credentials)"
    if _holds_secret(err.instance):
        return f"{where}: does not meet the schema's {err.validator!r} rule (values not shown: they hold a secret)"
    return f"{where}: {err.message}"


def validate(data: dict, source: str = "config") -> None:
    """Raise ConfigError naming every offending key, if data breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError(f"{source}: " + "; ".join(_message(e) for e in errors))


def resolve_path(arg: str | os.PathLike | None) -> Path:
    """The config file named by --config (or -c), else $HZFLOW_CONFIG, else the reference's places.

    A reference hzmetrics.conf is translated (refconfig), and the translation's path returned.
    """
    chosen = arg or os.environ.get(ENV_VAR) or os.environ.get(refconfig.ENV_VAR) or refconfig.default_path()
    if not chosen:
        raise ConfigError(f"no config file: pass --config FILE or set {ENV_VAR}")
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    path = path.resolve()
    return refconfig.translated_file(path) if refconfig.is_reference_ini(path) else path


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_bytes().decode("utf-8"), Loader=_LOADER) or {}
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return data


def load(arg: str | os.PathLike | None = None) -> "Settings":
    path = resolve_path(arg)
    data = read_yaml(path)
    stamp = _validated_stamp(data, path)
    if stamp is not None and stamp[0].exists() and stamp[0].read_text() == stamp[1]:
        return Settings(path, data)
    settings = Settings.from_mapping(data, path)
    if stamp is not None:
        try:
            stamp[0].write_text(stamp[1])
        except OSError:
            pass
    return settings


def _validated_stamp(data: dict, path: Path) -> tuple[Path, str] | None:
    """Where a validation of exactly this config against exactly this schema is remembered.

    Every workflow job loads the config; validating it once per content
    (not once per process) spares each job the schema checker's start-up.
    """
    import hashlib

    try:
        work = Settings(path, data).work_dir
    except (TypeError, AttributeError, ValueError):
        return None
    if not work.is_dir():
        return None
    digest = hashlib.sha1(path.read_bytes() + b"\0" + schema_text().encode()).hexdigest()
    return work / ".hzflow-config-validated", digest


def config_homes(settings: "Settings") -> dict[str, str]:
    """The environment that puts every tool's cache and config under the work directory."""
    base = settings.work_dir / ".home"
    return {var: str(base / sub) for var, sub in TOOL_HOMES.items()}


def put_first_on_path(directory: str) -> None:
    """Programs of this directory before all others, for this process and the jobs it starts."""
    os.environ["PATH"] = os.pathsep.join([directory, os.environ.get("PATH", os.defpath)])


def check_private(path: Path, what: str) -> os.stat_result:
    """A file holding a secret must be the running user's and readable by nobody else."""
    try:
        st = path.stat()
    except OSError as e:
        raise ConfigError(f"{what} {path}: {e.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{what} {path} is readable by group or others (mode {stat.S_IMODE(st.st_mode):04o});"
            f" run: chmod 600 {path}")
    if st.st_uid != os.geteuid():
        raise ConfigError(f"{what} {path} belongs to uid {st.st_uid}, not to the user running hzflow "
                          f"(uid {os.geteuid()}); run: chown {os.geteuid()} {path}")
    return st


def _read_private_file(path: Path, what: str) -> str:
    check_private(path, what)
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{what} {path}: cannot be read ({type(e).__name__})") from None


_PHP_ASSIGN = re.compile(r"""^\s*\$(\w+)\s*=\s*(['"])(.*?)\2\s*;""", re.M)
_PHP_KEYS = {"db_user": "user", "db_pass": "password", "db_password": "password", "db_host": "host",
             "db_port": "port", "hub_db": "hub_db", "metrics_db": "metrics_db", "db_prefix": "prefix"}
_INI_KEYS = {"user": "user", "password": "password", "host": "host", "port": "port",
             "hub_db": "hub_db", "metrics_db": "metrics_db", "hub_db_prefix": "prefix"}


def read_credentials_file(path: Path) -> dict:
    """Database settings from a hub's access.cfg (PHP) or a reference hzmetrics.conf (INI)."""
    text = _read_private_file(path, "credentials_file")
    php = {k: v for k, _, v in _PHP_ASSIGN.findall(text)}
    if php:
        found = {_PHP_KEYS[k]: v for k, v in php.items() if k in _PHP_KEYS and v != ""}
    else:
        ini = refconfig.parse_ini(text, f"credentials_file {path}")
        if not ini.has_section("db"):
            raise ConfigError(f"credentials_file {path}: no $db_user assignments and no [db] section")
        found = {_INI_KEYS[k]: ini["db"][k] for k in _INI_KEYS if ini["db"].get(k)}
    if "port" in found:
        try:
            found["port"] = int(found["port"])
        except ValueError:
            raise ConfigError(f"credentials_file {path}: port is not a number") from None
    return found


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
    # The fleet file these settings came from (its defaults under the hub's file): the hub's workflow
    # runs are that fleet's, restricted to the hub (invocation.py).
    fleet: Path | None = None

    @classmethod
    def from_mapping(cls, data: dict, path: Path | str = "config", fleet: Path | None = None) -> "Settings":
        validate(data, str(path))
        return cls(Path(path), data, fleet)

    def overridden(self, section: str, **values) -> "Settings":
        """The same settings with some keys of a section replaced (None: left as it is), validated."""
        changed = {k: v for k, v in values.items() if v is not None}
        if not changed:
            return self
        return Settings.from_mapping({**self.raw, section: {**self.section(section), **changed}}, self.path,
                                     self.fleet)

    def section(self, name: str) -> dict:
        return self.raw.get(name) or {}

    def get(self, section: str, key: str):
        """A setting of a section, or its schema default."""
        value = self.section(section).get(key)
        return default(section, key) if value is None else value

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
        """Credentials, resolved on first use (opening a connection), never while parsing."""
        d = dict(self.section("db"))
        if d.get("password"):
            check_private(self.path, "config file holding db.password")
        if d.get("credentials_file"):
            from_file = read_credentials_file(Path(d["credentials_file"]))
            for key, value in from_file.items():
                d.setdefault(key, value)
            validate({"site": self.site, "db": {k: v for k, v in d.items() if k != "password"}},
                     f"credentials_file {d['credentials_file']}")
        password = d.get("password", "")
        if d.get("password_file"):
            password = _read_private_file(Path(d["password_file"]), "password_file").rstrip("\r\n")
        hub_db = d.get("hub_db") or self.site.replace("-", "_").replace(".", "_")
        return DbSettings(
            user=d.get("user", default("db", "user")), hub_db=hub_db,
            metrics_db=d.get("metrics_db") or f"{hub_db}_metrics",
            prefix=d.get("prefix", default("db", "prefix")), socket=d.get("socket"),
            host=d.get("host", default("db", "host")), port=int(d.get("port", default("db", "port"))),
            _password=password)

    def _path(self, key: str, fallback: str | Path | None = None) -> Path:
        value = self.section("paths").get(key) or fallback or default("paths", key)
        return Path(value)

    @property
    def apache_daily(self) -> Path:
        return self._path("apache_daily")

    @property
    def apache_holding(self) -> Path:
        return self._path("apache_holding", self.apache_daily.with_name("daily.holding"))

    @property
    def apache_imported(self) -> Path:
        return self._path("apache_imported", self.apache_daily.with_name("imported"))

    @property
    def hub_daily(self) -> Path:
        return self._path("hub_daily")

    @property
    def hub_holding(self) -> Path:
        return self._path("hub_holding", self.hub_daily.with_name("daily.holding"))

    @property
    def hub_imported(self) -> Path:
        return self._path("hub_imported", self.hub_daily.with_name("imported"))

    @property
    def work_dir(self) -> Path:
        state = self.section("paths").get("state_dir")
        return self._path("work_dir", Path(state).parent if state else None)

    @property
    def state_dir(self) -> Path:
        return self._path("state_dir", self.work_dir / "state")

    @property
    def site_state(self) -> Path:
        """state/<site>: every marker of this hub lives below it."""
        return self.state_dir / self.site

    @property
    def tmp_dir(self) -> Path:
        """hzflow's own scratch space (bulk-load files), one per hub; emptied by cron under its lock."""
        return self.work_dir / "tmp" / self.site

    @property
    def malformed_samples(self) -> int:
        return int(self.get("import", "malformed_samples"))

    @property
    def archive_logs(self) -> bool:
        return bool(self.get("import", "archive"))
