"""``ingest_files``: stream files into the store in batches, keeping good lines.

Memory stays constant: records are validated, redacted and written ``batch_size`` at a
time. Re-ingesting a file is a no-op (ids are keys). Bad lines are reported with their
line numbers and skipped.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pilotgate._gc import gc_paused
from pilotgate._interaction_rows import FeedbackLine
from pilotgate.errors import InputError, StoreError
from pilotgate.ingest._fate import BatchFate, store_batch, stored_before
from pilotgate.ingest._parallel import WorkerPool, accept, parallel_blocks, use_parallel
from pilotgate.ingest._readers import SKIPPED, detect_format, read_records
from pilotgate.ingest._sanitise import NORMALISED
from pilotgate.records import BadLine
from pilotgate.redact import Pseudonymiser, Redactor
from pilotgate.store import Store

__all__ = ["FileReport", "IngestReport", "ingest_files"]

Progress = Callable[[Path, int], None]


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    format: str
    size: int
    read: int = 0
    stored_new: dict[str, int] = field(default_factory=dict)
    skipped_spans: int = 0
    bad: list[BadLine] = field(default_factory=list)
    error: str | None = None
    feedback_for: set[str] = field(default_factory=set)  # interaction ids feedback names

    def to_json(self, max_bad: int = 100) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "read": self.read,
            "stored_new": self.stored_new,
            "skipped_spans": self.skipped_spans,
            "n_bad": len(self.bad),
            "bad_lines": [{"line": b.line, "error": b.error} for b in self.bad[:max_bad]],
            "error": self.error,
        }


@dataclass
class IngestReport:
    """The whole run: per-file reports and redaction counts."""

    SCHEMA: ClassVar[str] = "pilotgate.ingest/1"

    files: list[FileReport]
    counts: dict[str, int]
    """Redactions per kind, plus the normalised characters under ``NORMALISED``."""
    redact: bool
    unknown_interactions: int = 0  # feedback ids that name no stored interaction
    unknown_examples: list[str] = field(default_factory=list)

    @property
    def redactions(self) -> dict[str, int]:
        """PII spans redacted, per kind."""
        return {k: v for k, v in self.counts.items() if k != NORMALISED}

    @property
    def normalised(self) -> int:
        """NUL characters and lone surrogates replaced with U+FFFD (see ``_sanitise``)."""
        return self.counts.get(NORMALISED, 0)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def n_bad(self) -> int:
        return sum(len(f.bad) for f in self.files)

    @property
    def stored_new(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            for k, v in f.stored_new.items():
                out[k] = out.get(k, 0) + v
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "read": self.read,
            "stored_new": self.stored_new,
            "n_bad": self.n_bad,
            "redact": self.redact,
            "redactions": self.redactions,
            "normalised": self.normalised,
            "feedback_unknown_interactions": {
                "n": self.unknown_interactions,
                "examples": self.unknown_examples,
            },
            "files": [f.to_json() for f in self.files],
        }


def ingest_files(
    paths: Iterable[str | Path],
    store: Store,
    *,
    redactor: Redactor | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    fmt: str | None = None,
    parallel: bool | None = None,
    pseudonymise_ids: bool = True,
) -> IngestReport:
    """Import files into ``store``; ``redactor=None`` stores text as it is.

    With a redactor, user and session ids are stored as keyed hashes (the store's
    pseudonym key) unless ``pseudonymise_ids=False`` or the redactor has its own
    pseudonymiser.

    Args:
        batch_size: records per transaction (None: :data:`BATCH_SIZES` for the store's
            database).
        parallel: decode large JSONL files in a worker process while this one writes
            (None: when the file is over ~12 MB and there is a second core; the result
            is the same either way, only faster).

    Raises:
        InputError: a path does not exist (before anything is written).
    """
    files = [Path(p) for p in paths]
    for p in files:
        if not p.is_file():
            raise InputError("file not found", where=str(p), fix="check the path")
    if redactor is not None and pseudonymise_ids and redactor.pseudonymiser is None:
        redactor = copy.copy(redactor)
        redactor.pseudonymiser = Pseudonymiser(store.secret("pseudonym"))
    redactions: dict[str, int] = {}
    reports = []
    pool = WorkerPool(
        redactor,
        sqlite_rows=store.dialect == "sqlite",
        pg_lines=store.dialect == "postgresql",
    )
    writer = _Writer(store, WRITERS if store.dialect == "postgresql" else 1)
    if batch_size is None:
        batch_size = BATCH_SIZES.get(store.dialect, BATCH_SIZES["sqlite"])
    with gc_paused():
        try:
            for path in files:
                rep = FileReport(str(path), fmt or detect_format(path), path.stat().st_size)
                reports.append(rep)
                if use_parallel(path, rep.format, parallel):
                    _import_parallel(
                        pool, path, writer, redactor, batch_size, progress, rep, redactions
                    )
                else:
                    _import(path, writer, redactor, batch_size, progress, rep, redactions)
                writer.drain()  # this file's figures complete before the next one
                if progress is not None:
                    progress(path, rep.size)
        finally:
            writer.close()
            pool.close()
    report = IngestReport(reports, redactions, redactor is not None)
    from pilotgate.store.rollups import after_bulk_write

    # the hours just written rolled up (and PostgreSQL's statistics fresh): the next
    # reader finds them current; the check below is planned on those statistics too
    after_bulk_write(store, sum(r.read for r in reports))
    wanted = set().union(*(r.feedback_for for r in reports)) if reports else set()
    missing = _missing_interactions(store, wanted)
    report.unknown_interactions = len(missing)
    report.unknown_examples = sorted(missing)[:_MAX_EXAMPLES]
    return report


_MAX_EXAMPLES = 5
_CHUNK = 500
WRITERS = 2
"""Batches written at once on PostgreSQL, each on its own connection (see :class:`_Writer`)."""
BATCH_SIZES = {"sqlite": 2000, "postgresql": 8000}
"""Records per transaction by default. PostgreSQL's per-statement work (savepoint, COPY,
the rollup triggers, commit) is larger than SQLite's: 8,000 cost ~6 % less CPU per record
than 2,000 (client and server processes; ``ingest_files`` of ``benchmarks/scale.py``'s first
200k interactions, 16,000 no better)."""


def _missing_interactions(store: Store, ids: set[str]) -> set[str]:
    """Which of ``ids`` no stored interaction has (feedback that points at nothing).

    Checked once after every file is in, so feedback may come before its interaction in
    a file, or in an earlier file than it.
    """
    from sqlalchemy import select, text

    from pilotgate.store import tables

    col = tables.interactions.c.id
    found: set[str] = set()
    todo = sorted(ids)
    pg = store.dialect == "postgresql"
    # PostgreSQL: one array parameter per chunk, not thousands of bound values to compile
    any_id = text("SELECT id FROM interactions WHERE id = ANY(:ids)")
    step = _CHUNK * 20 if pg else _CHUNK
    with store.engine.connect() as conn:
        for i in range(0, len(todo), step):
            chunk = todo[i : i + step]
            q = any_id.bindparams(ids=chunk) if pg else select(col).where(col.in_(chunk))
            found.update(str(x) for x in conn.execute(q).scalars())
    return ids - found


def _import(
    path: Path,
    writer: _Writer,
    redactor: Redactor | None,
    batch_size: int,
    progress: Progress | None,
    rep: FileReport,
    redactions: dict[str, int],
) -> None:
    batch: list[dict[str, Any]] = []
    lines: list[int] = []
    where = str(path)
    for lineno, obj, pos in read_records(path, rep.format):
        if obj is SKIPPED:
            rep.skipped_spans += 1
            continue
        rec = accept(lineno, obj, where, rep.bad, redactor, redactions)
        if rec is None:
            continue
        batch.append(rec)
        lines.append(lineno)
        rep.read += 1
        if len(batch) >= batch_size:
            writer.submit(batch, rep, lines)
            batch, lines = [], []
            if progress is not None:
                progress(path, pos)
    writer.submit(batch, rep, lines)


def _import_parallel(
    pool: WorkerPool,
    path: Path,
    writer: _Writer,
    redactor: Redactor | None,
    batch_size: int,
    progress: Progress | None,
    rep: FileReport,
    redactions: dict[str, int],
) -> None:
    """As :func:`_import`, with the records decoded in a worker; same batches, same order."""
    batch: list[Any] = []
    lines: list[int] = []
    for block in parallel_blocks(pool, path):
        rep.bad.extend(block.bad)
        rep.skipped_spans += block.skipped
        for k, v in block.redactions.items():
            redactions[k] = redactions.get(k, 0) + v
        for rec, lineno in zip(block.records, block.lines, strict=True):
            batch.append(rec)
            lines.append(lineno)
            rep.read += 1
            if len(batch) >= batch_size:
                writer.submit(batch, rep, lines)
                batch, lines = [], []
        if progress is not None:
            progress(path, block.end)
    writer.submit(batch, rep, lines)


def _note_feedback(batch: Sequence[Any], rep: FileReport) -> None:
    for r in batch:
        if type(r) is dict and r.get("kind") == "feedback":
            rep.feedback_for.add(str(r.get("interaction_id")))
        elif type(r) is FeedbackLine:
            rep.feedback_for.add(r.interaction_id)


class _Writer:
    """Stores an import's batches in order; on PostgreSQL ``depth`` of them at once.

    PostgreSQL does most of an import's work in its backend (index entries, above all),
    and one connection is one backend on one core. With ``depth`` > 1 each batch is
    stored by :func:`store_batch` in a thread of its own, on its own connection and
    transaction (psycopg waits for the server without the GIL), so the database works
    on both cores while this process reads on. Every rule holds per batch as before (a
    batch is one transaction per kind; a refused record is isolated and named); the
    batches' outcomes are applied to the report in file order. Only batches without a
    key in common are written at once (:func:`_keys`): a batch that repeats a key of one
    still being written waits for it, so the first copy of an interaction is the one kept
    and the last copy of a feedback the one stored, as when batches are written one by
    one. Should two batches still deadlock (on the rollups' marks of an hour they share),
    or any batch fail in a way a retry can cure, it is stored again alone once the others
    are done; a second failure is raised.
    """

    def __init__(self, store: Store, depth: int) -> None:
        self.store = store
        self.depth = depth
        self._threads = ThreadPoolExecutor(depth, "pilotgate-ingest") if depth > 1 else None
        self._pending: deque[_Pending] = deque()

    def submit(self, batch: list[Any], rep: FileReport, lines: list[int]) -> None:
        """Store ``batch`` (records of ``rep``'s file, from ``lines``); the caller hands
        the lists over and starts new ones."""
        if not batch:
            return
        _note_feedback(batch, rep)
        if self._threads is None:
            _apply(store_batch(self.store, batch), rep, lines)
            return
        keys = _keys(batch)
        while self._pending and (
            len(self._pending) >= self.depth or any(keys & p[4] for p in self._pending)
        ):
            self._collect()
        future = self._threads.submit(store_batch, self.store, batch)
        self._pending.append((future, batch, rep, lines, keys))

    def _collect(self) -> None:
        future, batch, rep, lines, _ = self._pending.popleft()
        try:
            fate = future.result()
        except StoreError as exc:
            if not exc.retryable:
                raise
            wait_all([f for f, *_ in self._pending])  # alone this time
            fate = store_batch(self.store, batch)
            for k, v in stored_before(exc).items():  # committed before it failed
                fate.stored_new[k] = fate.stored_new.get(k, 0) + v
        _apply(fate, rep, lines)

    def drain(self) -> None:
        """Wait for every batch submitted, and apply their outcomes."""
        while self._pending:
            self._collect()

    def close(self) -> None:
        """Stop the threads (after their batches; an error there was raised already)."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._pending.clear()


_Pending = tuple["Future[BatchFate]", list[Any], FileReport, list[int], set[Any]]


def _keys(batch: Sequence[Any]) -> set[Any]:
    """The keys a batch writes, by kind (records without an id by what their derived id is
    made of, or more broadly): two batches without one in common commute."""
    out: set[Any] = set()
    add = out.add
    for r in batch:
        t = type(r)
        if t is str:  # an interaction's COPY line: its id is the first field
            add(r[: r.find("\t")])
        elif t is FeedbackLine:
            add(("feedback", r.line[: r.line.find("\t")]))
        elif t is tuple:  # an SQLite row: its id first
            add(r[0])
        else:
            kind = r.get("kind")
            rid = r.get("id")
            if kind == "interaction":
                add(rid)
            else:
                add((kind, rid or r.get("interaction_id") or r.get("session_id")))
    return out


def _apply(fate: BatchFate, rep: FileReport, lines: list[int]) -> None:
    """A stored batch's outcome in ``rep``: refused records become bad lines."""
    for pos, reason in fate.refused:
        lineno = lines[pos] if pos < len(lines) else 0
        rep.bad.append(BadLine(rep.path, lineno, f"(record): {reason}"))
        rep.read -= 1
    for k, v in fate.stored_new.items():
        rep.stored_new[k] = rep.stored_new.get(k, 0) + v
