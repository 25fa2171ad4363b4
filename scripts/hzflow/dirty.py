"""Dirty months, the reference's way of asking for rework: mark-dirty, clear-dirty, rebuild-from.

The reference keeps a set of months to rework.  In hzflow a month is
reworked when one of its stage markers is missing, so `mark-dirty` sets its
dns-resolved marker aside (markers.dirty_note) and `clear-dirty` puts it
back, unless a run has rebuilt the month since.  Markers are moved only
under the hub's lock: a running job would write them back.
"""

from __future__ import annotations

from . import months
from .coverage import Coverage
from .errors import UsageError
from .locks import exclusive
from .markers import dirty_dir, dirty_note, marker
from .registry import RESOLVED

# Markers are moved only under the hub's lock (a running job would write them back): wait this long for it.
LOCK_WAIT = 600


def mark_dirty(settings, month_list, *, dry_run: bool = False, say=print) -> int:
    """Have the next cron redo each month from its enrichment on (analyze, then summarize).

    The month's dns-resolved marker is set aside under dirty/: a target missing its
    output is rebuilt, and every later stage of the month follows, being older.
    """
    cov = Coverage(settings)
    outside = [m for m in month_list if RESOLVED not in cov.stages(m) or m not in cov.months]
    if outside:
        why = cov.status_of(outside[0]) if outside[0] in cov.months else "set start_month to include it"
        raise UsageError(f"mark-dirty {', '.join(outside)}: the workflow does not build that now (it builds "
                         f"{cov.months[0]} .. {cov.months[-1]}; {outside[0]}: {why}); nothing was marked")
    with exclusive(settings, "mark-dirty", LOCK_WAIT):
        for month in month_list:
            built, note = marker(settings, RESOLVED, month), dirty_note(settings, month)
            if not built.exists():
                say(f"{month}: {'already marked dirty' if note.exists() else 'not built yet'}; "
                    f"the next cron builds it")
            elif dry_run:
                say(f"[dry-run] {month}: would be reworked by the next cron (enrich, sessions, summaries)")
            else:
                note.parent.mkdir(parents=True, exist_ok=True)
                built.replace(note)
                say(f"{month}: the next cron reworks it (enrich, sessions, summaries); hzflow plan shows it")
    return 0


def clear_dirty(settings, month_list, *, every: bool = False, dry_run: bool = False, say=print) -> int:
    """Undo mark-dirty: the set-aside marker put back, unless the month was rebuilt since."""
    folder = dirty_dir(settings)
    if every or not month_list:               # bare clear-dirty, as the reference's: every month marked
        month_list = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    if not month_list:
        say("no month is marked dirty")
    with exclusive(settings, "clear-dirty", LOCK_WAIT):
        for month in month_list:
            built, note = marker(settings, RESOLVED, month), dirty_note(settings, month)
            if not note.exists():
                say(f"{month}: not marked dirty")
            elif dry_run:
                say(f"[dry-run] {month}: would no longer be reworked")
            elif built.exists():
                note.unlink()
                say(f"{month}: rebuilt since it was marked; nothing to undo")
            else:
                note.replace(built)
                say(f"{month}: no longer reworked")
    return 0


def rebuild_from(settings, month: str, *, dry_run: bool = False, say=print) -> int:
    """Mark every built month from `month` through the current one dirty."""
    if month > months.current():
        raise UsageError(f"rebuild-from {month}: that month has not begun")
    cov = Coverage(settings)
    chosen = [m for m in months.between(month, months.current()) if m in cov.months
              and RESOLVED in cov.stages(m)]
    if not chosen:
        raise UsageError(f"rebuild-from {month}: no month from there on is built now "
                         f"(the workflow builds {cov.months[0]} .. {cov.months[-1]})")
    return mark_dirty(settings, chosen, dry_run=dry_run, say=say)
