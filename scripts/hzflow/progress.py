"""A progress line at a steady interval, for the long steps (a big day's import, DNS, sessions).

It goes where the step's messages go: the job log under cron, the terminal
by hand; `hzflow cron` itself never prints it.  Checking the clock is cheap
but not free, so callers tick every few thousand items.
"""

from __future__ import annotations

import time


class Progress:
    def __init__(self, say, what: str, every: float = 10.0, total: int | None = None):
        self.say, self.what, self.every, self.total = say, what, every, total
        self.began = self.last = time.monotonic()

    def tick(self, done: int, note: str = "") -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        rate = done / (now - self.began) if now > self.began else 0.0
        left = f", about {(self.total - done) / rate:.0f} s left" if self.total and rate else ""
        of = f"/{self.total:,}" if self.total else ""
        self.say(f"  {self.what}: {done:,}{of} ({rate:,.0f}/s{left}{', ' + note if note else ''})")
