"""The workflow's stages, in one table: the rules, the commands, the markers, coverage, status, audit
and cron all read it, so a stage's name, rule, command and edges are spelled out once.

    stage (marker)  rule              command            depends on                       built for a month
    imported        resolve_month     resolve-month      its days' import                 with logs (or that should have)
    dns-resolved    resolve_month     resolve-month      imported                         with logs (or that should have)
    tool-stats      tool_stats        tool-stats         the previous month's tool-stats  every month
    sessionized     sessionize_month  sessionize-month   dns-resolved                     complete (or publish_partial)
    summarized      summarize         summarize          sessionized, previous month's    complete (or publish_partial)
    audited         audit_month       audit --month      summarized                       summarized, with audit.enabled

Rule names are the command names with '_' for '-'; the marker is what the
stage leaves (a past participle).  `summarize` is the workflow's summary
stage (summary cells, then andmore-usage); `summarize-month` is one of its
steps, kept under the reference's name.  `imported` and `dns-resolved` are
the two markers of one rule, `resolve_month`: the month's import check is
a few index look-ups, not worth a job of its own (about a second of
Snakemake and interpreter start-up, per month, on every run), and its marker
is written first, so a failed enrichment leaves the import check on record
and `--until imported/M` stops after it.
"""

from __future__ import annotations

from dataclasses import dataclass

IMPORTED, RESOLVED, TOOLS, SESSIONS, SUMMARY, AUDIT = (
    "imported", "dns-resolved", "tool-stats", "sessionized", "summarized", "audited")
# The import of pending days: one job for all of them, whose marker is a batch.
IMPORT_RULE, IMPORT_COMMAND = "import_days", "import-days"
REPORT_RULE = "report"


@dataclass(frozen=True)
class Stage:
    name: str                    # the marker directory, state/<site>/<name>/<month>.json
    rule: str                    # the Snakemake rule that builds it
    command: str                 # the hzflow command that rule runs
    runner: str                  # the function in hzflow.stages that does it
    after: str | None = None     # the stage of the same month whose marker is its input
    chained: bool = False        # also depends on the previous month's marker of this stage
    needs_logs: bool = True      # built only for a month with logs (or one that should have them)
    needs_close: bool = False    # built only once the month is complete (or publish_partial)
    what: str = ""


STAGES = (
    Stage(IMPORTED, "resolve_month", "resolve-month", "resolve_month",
          what="every log of the month imported (a check; imports any the ledger lacks)"),
    Stage(RESOLVED, "resolve_month", "resolve-month", "resolve_month", after=IMPORTED,
          what="hosts, domains, countries of web and toolstart; webhits recounted"),
    Stage(TOOLS, "tool_stats", "tool-stats", "tool_stats", chained=True, needs_logs=False,
          what="tool sessions enriched; the hub's per-tool statistics"),
    Stage(SESSIONS, "sessionize_month", "sessionize-month", "sessionize_month", after=RESOLVED, needs_close=True,
          what="visitor sessions rebuilt and enriched"),
    Stage(SUMMARY, "summarize", "summarize", "summarize", after=SESSIONS, chained=True, needs_close=True,
          what="summary cells of all six periods; andmore-usage"),
)
# A month target besides the stages: the optional per-month audit (audit.enabled).
AUDIT_STAGE = Stage(AUDIT, "audit_month", "audit", "audit", after=SUMMARY, needs_close=True,
                    what="hzflow audit's findings for the month")

BY_NAME = {s.name: s for s in (*STAGES, AUDIT_STAGE)}
MONTH_STAGES = tuple(s.name for s in STAGES)
MONTH_TARGETS = (*MONTH_STAGES, AUDIT)
# The stage a rule's failure is recorded under (resolve_month: its last, dns-resolved).
STAGE_OF_RULE = {**{s.rule: s.name for s in (*STAGES, AUDIT_STAGE)}, IMPORT_RULE: IMPORTED,
                 "note_dns_retry": RESOLVED, REPORT_RULE: "report"}
# The stage a command's failure is recorded under, when it fails outside the stage runner.
STAGE_OF_COMMAND = {**{s.command: s.name for s in (*STAGES, AUDIT_STAGE)}, IMPORT_COMMAND: IMPORTED,
                    "enrich-month": RESOLVED, "note-dns-retry": RESOLVED, "import-month": IMPORTED}


def rule_of(stage: str) -> str:
    return BY_NAME[stage].rule


def chain() -> list[tuple[str, str]]:
    """(input stage, stage) for every edge within a month, in build order."""
    return [(s.after, s.name) for s in STAGES if s.after]
