"""identify-bots: add the automated user agents of an access log to `bot_useragents`.

An agent counts as automated when it contains one of the crawler words;
afterwards every stored agent matching one of the exception patterns is
removed again (the legacy rule, applied to the whole table).  The import of
an access log does this in its own transaction, so agents first seen in
one day's log filter the following days.
"""

from __future__ import annotations

from pathlib import Path

from .. import db as dbmod
from .. import months
from ..sources import readable_log
from . import access
from . import logparse as lp


def record_bot_agents(cur, agents) -> int:
    """INSERT IGNORE the automated agents among `agents`; returns how many are new."""
    automated = sorted(a for a in agents if lp.looks_automated(a))
    added = 0
    if automated:
        added = cur.executemany("INSERT IGNORE INTO bot_useragents (useragent) VALUES (%s)",
                                [(a,) for a in automated]) or 0
    exceptions = " OR ".join(["useragent LIKE %s"] * len(lp.BOT_AGENT_EXCEPTIONS))
    added -= cur.execute(f"DELETE FROM bot_useragents WHERE {exceptions}", lp.BOT_AGENT_EXCEPTIONS)
    return max(added, 0)


def identify_file(settings, path: Path, *, dry_run: bool = False) -> dict:
    # agents are collected from every recognised line, whatever its date
    dates = lp.LineDates(None, 0, months.today())
    path = readable_log(settings, Path(path))
    result = access.scan_file(path, access.Filters(), dates, settings.malformed_samples)
    result.refuse_garbage(path, access.ACCESS_LINE)
    automated = sorted(a for a in result.agents if lp.looks_automated(a))
    report = {"file": str(path), "lines": result.lines, "malformed": result.malformed,
              "agents": len(result.agents), "automated": len(automated)}
    if dry_run:
        report.update(status="dry-run", would_add=automated[:20])
        return report
    with dbmod.cursor(settings, atomic=True) as cur:
        report["added"] = record_bot_agents(cur, result.agents)
    report["status"] = "done"
    return report
