"""Store-backed shift: inputs from stored eval sets and interactions, vectors cached in the store.

The store keeps vectors as raw float32 bytes keyed by ``(backend, text hash)``, so a
daily ``pilotgate shift --eval-set support --feature router`` embeds only the inputs it
has not seen before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pilotgate.errors import InputError
from pilotgate.records import input_text
from pilotgate.shift._inputs import ShiftInputs

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["StoreEmbeddingCache", "eval_set_inputs", "production_inputs"]

F32 = npt.NDArray[np.float32]


class StoreEmbeddingCache:
    """:class:`~pilotgate.shift.EmbeddingCache` over the store's ``embedding_cache`` table.

    Vectors are little-endian float32 bytes keyed by backend and text hash. Both
    ``pilotgate shift`` and ``pilotgate cases build`` use it, so a model embeds a text
    once for either of them: a daily run, or a rebuild over a 100k-interaction pool,
    embeds only the inputs that arrived since.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, backend: str, hashes: Sequence[str]) -> dict[str, F32]:
        """The cached vectors among ``hashes`` (writable copies), by hash."""
        found = self.store.embeddings_get(backend, list(hashes))
        return {h: np.frombuffer(b, dtype="<f4").astype(np.float32) for h, b in found.items()}

    def put_many(self, backend: str, items: Mapping[str, F32]) -> None:
        """Cache vectors; the store skips hashes it already holds, so this is idempotent."""
        blobs = {h: np.asarray(v, dtype="<f4").tobytes() for h, v in items.items()}
        self.store.embeddings_put(backend, blobs)


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
