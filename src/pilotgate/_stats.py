"""Statistics shared by every capability: the Wilson interval and the ``Rate`` it belongs to.

Evaluate, perturb, report, shift, signals and usage report pass or acceptance rates from
small samples. They once had five wrappers around the Wilson formula with three
conventions (two quantiles, edges snapped or not) and two ``Rate`` classes with their
arguments in opposite orders; this module is now the one home of both.

The one convention: ``wilson(k, n)`` is the 95 % interval for ``k`` successes in ``n``
trials, with :data:`Z95` to full precision, bounds exactly 0 when nothing succeeded and
exactly 1 when everything did, and ``None`` ("no data", JSON ``null``) when ``n`` is 0,
never the uninformative ``(0, 1)``, which a reader could take for a measurement. Pure
Python: importing this module loads no numpy, so the capabilities that avoid numpy at
import time still do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Z95", "Rate", "wilson"]

Z95 = 1.959963984540054
"""The two-sided 95 % normal quantile, ``scipy.stats.norm.ppf(0.975)`` to full precision."""


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for ``k`` successes out of ``n`` trials, clipped to [0, 1].

    Chosen over the normal (Wald) interval because our samples are small and rates sit
    near 0 or 1, where the normal interval overshoots [0, 1] and is too narrow.

    Args:
        k: how many of the ``n`` trials succeeded.
        n: trials; ``n <= 0`` gives None (no data: the package-wide convention).
        z: normal quantile of the confidence level (95 % by default).

    Returns:
        ``(lo, hi)`` with ``0 <= lo <= k / n <= hi <= 1``, or None when n is 0. The lower
        bound is exactly 0 when ``k == 0`` and the upper exactly 1 when ``k == n`` (floating
        point otherwise leaves crumbs of about 1e-17 there).
    """
    if n <= 0:
        return None
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    lo = 0.0 if k <= 0 else max(0.0, centre - half)
    hi = 1.0 if k >= n else min(1.0, centre + half)
    return (lo, hi)


def _r6(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


@dataclass(frozen=True)
class Rate:
    """``k`` successes of ``n`` trials, the share and its Wilson 95 % interval.

    Attributes:
        k: successes (passed cases, accepted answers, sessions that converted).
        n: trials; 0 means no data, and then the share and interval are None.
    """

    k: int
    n: int

    @property
    def value(self) -> float | None:
        """k / n, None when there were no trials."""
        return self.k / self.n if self.n else None

    @property
    def ci95(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n)

    @property
    def passed(self) -> int:
        """``k`` under the name pass/fail results use."""
        return self.k

    @property
    def pass_rate(self) -> float | None:
        """``value`` under the name pass/fail results use."""
        return self.value

    @classmethod
    def of(cls, verdicts: Iterable[bool]) -> Rate:
        """The rate of True among ``verdicts``."""
        vs = list(verdicts)
        return cls(k=sum(vs), n=len(vs))

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.k + other.k, self.n + other.n)

    def to_json(self) -> dict[str, Any]:
        """``{value, ci95, n, k}``: the shape usage and signals documents carry."""
        ci = self.ci95
        return {"value": self.value, "ci95": list(ci) if ci else None, "n": self.n, "k": self.k}

    def pass_json(self) -> dict[str, Any]:
        """``{n, passed, pass_rate, ci95}`` to 6 decimals: the robustness document's shape."""
        ci = self.ci95
        return {
            "n": self.n,
            "passed": self.k,
            "pass_rate": _r6(self.value),
            "ci95": None if ci is None else [_r6(ci[0]), _r6(ci[1])],
        }
