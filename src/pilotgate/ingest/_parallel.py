"""Large JSONL imports on two cores: one process decodes, the other writes.

Per record, decoding, validating and redacting cost about as much CPU as SQLite's insert
with the dashboard's indexes (~12 µs each on this kind of machine), and SQLite can only
be written from one place. Threads cannot share that work: the sqlite3 module releases
the GIL around every row it steps, so a writer thread next to a busy decoding thread
waits a switch interval (5 ms) per row. So for a big JSON Lines file a worker process
reads blocks of whole lines and turns them into validated, redacted records
(:func:`prepare_block`, the same per-line code as the sequential import; interactions as
ready SQLite rows when the store is SQLite) while this process writes, and prepares
blocks itself whenever the worker is behind. Records, bad lines and counts come back in
file order, so the report and the store are the same as a sequential import's. On one
core, or for small files (where starting a process costs more than it saves), the
import stays sequential.

Measured (``benchmarks/ingest.py``, 200k varied interactions, 2 idle cores): ~33k/s in
one process, ~54k/s with the worker at 2,000 records per transaction, ~62k/s at 10,000.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from pilotgate._interaction_rows import (
    CheckedInteraction,
    FeedbackLine,
    pg_copy_line,
    pg_feedback_line,
    sqlite_interaction_row,
)
from pilotgate.ingest._readers import SKIPPED, jsonl_items
from pilotgate.ingest._sanitise import needs_cleaning
from pilotgate.ingest._validate import InvalidRecord, validate_record
from pilotgate.records import BadLine
from pilotgate.redact import Redactor

__all__ = [
    "BLOCK_BYTES",
    "MIN_PARALLEL_BYTES",
    "Prepared",
    "WorkerPool",
    "accept",
    "blocks",
    "parallel_blocks",
    "prepare_block",
    "use_parallel",
]

BLOCK_BYTES = 2 * 1024 * 1024
"""Lines handed to the worker at a time (~6k typical records)."""
MIN_PARALLEL_BYTES = 12 * 1024 * 1024
"""Smaller files are imported in this process: a worker takes ~0.4 s to start."""
IN_FLIGHT = 3
"""Blocks submitted ahead of the writer: keeps the worker busy."""
ANSWER_TIMEOUT_S = 120.0
"""A worker silent this long is given up on (its blocks are prepared here instead)."""
MAX_AHEAD = 4
"""Blocks this process prepares itself while waiting for the worker: bounds memory."""


def accept(
    lineno: int,
    obj: Any,
    where: str,
    bad: list[BadLine],
    redactor: Redactor | None,
    redactions: dict[str, int],
    clean: bool = True,
) -> dict[str, Any] | None:
    """One reader item as a validated, redacted record; None (noted in ``bad``) if not.

    Characters normalised for the store are counted in ``redactions`` under
    ``_sanitise.NORMALISED`` (the report takes them out again); ``clean`` as for
    :func:`validate_record`.
    """
    if isinstance(obj, BadLine):
        bad.append(obj)
        return None
    try:
        rec = validate_record(obj, counts=redactions, clean=clean)
    except InvalidRecord as exc:
        bad.append(BadLine(where, lineno, str(exc)))
        return None
    if redactor is not None:
        for k, v in redactor.record(rec).items():
            redactions[k] = redactions.get(k, 0) + v
    return rec


@dataclass
class Prepared:
    """A block's outcome, in file order."""

    records: list[dict[str, Any] | tuple[Any, ...] | str | FeedbackLine] = field(
        default_factory=list
    )
    """Validated records; checked interactions as SQLite rows or PostgreSQL ``COPY``
    lines when asked for, feedback as :class:`FeedbackLine` with ``COPY`` lines."""
    lines: list[int] = field(default_factory=list)
    """The line number of each record (a record the store refuses is named by it)."""
    bad: list[BadLine] = field(default_factory=list)
    skipped: int = 0
    redactions: dict[str, int] = field(default_factory=dict)
    end: int = 0
    """File offset just past the block."""


