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

from pilotgate.errors import StoreError
from pilotgate.store import Store

__all__ = ["BatchFate", "store_batch", "store_records", "write_isolated"]


def _dedupe_key(rec: dict[str, Any]) -> Any:
    if rec.get("id"):
        return rec["id"]
    return (rec.get("interaction_id"), rec.get("session_id"), str(rec["ts"]), rec.get("name"))


def store_records(
    store: Store, records: Sequence[Any], *, project: str | None = None
) -> dict[str, int]:
    """Write validated record dicts of ``project`` (None: the store's), one transaction per
    kind; returns new rows per kind.

    Interactions may also come ready for the store: SQLite parameter tuples
    (``_interaction_rows.sqlite_interaction_row``) or PostgreSQL ``COPY`` lines
    (``pg_copy_line``). Interactions go first so feedback and steps never point ahead of
    what is stored. Feedback repeated inside one batch is reduced to its last copy (an
    upsert may not touch a row twice in one PostgreSQL statement).
    """
    rows = [r for r in records if type(r) is tuple]
    lines = [r for r in records if type(r) is str]
    if rows or lines:
        records = [r for r in records if type(r) not in (tuple, str)]
    inter = [r for r in records if r["kind"] == "interaction"]
    fb = list({_dedupe_key(r): r for r in records if r["kind"] == "feedback"}.values())
    steps = [r for r in records if r["kind"] == "step"]
    out = {}
    new = 0
    if rows:
        new += store.add_interaction_rows(rows, project=project)
    if lines:
        new += store.add_interaction_lines(lines, project=project)
    if inter:
        new += store.add_interactions(inter, project=project)
    if rows or lines or inter:
        out["interaction"] = new
    if fb:
        out["feedback"] = store.add_feedback(fb, project=project)
    if steps:
        out["step"] = store.add_steps(steps, project=project)
    return out


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
        Exception: what ``write`` raised when it is not the data's fault (the store away).
    """
    fate = BatchFate()
    _write(write, list(enumerate(records)), fate)
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
        if len(items) == 1:
            fate.refused.append((items[0][0], f"the store refused it: {reason}"))
            return
        mid = len(items) // 2
        _write(write, items[:mid], fate)
        _write(write, items[mid:], fate)
        return
    for k, v in counts.items():
        fate.stored_new[k] = fate.stored_new.get(k, 0) + v
