"""Semantic similarity between output and reference through a registered embedder."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pilotgate.scoring._base import NO_REFERENCE, Score, scorer

if TYPE_CHECKING:
    from pilotgate.embeddings import Embedder

_EMBEDDERS: dict[str, Embedder] = {}
_VECTORS: dict[tuple[str, str], Any] = {}
_MAX_VECTORS = 20_000
_LOCK = threading.Lock()


def _embedder(name: str) -> Embedder:
    # One instance per backend: loading a model per case would dominate the run.
    with _LOCK:
        emb = _EMBEDDERS.get(name)
        if emb is None:
            from pilotgate.embeddings import get_embedder

            emb = _EMBEDDERS[name] = get_embedder(name)
        return emb


def clear_embedder_cache() -> None:
    """Forget the cached embedders (tests that re-register a backend name)."""
    with _LOCK:
        _EMBEDDERS.clear()
        _VECTORS.clear()


def _vectors(backend: str, texts: list[str]) -> list[Any]:
    """Embed with a per-text cache: a suite compares one original answer many times."""
    missing = [t for t in dict.fromkeys(texts) if (backend, t) not in _VECTORS]
    if missing:
        vecs = _embedder(backend).embed(missing)
        with _LOCK:
            if len(_VECTORS) + len(missing) > _MAX_VECTORS:
                _VECTORS.clear()
            for t, v in zip(missing, vecs, strict=True):
                _VECTORS[(backend, t)] = v
    return [_VECTORS.get((backend, t)) if (backend, t) in _VECTORS else None for t in texts]


@scorer("embedding")
def embedding(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    backend: str = "minilm",
    threshold: float = 0.75,
) -> Score:
    """Cosine similarity of output and reference embeddings passes at ``threshold`` (0.75).

    0.75 is promptfoo's ``similar`` default; the value reported is the cosine clipped
    to [0, 1]. ``backend`` names an embedder from :mod:`pilotgate.embeddings`. A case
    without a reference is not scored.
    """
    ref = "" if reference is None else str(reference)
    a, b = (output or "").strip(), ref.strip()
    if not b:
        return Score.not_applicable(NO_REFERENCE)
    if a == b:
        return Score(1.0, True, "identical")
    if not a or not b:
        return Score(0.0, False, "one side is empty")
    va, vb = _vectors(backend, [a, b])
    if va is None or vb is None:  # evicted between embed and read: embed directly
        va, vb = _embedder(backend).embed([a, b])
    cos = float((va * vb).sum())
    ok = cos >= threshold
    return Score(cos, ok, f"cosine {cos:.3f} {'>=' if ok else '<'} {threshold:g}")
