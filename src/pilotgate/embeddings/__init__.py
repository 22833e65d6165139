"""Sentence embeddings behind one small protocol, with local, offline backends.

Backends register by name; ``get_embedder("minilm")`` (the default, an int8
all-MiniLM-L6-v2 run through ONNX Runtime) and ``get_embedder("lexical")``
(hashed character n-grams, no model) are built in, and ``get_embedder("openai", url=…,
model=…)`` (:class:`OpenAIEmbedder`) calls an OpenAI-compatible ``/embeddings`` endpoint.
Users plug in their own with :func:`register_embedder` or by passing any object that
satisfies :class:`Embedder`. :func:`embed_texts` embeds each distinct text once through an
:class:`EmbeddingCache` (:class:`StoreEmbeddingCache` keeps vectors in the store).
"""

from pilotgate.embeddings import _builtin  # noqa: F401  (registers minilm, lexical, openai)
from pilotgate.embeddings._base import (
    EMBEDDERS,
    Embedder,
    embedder_names,
    get_embedder,
    register_embedder,
)
from pilotgate.embeddings._cache import (
    EmbeddingCache,
    EmbedStats,
    InMemoryEmbeddingCache,
    StoreEmbeddingCache,
    embed_texts,
    text_hash,
)
from pilotgate.embeddings._openai import OpenAIEmbedder

__all__ = [
    "EMBEDDERS",
    "EmbedStats",
    "Embedder",
    "EmbeddingCache",
    "InMemoryEmbeddingCache",
    "OpenAIEmbedder",
    "StoreEmbeddingCache",
    "embed_texts",
    "embedder_names",
    "get_embedder",
    "register_embedder",
    "text_hash",
]
