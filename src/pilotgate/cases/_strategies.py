"""Sampling strategies: each turns the pool into a seeded priority order of candidates.

A build interleaves the orders in proportion to the strategy weights (see
:func:`interleave`), skipping candidates already taken or near-duplicates, so strategies
combine without one starving the others and a strategy that runs dry (few failures)
hands its share to the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pilotgate.cases._pool import Pool
from pilotgate.cases._registry import CASE_STRATEGIES, StrategyInput, strategy_rng
from pilotgate.cases._spec import DEFAULT_FAILURE_WEIGHTS

__all__ = [
    "NoveltyScores",
    "allocate",
    "cluster_inputs",
    "failures_order",
    "novelty_order",
    "novelty_scores",
    "stratified_order",
    "stratified_quotas",
    "uniform_order",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.intp]


def rng_for(seed: int, what: str) -> np.random.Generator:
    """An independent stream per strategy, so adding one strategy leaves the others' picks."""
    return strategy_rng(seed, what)


def uniform_order(n: int, seed: int) -> I64:
    """Every interaction equally likely: a seeded permutation (frequent inputs come often)."""
    out: I64 = rng_for(seed, "uniform").permutation(n)
    return out


def _weighted_order(weights: F64, rng: np.random.Generator) -> I64:
    """Weighted random order without replacement (Efraimidis–Spirakis keys u^(1/w))."""
    idx = np.flatnonzero(weights > 0)
    if len(idx) == 0:
        return np.zeros(0, dtype=np.intp)
    u = rng.random(len(idx))
    keys = np.log(np.maximum(u, 1e-300)) / weights[idx]
    out: I64 = idx[np.argsort(-keys, kind="stable")]
    return out


def failures_order(pool: Pool, seed: int, kind_weights: Mapping[str, float]) -> I64:
    """Only interactions with a failure signal, weighted by the sum of their kinds' weights."""
    weights = {**DEFAULT_FAILURE_WEIGHTS, **kind_weights}
    w = np.array(
        [sum(weights.get(k, 1.0) for k in kinds) for kinds in pool.failures], dtype=np.float64
    )
    return _weighted_order(w, rng_for(seed, "failures"))


def cluster_inputs(
    vecs: F32, k: int, seed: int, *, distinct: I64 | None = None, max_fit: int = 2_000
) -> I64:
    """Clusters of unit vectors: labels ``0..k-1`` by size, largest first; ``-1`` if empty.

    Agglomerative clustering (average linkage, cosine) of a seeded sample of at most
    ``max_fit`` distinct inputs (``distinct``: one index per distinct text), then every
    input joins the nearest cluster centroid, so 100k inputs cost one matrix product.

    Why average linkage and not k-means: k-means spends its clusters splitting the
    big, spread-out kinds of request and folds a small, far-away kind (1 % of traffic
    in another language) into one of them; average linkage merges the far-away kind
    last, so it keeps its own cluster. Why distinct inputs: a request typed 5,000 times
    must not count 5,000 times when drawing the map.
    """
    n = len(vecs)
    labels = np.full(n, -1, dtype=np.intp)
    nonzero = np.einsum("ij,ij->i", vecs, vecs) > 0
    valid = np.flatnonzero(nonzero)
    if len(valid) == 0:
        return labels
    cand = np.arange(n) if distinct is None else np.asarray(distinct, dtype=np.intp)
    cand = cand[nonzero[cand]]
    k = max(1, min(k, len(cand)))
    if k == 1:
        labels[valid] = 0
        return labels
    rng = rng_for(seed, "clusters")
    fit = cand if len(cand) <= max_fit else np.sort(rng.choice(cand, max_fit, replace=False))
    from sklearn.cluster import AgglomerativeClustering

    sub = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(
        vecs[fit]
    )
    cents = np.zeros((k, vecs.shape[1]), dtype=np.float32)
    np.add.at(cents, sub, vecs[fit])
    cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    for start in range(0, len(valid), 16_384):
        part = valid[start : start + 16_384]
        labels[part] = np.argmax(vecs[part] @ cents.T, axis=1)
    labels[fit] = sub  # the fitted inputs keep the tree's own answer
    # Relabel by size, largest first, so cluster 0 is the most common kind.
    counts = np.bincount(labels[valid], minlength=k)
    rank = np.empty(k, dtype=np.intp)
    rank[np.argsort(-counts, kind="stable")] = np.arange(k)
    labels[valid] = rank[labels[valid]]
    return labels


def stratified_quotas(sizes: Sequence[int], n: int) -> list[int]:
    """Cases per cluster: a floor for every cluster, the rest in proportion to size.

    The floor, ``ceil(n / (2k))`` (capped by the cluster's size), is what puts rare
    kinds in; proportional shares for the other half keep the set looking like traffic.
    """
    k = len(sizes)
    if k == 0 or n <= 0:
        return [0] * k
    floor = math.ceil(n / (2 * k))
    quotas = [min(s, floor) for s in sizes]
    left = n - sum(quotas)
    while left > 0:
        room = [s - q for s, q in zip(sizes, quotas, strict=True)]
        total_room = sum(room)
        if total_room <= 0:
            break
        shares = allocate(left, {str(c): r for c, r in enumerate(room) if r > 0})
        for c, extra in shares.items():
            quotas[int(c)] += min(extra, room[int(c)])
        left = n - sum(quotas)
    return quotas