def prepare_block(
    data: bytes,
    where: str,
    first_line: int,
    base_pos: int,
    redactor: Redactor | None,
    sqlite_rows: bool = False,
    pg_lines: bool = False,
) -> Prepared:
    """Decode, validate and redact a block of whole JSONL lines (runs in the worker).

    With ``sqlite_rows``, checked interactions come back as the SQLite rows
    :meth:`Store.add_interaction_rows` writes: plain tuples, a third of the cost of
    pickling the records (dicts and datetimes) and less work for the writing process.
    With ``pg_lines``, as the ``COPY`` text lines :meth:`Store.add_interaction_lines`
    writes (strings: cheaper still, and the writer only joins them), and feedback as the
    :class:`FeedbackLine` of :meth:`Store.add_feedback_lines` (not validated twice).
    """
    out = Prepared(end=base_pos + len(data))
    records = out.records
    lines = out.lines
    clean = needs_cleaning(data)  # one scan of the block instead of every string
    for lineno, obj, _pos in jsonl_items(BytesIO(data), where, first_line, base_pos):
        if obj is SKIPPED:
            out.skipped += 1
            continue
        rec = accept(lineno, obj, where, out.bad, redactor, out.redactions, clean)
        if rec is None:
            continue
        lines.append(lineno)
        if sqlite_rows and type(rec) is CheckedInteraction:
            records.append(sqlite_interaction_row(rec))
        elif pg_lines and type(rec) is CheckedInteraction:
            records.append(pg_copy_line(rec))
        elif pg_lines and rec.get("kind") == "feedback":
            records.append(pg_feedback_line(rec))
        else:
            records.append(rec)
    return out


def blocks(path: Path, size: int = BLOCK_BYTES) -> Iterator[tuple[bytes, int, int]]:
    """``(whole lines, number of the first, its byte offset)`` blocks of about ``size``.

    Lines are split on ``\\n`` only, as iterating a binary file does, so line numbers are
    the sequential reader's.
    """
    line, pos, tail = 1, 0, b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(size)
            if not chunk:
                if tail:
                    yield tail, line, pos
                return
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                tail = data
                continue
            block, tail = data[:cut], data[cut:]
            yield block, line, pos
            line += block.count(b"\n")
            pos += len(block)


def use_parallel(path: Path, fmt: str, parallel: bool | None) -> bool:
    """Whether to import ``path`` with a worker process (``parallel=None``: decide by size)."""
    if fmt != "jsonl" or parallel is False:
        return False
    if parallel:
        return True
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) > 1 and path.stat().st_size >= MIN_PARALLEL_BYTES


