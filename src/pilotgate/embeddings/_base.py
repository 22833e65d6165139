"""The :class:`Embedder` protocol and the backend registry."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pilotgate.errors import ConfigError

__all__ = ["Embedder", "embedder_names", "get_embedder", "register_embedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    #: Stable identifier of the backend and its configuration, used as a cache key.
    name: str
    #: Vector dimension.
    dim: int

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return an ``(len(texts), dim)`` array of unit-norm float32 rows."""
        ...


# name -> "module:factory" (built-ins, imported lazily) or a factory callable.
_FACTORIES: dict[str, str | Callable[..., Embedder]] = {
    "minilm": "pilotgate.embeddings._minilm:MiniLMEmbedder",
    "lexical": "pilotgate.embeddings._lexical:LexicalEmbedder",
    "openai": "pilotgate.embeddings._openai:OpenAIEmbedder",
}


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Register a user embedder factory under ``name``."""
    _FACTORIES[name] = factory


def embedder_names() -> list[str]:
    return sorted(_FACTORIES)


def get_embedder(name: str = "minilm", **kwargs: Any) -> Embedder:
    """Build the embedder registered under ``name``."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ConfigError(
            f"unknown embedding backend {name!r}",
            fix=f"use one of: {', '.join(embedder_names())}",
        ) from None
    if isinstance(factory, str):
        mod_name, attr = factory.split(":")
        factory = getattr(importlib.import_module(mod_name), attr)
        assert callable(factory)
    emb = factory(**kwargs)
    return emb
