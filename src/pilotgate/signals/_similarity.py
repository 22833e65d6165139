"""Is the next request the previous one asked again? Text match or embedding similarity.

The threshold is calibrated on the data, the way shift calibrates coverage: the
similarities of requests that cannot be rephrases of each other (each candidate's first
request paired with a request of *another* person, seeded) give the null distribution,
and the threshold is its ``similarity_level`` quantile, so about ``1 - level`` of
unrelated pairs would pass. It never goes below ``min_similarity``. The plan may fix it
(``similarity_threshold``) instead.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pilotgate.plan import SignalsSection
from pilotgate.signals._phrases import normalise
from pilotgate.signals._rules import Row, stream_key

if TYPE_CHECKING:  # numpy loads only where vectors are made: a refresh with none to embed skips it
    import numpy as np
    import numpy.typing as npt

    from pilotgate.embeddings import Embedder
    from pilotgate.shift import EmbeddingCache

    F32 = npt.NDArray[np.float32]

__all__ = ["Similarity", "candidate_pairs"]
_NULL_PAIRS = 4_000


def candidate_pairs(rows: Sequence[Row], window_s: float) -> list[tuple[Row, Row]]:
    """(request, next request of the same person) pairs close enough to be rephrases."""
    by_key: dict[str, list[Row]] = {}
    for r in rows:
        k = stream_key(r)
        if k is not None:
            by_key.setdefault(k, []).append(r)
    out = []
    for items in by_key.values():
        for a, b in zip(items, items[1:], strict=False):
            if a.text.strip() and b.text.strip():
                gap = (b.ts - a.answered_at).total_seconds()
                if gap <= window_s:
                    out.append((a, b))
    return out


@dataclass
class Similarity:
    """Vectors for the texts that need them, and the threshold in force."""

    threshold: float
    vectors: dict[str, F32] = field(default_factory=dict)

    def __call__(self, a: Row, b: Row) -> bool:
        na = normalise(a.text)
        if na and na == normalise(b.text):
            return True
        va, vb = self.vectors.get(a.text), self.vectors.get(b.text)
        if va is None or vb is None:
            return False
        return float(va @ vb) >= self.threshold

    @classmethod
    def build(
        cls,
        cfg: SignalsSection,
        pairs: Sequence[tuple[Row, Row]],
        pool: Sequence[Row],
        *,
        threshold: float | None,
        cache: EmbeddingCache | None = None,
        seed: int = 0,
    ) -> Similarity:
        """Embed the pairs' texts; calibrate the threshold unless one is given."""
        if cfg.similarity == "none" or not pairs:
            return cls(1.01 if threshold is None else threshold)
        embedder = _embedder(cfg.similarity)
        null = _null_pairs(pairs, pool, seed) if threshold is None else []
        texts = list(
            dict.fromkeys(
                [t for a, b in pairs for t in (a.text, b.text)] + [t for p in null for t in p]
            )
        )
        from pilotgate.embeddings import embed_texts

        vecs = embed_texts(embedder, texts, cache=cache, progress=False)
        vecs = _unit(vecs)
        vectors = {t: vecs[i] for i, t in enumerate(texts)}
        if threshold is None:
            threshold = calibrate(cfg, [float(vectors[x] @ vectors[y]) for x, y in null])
        return cls(threshold, vectors)


def calibrate(cfg: SignalsSection, null_sims: Sequence[float]) -> float:
    """The ``similarity_level`` quantile of unrelated pairs' similarities, floored."""
    if cfg.similarity_threshold is not None:
        return cfg.similarity_threshold
    if len(null_sims) < 20:
        return max(cfg.min_similarity, 0.9)
    import numpy as np

    q = float(np.quantile(np.asarray(null_sims), cfg.similarity_level))
    return max(cfg.min_similarity, min(q, 0.99))


def _null_pairs(
    pairs: Sequence[tuple[Row, Row]], pool: Sequence[Row], seed: int
) -> list[tuple[str, str]]:
    """Each candidate's first text with a random text of another person (seeded)."""
    texts = [r for r in pool if r.text.strip() and stream_key(r) is not None]
    if len(texts) < 2:
        return []
    rng = random.Random(f"signals-null:{seed}")
    chosen = pairs if len(pairs) <= _NULL_PAIRS else rng.sample(list(pairs), _NULL_PAIRS)
    out = []
    for a, _ in chosen:
        for _try in range(5):
            c = texts[rng.randrange(len(texts))]
            if stream_key(c) != stream_key(a):
                out.append((a.text, c.text))
                break
    return out


def _unit(v: F32) -> F32:
    import numpy as np

    n = np.linalg.norm(v, axis=1, keepdims=True)
    n[n == 0] = 1.0
    out: F32 = (v / n).astype(np.float32)
    return out


def _embedder(name: str) -> Embedder:
    from pilotgate.embeddings import get_embedder

    return get_embedder(name)
