"""One StoreEmbeddingCache (pilotgate.shift) serves both shift and cases build."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pilotgate.shift import StoreEmbeddingCache
from pilotgate.store import Store


def test_vectors_round_trip_as_little_endian_float32_and_first_write_wins(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        cache = StoreEmbeddingCache(store)
        vec = np.array([0.5, -1.25, 3.0], dtype=np.float32)
        cache.put_many("minilm", {"h1": vec})
        assert store.embeddings_get("minilm", ["h1"]) == {"h1": vec.astype("<f4").tobytes()}
        cache.put_many("minilm", {"h1": vec * 2, "h2": vec})  # h1 kept, h2 added
        got = cache.get_many("minilm", ["h1", "h2", "missing"])
        assert sorted(got) == ["h1", "h2"]
        assert np.array_equal(got["h1"], vec) and got["h1"].dtype == np.float32
        got["h1"][0] = 9.0  # callers get their own writable copy
        assert cache.get_many("minilm", ["h1"])["h1"][0] == 0.5
        assert cache.get_many("other-backend", ["h1"]) == {}
