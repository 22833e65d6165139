"""Near-duplicate removal: normalised text first, then embedding cosine similarity.

Why two tests: normalisation (case, whitespace, punctuation, Unicode forms) catches the
copies that differ only in how they were typed, for free and exactly; the cosine test
catches the rest (a typo, a changed number, "please" added) at a threshold the user
controls. An eval set with twenty copies of "where is my order" measures that request
twenty times and everything else less.

Why greedy and incremental: a build keeps a few hundred cases out of up to 100k inputs,
so each candidate is compared only with the cases kept so far (one small matrix-vector
product), never the whole pool with itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from pilotgate.embeddings import Embedder

__all__ = [
    "DEDUP_EMBEDDER",
    "Deduper",
    "DedupResult",
    "dedup_embedder",
    "dedup_texts",
    "normalise_text",
]

F32 = npt.NDArray[np.float32]

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")


#: Near-duplicates are a matter of surface form, so by default they are judged on
#: character n-grams of the normalised text (the lexical backend with all its weight on
#: characters): a typo or an added "please" moves such a vector far less than it moves
#: a word-level or sentence-model vector, and two different requests still differ.
DEDUP_EMBEDDER = "chars"


def dedup_embedder(name: str = DEDUP_EMBEDDER) -> Embedder:
    """The embedder near-duplicates are judged with: ``chars`` or any registered name."""
    from pilotgate.embeddings import get_embedder

    if name == "chars":
        return get_embedder("lexical", char_weight=1.0)
    return get_embedder(name)


def normalise_text(text: str) -> str:
    """Casefolded, NFKC, punctuation removed, whitespace collapsed: the exact-duplicate key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


class Deduper:
    """Remembers kept inputs; says whether a new one duplicates any of them.

    Args:
        dim: embedding dimension.
        threshold: cosine similarity at or above which two inputs are duplicates.
        capacity: initial room for kept vectors (grows as needed).
    """

    def __init__(self, dim: int, threshold: float, *, capacity: int = 256) -> None:
        self.threshold = threshold
        self._keys: dict[str, int] = {}
        self._vecs = np.zeros((max(capacity, 1), dim), dtype=np.float32)
        self._n = 0
        self._index_of: dict[int, int] = {}

    def __len__(self) -> int:
        return self._n

    def check(self, key: str, vec: F32 | None) -> tuple[str | None, int]:
        """``(None, -1)`` when new, else ``("text" | "embedding", index of the kept twin)``."""
        hit = self._keys.get(key)
        if hit is not None:
            return "text", hit
        if vec is not None and self._n and float(vec @ vec) > 0:
            sims = self._vecs[: self._n] @ vec
            j = int(np.argmax(sims))
            if float(sims[j]) >= self.threshold:
                return "embedding", j
        return None, -1

    def add_many(self, keys: Sequence[str], vecs: F32) -> list[tuple[str | None, int]]:
        """Check and keep a block of inputs in order, as :meth:`check` then :meth:`add` would.

        One product against the kept inputs and one within the block replace a product
        per input; the result is the same greedy, first-come decision.
        """
        prev = self._vecs[: self._n] @ vecs.T if self._n else None
        within = vecs @ vecs.T
        out: list[tuple[str | None, int]] = []
        new_rows: list[int] = []
        for r, key in enumerate(keys):
            hit = self._keys.get(key)
            if hit is not None:
                out.append(("text", hit))
                continue
            if float(within[r, r]) > 0:
                best, j = -1.0, -1
                if prev is not None:
                    j = int(np.argmax(prev[:, r]))
                    best = float(prev[j, r])
                for q in new_rows:
                    if within[q, r] > best:
                        best, j = float(within[q, r]), self._index_of[q]
                if best >= self.threshold:
                    out.append(("embedding", j))
                    continue
            idx = self.add(key, vecs[r])
            self._index_of[r] = idx
            new_rows.append(r)
            out.append((None, idx))
        self._index_of.clear()
        return out

    def add(self, key: str, vec: F32 | None) -> int:
        """Keep an input; returns its index."""
        if self._n == len(self._vecs):
            grown = np.zeros((2 * len(self._vecs), self._vecs.shape[1]), dtype=np.float32)
            grown[: self._n] = self._vecs[: self._n]
            self._vecs = grown
        if vec is not None:
            self._vecs[self._n] = vec
        self._keys.setdefault(key, self._n)
        self._n += 1
        return self._n - 1


@dataclass(frozen=True)
class DedupResult:
    """Which inputs were kept, and for each dropped one, why and which kept input it copies."""

    kept: list[int]
    dropped: dict[int, tuple[str, int]]

    @property
    def by_reason(self) -> dict[str, int]:
        out = {"text": 0, "embedding": 0}
        for reason, _ in self.dropped.values():
            out[reason] += 1
        return out


def dedup_texts(
    texts: Sequence[str],
    vectors: F32 | None = None,
    *,
    threshold: float = 0.92,
    embedder: str = DEDUP_EMBEDDER,
) -> DedupResult:
    """Drop near-duplicates from ``texts``, keeping the first of each group (in order).

    Args:
        vectors: unit embeddings of ``texts``; computed with ``embedder`` when omitted.
        threshold: cosine similarity at or above which two texts are one.
    """
    if vectors is None:
        emb = dedup_embedder(embedder)
        vectors = emb.embed([normalise_text(t) for t in texts])
    keys = [normalise_text(t) for t in texts]
    dd = Deduper(vectors.shape[1], threshold, capacity=len(texts))
    kept: list[int] = []
    dropped: dict[int, tuple[str, int]] = {}
    with single_thread():
        for start in range(0, len(texts), _BLOCK):
            block = list(range(start, min(start + _BLOCK, len(texts))))
            for i, (reason, j) in zip(
                block, dd.add_many([keys[i] for i in block], vectors[block]), strict=True
            ):
                if reason is None:
                    kept.append(i)
                else:
                    dropped[i] = (reason, kept[j])
    return DedupResult(kept, dropped)


_BLOCK = 512


def single_thread() -> AbstractContextManager[object]:
    """BLAS limited to one thread: many small products are several times faster so."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(1)
    return limits
