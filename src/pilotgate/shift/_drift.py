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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["DriftTest", "classifier_test"]

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
