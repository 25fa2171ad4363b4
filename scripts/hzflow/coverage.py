"""What the workflow covers: which months, which of them are complete, which days wait for import.

Read from the log directories and the day markers, never from the
database, so the Snakefile, `plan`, `status` and `doctor` all see the same
picture at no cost.  The rules (docs/operations.md, "Months"):

* months run from `start_month` (default: the first month `hzflow adopt`
  set, else the month of the earliest log) through the current one;
* a month is complete once a log of its last day, or of any later day,
  exists, or `months.grace_days` into the next month; the current month is
  never complete (it is imported and enriched as days arrive; its sessions
  and summaries wait for the close unless `months.publish_partial`);
* a complete month without a single log is missing input, unless listed
  under `months.no_data`;
* a day is pending when it has logs and no marker, or its marker does not
  list one of its logs (a log that arrived late); pending days are imported
  by one job, oldest first.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from . import markers, months, registry, sources


@dataclass
class Unit:
    """One day to import: its logs as found now, and whether it was imported before."""

    day: str
    found: dict = field(default_factory=dict)
    again: bool = False

    def key(self) -> str:
        return self.day + ":" + ",".join(sorted(s.name for s in self.found.values()))


def _read_day_markers(settings) -> tuple[dict[str, dict], dict[str, int]]:
    """day -> the day marker's record, and day -> its mtime (ns)."""
    directory = markers.day_marker(settings, "x").parent
    records, mtimes = {}, {}
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return records, mtimes
    for entry in entries:
        name = entry.name
        if name.endswith(".json") and not name.startswith(markers.TEMP_PREFIX) and len(name) == 15:
            try:
                with open(entry.path) as f:
                    records[name[:10]] = json.load(f)
                mtimes[name[:10]] = entry.stat().st_mtime_ns
            except (OSError, ValueError):
                continue
    return records, mtimes


def recorded_names(record: dict | None) -> set[str]:
    """Canonical names of the files a day marker says were imported."""
    if not record:
        return set()
    return {sources.canonical_name(f["file"]) for f in record.get("files", {}).values() if f.get("file")}


class Coverage:
    def __init__(self, settings, warn=None):
        self.settings = settings
        self.today = months.today()
        self.found = sources.discover_all(settings, warn=warn)
        self.records, self.mtimes = _read_day_markers(settings)
        self.no_data_months = months.expand(settings.get("months", "no_data"))
        self.grace = timedelta(days=int(settings.get("months", "grace_days")))
        self.publish_partial = bool(settings.get("months", "publish_partial"))

    @cached_property
    def days(self) -> list[str]:
        """Every day with logs, found now or imported before."""
        return sorted(set(self.found) | set(self.records))

    @cached_property
    def _days_by_month(self) -> dict[str, list[str]]:
        by_month: dict[str, list[str]] = {}
        for day in self.days:
            by_month.setdefault(day[:7], []).append(day)
        return by_month

    @cached_property
    def _late_by_month(self) -> dict[str, list[str]]:
        late: dict[str, list[str]] = {}
        for day, record in sorted(self.records.items()):
            if day not in self.pending_days:
                for month, rows in (record.get("rows_by_month") or {}).items():
                    if rows and not day.startswith(month):
                        late.setdefault(month, []).append(day)
        return late

    @cached_property
    def months(self) -> list[str]:
        first = (self.settings.start_month or markers.adopted_first_month(self.settings)
                 or (self.days[0][:7] if self.days else None))
        last = months.of(self.today)
        return months.between(first or last, last)

    @cached_property
    def pending(self) -> list[Unit]:
        units = []
        for day, found in self.found.items():
            if months.of(day) not in self.months:
                continue
            record = self.records.get(day)
            if record is None:
                units.append(Unit(day, found))
            elif {s.name for s in found.values()} - recorded_names(record):
                units.append(Unit(day, found, again=True))
        return units

    @cached_property
    def pending_days(self) -> set[str]:
        return {u.day for u in self.pending}

    @cached_property
    def batch_key(self) -> str | None:
        """The name of the import job for the days pending now.

        The same days and files can be pending again after a batch of theirs
        ran (a day that failed and whose log was replaced under its name, a
        day marker removed after forget-import): a batch marker of the same
        key then exists already and would make Snakemake believe the import
        done.  Such a key moves on to its next round, so the days are
        imported again and plan, status and cron agree that they wait.
        """
        if not self.pending:
            return None
        units, round_ = [u.key() for u in self.pending], 0
        while True:
            key = markers.key_of(units + ([f"round {round_}"] if round_ else []))
            if not markers.batch_marker(self.settings, key).exists():
                return key
            round_ += 1

    def days_of(self, month: str) -> list[str]:
        return self._days_by_month.get(month, [])

    def recorded_days_of(self, month: str) -> list[str]:
        return [d for d in self.days_of(month) if d in self.records and d not in self.pending_days]

    def newest(self, days: list[str]) -> list[str]:
        """The most recently written of these days' markers: the one input that stands for all.

        A month's stage is older than one of its day markers exactly when it
        is older than the newest, and one input per month keeps the DAG of a
        hub with years of days small.
        """
        return [max(days, key=lambda d: (self.mtimes.get(d, 0), d))] if days else []

    def has_pending(self, month: str) -> bool:
        return any(d in self.pending_days for d in self.days_of(month))

    def late_days(self, month: str) -> list[str]:
        """Days of other months whose logs brought rows dated in this month."""
        return self._late_by_month.get(month, [])

    def is_current(self, month: str) -> bool:
        return month == months.of(self.today)

    def complete(self, month: str) -> bool:
        if month >= months.of(self.today):
            return False
        if str(months.last_day(month)) in self.days_of(month) or (self.days and self.days[-1] > f"{month}-31"):
            return True
        return self.today >= months.first_day(months.following(month)) + self.grace

    def is_no_data(self, month: str) -> bool:
        return month in self.no_data_months

    def missing_input(self, month: str) -> bool:
        """A finished month without a single log that nobody declared as having none."""
        return self.complete(month) and not self.days_of(month) and not self.is_no_data(month)

    def builds(self, month: str) -> bool:
        """Whether the month's import and enrichment run (or, as missing input, fail)."""
        return bool(self.days_of(month)) or self.complete(month) or self.is_no_data(month)

    def closes(self, month: str) -> bool:
        """Whether the month's sessions and summaries are built now."""
        return self.builds(month) and (self.complete(month) or self.publish_partial)

    def stages(self, month: str) -> list[str]:
        """The month's stages built now (registry.STAGES, in order): tool statistics always (they need
        no logs), the rest by whether the month has logs (or should have) and whether it is complete."""
        builds, closes = self.builds(month), self.closes(month)
        return [s.name for s in registry.STAGES
                if (builds or not s.needs_logs) and (closes or not s.needs_close)]

    def status_of(self, month: str) -> str:
        """Why a month is built as far as it is: one phrase for status and plan."""
        if self.missing_input(month):
            return "missing input: no logs (list it under months.no_data if the hub had none)"
        if self.is_current(month):
            return ("current month, live numbers (publish_partial)" if self.publish_partial
                    else "current month: sessions and summaries wait for its close")
        if not self.complete(month):
            return (f"waiting for the log of its last day (complete by "
                    f"{months.first_day(months.following(month)) + self.grace} at the latest)")
        return "no data (months.no_data)" if self.is_no_data(month) else "complete"
