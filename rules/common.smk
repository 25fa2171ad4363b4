"""Config validation, the months a run covers, source discovery and marker paths."""

import os
import sys
from pathlib import Path

from snakemake.utils import validate

from hzflow import config as hzconfig
from hzflow import layout, markers, sources


validate(config, schema=str(hzconfig.SCHEMA_FILE))

CONFIG_FILE = os.path.abspath(
    (workflow.overwrite_configfiles or workflow.configfiles)[-1]
)
SETTINGS = hzconfig.Settings.from_mapping(config, CONFIG_FILE)
SITE = SETTINGS.site
_hzflow_script = Path(sys.executable).with_name("hzflow")
HZFLOW = str(_hzflow_script) if _hzflow_script.exists() else "hzflow"

SOURCES = sources.discover_all(SETTINGS, warn=lambda msg: print(f"hzflow: {msg}", file=sys.stderr))
MONTHS = layout.target_months(SETTINGS, list(SOURCES))


wildcard_constraints:
    day=r"\d{4}-\d{2}-\d{2}",
    month=r"\d{4}-\d{2}",
    key=r"[0-9a-f]{10}",


def marker(stage, month):
    return str(layout.marker(SETTINGS, stage, month))


def day_marker(day):
    return str(layout.day_marker(SETTINGS, day))


def rule_log(rule_name, unit):
    return f"logs/{SITE}/{rule_name}/{unit}.log"


def rule_benchmark(rule_name, unit):
    return f"benchmarks/{SITE}/{rule_name}/{unit}.tsv"


def days_with_logs(month):
    return [d for d in SOURCES if d.startswith(month)]


def _recorded_sources(day):
    """Canonical names of the files the day marker says were imported, or None."""
    record = markers.read(day_marker(day))
    if record is None:
        return None
    return {sources.canonical_name(f["file"]) for f in record.get("files", {}).values()}


def _days_with_new_sources():
    """day -> key of the logs an imported day gained since (e.g. a late auth log)."""
    new = {}
    for day, found in SOURCES.items():
        recorded = _recorded_sources(day)
        if recorded is not None:
            unseen = {s.name for s in found.values()} - recorded
            if unseen:
                new[day] = layout.new_sources_key(unseen)
    return new


TARGET_DAYS = [d for d in SOURCES if d[:7] in set(MONTHS)]
NEW_SOURCE_DAYS = _days_with_new_sources()


def new_sources_note(day, key):
    return str(layout.new_sources_note(SETTINGS, day, key))


def day_inputs(wildcards):
    """A day's logs, ancient() so that archiving them never triggers a rerun.

    A day that gained a log depends on a note file as well, which re-imports it.
    """
    found = SOURCES.get(wildcards.day, {})
    inputs = {"logs": [ancient(str(s.path)) for s in found.values()]}
    if wildcards.day in NEW_SOURCE_DAYS:
        inputs["new_sources"] = new_sources_note(wildcards.day, NEW_SOURCE_DAYS[wildcards.day])
    return inputs


def summary_inputs(wildcards):
    """The month's sessions, and the previous month's summary when that month is built too."""
    inputs = [marker("sessionized", wildcards.month)]
    previous = layout.previous_month(wildcards.month)
    if previous in MONTHS:
        inputs.append(marker("summarized", previous))
    return inputs


def month_day_markers(wildcards):
    return [day_marker(d) for d in days_with_logs(wildcards.month)]


def all_targets():
    """Every month's markers, and every day marker and new-source note as targets too.

    With rerun-triggers [mtime], Snakemake checks missing outputs only of
    targets; listing the days here is what makes a newly arrived day (and
    through it its month) run.
    """
    return ([marker(stage, month) for month in MONTHS for stage in layout.month_stages(SETTINGS)]
            + [day_marker(d) for d in TARGET_DAYS]
            + [new_sources_note(d, k) for d, k in sorted(NEW_SOURCE_DAYS.items())])
