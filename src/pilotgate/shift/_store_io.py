"""Store-backed shift: inputs from stored eval sets and interactions.

Vectors are cached in the store by :class:`pilotgate.embeddings.StoreEmbeddingCache`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pilotgate.embeddings import StoreEmbeddingCache
from pilotgate.errors import InputError
from pilotgate.records import input_text
from pilotgate.shift._inputs import ShiftInputs

if TYPE_CHECKING:
    from pilotgate.store import Store

# StoreEmbeddingCache lives in pilotgate.embeddings; kept here for its old importers.
__all__ = ["StoreEmbeddingCache", "eval_set_inputs", "production_inputs"]


def eval_set_inputs(store: Store, ref: str) -> ShiftInputs:
    """The cases of stored eval set ``NAME`` or ``NAME@VERSION``."""
    meta, cases = store.get_eval_set(ref)
    if not cases:
        raise InputError(f"eval set {ref!r} has no cases", fix="build it with `pilotgate cases`")
    return ShiftInputs(
        ids=[str(c.get("id", i)) for i, c in enumerate(cases)],
        texts=[input_text(c.get("input", "")) for c in cases],
        ts=[None] * len(cases),
        ref=f"{meta['name']}@{meta['version']}",
    )


def production_inputs(
    store: Store, feature: str, *, since: datetime | None = None, version: str | None = None
) -> ShiftInputs:
    """Stored interactions of ``feature`` (optionally since a time), in time order."""
    ids: list[str] = []
    texts: list[str] = []
    ts: list[datetime | None] = []
    rows = store.iter_interactions(
        feature=feature,
        since=since,
        version=version,
        columns=["id", "ts", "input", "input_messages"],
    )
    for row in rows:
        ids.append(str(row["id"]))
        texts.append(_row_text(row))
        ts.append(row["ts"])
    if not ids:
        raise InputError(
            f"no stored interactions for feature {feature!r}"
            + (f" since {since.isoformat()}" if since else ""),
            fix="check the feature name (`pilotgate usage`) or ingest production data first",
        )
    return ShiftInputs(ids=ids, texts=texts, ts=ts)


def _row_text(row: Mapping[str, Any]) -> str:
    messages = row.get("input_messages")
    if isinstance(messages, list) and messages:
        return input_text(messages)
    return str(row.get("input") or "")
