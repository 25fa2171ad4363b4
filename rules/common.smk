"""Config validation, what the run covers (months, pending days), marker paths and input functions.

Edges between months: tool statistics and summaries depend on the previous
month's for real (their long windows include it: rebuilding an old month
redoes them for every later month, oldest first).  Enrichment and sessions
of a month need nothing of other months; their jobs still run oldest month
first (`month_priority`), as the stage commands in date order would, so
session ids follow date order, and a month that cannot be built holds back
no other month's.  A stage that has never been built waits for the import
of every pending day (the summaries read every login), so one run over a
set of logs imports everything before it analyses anything.
"""

import os
import shlex
import sys
import time

from hzflow import config as hzconfig
from hzflow import coverage, markers
from hzflow import months as hzmonths

CONFIG_FILE = os.path.abspath(
    (workflow.overwrite_configfiles or workflow.configfiles)[-1]
)
# hzflow's own validation: it names the key that is wrong and never prints a secret's value
# (snakemake.utils.validate would print the whole config, password included).
SETTINGS = hzconfig.Settings.from_mapping(config, CONFIG_FILE)
# Every file this run writes is the service user's alone, and every tool's cache lives under the work directory.
os.umask(markers.UMASK)
os.environ.update(hzconfig.config_homes(SETTINGS))
SITE = SETTINGS.site
# The jobs run hzflow with the interpreter that runs Snakemake: no PATH or #! line to go wrong.
HZFLOW = f"{shlex.quote(sys.executable)} -m hzflow.cli"
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


# Each run's job logs are kept: the run's start is in their names (cron prunes them after logs.keep_days).
RUN_STAMP = time.strftime("%Y%m%d-%H%M%S")


def rule_log(rule_name, unit):
    return f"logs/{SITE}/{rule_name}/{unit}.{RUN_STAMP}.log"


def rule_benchmark(rule_name, unit):
    return f"benchmarks/{SITE}/{rule_name}/{unit}.tsv"


def _missing(*paths):
    return not all(os.path.exists(p) for p in paths)


def _after_imports(*outputs):
    """The pending import, for a stage that has never been built (it runs anyway)."""
    return [batch_marker()] if COVERAGE.pending and _missing(*outputs) else []


def _previous(stage, month):
    """The previous month's marker of the same stage, if that month builds the stage."""
    before = hzmonths.preceding(month)
    if before not in MONTHS or stage not in COVERAGE.stages(before):
        return []
    return [marker(stage, before)]


def month_priority(wildcards):
    """Older months first among the jobs ready to run (the import comes before all)."""
    return 100_000 - int(wildcards.month[:4]) * 12 - int(wildcards.month[5:7])


def resolve_inputs(wildcards):
    """The month's day markers, the pending import when it touches the month, days of other
    months that brought rows into it, the previous month (order only), a due DNS retry.
    """
    month = wildcards.month
    days = COVERAGE.recorded_days_of(month) + COVERAGE.late_days(month)
    inputs = [str(markers.day_marker(SETTINGS, d)) for d in COVERAGE.newest(days)]
    if COVERAGE.pending and (
        COVERAGE.has_pending(month)
        or _missing(marker("imported", month), marker("dns-resolved", month))
    ):
        inputs.append(batch_marker())
    retry = dns_retry_due(month)
    if retry is not None:
        inputs.append(str(markers.dns_retry_note(SETTINGS, month, retry)))
    return inputs


def tool_inputs(wildcards):
    return _previous("tool-stats", wildcards.month)


def sessionize_inputs(wildcards):
    month = wildcards.month
    return [marker("dns-resolved", month)] + _after_imports(
        marker("sessionized", month)
    )


def summary_inputs(wildcards):
    month = wildcards.month
    return (
        [marker("sessionized", month)]
        + _previous("summarized", month)
        + _after_imports(marker("summarized", month))
    )


def dns_retry_due(month):
    """The attempt number of a retry of the month's unanswered lookups that is due, or None."""
    record = markers.read(marker("dns-resolved", month))
    due = (record or {}).get("dns_retry_after")
    if not due or due > hzmonths.now_iso():
        return None
    return record.get("dns_attempt", 0) + 1


def report_inputs(wildcards):
    """Every summary built now: the report reads them all."""
    return [
        marker("summarized", m) for m in MONTHS if "summarized" in COVERAGE.stages(m)
    ]


def all_targets():
    """Every stage marker each month builds now, the pending import and the due DNS retries.

    New work is found through these: with mtime the only rerun trigger,
    Snakemake looks for missing outputs of targets only, so the import batch
    and a retry note have to be targets to be noticed.
    """
    targets = [marker(s, m) for m in MONTHS for s in COVERAGE.stages(m)]
    retries = [(m, dns_retry_due(m)) for m in MONTHS]
    targets += [
        str(markers.dns_retry_note(SETTINGS, m, n)) for m, n in retries if n is not None
    ]
    if SETTINGS.get("report", "enabled") and report_inputs(None):
        targets.append(f"report/{SITE}/index.html")
    if SETTINGS.get("audit", "enabled"):
        targets += [
            marker("audited", m) for m in MONTHS if "summarized" in COVERAGE.stages(m)
        ]
    return targets + ([batch_marker()] if COVERAGE.pending else [])
