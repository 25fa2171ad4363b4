"""Parse in a child process while the server loads the rows parsed so far.

A forked parser writes the kept rows as TSV chunk files and announces each
one; the importing process LOADs every chunk as soon as it is ready, inside
its one transaction.  Parsing (one core) and the server's index maintenance
(the other core) so overlap instead of running one after the other.  If the
parser fails, its error arrives instead of the next chunk and the caller's
transaction is rolled back; if the importing process dies, the parser
notices and stops.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from . import logparse as lp

CHUNK_ROWS = 50_000
# The first chunk is small, so the server starts loading at once, and each next one twice as big up to
# CHUNK_ROWS: loading (seven secondary indexes) is the slower half, and it should not wait for a full chunk.
FIRST_CHUNK_ROWS = 5_000


class ParserFailed(Exception):
    pass


class _ChunkWriter:
    def __init__(self, directory: str, report, parent: int, rows_per_chunk: int):
        self.directory, self.report, self.parent = directory, report, parent
        self.rows_per_chunk, self.n, self.rows, self.out = rows_per_chunk, 0, 0, None
        self.limit = min(FIRST_CHUNK_ROWS, rows_per_chunk)

    def write(self, row: str) -> None:
        if self.out is None:
            self.path = os.path.join(self.directory, f"chunk-{self.n:05d}.tsv")
            self.out = open(self.path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
        self.out.write(row)
        self.rows += 1
        if self.rows >= self.limit:
            self.flush()
            self.limit = min(2 * self.limit, self.rows_per_chunk)

    def flush(self) -> None:
        if self.out is None:
            return
        self.out.close()
        self.out = None
        if os.getppid() != self.parent:
            raise BrokenPipeError("the importing process has gone")
        self.report.send(("chunk", self.path))
        self.n, self.rows = self.n + 1, 0


def _child(scan, args, directory: str, parent: int, report, rows_per_chunk: int) -> None:
    writer = _ChunkWriter(directory, report, parent, rows_per_chunk)
    try:
        result = scan(*args, writer.write)
        writer.flush()
        report.send(("ok", result))
    except lp.UnreadableLog as e:
        report.send(("unreadable", str(e)))
    except BrokenPipeError:
        pass
    except OSError as e:
        try:
            report.send(("oserror", (e.errno, e.strerror, e.filename)))
        except OSError:
            pass
    except BaseException as e:  # reported to the parent, which rolls back
        report.send(("error", f"{type(e).__name__}: {e}"))


class Chunks:
    """Iterate over chunk files as the parser finishes them; then .result holds its totals."""

    def __init__(self, receive):
        self.receive, self.result = receive, None

    def __iter__(self):
        while True:
            try:
                status, payload = self.receive.recv()
            except EOFError:
                raise ParserFailed("the log parser died before finishing") from None
            if status == "chunk":
                yield payload
                Path(payload).unlink(missing_ok=True)
            elif status == "ok":
                self.result = payload
                return
            elif status == "unreadable":
                raise lp.UnreadableLog(payload)
            elif status == "oserror":
                raise OSError(*payload)
            else:
                raise ParserFailed(f"the log parser failed: {payload}")


@contextmanager
def parsed_chunks(scan, *args, directory: Path | None = None, rows_per_chunk: int = CHUNK_ROWS):
    """Run scan(*args, write) in a forked child; yield a Chunks iterator of its row files.

    The chunk files live in a temporary directory under `directory`
    (hzflow's own scratch space, which cron empties under its lock, so
    nothing a killed run left there survives the next run).
    """
    ctx = multiprocessing.get_context("fork")
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rows-", dir=directory) as tmp:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, daemon=True,
                           args=(scan, args, tmp, os.getpid(), send, rows_per_chunk))
        proc.start()
        send.close()
        try:
            yield Chunks(receive)
        finally:
            receive.close()
            proc.join(1)
            if proc.is_alive():
                proc.kill()
                proc.join()
