"""Storing a batch so that one record the store refuses never sinks the others.

Validation (with ``_sanitise``) refuses what is known to be unstorable, but a store can
still refuse a row for a reason nobody foresaw. A permanent refusal is then isolated by
splitting the batch in halves until the failing records stand alone: they are named with
the store's reason, everything else is stored, and ``log2(n)`` extra writes is all it
costs. An error of the store being away (a lost connection, a locked database) is not
split: it is raised for the caller to answer "retry later". Writes are idempotent (ids
are keys), so storing a half twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pilotgate._interaction_rows import FeedbackLine, feedback_key
from pilotgate.errors import StoreError
from pilotgate.store import Store

__all__ = ["BatchFate", "store_batch", "store_records", "write_isolated"]


def store_records(
    store: Store, records: Sequence[Any], *, project: str | None = None
) -> dict[str, int]:
    """Write validated record dicts of ``project`` (None: the store's), one transaction per
    kind; returns new rows per kind.

    Interactions may also come ready for the store: SQLite parameter tuples
    (``_interaction_rows.sqlite_interaction_row``) or PostgreSQL ``COPY`` lines
    (``pg_copy_line``), and feedback as PostgreSQL ``COPY`` lines (``FeedbackLine``).
    Interactions go first so feedback and steps never point ahead of what is stored.
    Feedback repeated inside one batch is reduced to its last copy (an upsert may not
    touch a row twice in one PostgreSQL statement).
    """
    rows = [r for r in records if type(r) is tuple]
    lines = [r for r in records if type(r) is str]
    fb_lines: list[FeedbackLine] = []
    if rows or lines or any(type(r) is FeedbackLine for r in records):
        fb_lines = [r for r in records if type(r) is FeedbackLine]
        records = [r for r in records if type(r) not in (tuple, str, FeedbackLine)]
    inter = [r for r in records if r["kind"] == "interaction"]
    last_fb: dict[Any, Any] = {}
    for r in records:
        if r["kind"] == "feedback":
            last_fb[feedback_key(r)] = r
    for line in fb_lines:  # the same key as the record's (lines and records never mix)
        last_fb[line.key] = line
    fb = [r for r in last_fb.values() if type(r) is not FeedbackLine]
    fb_lines = [r for r in last_fb.values() if type(r) is FeedbackLine]
    steps = [r for r in records if r["kind"] == "step"]
    writes: list[tuple[str, Sequence[Any], Callable[..., int]]] = [
        ("interaction", rows, store.add_interaction_rows),
        ("interaction", lines, store.add_interaction_lines),
        ("interaction", inter, store.add_interactions),
        ("feedback", fb, store.add_feedback),
        ("feedback", fb_lines, store.add_feedback_lines),
        ("step", steps, store.add_steps),
    ]
    out: dict[str, int] = {}
    try:
        for kind, items, write in writes:
            if items:
                out[kind] = out.get(kind, 0) + write(items, project=project)
    except Exception as exc:
        # each write is its own transaction: those before the failure are committed, and a
        # retry of the same records finds them stored (not new); their count goes along
        setattr(exc, _STORED, {k: v for k, v in out.items() if v})
        raise
    return out


_STORED = "pilotgate_stored_before"


def stored_before(exc: BaseException) -> dict[str, int]:
    """New rows per kind a failed :func:`store_records` had committed before ``exc``."""
    got = getattr(exc, _STORED, None)
    return dict(got) if isinstance(got, dict) else {}


@dataclass
class BatchFate:
    """New rows per kind, and the records (by position in the batch) the store refused."""

    stored_new: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)


def _permanent(exc: BaseException) -> str | None:
    """The reason when ``exc`` is the data's fault (retrying it cannot help), else None."""
    if isinstance(exc, StoreError):
        return None if exc.retryable else exc.what
    if isinstance(exc, ValueError | ArithmeticError | TypeError | RecursionError):
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def store_batch(store: Store, records: Sequence[Any], *, project: str | None = None) -> BatchFate:
    """Store validated records; permanent refusals are isolated and named, not raised.

    Raises:
        StoreError: the store is away (``retryable``); retry the whole batch later.
    """
    return write_isolated(records, lambda part: store_records(store, part, project=project))


def write_isolated(
    records: Sequence[Any], write: Callable[[list[Any]], dict[str, int]]
) -> BatchFate:
    """Apply ``write`` (all or nothing per call; returns new rows per kind) to ``records``,
    halving the batch around a permanent refusal until the refused records stand alone.

    The one bisection every path that stores records shares (``store_batch``, the
    collector's OTLP merge), so a bad record is named alone however it arrived.

    Raises:
        Exception: what ``write`` raised when it is not the data's fault (the store away),
            carrying the new rows stored before it (:func:`stored_before`).
    """
    fate = BatchFate()
    try:
        _write(write, list(enumerate(records)), fate)
    except Exception as exc:
        _carry(exc, fate)
        raise
    return fate


def _write(
    write: Callable[[list[Any]], dict[str, int]],
    items: list[tuple[int, Any]],
    fate: BatchFate,
) -> None:
    if not items:
        return
    try:
        counts = write([rec for _, rec in items])
    except Exception as exc:
        reason = _permanent(exc)
        if reason is None:
            raise
        for k, v in stored_before(exc).items():  # the halves will find these stored
            fate.stored_new[k] = fate.stored_new.get(k, 0) + v
        if len(items) == 1:
            fate.refused.append((items[0][0], f"the store refused it: {reason}"))
            return
        mid = len(items) // 2
        _write(write, items[:mid], fate)
        _write(write, items[mid:], fate)
        return
    for k, v in counts.items():
        fate.stored_new[k] = fate.stored_new.get(k, 0) + v


def _carry(exc: BaseException, fate: BatchFate) -> None:
    """Put what the batch stored before ``exc`` on it (the halves done, and the part of the
    failed write committed before it failed), for a caller that retries."""
    total = dict(fate.stored_new)
    for k, v in stored_before(exc).items():
        total[k] = total.get(k, 0) + v
    setattr(exc, _STORED, total)
