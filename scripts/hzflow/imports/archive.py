"""archive: gzip an imported log and move it into the imported/ directory of its kind.

Only a file whose import has committed is moved (the day's marker and the
ledger name it by its name without `.gz`, so nothing is imported again).
A name already taken in imported/ gets a `.~N~` suffix rather than
overwriting anything.  The import of a day gzips its logs while it loads
them (`Ahead`): compressing a busy day's log took 1.3 s of one core after
the load, and the other core has room during it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..sources import Source, is_archived


def destination(settings, src: Source) -> Path:
    target_dir = settings.apache_imported if src.kind == "access" else settings.hub_imported
    name = src.path.name if src.path.name.endswith(".gz") else src.path.name + ".gz"
    candidate, n = target_dir / name, 1
    while candidate.exists():
        candidate = target_dir / f"{name}.~{n}~"
        n += 1
    return candidate


def archive(settings, src: Source, *, dry_run: bool = False) -> Path | None:
    """Move one imported log into imported/ (gzipped); None if it is there already."""
    if is_archived(settings, src):
        return None
    dst = destination(settings, src)
    if dry_run:
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not src.path.name.endswith(".gz"):
        _compress(src.path, _partial(dst))
    _place(settings, src, dst)
    return dst


class Ahead:
    """The logs of one day gzipped beside their place in imported/ while they import (a thread of its own);
    `finish` moves them there once the import committed, leaving a file in place (and the day imported)
    if it cannot be moved; anything else (the import failed) stops the gzip and deletes the copies."""

    def __init__(self, settings, sources, say=print):
        self.settings, self.say, self.finished = settings, say, False
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
        self.moves: list[tuple[Source, Path | None, object, OSError | None]] = []   # src, dst, gzipping, refusal
        for src in sorted(sources, key=lambda s: s.kind):
            if is_archived(settings, src):
                continue
            try:
                dst = destination(settings, src)
                dst.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.moves.append((src, None, None, exc))
                continue
            gzipping = (None if src.path.name.endswith(".gz")
                        else self.pool.submit(_compress, src.path, _partial(dst), self.stop))
            self.moves.append((src, dst, gzipping, None))

    def __enter__(self) -> "Ahead":
        return self

    def __exit__(self, *exc) -> None:
        if not self.finished:
            self.stop.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        if not self.finished:
            for _, dst, gzipping, _ in self.moves:
                if gzipping is not None:
                    _partial(dst).unlink(missing_ok=True)

    def finish(self) -> dict[str, str]:
        """kind -> where its log went, or why it stayed (the day's marker records it)."""
        self.finished, moved = True, {}
        for src, dst, gzipping, refusal in self.moves:
            try:
                if refusal is not None:
                    raise refusal
                if gzipping is not None:
                    gzipping.result()
                _place(self.settings, src, dst)
                moved[src.kind] = str(dst)
            except OSError as exc:
                if gzipping is not None:
                    _partial(dst).unlink(missing_ok=True)
                moved[src.kind] = f"not archived: {exc}"
                self.say(f"warning: {src.path} stays in place: {exc}")
        return moved


def _partial(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.partial")


def _compress(src: Path, tmp: Path, stop: threading.Event | None = None) -> None:
    """Gzip src into tmp, keeping its times (zlib works without the GIL: this runs beside the import);
    a set `stop` ends it early (the import failed, the copy is deleted)."""
    with open(src, "rb") as fin, gzip.open(tmp, "wb", compresslevel=6) as fout:
        while block := fin.read(1 << 20):
            if stop is not None and stop.is_set():
                return
            fout.write(block)
    shutil.copystat(src, tmp)


def _place(settings, src: Source, dst: Path) -> None:
    """The log at dst in imported/ (its gzipped copy moved there, or itself if it was gzipped already),
    then gone from where it was: never both absent."""
    if src.path.name.endswith(".gz"):
        shutil.move(str(src.path), str(dst))
    else:
        os.replace(_partial(dst), dst)
        src.path.unlink()
    parent = src.path.parent
    if parent not in (settings.apache_daily, settings.hub_daily) and not any(parent.iterdir()):
        parent.rmdir()