class WorkerPool:
    """One worker process, started on first use and shared by every file of an import.

    A plain ``python -m pilotgate.ingest._worker`` subprocess rather than
    :mod:`multiprocessing`, whose spawn start re-runs the caller's ``__main__`` (a script
    without a main guard would start its own import again) and whose fork start is unsafe
    next to threads. It is told ``(path, start, end, first line)`` on stdin, reads that
    range itself, writes its answer to a file in a private temporary directory and names
    it on stdout: pipes carry a few bytes each way, so neither side ever waits for the
    other to drain one (a pipe holds 64 KiB; an answer is megabytes). If the worker cannot
    start or dies, the blocks it did not answer are prepared in this process.
    """

    def __init__(
        self, redactor: Redactor | None, sqlite_rows: bool = False, pg_lines: bool = False
    ) -> None:
        self.redactor = redactor
        self.sqlite_rows = sqlite_rows
        self.pg_lines = pg_lines
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self._buf = b""
        self.failed = os.name != "posix"  # select() on pipes; elsewhere import sequentially

    def _start(self) -> bool:
        if self._proc is not None or self.failed:
            return not self.failed
        env = dict(os.environ)
        root = _package_root()
        if root is not None:  # e.g. a source tree put on sys.path at run time
            path = env.get("PYTHONPATH")
            env["PYTHONPATH"] = root if not path else root + os.pathsep + path
        self._dir = tempfile.mkdtemp(prefix="pilotgate-ingest-")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "pilotgate.ingest._worker", self._dir],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                bufsize=0,
            )
            self._write((self.redactor, self.sqlite_rows, self.pg_lines))
        except (OSError, ValueError):
            self._fail()
            return False
        return True

    def _write(self, msg: Any) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        pickle.dump(msg, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self._proc.stdin.flush()

    def send(self, path: Path, start: int, end: int, first_line: int) -> bool:
        """Ask the worker for a block; False when there is no worker to do it."""
        if not self._start():
            return False
        try:
            self._write((str(path), start, end, first_line))
        except OSError:
            self._fail()
            return False
        return True

    def ready(self) -> bool:
        """Whether the next answer is there already (never blocks)."""
        if b"\n" in self._buf:
            return True
        if self._proc is None or self._proc.stdout is None:
            return True  # receive() will notice the failure at once
        readable, _, _ = select.select([self._proc.stdout], [], [], 0)
        return bool(readable)

    def _line(self) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        while b"\n" not in self._buf:
            readable, _, _ = select.select([self._proc.stdout], [], [], ANSWER_TIMEOUT_S)
            if not readable:
                raise OSError(f"no answer from the ingest worker in {ANSWER_TIMEOUT_S} s")
            chunk = os.read(self._proc.stdout.fileno(), 4096)
            if not chunk:
                return b""
            self._buf += chunk
        line, _, rest = self._buf.partition(b"\n")
        self._buf = rest
        return line

    def receive(self) -> Prepared | None:
        """The next answer in order; None when the worker died (prepare locally instead)."""
        assert self._proc is not None and self._dir
        try:
            line = self._line()
        except OSError:
            line = b""
        name = os.path.join(self._dir, line.decode("ascii", "replace").strip())
        if not line or not os.path.isfile(name):
            self._fail()
            return None
        try:
            with open(name, "rb") as fh:
                answer = pickle.loads(fh.read())
        except (OSError, EOFError, pickle.UnpicklingError):
            self._fail()
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, Prepared)
        return answer

    def _fail(self) -> None:
        self.failed = True
        self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError, ValueError):
                self._proc = proc
                self._write(None)
            self._proc = None
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    if pipe is not None:
                        pipe.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _package_root() -> str | None:
    """The folder pilotgate is imported from, unless it is an installed site's own."""
    import pilotgate

    root = Path(pilotgate.__file__).resolve().parents[1]
    if {"site-packages", "dist-packages"} & set(root.parts):
        return None  # on the child's path already; never put a site before the stdlib
    return str(root)


def parallel_blocks(pool: WorkerPool, path: Path, size: int = BLOCK_BYTES) -> Iterator[Prepared]:
    """Prepared blocks of ``path`` in file order.

    The worker is kept ``IN_FLIGHT`` blocks ahead. When the block due next is still with
    the worker, this process prepares the next unassigned block itself instead of
    waiting, so both cores stay busy whichever side is slower (the worker's share grows
    on a quiet machine, this process's when the worker is starved for CPU).
    """
    where = str(path)
    pending = blocks(path, size)
    assigned: deque[tuple[int, tuple[bytes, int, int]]] = deque()  # with the worker
    done: dict[int, Prepared] = {}
    count = 0  # blocks taken from the file
    due = 0  # next block to yield
    exhausted = False

    def local(block: tuple[bytes, int, int]) -> Prepared:
        return prepare_block(
            block[0], where, block[1], block[2], pool.redactor, pool.sqlite_rows, pool.pg_lines
        )

    def next_block() -> tuple[int, tuple[bytes, int, int]] | None:
        nonlocal count, exhausted
        if exhausted:
            return None
        block = next(pending, None)
        if block is None:
            exhausted = True
            return None
        count += 1
        return count - 1, block

    def collect() -> None:
        index, block = assigned.popleft()
        got = None if pool.failed else pool.receive()
        done[index] = local(block) if got is None else got

    while True:
        while not pool.failed and len(assigned) < IN_FLIGHT:
            item = next_block()
            if item is None:
                break
            if pool.send(path, item[1][2], item[1][2] + len(item[1][0]), item[1][1]):
                assigned.append(item)
            else:
                done[item[0]] = local(item[1])
        if due in done:
            yield done.pop(due)
            due += 1
            continue
        if assigned and (pool.failed or pool.ready()):
            collect()
            continue
        item = next_block() if len(done) < MAX_AHEAD else None
        if item is not None:
            done[item[0]] = local(item[1])  # the worker is busy: do one here meanwhile
        elif assigned:
            collect()
        else:
            return
