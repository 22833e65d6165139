"""Quantiles (with order-statistic intervals) from histograms, and the ``Metric`` the gate reads.

Rates and their Wilson intervals live in :mod:`pilotgate._stats`.

Histograms are ``{value: count}``: the database groups, Python only walks the buckets.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pilotgate._stats import Z95

__all__ = ["Metric", "hist_quantile", "merge_hist", "quantile_metric"]


@dataclass(frozen=True)
class Metric:
    """What the gate reads: a value, its 95 % interval (when one exists) and the sample size."""

    value: float | None
    ci95: tuple[float, float] | None
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "ci95": list(self.ci95) if self.ci95 else None, "n": self.n}


def merge_hist(into: dict[float, int], other: Mapping[float, int]) -> dict[float, int]:
    for v, c in other.items():
        into[v] = into.get(v, 0) + c
    return into


class _Sorted:
    def __init__(self, hist: Mapping[float, int]) -> None:
        self.values = sorted(hist)
        self.cum: list[int] = []
        total = 0
        for v in self.values:
            total += hist[v]
            self.cum.append(total)
        self.n = total

    def at(self, rank: int) -> float:
        """Value of the 0-based ``rank``-th smallest observation."""
        return self.values[bisect.bisect_right(self.cum, rank)]


def hist_quantile(hist: Mapping[float, int] | _Sorted, q: float) -> float | None:
    """The q-quantile by linear interpolation between order statistics (numpy's default)."""
    s = hist if isinstance(hist, _Sorted) else _Sorted(hist)
    if s.n == 0:
        return None
    h = (s.n - 1) * q
    lo = math.floor(h)
    a = s.at(lo)
    b = s.at(min(lo + 1, s.n - 1))
    return a + (h - lo) * (b - a)


def quantile_metric(hist: Mapping[float, int], q: float) -> Metric:
    """A quantile with the distribution-free 95 % interval from binomial order statistics."""
    s = _Sorted(hist)
    if s.n == 0:
        return Metric(None, None, 0)
    value = hist_quantile(s, q)
    half = Z95 * math.sqrt(s.n * q * (1 - q))
    lo = max(0, math.floor(s.n * q - half) - 1)
    hi = min(s.n - 1, math.ceil(s.n * q + half))
    return Metric(value, (s.at(lo), s.at(hi)), s.n)


def quantiles(hist: Mapping[float, int], qs: Sequence[float]) -> dict[str, Any]:
    s = _Sorted(hist)
    out: dict[str, Any] = {f"p{round(q * 100)}": hist_quantile(s, q) for q in qs}
    out["n"] = s.n
    return out
