"""archive: gzip an imported log and move it into the imported/ directory of its kind.

Only a file whose import has committed is moved (the day's marker and the
ledger name it by its name without `.gz`, so nothing is imported again).
A name already taken in imported/ gets a `.~N~` suffix rather than
overwriting anything.
"""

from __future__ import annotations

import gzip
import os
import shutil
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
    if src.path.name.endswith(".gz"):
        shutil.move(str(src.path), str(dst))
    else:
        _gzip_to(src.path, dst)
    parent = src.path.parent
    if parent not in (settings.apache_daily, settings.hub_daily) and not any(parent.iterdir()):
        parent.rmdir()
    return dst


def _gzip_to(src: Path, dst: Path) -> None:
    """Compress src into dst (atomically, keeping mtime); src is removed only afterwards."""
    tmp = dst.with_name(f".{dst.name}.partial")
    with open(src, "rb") as fin, gzip.open(tmp, "wb", compresslevel=6) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    shutil.copystat(src, tmp)
    os.replace(tmp, dst)
    src.unlink()
