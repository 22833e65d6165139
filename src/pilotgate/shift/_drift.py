"""Embedding drift: a classifier two-sample test with a permutation p-value.

Why a classifier: if a model cannot tell eval from production embeddings better than
chance, there is no shift it can see; its held-out ROC AUC is also an effect size people
already read (Evidently flags text drift at AUC > 0.55, NannyML outside 0.45–0.65).

Why this p-value is valid: the classifier is fitted on one half and scored on the other;
given the fitted model, the held-out scores are fixed and, under no shift, the held-out
labels are exchangeable, so shuffling them gives the exact null distribution of the AUC
(Lopez-Paz & Oquab 2017). Both samples are capped (a seeded uniform sample) and
balanced, which keeps the cost to a second and keeps AUC comparable across runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from pilotgate._stats import wilson

__all__ = ["DriftTest", "classifier_test", "coverage_by_day", "early_late"]

F32 = npt.NDArray[np.float32]


@dataclass
class DriftTest:
    """One embedding-level two-sample comparison."""

    name: str
    test: str
    statistic: float  # held-out ROC AUC
    p_value: float
    n_a: int
    n_b: int
    flagged: bool
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "test": self.test,
            "auc": round(self.statistic, 4),
            "statistic": round(self.statistic, 4),
            "p_value": self.p_value,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "flagged": self.flagged,
            "note": self.note,
        }


def classifier_test(
    name: str,
    a: F32,
    b: F32,
    *,
    seed: int,
    max_per_side: int = 2_000,
    n_permutations: int = 1_000,
    alpha: float = 0.01,
    min_auc: float = 0.55,
) -> DriftTest:
    """Held-out AUC of a logistic regression telling ``a`` from ``b``, with its p-value.

    Flagged when ``p < alpha`` and ``AUC >= min_auc`` (a shift too small to matter is
    not reported as drift, however many inputs make it significant).
    """
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b), max_per_side)
    if n < 10:
        return DriftTest(name, "classifier-auc", 0.5, 1.0, len(a), len(b), False, "too few inputs")
    xa = a[rng.choice(len(a), n, replace=False)]
    xb = b[rng.choice(len(b), n, replace=False)]
    x = np.vstack([xa, xb]).astype(np.float64)
    y = np.concatenate([np.zeros(n), np.ones(n)])
    perm = rng.permutation(2 * n)
    train, test = perm[:n], perm[n:]
    if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
        return DriftTest(name, "classifier-auc", 0.5, 1.0, n, n, False, "degenerate split")
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=300)
    model.fit(x[train], y[train])
    scores = model.decision_function(x[test])
    auc, p = _auc_permutation(scores, y[test], rng, n_permutations)
    return DriftTest(name, "classifier-auc", auc, p, n, n, bool(p < alpha and auc >= min_auc))


def _auc_permutation(
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.float64],
    rng: np.random.Generator,
    k: int,
) -> tuple[float, float]:
    """AUC from ranks, and the one-sided permutation p-value (1 + #{perm >= obs})/(1 + k)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    pos = labels == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())

    def auc_of(mask: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        r: npt.NDArray[np.float64] = (ranks @ mask.T - n1 * (n1 + 1) / 2) / (n1 * n0)
        return r

    obs = float(auc_of(pos[None, :].astype(np.float64))[0])
    null = np.empty(k)
    for start in range(0, k, 200):
        m = min(200, k - start)
        masks = np.array([rng.permutation(pos) for _ in range(m)], dtype=np.float64)
        null[start : start + m] = auc_of(masks)
    p = (1.0 + float(np.sum(null >= obs - 1e-12))) / (1.0 + k)
    return obs, p


def early_late(
    ts: Sequence[datetime | None], vecs: F32, seed: int, alpha: float
) -> DriftTest | None:
    known = [(t, i) for i, t in enumerate(ts) if t is not None]
    if len(known) < 40:
        return None
    known.sort(key=lambda ti: ti[0])
    first, last = known[0][0], known[-1][0]
    if last - first >= timedelta(days=14):
        early = [i for t, i in known if t < first + timedelta(days=7)]
        late = [i for t, i in known if t > last - timedelta(days=7)]
        note = "first 7 days vs last 7 days"
    else:
        third = len(known) // 3
        early = [i for _, i in known[:third]]
        late = [i for _, i in known[-third:]]
        note = "first third vs last third (by time)"
    res = classifier_test("early_vs_late", vecs[early], vecs[late], seed=seed + 1, alpha=alpha)
    res.note = note
    return res


def coverage_by_day(
    ts: Sequence[datetime | None], covered: npt.NDArray[np.bool_]
) -> list[dict[str, object]]:
    days: dict[str, list[int]] = {}
    for t, c in zip(ts, covered, strict=True):
        if t is not None:
            counts = days.setdefault(t.date().isoformat(), [0, 0])
            counts[0] += 1
            counts[1] += int(c)
    out: list[dict[str, object]] = []
    for day in sorted(days):
        n, k = days[day]
        lo, hi = wilson(k, n) or (0.0, 1.0)  # n >= 1: a day has a record
        out.append(
            {"day": day, "n": n, "coverage": round(k / n, 4), "ci95": [round(lo, 4), round(hi, 4)]}
        )
    return out
