"""``ingest_files``: stream files into the store in batches, keeping good lines.

Memory stays constant: records are validated, redacted and written ``batch_size`` at a
time. Re-ingesting a file is a no-op (ids are keys). Bad lines are reported with their
line numbers and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotgate.errors import InputError
from pilotgate.ingest._gc import gc_paused
from pilotgate.ingest._parallel import WorkerPool, accept, parallel_blocks, use_parallel
from pilotgate.ingest._readers import SKIPPED, detect_format, read_records
from pilotgate.records import BadLine
from pilotgate.redact import Redactor
from pilotgate.store import Store

__all__ = ["FileReport", "IngestReport", "ingest_files", "store_records"]

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

    files: list[FileReport]
    redactions: dict[str, int]
    redact: bool

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
            "schema": "pilotgate.ingest/1",
            "read": self.read,
            "stored_new": self.stored_new,
            "n_bad": self.n_bad,
            "redact": self.redact,
            "redactions": self.redactions,
            "files": [f.to_json() for f in self.files],
        }


def _dedupe_key(rec: dict[str, Any]) -> Any:
    if rec.get("id"):
        return rec["id"]
    return (rec.get("interaction_id"), rec.get("session_id"), str(rec["ts"]), rec.get("name"))


def store_records(store: Store, records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Write validated record dicts, one transaction per kind; returns new rows per kind.

    Interactions go first so feedback and steps never point ahead of what is stored.
    Feedback repeated inside one batch is reduced to its last copy (an upsert may not
    touch a row twice in one PostgreSQL statement).
    """
    inter = [r for r in records if r["kind"] == "interaction"]
    fb = list({_dedupe_key(r): r for r in records if r["kind"] == "feedback"}.values())
    steps = [r for r in records if r["kind"] == "step"]
    out = {}
    if inter:
        out["interaction"] = store.add_interactions(inter)
    if fb:
        out["feedback"] = store.add_feedback(fb)
    if steps:
        out["step"] = store.add_steps(steps)
    return out


def ingest_files(
    paths: Iterable[str | Path],
    store: Store,
    *,
    redactor: Redactor | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
    fmt: str | None = None,
    parallel: bool | None = None,
) -> IngestReport:
    """Import files into ``store``; ``redactor=None`` stores text as it is.

    Args:
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
    redactions: dict[str, int] = {}
    reports = []
    pool = WorkerPool(redactor, sqlite_rows=store.dialect == "sqlite")
    with gc_paused():
        try:
            for path in files:
                rep = FileReport(str(path), fmt or detect_format(path), path.stat().st_size)
                reports.append(rep)
                if use_parallel(path, rep.format, parallel):
                    _import_parallel(
                        pool, path, store, redactor, batch_size, progress, rep, redactions
                    )
                else:
                    _import(path, store, redactor, batch_size, progress, rep, redactions)
                if progress is not None:
                    progress(path, rep.size)
        finally:
            pool.close()
    from pilotgate.store.rollups import after_bulk_write

    # the hours just written rolled up (and PostgreSQL's statistics fresh): the next
    # reader finds them current
    after_bulk_write(store, sum(r.read for r in reports))
    return IngestReport(reports, redactions, redactor is not None)


def _import(
    path: Path,
    store: Store,
    redactor: Redactor | None,
    batch_size: int,
    progress: Progress | None,
    rep: FileReport,
    redactions: dict[str, int],
) -> None:
    batch: list[dict[str, Any]] = []
    where = str(path)
    for lineno, obj, pos in read_records(path, rep.format):
        if obj is SKIPPED:
            rep.skipped_spans += 1
            continue
        rec = accept(lineno, obj, where, rep.bad, redactor, redactions)
        if rec is None:
            continue
        batch.append(rec)
        rep.read += 1
        if len(batch) >= batch_size:
            _flush(store, batch, rep)
            if progress is not None:
                progress(path, pos)
    _flush(store, batch, rep)


def _import_parallel(
    pool: WorkerPool,
    path: Path,
    store: Store,
    redactor: Redactor | None,
    batch_size: int,
    progress: Progress | None,
    rep: FileReport,
    redactions: dict[str, int],
) -> None:
    """As :func:`_import`, with the records decoded in a worker; same batches, same order."""
    batch: list[Any] = []
    for block in parallel_blocks(pool, path):
        rep.bad.extend(block.bad)
        rep.skipped_spans += block.skipped
        for k, v in block.redactions.items():
            redactions[k] = redactions.get(k, 0) + v
        for rec in block.records:
            batch.append(rec)
            rep.read += 1
            if len(batch) >= batch_size:
                _flush_prepared(store, batch, rep)
        if progress is not None:
            progress(path, block.end)
    _flush_prepared(store, batch, rep)


def _flush(store: Store, batch: list[dict[str, Any]], rep: FileReport) -> None:
    if not batch:
        return
    for k, v in store_records(store, batch).items():
        rep.stored_new[k] = rep.stored_new.get(k, 0) + v
    batch.clear()


def _flush_prepared(store: Store, batch: list[Any], rep: FileReport) -> None:
    """:func:`_flush` for a batch whose interactions may be SQLite rows (written first)."""
    if not batch:
        return
    rows = [r for r in batch if type(r) is tuple]
    out: dict[str, int] = {}
    if rows:
        out["interaction"] = store.add_interaction_rows(rows)
    records = [r for r in batch if type(r) is not tuple] if rows else batch
    for k, v in store_records(store, records).items():
        out[k] = out.get(k, 0) + v
    for k, v in out.items():
        rep.stored_new[k] = rep.stored_new.get(k, 0) + v
    batch.clear()