def stratified_order(labels: I64, seed: int, n: int) -> I64:
    """A seeded order whose first ``n`` picks follow :func:`stratified_quotas`.

    Clusters take turns (a smooth round-robin weighted by their quotas), each giving
    its members in seeded random order; after the quotas, everything else follows in
    random order so the strategy can stand in for duplicates and for other strategies
    that run dry.
    """
    rng = rng_for(seed, "stratified")
    k = int(labels.max()) + 1 if len(labels) else 0
    members = [rng.permutation(np.flatnonzero(labels == c)) for c in range(k)]
    quotas = stratified_quotas([len(m) for m in members], n)
    pos = [0] * k
    head: list[int] = []
    for c in schedule({str(c): q for c, q in enumerate(quotas)}):
        ci = int(c)
        head.append(int(members[ci][pos[ci]]))
        pos[ci] += 1
    rest = np.concatenate(
        [m[p:] for m, p in zip(members, pos, strict=True)] + [np.flatnonzero(labels < 0)]
    )
    return np.concatenate([np.array(head, dtype=np.intp), rng.permutation(rest)]).astype(np.intp)


@dataclass(frozen=True)
class NoveltyScores:
    """Nearest-neighbour cosine distance of each input to the reference set, and ``tau``.

    ``tau`` is the reference set's own conformal 95 % leave-one-out nearest-neighbour
    distance, the same calibration ``pilotgate shift`` uses: an input farther than
    ``tau`` is not covered.
    """

    distance: F64
    tau: float

    @property
    def covered(self) -> npt.NDArray[np.bool_]:
        out: npt.NDArray[np.bool_] = self.distance <= self.tau
        return out


def novelty_scores(vecs: F32, ref: F32, *, level: float = 0.95) -> NoveltyScores:
    """Distance from each input to its nearest reference case, calibrated as in shift."""
    ref = ref[np.einsum("ij,ij->i", ref, ref) > 0]
    dist = np.full(len(vecs), 1.0)
    if len(ref) == 0:
        return NoveltyScores(dist, 0.0)
    ref_t = np.ascontiguousarray(ref.T)
    for start in range(0, len(vecs), 8_192):
        sims = vecs[start : start + 8_192] @ ref_t
        dist[start : start + len(sims)] = np.clip(1.0 - sims.max(axis=1), 0.0, 2.0)
    if len(ref) < 2:
        return NoveltyScores(dist, 0.05)
    loo_sims = ref @ ref_t
    np.fill_diagonal(loo_sims, -np.inf)
    loo = np.sort(np.clip(1.0 - loo_sims.max(axis=1), 0.0, 2.0))
    rank = min(len(loo), math.ceil(level * (len(loo) + 1)))
    return NoveltyScores(dist, float(loo[rank - 1]))


def novelty_order(scores: NoveltyScores, seed: int) -> I64:
    """Uncovered inputs first, then covered ones; within each, weighted by distance."""
    rng = rng_for(seed, "novelty")
    w = np.maximum(scores.distance, 1e-6)
    cov = scores.covered
    first = _weighted_order(np.where(cov, 0.0, w), rng)
    second = _weighted_order(np.where(cov, w, 0.0), rng)
    return np.concatenate([first, second])


def allocate(size: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``size`` by weight with the largest-remainder method (deterministic ties)."""
    total = sum(weights.values())
    raw = {k: size * w / total for k, w in weights.items()}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    left = size - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(weights).index(k)))[:left]:
        out[k] += 1
    return out


def schedule(quotas: Mapping[str, int]) -> list[str]:
    """A smooth weighted round-robin of strategy names, ``quotas[s]`` times each.

    Interleaving (rather than strategy after strategy) means that when candidates run
    short or duplicates are dropped, every strategy has had its turns so far.
    """
    names: Sequence[str] = [k for k, q in quotas.items() if q > 0]
    total = sum(quotas[k] for k in names)
    current = dict.fromkeys(names, 0.0)
    out: list[str] = []
    for _ in range(total):
        for k in names:
            current[k] += quotas[k]
        best = max(names, key=lambda k: current[k])
        current[best] -= total
        out.append(best)
    return out


# ------------------------------------------------------- the built-ins, on the registry
@CASE_STRATEGIES.register("uniform")
def uniform_strategy(inp: StrategyInput) -> I64:
    """Every interaction equally likely."""
    return uniform_order(len(inp.pool), inp.seed)


@CASE_STRATEGIES.register("stratified")
def stratified_strategy(inp: StrategyInput) -> I64:
    """Kinds of request: input clusters take turns by their quotas."""
    return stratified_order(inp.labels, inp.seed, inp.quota)


@CASE_STRATEGIES.register("failures")
def failures_strategy(inp: StrategyInput) -> I64:
    """What went wrong, weighted by the failure kinds' weights."""
    order = failures_order(inp.pool, inp.seed, inp.failure_weights)
    if not len(order):
        inp.notes.append("failures: no interaction has a failure signal")
    return order


@CASE_STRATEGIES.register("novelty")
def novelty_strategy(inp: StrategyInput) -> I64:
    """What the eval set it improves on does not cover yet (uniform when there is none)."""
    scores = inp.novelty()
    if scores is None:
        out: I64 = rng_for(inp.seed, "novelty").permutation(len(inp.pool))
        return out
    return novelty_order(scores, inp.seed)
