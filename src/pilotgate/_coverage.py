"""Coverage: is each production input near enough to some eval case? Size-independent.

Shared by shift (coverage of production by an eval set) and signals (off-purpose: novelty
against the in-scope examples).

The definition (docs/shift.md has the long form). For every eval case, its
leave-one-out nearest-neighbour distance ``r_i`` (cosine distance to the closest *other*
eval case) says how far apart eval cases sit where the eval set is. A production input
at distance ``d`` from its nearest eval case is **covered** when ``d <= tau``, with
``tau`` the conformal ``level`` quantile of the ``r_i`` (the ceil(level * (n + 1))-th
smallest). Its **novelty** is a continuous, strictly increasing function of ``d``: the
calibrated rank of ``d`` among the ``r_i`` (``i / (n + 1)`` at the i-th smallest, linear in
between), so 0.5 means "as far from the eval set as a typical eval case is from its
neighbours"; beyond the farthest ``r_i`` it keeps rising towards 1 without reaching it, so
inputs farther than every eval spacing do not tie and ranking by novelty ranks exactly as
ranking by distance does.

Why this and not k-NN coverage (Naeem et al. 2020): a production input drawn from the
same distribution as the eval set is exchangeable with the eval cases, so ``d`` and the
``r_i`` come from (almost) the same distribution whatever the two sample sizes, and
coverage is about ``level`` under no shift. Radii built from production's own spacing
shrink as production grows, which is why k-NN coverage reads 0.44 at 300 vs 2,300.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Calibration", "calibrate", "coverage_interval", "nearest", "novelty"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.intp]


def nearest(
    refs: F32, queries: F32, *, k: int = 1, exclude_self: bool = False, chunk: int = 4_096
) -> tuple[F64, I64]:
    """Cosine distances and indices of the ``k`` nearest ``refs`` for each query row.

    Brute force in chunks of queries (a float32 matmul per chunk): at 100k x 5k x 384
    that is a few seconds on two cores, as fast as faiss' flat index, with no index to
    build. ``exclude_self`` (queries are refs, same order) gives leave-one-out distances.
    """
    nq, nr = len(queries), len(refs)
    k_eff = min(k, nr - (1 if exclude_self else 0))
    dist = np.full((nq, k), np.inf)
    idx = np.full((nq, k), -1, dtype=np.intp)
    if k_eff <= 0 or nq == 0:
        return dist, idx
    refs_t = np.ascontiguousarray(refs.T)
    for start in range(0, nq, chunk):
        sims = queries[start : start + chunk] @ refs_t
        if exclude_self:
            rows = np.arange(sims.shape[0])
            sims[rows, rows + start] = -np.inf
        if k_eff == 1:
            top = np.argmax(sims, axis=1)[:, None]
        else:
            part = np.argpartition(-sims, k_eff - 1, axis=1)[:, :k_eff]
            order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
            top = np.take_along_axis(part, order, axis=1)
        best = np.take_along_axis(sims, top, axis=1).astype(np.float64)
        dist[start : start + len(top), :k_eff] = np.clip(1.0 - best, 0.0, 2.0)
        idx[start : start + len(top), :k_eff] = top
    return dist, idx


@dataclass(frozen=True)
class Calibration:
    """The eval set's own neighbourhood scale: sorted LOO distances and the threshold."""

    loo: F64
    level: float
    tau: float


def calibrate(eval_vecs: F32, *, level: float = 0.95) -> Calibration:
    """Leave-one-out NN distances of the eval vectors and ``tau``.

    Duplicate eval inputs are kept (each is the other's neighbour at distance 0): an eval
    set that repeats a request does cover that request more tightly.
    """
    if not 0.5 <= level < 1.0:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    if len(eval_vecs) < 2:
        # One eval case has no neighbourhood to learn from: only near-copies are covered.
        return Calibration(np.zeros(1), level, 0.05)
    d, _ = nearest(eval_vecs, eval_vecs, exclude_self=True)
    loo = np.sort(d[:, 0])
    rank = min(len(loo), math.ceil(level * (len(loo) + 1)))
    return Calibration(loo, level, float(loo[rank - 1]))


def novelty(cal: Calibration, distances: F64) -> F64:
    """How unusual each distance is for this eval set: continuous, strictly increasing, in [0, 1).

    Up to the farthest leave-one-out distance ``r_(n)`` it is the calibrated rank: the
    i-th smallest ``r`` maps to ``i / (n + 1)``, linearly in between (and from 0 at
    distance 0). Beyond, it approaches 1 as ``1 - (1 - n/(n+1)) / (1 + (d - r_(n)) / s)``,
    a slow tail that stays distinguishable from 1 in floating point, with ``s`` the spread
    of the upper half of the ``r`` (their maximum minus their median). So no two
    distances tie: novelty is a monotone transform of the distance and ranks production
    inputs exactly as the distance does, on a scale calibrated to the eval set.
    """
    # distances closer than 1e-12 are equal: a subnormal gap would make the slope of the
    # interpolation overflow to infinity
    d = np.round(np.asarray(distances, dtype=np.float64), 12)
    q = np.round(cal.loo, 12)
    n = len(q)
    xs, last = np.unique(q[::-1], return_index=True)  # ties: the highest rank
    ys = (n - last) / (n + 1)
    if xs[0] > 0:
        xs, ys = np.r_[0.0, xs], np.r_[0.0, ys]
    top, y_top = float(xs[-1]), float(ys[-1])
    scale = max(top - float(np.median(q)), 1e-3)
    below = np.interp(d, xs, ys)
    beyond = 1.0 - (1.0 - y_top) / (1.0 + np.maximum(d - top, 0.0) / scale)
    out: F64 = np.where(d <= top, below, beyond)
    return out


def coverage_interval(
    cal: Calibration,
    distances: F64,
    *,
    seed: int,
    n_boot: int = 2_000,
    z_level: float = 0.95,
) -> tuple[float, float]:
    """95 % bootstrap interval for coverage, counting both sources of uncertainty.

    Each replicate resamples the eval set's LOO distances (so ``tau`` moves: a small eval
    set gives a wide interval) and the production inputs (drawn as a binomial count at
    the replicate's ``tau``, which is exactly what resampling them would give). When
    production was uniformly sub-sampled, ``distances`` are the sample's, so the interval
    is as wide as the sample size makes it, not the full file's.
    """
    m = len(distances)
    if m == 0:
        return (0.0, 1.0)
    rng = np.random.default_rng(seed)
    d_sorted = np.sort(distances)
    n = len(cal.loo)
    rank = min(n, math.ceil(cal.level * (n + 1)))
    boots = np.empty(n_boot)
    for b in range(n_boot):
        sample = rng.choice(cal.loo, size=n, replace=True) if n > 1 else cal.loo
        tau_b = np.partition(sample, rank - 1)[rank - 1] if n > 1 else cal.tau
        p = np.searchsorted(d_sorted, tau_b, side="right") / m
        boots[b] = rng.binomial(m, p) / m
    alpha = (1.0 - z_level) / 2
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))
