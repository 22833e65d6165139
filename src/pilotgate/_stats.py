"""Statistics shared by several capabilities: the Wilson score interval.

Five capabilities (evaluate, perturb, report, shift, usage) report pass or acceptance
rates from small samples and each wrote the same Wilson formula; they now call this one.
Their public ``wilson`` / ``wilson_interval`` names stay where they were, as thin
wrappers (each keeps its default ``z`` and whether the edges are exact).

One convention holds everywhere for intervals with no observations (``n == 0``): the
interval is ``None`` ("no data", JSON ``null``), as is the rate or mean it belongs to;
never the uninformative ``(0, 1)``, which a reader could take for a measurement. Pure
Python: importing this module loads no numpy, so the capabilities that avoid numpy at
import time still do.
"""

from __future__ import annotations

import math

__all__ = ["Z95", "wilson_interval"]

Z95 = 1.959963984540054
"""The two-sided 95 % normal quantile, ``scipy.stats.norm.ppf(0.975)`` to full precision."""


def wilson_interval(
    successes: int, n: int, z: float = Z95, *, exact_edges: bool = False
) -> tuple[float, float] | None:
    """Wilson score interval for ``successes`` out of ``n`` trials, clipped to [0, 1].

    Chosen over the normal (Wald) interval because our samples are small and rates sit
    near 0 or 1, where the normal interval overshoots [0, 1] and is too narrow.

    Args:
        successes: how many of the ``n`` trials succeeded.
        n: trials; ``n <= 0`` gives None (no data: the package-wide convention).
        z: normal quantile of the confidence level (95 % by default).
        exact_edges: make the lower bound exactly 0 when nothing succeeded and the upper
            bound exactly 1 when everything did; floating point otherwise leaves crumbs
            of about 1e-17 there.

    Returns:
        ``(lo, hi)`` with ``0 <= lo <= successes / n <= hi <= 1``, or None when n is 0.
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    if exact_edges:
        return (0.0 if successes == 0 else lo, 1.0 if successes == n else hi)
    return (lo, hi)
