"""The hub's locks: cron, rebuilds and whoisonline never write one hub at the same time.

A cron tick that finds the lock taken exits at once (the next tick comes in
a few minutes); a command an operator typed (rebuild) waits for it, up to a
limit, and then says to try again.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from .errors import Busy

# The hub's lock: cron, rebuild, adopt, migrate --apply, mark-dirty and a plain `snakemake` run each hold it
# while they write.
HUB_LOCK = ".hzflow-cron.lock"
# The descriptor of the hub's lock that `hzflow cron` holds and hands to the Snakemake it starts.
LOCK_FD_VAR = "HZFLOW_LOCK_FD"


class Lock:
    """`with Lock(settings, name) as held:` — held is False when another process kept it past `wait` seconds."""

    def __init__(self, settings, name: str, wait: float = 0.0, on_wait=None):
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        self.path = settings.work_dir / name
        self.wait, self.on_wait = wait, on_wait
        self.file = open(self.path, "a")

    def _try(self) -> bool:
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def __enter__(self) -> bool:
        if self._try():
            return True
        if self.wait <= 0:
            return False
        if self.on_wait:
            self.on_wait(self.path)
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            if self._try():
                return True
        return False

    def __exit__(self, *exc) -> None:
        self.file.close()


@contextmanager
def exclusive(settings, command: str, wait: float, say=print):
    """Hold the hub's lock for a command typed by hand: wait for a running cron, then give up (exit 7)."""
    def waiting(path):
        say(f"hzflow {command}: another run holds {path}; waiting up to {wait:.0f} s for it to end")

    with Lock(settings, HUB_LOCK, wait=wait, on_wait=waiting) as held:
        if not held:
            raise Busy(f"{command}: another run held {settings.work_dir / HUB_LOCK} for more than {wait:.0f} s; "
                       f"nothing was done: run the command again once it has ended (hzflow status shows the "
                       f"runs), or give --wait more seconds")
        yield


def handed_down(settings) -> bool:
    """Whether this process was given the hub's lock, held, by the hzflow command that started it."""
    fd = os.environ.get(LOCK_FD_VAR, "")
    if not fd.isdigit():
        return False
    try:
        given, ours = os.fstat(int(fd)), os.stat(settings.work_dir / HUB_LOCK)
        if (given.st_dev, given.st_ino) != (ours.st_dev, ours.st_ino):
            return False
        fcntl.flock(int(fd), fcntl.LOCK_EX | fcntl.LOCK_NB)   # the same open file: succeeds only if it is ours
        return True
    except OSError:
        return False


def for_workflow(settings) -> Lock | None:
    """The hub's lock for a Snakemake run: the one `hzflow cron` handed down, or taken now (kept open
    for the run's length); Busy when another run has it."""
    if handed_down(settings):
        return None
    lock = Lock(settings, HUB_LOCK)
    if not lock.__enter__():
        lock.__exit__()
        raise Busy(f"another run (hzflow cron, rebuild, adopt, or snakemake) holds {lock.path}; nothing was "
                   f"done: run again once it has ended")
    return lock
