"""Standard input as a log: `import-apache -`, the reference's habit of piping a log in."""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


def spooled_stdin(settings) -> Path:
    """Standard input as a file named by its content, so feeding the same log twice imports it once."""
    folder = settings.tmp_dir
    folder.mkdir(parents=True, exist_ok=True)
    digest, head = hashlib.sha1(), b""
    with tempfile.NamedTemporaryFile(dir=folder, prefix="stdin-", delete=False) as out:
        for block in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
            head = head or block[:2]
            digest.update(block)
            out.write(block)
    suffix = ".log.gz" if head == GZIP_MAGIC else ".log"
    final = folder / f"stdin-{digest.hexdigest()[:16]}{suffix}"
    Path(out.name).replace(final)
    return final
