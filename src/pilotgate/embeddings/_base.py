"""The :class:`Embedder` protocol and the backend registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pilotgate._registry import Registry
from pilotgate.errors import ConfigError

__all__ = ["EMBEDDERS", "Embedder", "embedder_names", "get_embedder", "register_embedder"]


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


#: Embedding backends by name: built-ins (``_builtin.py``) and plug-ins register here; plug-ins
#: load lazily from the ``pilotgate.embeddings`` entry-point group (pyproject.toml declares
#: the built-ins there too, the same way a plug-in's distribution does).
EMBEDDERS: Registry[Callable[..., Embedder]] = Registry("embedding")


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Register a user embedder factory under ``name`` (a later one replaces it)."""
    EMBEDDERS.add(name, factory, replace=True)


def embedder_names() -> list[str]:
    return EMBEDDERS.names()


def get_embedder(name: str = "minilm", **kwargs: Any) -> Embedder:
    """Build the embedder registered under ``name``."""
    if name not in EMBEDDERS:
        raise ConfigError(
            f"unknown embedding backend {name!r}",
            fix=f"use one of: {', '.join(embedder_names())}",
        )
    return EMBEDDERS.get(name).obj(**kwargs)
