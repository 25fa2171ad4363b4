"""The reference pipeline's hzmetrics.conf, read as an hzflow config.

An operator switching over can keep `-c /etc/hzmetrics/<hub>.conf` (or
$HZMETRICS_CONFIG) in cron lines and runbooks.  The INI's [hub], [db] and
[dns] sections mean what they mean to the reference; the log directories are
the reference's (Apache's by /etc/apache2 or /etc/httpd, the CMS's under
/var/log/hubzero).  An optional [hzflow] section sets any other hzflow key by
its dotted name (`paths.work_dir = /srv/hzflow/myhub`, `months.grace_days = 3`).

Snakemake reads YAML only, so the translation is written once per content
to `<work_dir>/hzmetrics-conf.yaml` and every workflow job is given that file.
It holds no secret: the password stays in the INI, named as the
db.credentials_file (which must be private to the user running hzflow).
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import yaml

from .errors import ConfigError

ENV_VAR = "HZMETRICS_CONFIG"
HOME_VAR = "HZMETRICS_HOME"
TRANSLATED_NAME = "hzmetrics-conf.yaml"


def default_path() -> Path | None:
    """The reference's own config file, when neither -c nor $HZMETRICS_CONFIG names one and it is there."""
    path = Path(os.environ.get(HOME_VAR, "/opt/hubzero/metrics")) / "conf" / "hzmetrics.conf"
    try:
        return path if path.is_file() else None
    except OSError:                     # a directory this user may not enter: as if absent
        return None


def is_reference_ini(path: Path) -> bool:
    """An INI file with a [hub] or [db] section (a YAML config never starts a line with '[')."""
    try:
        head = path.read_text(errors="replace")[:65536]
    except OSError:
        return False
    for line in head.splitlines():
        text = line.strip()
        if not text or text.startswith(("#", ";")):
            continue
        return text.lower() in ("[hub]", "[db]", "[dns]", "[hzflow]")
    return False


def _apache_root() -> Path:
    return Path("/var/log/apache2") if Path("/etc/apache2").is_dir() else Path("/var/log/httpd")


def _scalar(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_ini(text: str, source) -> configparser.ConfigParser:
    """An INI file read as its users expect: values taken literally ('%' is a percent sign).

    A parse error names the line by its number only: the line itself may
    hold a password (`password PwLEAK` without its '=').
    """
    ini = configparser.ConfigParser(interpolation=None)
    try:
        ini.read_string(text, source=str(source))
    except configparser.Error as e:
        lineno = getattr(e, "lineno", None) or next((n for n, _ in getattr(e, "errors", [])), None)
        what = {"MissingSectionHeaderError": "a line before the first [section] header",
                "DuplicateOptionError": f"a key given twice ({getattr(e, 'option', '?')})",
                "DuplicateSectionError": f"a section given twice ([{getattr(e, 'section', '?')}])"}.get(
            type(e).__name__, "a line that is neither `key = value` nor a [section] header")
        raise ConfigError(f"{source}: not valid INI: {what}{f' at line {lineno}' if lineno else ''} "
                          f"(the line is not shown: it may hold a secret)") from None
    return ini


def translate(path: Path) -> dict:
    """The hzflow config mapping an hzmetrics.conf stands for."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read ({type(e).__name__})") from None
    ini = parse_ini(text, path)
    hub = dict(ini["hub"]) if ini.has_section("hub") else {}
    if not hub.get("site", "").strip():
        raise ConfigError(f"{path}: [hub] site is required (the hub's name, as in <site>-access.log)")
    site = hub["site"].strip()
    apache, cms = _apache_root(), Path("/var/log/hubzero")
    data: dict = {
        "site": site,
        "db": {"credentials_file": str(path)},
        "paths": {"apache_daily": str(apache / "daily"), "hub_daily": str(cms / "daily"),
                  "work_dir": f"/var/lib/hzflow/{site}"},
    }
    if hub.get("hub_dir", "").strip():
        data["hub_dir"] = hub["hub_dir"].strip()
    if ini.has_section("dns"):
        dns, section = {}, ini["dns"]
        nameserver = section.get("nameserver", "").strip()
        if nameserver and nameserver.lower() != "system":
            dns["nameservers"] = [n.strip() for n in nameserver.replace(",", " ").split() if n.strip()]
        for key, kind in (("concurrency", int), ("timeout", float)):
            if section.get(key, "").strip():
                try:
                    dns[key] = kind(section[key])
                except ValueError:
                    raise ConfigError(f"{path}: [dns] {key} is not a number") from None
        if dns:
            data["dns"] = dns
    if ini.has_section("hzflow"):
        for dotted, text in ini["hzflow"].items():
            *parents, leaf = dotted.split(".")
            node = data
            for key in parents:
                node = node.setdefault(key, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"{path}: [hzflow] {dotted}: {key} is not a section")
            node[leaf] = _scalar(text)
    return data


def translated_file(path: Path) -> Path:
    """The YAML Snakemake and every job read for this INI: rewritten only when its content changes."""
    data = translate(path)
    work = Path(data.get("paths", {}).get("work_dir") or f"/var/lib/hzflow/{data['site']}")
    target = work / TRANSLATED_NAME
    text = (f"# Written by hzflow from {path}; edit that file, not this one.\n"
            + yaml.safe_dump(data, sort_keys=True))
    try:
        if not target.is_file() or target.read_text() != text:
            work.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_text(text)
            partial.chmod(0o600)
            partial.replace(target)
    except OSError as e:
        raise ConfigError(f"{path}: cannot write its hzflow translation {target} ({e.strerror}); "
                          f"set paths.work_dir in an [hzflow] section to a directory this user owns") from None
    return target
