"""Where judge replies are cached: :func:`judge_cache` sets the store for a block.

Apart from ``_judge.py`` so that naming it (``pilotgate.scoring.judge_cache``) does not
register the judge scorer: the built-ins register on the first lookup (``_lookup.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["judge_cache"]

_CACHE_STORE: ContextVar[Store | None] = ContextVar("pilotgate_judge_store", default=None)
_CACHE_READ: ContextVar[bool] = ContextVar("pilotgate_judge_read", default=True)


@contextmanager
def judge_cache(store: Store | None, *, read: bool = True) -> Iterator[None]:
    """Within the block, judges also cache replies in ``store`` (and read only if ``read``).

    An eval run wraps its scoring in this so judge replies live next to the target's
    cached responses and survive the process.
    """
    t1 = _CACHE_STORE.set(store)
    t2 = _CACHE_READ.set(read)
    try:
        yield
    finally:
        _CACHE_STORE.reset(t1)
        _CACHE_READ.reset(t2)
