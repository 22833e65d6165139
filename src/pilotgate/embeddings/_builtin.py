"""The built-in embedding backends, registered the way a plug-in registers its own.

Each factory imports its backend when it is called, so naming a backend costs nothing
until it is used (MiniLM loads ONNX Runtime). pyproject.toml declares these in the
``pilotgate.embeddings`` entry-point group, as a plug-in's distribution would.
"""

from __future__ import annotations

from typing import Any, cast

from pilotgate.embeddings._base import EMBEDDERS, Embedder

__all__ = ["lexical", "minilm", "openai"]


@EMBEDDERS.register("minilm")
def minilm(**kwargs: Any) -> Embedder:
    """int8 all-MiniLM-L6-v2 through ONNX Runtime (the default)."""
    from pilotgate.embeddings._minilm import MiniLMEmbedder

    return MiniLMEmbedder(**kwargs)


@EMBEDDERS.register("lexical")
def lexical(**kwargs: Any) -> Embedder:
    """Hashed character n-grams: no model."""
    from pilotgate.embeddings._lexical import LexicalEmbedder

    return LexicalEmbedder(**kwargs)


@EMBEDDERS.register("openai")
def openai(**kwargs: Any) -> Embedder:
    """Any OpenAI-compatible ``/embeddings`` endpoint."""
    from pilotgate.embeddings._openai import OpenAIEmbedder

    # its dim is a read-only property (probed on first use): an Embedder to every caller
    return cast(Embedder, OpenAIEmbedder(**kwargs))
