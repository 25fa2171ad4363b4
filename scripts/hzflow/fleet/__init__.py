"""A fleet file: the hubs one team runs together, and each hub's settings as the fleet sees them.

A hub of a fleet is its own config file, laid over the fleet's `defaults`
(its own keys win), with the fleet's shared PTR cache unless it names one.
A hub whose file is missing or wrong is a problem of that hub alone: the
others are loaded, and `problems` says what is wrong with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import jsonschema
import yaml

from .. import config as cfgmod
from ..errors import ConfigError

ENV_VAR = "HZFLOW_FLEET"
SCHEMA_FILE = cfgmod.WORKFLOW_ROOT / "config" / "fleet.schema.yaml"
LOCK = ".hzflow-fleet.lock"


@cache
def schema() -> dict:
    return yaml.safe_load(SCHEMA_FILE.read_text())


def default(key: str):
    return schema()["properties"][key].get("default")


def is_fleet(data: dict) -> bool:
    """Whether a config mapping is a fleet file (it lists hubs) rather than one hub's config."""
    return isinstance(data, dict) and "hubs" in data and "site" not in data


def laid_over(base: dict, own: dict) -> dict:
    """own's keys over base's, mapping by mapping."""
    merged = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = laid_over(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_path(arg: str | os.PathLike | None) -> Path:
    chosen = arg or os.environ.get(ENV_VAR)
    if not chosen:
        raise ConfigError(f"no fleet file: pass --fleet FILE or set {ENV_VAR}")
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise ConfigError(f"fleet file {path} does not exist")
    return path.resolve()


@dataclass
class Fleet:
    path: Path
    raw: dict
    _loaded: dict = field(default_factory=dict)       # hub name -> Settings or the ConfigError it raised

    @classmethod
    def load(cls, arg: str | os.PathLike | None = None) -> "Fleet":
        path = resolve_path(arg)
        return cls.from_mapping(cfgmod.read_yaml(path), path)

    @classmethod
    def from_mapping(cls, data: dict, path: Path) -> "Fleet":
        errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(data),
                        key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            raise ConfigError(f"{path}: " + "; ".join(_fleet_message(e) for e in errors))
        if cfgmod._holds_secret(data.get("defaults") or {}):
            cfgmod.check_private(path, "fleet file holding a password in defaults")
        return cls(Path(path), data)

    @property
    def names(self) -> list[str]:
        return list(self.raw["hubs"])

    def hub_file(self, name: str) -> Path:
        return (self.path.parent / os.path.expanduser(self.raw["hubs"][name])).resolve()

    def get(self, key: str):
        value = self.raw.get(key)
        return default(key) if value is None else value

    def _member(self, name: str) -> cfgmod.Settings:
        hub_file = self.hub_file(name)
        own = cfgmod.read_yaml(cfgmod.resolve_path(hub_file))
        data = laid_over(self.raw.get("defaults") or {}, own)
        if self.get("dns_cache") and not (own.get("dns") or {}).get("shared_cache"):
            data = laid_over(data, {"dns": {"shared_cache": self.get("dns_cache")}})
        data.setdefault("site", name)
        settings = cfgmod.Settings.from_mapping(data, hub_file, fleet=self.path)
        if settings.site != name:
            raise ConfigError(f"{hub_file}: its site is {settings.site!r}, but the fleet names it {name!r}: "
                              f"name the hub by its site in {self.path}")
        return settings

    def _load(self, name: str):
        if name not in self._loaded:
            try:
                self._loaded[name] = self._member(name)
            except ConfigError as e:
                self._loaded[name] = e
        return self._loaded[name]

    def hub(self, name: str) -> cfgmod.Settings:
        """One hub's settings (only its own file is read), or the ConfigError that keeps it from running."""
        if name not in self.raw["hubs"]:
            raise ConfigError(f"{self.path} has no hub {name!r} (it has {', '.join(self.names)})")
        loaded = self._load(name)
        if isinstance(loaded, ConfigError):
            raise loaded
        return loaded

    @cached_property
    def settings(self) -> dict[str, cfgmod.Settings]:
        """Every hub whose config loads, by name, in the fleet file's order."""
        return {n: s for n in self.names if not isinstance(s := self._load(n), ConfigError)}

    @cached_property
    def problems(self) -> dict[str, str]:
        """Every hub whose config does not load, and why."""
        return {n: str(e) for n in self.names if isinstance(e := self._load(n), ConfigError)}

    @property
    def work_dir(self) -> Path:
        if self.raw.get("work_dir"):
            return Path(self.raw["work_dir"]).expanduser()
        shared = {s.work_dir for s in self.settings.values()}
        if len(shared) == 1:
            return shared.pop()
        first = next((self.settings[n] for n in self.names if n in self.settings), None)
        if first is None:
            raise ConfigError(f"{self.path}: no hub's config loads, so there is no work directory for "
                              f"the fleet: set work_dir in the fleet file")
        return first.work_dir / f"fleet-{self.path.stem}"

    @property
    def lock_path(self) -> Path:
        return self.work_dir / LOCK


def _fleet_message(err) -> str:
    where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    if err.validator == "additionalProperties":
        unexpected = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return "unknown key " + ", ".join(unexpected)
    if err.absolute_path and err.absolute_path[0] == "defaults":
        return f"{where}: {err.validator} (value not shown: defaults may hold credentials)"
    return f"{where}: {err.message}"


def is_fleet_file(path: str | os.PathLike) -> bool:
    try:
        return is_fleet(cfgmod.read_yaml(Path(path)))
    except ConfigError:
        return False
