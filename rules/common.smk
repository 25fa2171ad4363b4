"""The operator's config, the working directory, what the run covers, marker paths and input functions.

The config is the operator's own: `--configfile FILE`, or $HZFLOW_CONFIG when
none is given; a bare `snakemake` stops at once saying so (it never plans
against a sample config).  It is one hub's config, or a fleet file listing
hubs (hzflow.fleet): either way the hub is a wildcard of every rule.  The
work_dir (the hub's, or the fleet's) is Snakemake's working directory, so
every path below is relative to it (a month's target is
state/<hub>/<stage>/<month>.json) and nothing is written where snakemake
was started.  A real run holds each hub's lock (onstart), the same one
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
import re
import sys
import time

from hzflow import config as hzconfig
from hzflow import locks, markers, registry
from hzflow import months as hzmonths
from hzflow import fleet as hzfleet
from hzflow.fleet import members

if not config:
    if os.environ.get(hzconfig.ENV_VAR):

        configfile: os.environ[hzconfig.ENV_VAR]

    elif os.environ.get(hzfleet.ENV_VAR):

        configfile: os.environ[hzfleet.ENV_VAR]

    else:
        sys.stderr.write(
            f"hzflow: no config: run snakemake with --configfile FILE (your hub's hzflow config, or a "
            f"fleet file), or set {hzconfig.ENV_VAR}=FILE (or {hzfleet.ENV_VAR}=FILE)\n"
        )
        sys.exit(2)


# The file every job is given (the last config file Snakemake read): one hub's config, or a fleet file.
CONFIG_FILE = os.path.abspath(workflow.configfiles[-1])
# hzflow's own validation: it names the key that is wrong and never prints a secret's value
# (snakemake.utils.validate would print the whole config, password included).  A fleet's hub
# whose config is wrong is left out with its problem (its check_hub job fails); the others run.
try:
    RUN = members.RunHubs(
        config, CONFIG_FILE, warn=lambda msg: print(f"hzflow: {msg}", file=sys.stderr)
    )
except hzconfig.ConfigError as error:
    sys.stderr.write(f"hzflow: {error}\n")
    sys.exit(2)
HUBS = RUN.members
WORK_DIR = str(RUN.work_dir)
os.makedirs(WORK_DIR, exist_ok=True)


workdir: WORK_DIR


if os.path.realpath(os.getcwd()) != os.path.realpath(WORK_DIR):
    sys.stderr.write(
        f"hzflow: snakemake runs in {os.getcwd()}, but the config's work_dir is {WORK_DIR}: "
        f"drop --directory (the config sets the working directory)\n"
    )
    sys.exit(2)
# Every file this run writes is the service user's alone, and every tool's cache lives under the work directory.
os.umask(markers.UMASK)
os.environ.update(hzconfig.config_homes(RUN))
# Jobs run `python3 -m hzflow.cli` from PATH, at whose front the interpreter running Snakemake is put here:
# without --sdm conda they run with Snakemake's own interpreter (no #! line or cron PATH to go wrong); with
# it, Snakemake activates envs/hzflow.yaml before each job, and that environment's python3 comes first.
hzconfig.put_first_on_path(os.path.dirname(sys.executable))
HZFLOW = "python3 -m hzflow.cli"
# Heavy jobs: one at a time per hub, db_server_jobs at a time per database server (--resources overrides).
WRITER = RUN.writer_resources()
for _name, _cap in RUN.limits().items():
    if _name not in workflow.global_resources:
        workflow.register_resource(_name, _cap)


wildcard_constraints:
    hub="|".join(map(re.escape, [*HUBS, *RUN.problems])) or "(?!)",
    month=r"\d{4}-\d{2}",
    key=r"[0-9a-f]{12}",
    attempt=r"\d+",


def hub_of(wildcards):
    return HUBS[wildcards.hub]


def hub_args(wildcards):
    """How the job's hzflow command names its hub's config."""
    return HUBS[wildcards.hub].config_args


def marker(stage, month, hub="{hub}"):
    """A month stage's marker, relative to the working directory: state/<hub>/<stage>/<month>.json."""
    return f"state/{hub}/{stage}/{month}.json"


def batch_marker(key="{key}", hub="{hub}"):
    return f"state/{hub}/imported/batch/{key}.json"


def day_marker(day, hub):
    return f"state/{hub}/imported/day/{day}.json"


def dns_retry_note(month, attempt, hub="{hub}"):
    return f"state/{hub}/{registry.RESOLVED}/{month}.retry-{attempt}.json"


def hold_hub_lock():
    """A real run holds each of its hubs' locks for its whole length; a run that cannot have one stops here."""
    held = []
    try:
        for name in sorted(HUBS):
            held.append(locks.for_workflow(HUBS[name].settings))
            members.make_hub_dirs(HUBS[name].settings)
    except locks.Busy as busy:
        sys.stderr.write(f"hzflow: {busy}\n")
        sys.exit(7)
    workflow.globals["HUB_LOCKS"] = held


