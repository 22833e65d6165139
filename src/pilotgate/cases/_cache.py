"""The store's ``embedding_cache`` table as a :class:`pilotgate.shift.EmbeddingCache`.

Why: a model embedder (MiniLM, ~1,000 texts/s on two cores) would spend minutes on a
100k-interaction pool at every build; with vectors kept by (backend, text hash) a
rebuild embeds only the interactions that arrived since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["StoreEmbeddingCache"]

F32 = npt.NDArray[np.float32]


class StoreEmbeddingCache:
    """Vectors as little-endian float32 bytes in the store, keyed by backend and hash."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, backend: str, hashes: Sequence[str]) -> dict[str, F32]:
        found = self.store.embeddings_get(backend, list(hashes))
        return {h: np.frombuffer(b, dtype="<f4").astype(np.float32) for h, b in found.items()}

    def put_many(self, backend: str, items: Mapping[str, F32]) -> None:
        blobs = {h: np.asarray(v, dtype="<f4").tobytes() for h, v in items.items()}
        self.store.embeddings_put(backend, blobs)
