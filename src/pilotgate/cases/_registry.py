"""The registry of case-sampling strategies: the built-ins and plug-ins alike.

A strategy turns the build's pool into a seeded priority order of pool indices
(:class:`StrategyInput` -> ``numpy`` integer array); ``build_eval_set`` interleaves the
orders by weight. Built-ins register in ``_strategies.py`` and are declared in the
``pilotgate.case_strategies`` entry-point group, where a plug-in distribution declares
its own (loaded the first time the registry is read).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pilotgate._registry import Registry

if TYPE_CHECKING:
    from pilotgate.cases._pool import Pool

__all__ = ["CASE_STRATEGIES", "StrategyInput", "strategy_rng"]

I64 = npt.NDArray[np.intp]

_BUILTIN_IDS = {"uniform": 1, "stratified": 2, "failures": 3, "novelty": 4, "clusters": 5}


def strategy_rng(seed: int, name: str) -> np.random.Generator:
    """An independent stream per strategy, so adding one strategy leaves the others' picks
    (a plug-in's stream is keyed by a checksum of its name)."""
    key = _BUILTIN_IDS.get(name) or 1000 + zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng([seed, key])


@dataclass
class StrategyInput:
    """What a strategy may read to order the pool.

    Attributes:
        pool: the candidate interactions (``pool.texts``, ``pool.failures`` …).
        labels: each candidate's input cluster (``-1``: none).
        quota: how many cases this strategy's weight asks for.
        seed: the build's seed (use :func:`strategy_rng` for a stream of your own).
        failure_weights: the spec's weight per failure kind.
        notes: lines the build reports (append why a strategy ran dry).
        novelty: computes (once) each candidate's distance to the eval set it improves
            on, or None when there is none yet.
    """

    pool: Pool
    labels: I64
    quota: int
    seed: int
    failure_weights: Mapping[str, float]
    notes: list[str] = field(default_factory=list)
    novelty: Callable[[], Any] = lambda: None


CASE_STRATEGIES: Registry[Callable[[StrategyInput], I64]] = Registry(
    "case strategy", group="pilotgate.case_strategies"
)
"""Strategy name -> ``fn(StrategyInput) -> order`` (indices into the pool, best first)."""
