"""Where markers live and which months a run covers (shared by the CLI and the Snakefile)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

STAGES = ("imported", "dns-resolved", "sessionized", "summarized", "archived")


def marker(settings, stage: str, month: str) -> Path:
    """state/<site>/<stage>/YYYY-MM.json"""
    return settings.site_state / stage / f"{month}.json"


def day_marker(settings, day: str) -> Path:
    """state/<site>/imported/day/YYYY-MM-DD.json"""
    return settings.site_state / "imported" / "day" / f"{day}.json"


def new_sources_note(settings, day: str, key: str) -> Path:
    """Written when an imported day gains logs it did not have; makes the day re-import.

    `key` names the set of new files, so a later arrival gets a note of its own.
    """
    return settings.site_state / "imported" / "day" / f"{day}.new-{key}.json"


def new_sources_key(names) -> str:
    import hashlib
    return hashlib.sha1("\n".join(sorted(names)).encode()).hexdigest()[:10]



def next_month(month: str) -> str:
    y, m = map(int, month.split("-"))
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def previous_month(month: str) -> str:
    y, m = map(int, month.split("-"))
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    months, m = [], first
    while m <= last:
        months.append(m)
        m = next_month(m)
    return months



def current_month(today: date | None = None) -> str:
    return (today or date.today()).strftime("%Y-%m")


def month_stages(settings) -> list[str]:
    """The month markers a run builds (archived only when archiving is on)."""
    return [s for s in STAGES if s != "archived" or settings.archive_logs]


def target_months(settings, days_with_logs, today: date | None = None) -> list[str]:
    """Every month from start_month (default: the earliest log) through the current one."""
    first = settings.start_month or (min(days_with_logs)[:7] if days_with_logs else None)
    last = current_month(today)
    return months_between(first or last, last)
