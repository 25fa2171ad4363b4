"""Non-blocking locks for the jobs cron starts every few minutes: a second one exits at once."""

from __future__ import annotations

import fcntl


class Lock:
    """`with Lock(settings, name) as held:` — held is False when another process has it."""

    def __init__(self, settings, name: str):
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        self.path = settings.work_dir / name
        self.file = open(self.path, "a")

    def __enter__(self) -> bool:
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def __exit__(self, *exc) -> None:
        self.file.close()
