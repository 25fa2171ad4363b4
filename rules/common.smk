"""Config validation, what the run covers (months, pending days), marker paths and input functions.

Order edges: a month stage waits for the previous month's same stage with
ancient(): if both run, the older month goes first (session ids and the
long windows of tool statistics follow date order), but rebuilding an old
month does not by itself rebuild later months' enrichment or sessions.
Summaries depend on the previous month's for real: their long windows
include it.  A stage that has never been built also waits for the import
of every pending day, so one run over a set of logs imports everything
before it analyses anything, as the stage commands in date order would.
"""

import os
import sys
from pathlib import Path

from snakemake.utils import validate

from hzflow import config as hzconfig
from hzflow import coverage, markers
from hzflow import months as hzmonths

validate(config, schema=str(hzconfig.SCHEMA_FILE))

CONFIG_FILE = os.path.abspath(
    (workflow.overwrite_configfiles or workflow.configfiles)[-1]
)
SETTINGS = hzconfig.Settings.from_mapping(config, CONFIG_FILE)
SITE = SETTINGS.site
_hzflow_script = Path(sys.executable).with_name("hzflow")
HZFLOW = str(_hzflow_script) if _hzflow_script.exists() else "hzflow"
COVERAGE = coverage.Coverage(
    SETTINGS, warn=lambda msg: print(f"hzflow: {msg}", file=sys.stderr)
)
MONTHS = COVERAGE.months


wildcard_constraints:
    month=r"\d{4}-\d{2}",
    key=r"[0-9a-f]{12}",
    attempt=r"\d+",


def marker(stage, month):
    return str(markers.marker(SETTINGS, stage, month))


def batch_marker():
    return str(markers.batch_marker(SETTINGS, COVERAGE.batch_key))


def rule_log(rule_name, unit):
    return f"logs/{SITE}/{rule_name}/{unit}.log"


def rule_benchmark(rule_name, unit):
    return f"benchmarks/{SITE}/{rule_name}/{unit}.tsv"


def _missing(*paths):
    return not all(os.path.exists(p) for p in paths)


def _after_imports(*outputs):
    """The pending import, for a stage that has never been built (it runs anyway)."""
    return [batch_marker()] if COVERAGE.pending and _missing(*outputs) else []


def _previous(stage, month, *, ordering):
    """The previous month's marker of the same stage, if that month builds the stage."""
    before = hzmonths.preceding(month)
    if before not in MONTHS or stage not in COVERAGE.stages(before):
        return []
    return [ancient(marker(stage, before))] if ordering else [marker(stage, before)]


def resolve_inputs(wildcards):
    """The month's day markers, the pending import when it touches the month, days of other
    months that brought rows into it, the previous month (order only), a due DNS retry.
    """
    month = wildcards.month
    inputs = [
        str(markers.day_marker(SETTINGS, d)) for d in COVERAGE.recorded_days_of(month)
    ]
    inputs += [str(markers.day_marker(SETTINGS, d)) for d in COVERAGE.late_days(month)]
    if COVERAGE.pending and (
        COVERAGE.has_pending(month)
        or _missing(marker("imported", month), marker("dns-resolved", month))
    ):
        inputs.append(batch_marker())
    inputs += _previous("dns-resolved", month, ordering=True)
    retry = dns_retry_due(month)
    if retry is not None:
        inputs.append(str(markers.dns_retry_note(SETTINGS, month, retry)))
    return inputs


def sessionize_inputs(wildcards):
    month = wildcards.month
    return (
        [marker("dns-resolved", month)]
        + _previous("sessionized", month, ordering=True)
        + _after_imports(marker("sessionized", month))
    )


def summary_inputs(wildcards):
    month = wildcards.month
    return (
        [marker("sessionized", month)]
        + _previous("summarized", month, ordering=False)
        + _after_imports(marker("summarized", month))
    )


def dns_retry_due(month):
    """The attempt number of a retry of the month's unanswered lookups that is due, or None."""
    record = markers.read(marker("dns-resolved", month))
    due = (record or {}).get("dns_retry_after")
    if not due or due > hzmonths.now_iso():
        return None
    return record.get("dns_attempt", 0) + 1


def all_targets():
    """Every stage marker each month builds now, and the pending import (new days are found
    here: with mtime the only rerun trigger, Snakemake looks for missing outputs of targets only).
    """
    targets = [marker(s, m) for m in MONTHS for s in COVERAGE.stages(m)]
    return targets + ([batch_marker()] if COVERAGE.pending else [])
