"""What a run would build, read from Snakemake's machine-readable summary of the DAG.

`snakemake --detailed-summary` prints one tab-separated row per output file
of the workflow, under a header naming its columns (output_file, rule,
input-file(s), status, plan, …): with the operator's arguments (-R, -f,
--until, …) the rows whose plan is "update pending" are exactly what a run
would build.  hzflow reads the columns by their header names, never
Snakemake's human-readable `-n` listing, so a change of wording there
cannot change a plan.  The same summary, taken after a failed run, says
which jobs failed: those still pending whose inputs are all in place.
"""

from __future__ import annotations

import csv
import io
import subprocess
from dataclasses import dataclass, field
from pathlib import PurePath

from . import errors, months, registry
from .invocation import TARGET_OPTIONS, run_dir, service_env, snakemake_argv, translate

PENDING = "update pending"
# Snakemake's statuses, as a plan says them.
REASONS = {"missing": "not built yet", "ok": "after an input it follows, or forced",
           "updated input files": "newer input", "set of input files changed": "input set changed",
           "incomplete": "left incomplete by a killed run", "version changed": "rule changed",
           "rule implementation changed": "rule changed"}


@dataclass
class Job:
    rule: str
    unit: str
    reason: str
    outputs: list = field(default_factory=list)
    inputs: list = field(default_factory=list)


def unit_of(path: str) -> str:
    """The unit a workflow output stands for: a month, 'pending days' for an import batch, 'index'."""
    p = PurePath(path)
    if p.parent.name == "batch":
        return "pending days"
    stem = p.name.split(".")[0]
    return stem if months.is_month(stem) else p.stem


def summary_rows(text: str) -> list[dict]:
    """The rows of a --detailed-summary, by column name (lines before its header are Snakemake's notes)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("output_file\t")), None)
    if start is None:
        return []
    return list(csv.DictReader(io.StringIO("\n".join(lines[start:])), delimiter="\t", quoting=csv.QUOTE_NONE))


def pending_jobs(rows: list[dict], forced: set[str] = frozenset()) -> list[Job]:
    """The jobs a run would do (several outputs of one job, one job), with the reason for each."""
    jobs: dict[tuple[str, str], Job] = {}
    for row in rows:
        if row.get("plan") != PENDING:
            continue
        output, rule = row["output_file"], row["rule"]
        reason = "forced" if output in forced else REASONS.get(row.get("status", ""), row.get("status", ""))
        job = jobs.setdefault((rule, unit_of(output)), Job(rule, unit_of(output), reason))
        job.outputs.append(output)
        job.inputs += [i for i in (row.get("input-file(s)") or "").split(",") if i and i != "-"]
        if reason == "not built yet":
            job.reason = reason
    return list(jobs.values())


def summary(settings, extra: list[str]) -> tuple[int, str]:
    """(exit status, output) of `snakemake --detailed-summary` with the operator's arguments."""
    where = run_dir(settings)
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(snakemake_argv(settings, ["--detailed-summary", *translate(settings, extra)]),
                       capture_output=True, text=True, env=service_env(settings), cwd=where)
    return r.returncode, r.stdout + ("\n" + r.stderr if r.returncode else "")


def forced_targets(settings, extra: list[str]) -> set[str]:
    out, option = set(), None
    for arg in translate(settings, extra):
        if arg.startswith("-"):
            option = arg if arg in TARGET_OPTIONS | {"-f", "--force"} else None
        elif option in ("-R", "--forcerun", "-f", "--force"):
            out.add(arg)
    return out


def jobs_of(settings, extra: list[str]) -> list[Job]:
    code, text = summary(settings, extra)
    if code:
        raise errors.UsageError(f"snakemake could not plan the run: {text.strip().splitlines()[-1][:300]}")
    return pending_jobs(summary_rows(text), forced_targets(settings, extra))


def failed_jobs(settings) -> list[Job]:
    """After a failed run: the jobs still pending whose inputs all exist (the others wait on them)."""
    code, text = summary(settings, [])
    if code:
        return []
    return failed_among(pending_jobs(summary_rows(text)))


def failed_among(jobs: list[Job]) -> list[Job]:
    """Of the jobs still pending after a failed run, those whose inputs all exist (the others wait on them)."""
    waiting = {o for job in jobs for o in job.outputs}
    return [job for job in jobs if not waiting.intersection(job.inputs)]


def plan(settings, extra: list[str], say=print) -> int:
    """A readable plan: one line per job that a run would do, with the reason.

    The checks every run makes come first: a missing log directory or a
    database that refuses the login is said, and decides the exit status,
    even when the plan itself has nothing to do.
    """
    from . import markers, preflight

    checks = preflight.run(settings)
    if markers.read(markers.adoption_marker(settings)) is None:
        say("note: no adoption on record: cron runs only while hzflow imported every row the database "
            "holds (run `hzflow adopt` for a database the legacy scripts or hzmetrics.py filled)")
    code, text = summary(settings, extra)
    if code:
        say(text.rstrip())
        return errors.most_severe([errors.CONFIG if code == 2 else errors.UNEXPECTED,
                                   preflight.report(checks, "hzflow plan", say)])
    jobs = pending_jobs(summary_rows(text), forced_targets(settings, extra))
    if not jobs:
        say("nothing to do: every day and month is up to date" if not checks else
            "nothing to do for the days and months hzflow can see now")
    else:
        say(f"{len(jobs)} job(s) would run:")
        for line in plan_lines(jobs):
            say("  " + line)
    return preflight.report(checks, "hzflow plan", say) if checks else 0


def plan_lines(jobs: list[Job], spell_out: int = 6) -> list[str]:
    """One line per job, or per rule and reason when many jobs share them (a backlog)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for job in jobs:
        groups.setdefault((job.rule, job.reason), []).append(job.unit)
    lines = []
    order = {s.rule: i for i, s in enumerate(registry.STAGES)}
    for (rule, reason), units in sorted(groups.items(), key=lambda g: (order.get(g[0][0], -1), g[0][1])):
        units.sort()
        if len(units) <= spell_out:
            lines += [f"{rule:<18} {u:<12} {reason}" for u in units]
        else:
            lines.append(f"{rule:<18} {len(units)} of them, {units[0]} .. {units[-1]}: {reason}")
    return lines
