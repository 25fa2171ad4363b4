"""The operator's config, the working directory, what the run covers, marker paths and input functions.

The config is the operator's own: `--configfile FILE`, or $HZFLOW_CONFIG when
none is given; a bare `snakemake` stops at once saying so (it never plans
against a sample config).  Its paths.work_dir is Snakemake's working
directory, so every path below is relative to it (a month's target is
state/<site>/<stage>/<month>.json) and nothing is written where snakemake
was started.  A real run holds the hub's lock (onstart), the same one
`hzflow cron`, `rebuild`, `adopt` and `migrate --apply` take.

Edges between months: tool statistics and summaries depend on the previous
month's for real (registry: chained; their long windows include it:
rebuilding an old month redoes them for every later month, oldest first).
Enrichment and sessions of a month need nothing of other months; their jobs
still run oldest month first (`month_priority`), as the stage commands in
date order would, so session ids follow date order, and a month that
cannot be built holds back no other month's.  A stage that has never been
built waits for the import of every pending day (the summaries read every
login), so one run over a set of logs imports everything before it
analyses anything.
"""

import os
import sys
import time

from hzflow import config as hzconfig
from hzflow import coverage, locks, markers, registry
from hzflow import months as hzmonths

if not config:
    if os.environ.get(hzconfig.ENV_VAR):

        configfile: os.environ[hzconfig.ENV_VAR]

    else:
        sys.stderr.write(
            f"hzflow: no config: run snakemake with --configfile FILE (your hub's hzflow config), "
            f"or set {hzconfig.ENV_VAR}=FILE\n"
        )
        sys.exit(2)


# The file every job is given (the last config file Snakemake read).
CONFIG_FILE = os.path.abspath(workflow.configfiles[-1])
# hzflow's own validation: it names the key that is wrong and never prints a secret's value
# (snakemake.utils.validate would print the whole config, password included).
SETTINGS = hzconfig.Settings.from_mapping(config, CONFIG_FILE)
SITE = SETTINGS.site
WORK_DIR = str(SETTINGS.work_dir)
os.makedirs(WORK_DIR, exist_ok=True)


workdir: WORK_DIR


if os.path.realpath(os.getcwd()) != os.path.realpath(WORK_DIR):
    sys.stderr.write(
        f"hzflow: snakemake runs in {os.getcwd()}, but the config's paths.work_dir is {WORK_DIR}: "
        f"drop --directory (the config sets the working directory)\n"
    )
    sys.exit(2)
# Every file this run writes is the service user's alone, and every tool's cache lives under the work directory.
os.umask(markers.UMASK)
os.environ.update(hzconfig.config_homes(SETTINGS))
# Jobs run `python3 -m hzflow.cli` from PATH, at whose front the interpreter running Snakemake is put here:
# without --sdm conda they run with Snakemake's own interpreter (no #! line or cron PATH to go wrong); with
# it, Snakemake activates envs/hzflow.yaml before each job, and that environment's python3 comes first.
hzconfig.put_first_on_path(os.path.dirname(sys.executable))
HZFLOW = "python3 -m hzflow.cli"
COVERAGE = coverage.Coverage(
    SETTINGS, warn=lambda msg: print(f"hzflow: {msg}", file=sys.stderr)
)
MONTHS = COVERAGE.months


wildcard_constraints:
    month=r"\d{4}-\d{2}",
    key=r"[0-9a-f]{12}",
    attempt=r"\d+",


def marker(stage, month):
    """A month stage's marker, relative to the working directory: state/<site>/<stage>/<month>.json."""
    return markers.target(SETTINGS, markers.marker(SETTINGS, stage, month))


def batch_marker(key=None):
    return markers.target(
        SETTINGS, markers.batch_marker(SETTINGS, key or COVERAGE.batch_key)
    )


def dns_retry_note(month, attempt):
    return markers.target(SETTINGS, markers.dns_retry_note(SETTINGS, month, attempt))


def hold_hub_lock():
    """A real run holds the hub's lock for its whole length; a run that cannot have it stops here."""
    try:
        workflow.globals["HUB_LOCK"] = locks.for_workflow(SETTINGS)
    except locks.Busy as busy:
        sys.stderr.write(f"hzflow: {busy}\n")
        sys.exit(7)


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
    inputs = [
        markers.target(SETTINGS, markers.day_marker(SETTINGS, d))
        for d in COVERAGE.newest(days)
    ]
    if COVERAGE.pending and (
        COVERAGE.has_pending(month)
        or _missing(marker(registry.IMPORTED, month), marker(registry.RESOLVED, month))
    ):
        inputs.append(batch_marker())
    retry = dns_retry_due(month)
    if retry is not None:
        inputs.append(dns_retry_note(month, retry))
    return inputs


def month_inputs(stage):
    """The input function of a month stage: the stage it follows, the previous month's when
    chained (registry), and the pending import when it was never built."""
    spec = registry.BY_NAME[stage]

    def inputs(wildcards):
        month = wildcards.month
        own = [marker(spec.after, month)] if spec.after else []
        previous = _previous(stage, month) if spec.chained else []
        waits = _after_imports(marker(stage, month)) if spec.after else []
        return own + previous + waits

    return inputs


def dns_retry_due(month):
    """The attempt number of a retry of the month's unanswered lookups that is due, or None."""
    record = markers.read(markers.marker(SETTINGS, registry.RESOLVED, month))
    due = (record or {}).get("dns_retry_after")
    if not due or due > hzmonths.now_iso():
        return None
    return record.get("dns_attempt", 0) + 1


def report_inputs(wildcards):
    """Every summary built now: the report reads them all."""
    return [
        marker(registry.SUMMARY, m)
        for m in MONTHS
        if registry.SUMMARY in COVERAGE.stages(m)
    ]


def all_targets():
    """Every stage marker each month builds now, the pending import and the due DNS retries.

    New work is found through these: with mtime the only rerun trigger,
    Snakemake looks for missing outputs of targets only, so the import batch
    and a retry note have to be targets to be noticed.
    """
    targets = [marker(s, m) for m in MONTHS for s in COVERAGE.stages(m)]
    retries = [(m, dns_retry_due(m)) for m in MONTHS]
    targets += [dns_retry_note(m, n) for m, n in retries if n is not None]
    if SETTINGS.get("report", "enabled") and report_inputs(None):
        targets.append(f"report/{SITE}/index.html")
    if SETTINGS.get("audit", "enabled"):
        targets += [
            marker(registry.AUDIT, m)
            for m in MONTHS
            if registry.SUMMARY in COVERAGE.stages(m)
        ]
    return targets + ([batch_marker()] if COVERAGE.pending else [])
