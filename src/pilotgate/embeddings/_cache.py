"""Embedding with de-duplication, a cache keyed by (backend, text hash), and progress.

Why a cache: a daily shift run re-reads mostly the same production inputs; with the
MiniLM backend (~1,000 texts/s on two cores) re-embedding 100k inputs would cost
minutes, looking them up costs a second. :class:`StoreEmbeddingCache` keeps vectors in
the store (shift, ``cases build`` and the off-purpose signal share it);
:class:`InMemoryEmbeddingCache` is the reference implementation and what tests use.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pilotgate.embeddings._base import Embedder
from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = [
    "EmbedStats",
    "EmbeddingCache",
    "InMemoryEmbeddingCache",
    "StoreEmbeddingCache",
    "embed_texts",
    "text_hash",
]

F32 = npt.NDArray[np.float32]


def text_hash(text: str) -> str:
    """Stable key of a text: SHA-256 of its UTF-8 bytes (lone surrogates escaped)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@runtime_checkable
class EmbeddingCache(Protocol):
    """Where vectors are kept between runs, keyed by ``(backend name, text hash)``.

    ``backend`` is the embedder's ``name``, which encodes its configuration, so vectors
    of different models or dimensions never mix.
    """

    def get_many(self, backend: str, hashes: Sequence[str]) -> Mapping[str, F32]:
        """Return the vectors found, by hash (missing hashes are simply absent)."""
        ...

    def put_many(self, backend: str, items: Mapping[str, F32]) -> None:
        """Store vectors by hash (overwriting is allowed; they are deterministic)."""
        ...


class InMemoryEmbeddingCache:
    """A dict-backed :class:`EmbeddingCache`: per process, unbounded, for tests and reuse."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], F32] = {}

    def get_many(self, backend: str, hashes: Sequence[str]) -> dict[str, F32]:
        out: dict[str, F32] = {}
        for h in hashes:
            v = self._data.get((backend, h))
            if v is not None:
                out[h] = v
        return out

    def put_many(self, backend: str, items: Mapping[str, F32]) -> None:
        for h, v in items.items():
            self._data[(backend, h)] = np.asarray(v, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._data)


class StoreEmbeddingCache:
    """:class:`EmbeddingCache` over the store's ``embedding_cache`` table.

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


@dataclass
class EmbedStats:
    """What embedding cost: texts in, unique texts, cache hits, texts actually embedded."""

    texts: int = 0
    unique: int = 0
    cache_hits: int = 0
    embedded: int = 0
    seconds: float = 0.0


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    *,
    cache: EmbeddingCache | None = None,
    progress: bool | None = None,
    batch_size: int = 2_048,
    label: str = "embedding",
    stats: EmbedStats | None = None,
) -> F32:
    """Embed ``texts`` once per distinct text, reusing and filling ``cache``.

    Args:
        progress: show a rich progress bar; ``None`` means "when stderr is a terminal".
        batch_size: texts per ``embed`` call (also the progress granularity).
        stats: filled in with counts and time, for reports and benchmarks.
    """
    import time

    t0 = time.perf_counter()
    stats = stats if stats is not None else EmbedStats()
    unique: dict[str, int] = {}
    inverse = np.empty(len(texts), dtype=np.intp)
    for i, t in enumerate(texts):
        inverse[i] = unique.setdefault(t, len(unique))
    uniq_texts = list(unique)
    hashes = [text_hash(t) for t in uniq_texts] if cache is not None else []
    found: Mapping[str, F32] = cache.get_many(embedder.name, hashes) if cache is not None else {}
    vectors = np.zeros((len(uniq_texts), embedder.dim), dtype=np.float32)
    todo: list[int] = []
    for j in range(len(uniq_texts)):
        v = found.get(hashes[j]) if cache is not None else None
        if v is None:
            todo.append(j)
        else:
            vectors[j] = v
    if todo:
        fresh = _embed_batches(embedder, [uniq_texts[j] for j in todo], batch_size, progress, label)
        vectors[todo] = fresh
        if cache is not None:
            cache.put_many(embedder.name, {hashes[j]: fresh[k] for k, j in enumerate(todo)})
    stats.texts += len(texts)
    stats.unique += len(uniq_texts)
    stats.cache_hits += len(uniq_texts) - len(todo)
    stats.embedded += len(todo)
    stats.seconds += time.perf_counter() - t0
    out: F32 = vectors[inverse]
    return out


def _embed_batches(
    embedder: Embedder, texts: list[str], batch_size: int, progress: bool | None, label: str
) -> F32:
    show = sys.stderr.isatty() if progress is None else progress
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if not show:
        for start in range(0, len(texts), batch_size):
            out[start : start + batch_size] = _checked(embedder, texts[start : start + batch_size])
        return out
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(f"[bold]{label}", *columns, transient=True) as bar:
        task = bar.add_task(label, total=len(texts))
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            out[start : start + len(chunk)] = _checked(embedder, chunk)
            bar.advance(task, len(chunk))
    return out


def _checked(embedder: Embedder, texts: list[str]) -> F32:
    """Call the embedder and check what a user's backend returned before trusting it."""
    vecs = np.asarray(embedder.embed(texts), dtype=np.float32)
    if vecs.shape != (len(texts), embedder.dim):
        raise ConfigError(
            f"embedder {embedder.name!r} returned shape {vecs.shape}, "
            f"expected ({len(texts)}, {embedder.dim})",
            fix="make embed() return one row of `dim` floats per text",
        )
    if not np.all(np.isfinite(vecs)):
        raise ConfigError(
            f"embedder {embedder.name!r} returned NaN or infinite values",
            fix="check the embedding backend",
        )
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    normed: F32 = np.where(norms > 0, vecs / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    return normed
