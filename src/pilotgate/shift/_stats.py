"""Two-sample tests, effect sizes, multiple-testing correction and intervals.

Why both a test and an effect size: with 100k production inputs a test finds any
difference, however small, significant; with 50 it misses real ones. A descriptor is
flagged only when the corrected p-value is small *and* the effect is large enough to
matter (PSI >= 0.1, the conventional "moderate shift" line).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "TestResult",
    "benjamini_hochberg",
    "categorical_test",
    "numeric_test",
    "psi",
]

F64 = npt.NDArray[np.float64]


@dataclass
class TestResult:
    """One two-sample comparison (eval vs production) of one descriptor."""

    descriptor: str
    test: str
    statistic: float
    p_value: float
    psi: float
    wasserstein: float | None
    eval_summary: float | dict[str, float]
    production_summary: float | dict[str, float]
    n_eval: int
    n_production: int
    q_value: float = 1.0
    flagged: bool = False


def psi(expected: F64, actual: F64, eps: float = 1e-4) -> float:
    """Population stability index between two binned distributions (counts or shares)."""
    e = expected / max(expected.sum(), 1e-12)
    a = actual / max(actual.sum(), 1e-12)
    e = np.clip(e, eps, None)
    a = np.clip(a, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_bins(ref: F64, other: F64, n_bins: int = 10) -> tuple[F64, F64]:
    """Counts of both samples in bins cut at the reference sample's deciles."""
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    o = np.bincount(np.searchsorted(edges, other, side="right"), minlength=len(edges) + 1)
    return r.astype(np.float64), o.astype(np.float64)


def numeric_test(name: str, kind: str, eval_v: F64, prod_v: F64) -> TestResult:
    """KS for continuous descriptors, Mann-Whitney for counts; PSI and Wasserstein effects.

    Why Mann-Whitney for counts: KS assumes continuous data and is very conservative
    with heavy ties (most messages have 0 or 1 question marks); the rank test handles
    ties with its correction. NaNs (undefined values, e.g. typo rate of non-English
    text) are dropped first.
    """
    from scipy import stats

    e = eval_v[~np.isnan(eval_v)]
    p = prod_v[~np.isnan(prod_v)]
    if len(e) < 2 or len(p) < 2:
        return TestResult(
            name, "none", math.nan, 1.0, 0.0, None, _mean(e), _mean(p), len(e), len(p)
        )
    if np.ptp(np.concatenate([e, p])) == 0:
        stat, pv, test = 0.0, 1.0, "constant"
    elif kind == "count":
        res = stats.mannwhitneyu(e, p, alternative="two-sided")
        stat, pv, test = float(res.statistic), float(res.pvalue), "mann-whitney"
    else:
        with warnings.catch_warnings():  # "exact calculation unsuccessful" is not news
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.ks_2samp(e, p)
        stat, pv, test = float(res.statistic), float(res.pvalue), "ks"
    r, o = _numeric_bins(e, p)
    return TestResult(
        name,
        test,
        stat,
        pv,
        psi(r, o),
        float(stats.wasserstein_distance(e, p)),
        _mean(e),
        _mean(p),
        len(e),
        len(p),
    )


def categorical_test(
    name: str, eval_v: Sequence[str], prod_v: Sequence[str], *, min_expected: float = 5.0
) -> TestResult:
    """Chi-square test of homogeneity on a 2 x k table; rare categories are pooled.

    Categories whose expected count falls under ``min_expected`` in either sample are
    merged into "other" so the chi-square approximation holds.
    """
    from scipy import stats

    count_e, count_p = Counter(eval_v), Counter(prod_v)
    cats = sorted(set(count_e) | set(count_p))
    ce = np.array([count_e[c] for c in cats], dtype=np.float64)
    cp = np.array([count_p[c] for c in cats], dtype=np.float64)
    shares_e = {c: float(x / max(len(eval_v), 1)) for c, x in zip(cats, ce, strict=True)}
    shares_p = {c: float(x / max(len(prod_v), 1)) for c, x in zip(cats, cp, strict=True)}
    effect = psi(ce, cp) if len(eval_v) and len(prod_v) else 0.0
    ne, np_ = ce.sum(), cp.sum()
    if ne == 0 or np_ == 0 or len(cats) < 2:
        return TestResult(
            name, "none", math.nan, 1.0, effect, None, shares_e, shares_p, int(ne), int(np_)
        )
    tot = ce + cp
    small = np.minimum(tot * ne / (ne + np_), tot * np_ / (ne + np_)) < min_expected
    if small.any():
        ce = np.append(ce[~small], ce[small].sum())
        cp = np.append(cp[~small], cp[small].sum())
        keep = (ce + cp) > 0
        ce, cp = ce[keep], cp[keep]
    if len(ce) < 2:
        return TestResult(
            name, "chi-square", 0.0, 1.0, effect, None, shares_e, shares_p, int(ne), int(np_)
        )
    chi2, pv, _, _ = stats.chi2_contingency(np.vstack([ce, cp]), correction=False)
    return TestResult(
        name,
        "chi-square",
        float(chi2),
        float(pv),
        effect,
        None,
        shares_e,
        shares_p,
        int(ne),
        int(np_),
    )


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    ``scipy.stats.false_discovery_control`` (method ``bh``).
    """
    if len(p_values) == 0:
        return []
    from scipy.stats import false_discovery_control

    q = false_discovery_control(np.asarray(p_values, dtype=np.float64), method="bh")
    return [float(x) for x in np.clip(q, 0.0, 1.0)]


def _mean(x: F64) -> float:
    return float(np.mean(x)) if len(x) else math.nan
