"""Sentence embeddings behind one small protocol, with local, offline backends.

Backends register by name; ``get_embedder("minilm")`` (the default, an int8
all-MiniLM-L6-v2 run through ONNX Runtime) and ``get_embedder("lexical")``
(hashed character n-grams, no model) are built in. Users plug in their own with
:func:`register_embedder` or by passing any object that satisfies :class:`Embedder`.
"""

from pilotgate.embeddings._base import (
    Embedder,
    embedder_names,
    get_embedder,
    register_embedder,
)

__all__ = ["Embedder", "embedder_names", "get_embedder", "register_embedder"]
