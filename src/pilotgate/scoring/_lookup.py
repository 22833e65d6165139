"""Finding scorers by name, with the built-in scorers loaded.

Kept apart from the registry (``_base.py``), which the built-in scorers import to register
themselves, so that the imports run one way; the built-ins load on the first lookup.
"""

from __future__ import annotations

import inspect
from typing import Any

from pilotgate.errors import ConfigError
from pilotgate.scoring._base import SCORERS, BoundScorer

__all__ = ["get_scorer", "list_scorers"]


def _ensure_loaded() -> None:
    from pilotgate.scoring import _builtins  # noqa: F401


def get_scorer(name: str | BoundScorer, **kwargs: Any) -> BoundScorer:
    """Build the scorer registered as ``name`` with configuration ``kwargs``.

    Unknown keyword arguments are a :class:`ConfigError` here, not a TypeError at the
    first case. A :class:`BoundScorer` passed in is returned as is.
    """
    if isinstance(name, BoundScorer):
        return name
    if name.startswith("python:"):  # a scorer of the user's own (scoring/_python.py)
        from pilotgate.scoring._python import load_python_scorer

        return BoundScorer(name=name, kwargs=dict(kwargs), fn=load_python_scorer(name))
    _ensure_loaded()
    entry = SCORERS.get(name)
    params = inspect.signature(entry.obj).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    allowed = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n != "input"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown and not takes_any:
        raise ConfigError(
            f"scorer {name!r} has no option {', '.join(unknown)}",
            fix=f"its options are: {', '.join(sorted(allowed)) or '(none)'}",
        )
    return BoundScorer(name=name, kwargs=dict(kwargs), fn=entry.obj)


def list_scorers() -> list[dict[str, Any]]:
    """Name and one-line description of every registered scorer."""
    _ensure_loaded()
    return [{"name": e.name, "description": e.meta.get("description", "")} for e in SCORERS]
