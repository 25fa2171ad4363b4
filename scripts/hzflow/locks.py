"""The hub's locks: cron, rebuilds, whoisonline and fleet runs never write one hub at the same time.

Each hub has one lock, in its own state directory (hubs may share a work
directory): a single-hub run and a fleet run take the same one.  A cron
tick that finds the lock taken exits at once (the next tick comes in a few
minutes); a command an operator typed (rebuild) waits for it, up to a
limit, and then says to try again.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import Busy

# The hub's lock (in state/<site>/): cron, rebuild, adopt, migrate --apply, mark-dirty, a plain `snakemake`
# run and a fleet run each hold it while they write.
HUB_LOCK = ".hzflow-cron.lock"
# The descriptors of the hubs' locks that `hzflow cron` holds and hands to the Snakemake it starts.
LOCK_FD_VAR = "HZFLOW_LOCK_FD"


def hub_lock_path(settings) -> Path:
    return settings.site_state / HUB_LOCK


class Lock:
    """`with Lock(path) as held:` — held is False when another process kept it past `wait` seconds."""

    def __init__(self, path: Path, wait: float = 0.0, on_wait=None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
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

    with Lock(hub_lock_path(settings), wait=wait, on_wait=waiting) as held:
        if not held:
            raise Busy(f"{command}: another run held {hub_lock_path(settings)} for more than {wait:.0f} s; "
                       f"nothing was done: run the command again once it has ended (hzflow status shows the "
                       f"runs), or give --wait more seconds")
        yield


def handed_down(settings) -> bool:
    """Whether this process was given the hub's lock, held, by the hzflow command that started it
    (one descriptor per hub, comma-separated, for a fleet)."""
    try:
        ours = os.stat(hub_lock_path(settings))
    except OSError:
        return False
    for fd in os.environ.get(LOCK_FD_VAR, "").split(","):
        if not fd.isdigit():
            continue
        try:
            given = os.fstat(int(fd))
            if (given.st_dev, given.st_ino) != (ours.st_dev, ours.st_ino):
                continue
            fcntl.flock(int(fd), fcntl.LOCK_EX | fcntl.LOCK_NB)   # the same open file: succeeds only if ours
            return True
        except OSError:
            continue
    return False


def for_workflow(settings) -> Lock | None:
    """The hub's lock for a Snakemake run: the one `hzflow cron` handed down, or taken now (kept open
    for the run's length); Busy when another run has it."""
    if handed_down(settings):
        return None
    lock = Lock(hub_lock_path(settings))
    if not lock.__enter__():
        lock.__exit__()
        raise Busy(f"another run (hzflow cron, rebuild, adopt, or snakemake) holds {lock.path}; nothing was "
                   f"done: run again once it has ended")
    return lock