# Each run's job logs are kept: the run's start is in their names (cron prunes them after logs.keep_days).
# Jobs on a cluster parse the workflow again: they are handed the run's stamp in the environment.
RUN_STAMP = os.environ.setdefault("HZFLOW_RUN_STAMP", time.strftime("%Y%m%d-%H%M%S"))


def rule_log(rule_name, unit):
    return f"logs/{{hub}}/{rule_name}/{unit}.{RUN_STAMP}.log"


def rule_benchmark(rule_name, unit):
    return f"benchmarks/{{hub}}/{rule_name}/{unit}.tsv"


def _missing(*paths):
    return not all(os.path.exists(p) for p in paths)


def _after_imports(hub, *outputs):
    """The pending import, for a stage that has never been built (it runs anyway)."""
    cov = HUBS[hub].coverage
    return (
        [batch_marker(cov.batch_key, hub)] if cov.pending and _missing(*outputs) else []
    )


def _previous(hub, stage, month):
    """The previous month's marker of the same stage, if that month builds the stage."""
    cov = HUBS[hub].coverage
    before = hzmonths.preceding(month)
    if before not in cov.months or stage not in cov.stages(before):
        return []
    return [marker(stage, before, hub)]


def month_priority(wildcards):
    """Older months first among the jobs ready to run (the import comes before all)."""
    return 100_000 - int(wildcards.month[:4]) * 12 - int(wildcards.month[5:7])


def resolve_inputs(wildcards):
    """The month's day markers, the pending import when it touches the month, days of other
    months that brought rows into it, the previous month (order only), a due DNS retry.
    """
    hub, month = wildcards.hub, wildcards.month
    cov = HUBS[hub].coverage
    days = cov.recorded_days_of(month) + cov.late_days(month)
    inputs = [day_marker(d, hub) for d in cov.newest(days)]
    if cov.pending and (
        cov.has_pending(month)
        or _missing(
            marker(registry.IMPORTED, month, hub), marker(registry.RESOLVED, month, hub)
        )
    ):
        inputs.append(batch_marker(cov.batch_key, hub))
    retry = dns_retry_due(hub, month)
    if retry is not None:
        inputs.append(dns_retry_note(month, retry, hub))
    return inputs


def month_inputs(stage):
    """The input function of a month stage: the stage it follows, the previous month's when
    chained (registry), and the pending import when it was never built."""
    spec = registry.BY_NAME[stage]

    def inputs(wildcards):
        hub, month = wildcards.hub, wildcards.month
        own = [marker(spec.after, month, hub)] if spec.after else []
        previous = _previous(hub, stage, month) if spec.chained else []
        waits = _after_imports(hub, marker(stage, month, hub)) if spec.after else []
        return own + previous + waits

    return inputs


def import_days(wildcards):
    """The days a hub's import batch takes, oldest first."""
    return " ".join(u.day for u in HUBS[wildcards.hub].coverage.pending)


def dns_retry_due(hub, month):
    """The attempt number of a retry of the month's unanswered lookups that is due, or None."""
    settings = HUBS[hub].settings
    record = markers.read(markers.marker(settings, registry.RESOLVED, month))
    due = (record or {}).get("dns_retry_after")
    if not due or due > hzmonths.now_iso():
        return None
    return record.get("dns_attempt", 0) + 1


def _summarized(hub):
    cov = HUBS[hub].coverage
    return [m for m in cov.months if registry.SUMMARY in cov.stages(m)]


def report_inputs(wildcards):
    """Every summary built now: the report reads them all."""
    return [
        marker(registry.SUMMARY, m, wildcards.hub) for m in _summarized(wildcards.hub)
    ]


def hub_targets(hub):
    """Every stage marker each month of a hub builds now, the pending import and the due DNS retries.

    New work is found through these: with mtime the only rerun trigger,
    Snakemake looks for missing outputs of targets only, so the import batch
    and a retry note have to be targets to be noticed.
    """
    member = HUBS[hub]
    cov = member.coverage
    targets = [marker(s, m, hub) for m in cov.months for s in cov.stages(m)]
    retries = [(m, dns_retry_due(hub, m)) for m in cov.months]
    targets += [dns_retry_note(m, n, hub) for m, n in retries if n is not None]
    if member.settings.get("report", "enabled") and _summarized(hub):
        targets.append(f"report/{hub}/index.html")
    if member.settings.get("audit", "enabled"):
        targets += [marker(registry.AUDIT, m, hub) for m in _summarized(hub)]
    return targets + ([batch_marker(cov.batch_key, hub)] if cov.pending else [])


def all_targets():
    """Every hub's targets; a fleet's hub whose config is wrong gets a check that fails, saying why."""
    targets = [t for hub in HUBS for t in hub_targets(hub)]
    return targets + [f"fleet/checked/{name}.json" for name in RUN.problems]
