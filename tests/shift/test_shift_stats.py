"""Statistics: BH, PSI, Wilson, two-sample tests, calibration and the drift classifier."""

from __future__ import annotations

import numpy as np
import pytest

from pilotgate._coverage import calibrate, coverage_interval, nearest, novelty
from pilotgate._stats import wilson as wilson_interval
from pilotgate.shift._drift import classifier_test
from pilotgate.shift._stats import (
    benjamini_hochberg,
    categorical_test,
    numeric_test,
    psi,
)


def unit(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return out


def test_benjamini_hochberg_matches_hand_computation() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.0533333, 0.0533333, 0.5], rel=1e-4)
    assert benjamini_hochberg([]) == []


def test_psi_is_zero_for_equal_and_grows_with_shift() -> None:
    a = np.array([10.0, 20, 30, 40])
    assert psi(a, a) == pytest.approx(0.0)
    assert psi(a, np.array([40.0, 30, 20, 10])) > 0.25


def test_wilson_interval_contains_the_share_and_handles_extremes() -> None:
    ci, none_pass, all_pass = (
        wilson_interval(95, 100),
        wilson_interval(0, 10),
        wilson_interval(10, 10),
    )
    assert ci is not None and none_pass is not None and all_pass is not None
    lo, hi = ci
    assert lo < 0.95 < hi and hi - lo < 0.15
    assert none_pass[0] == 0.0
    assert all_pass[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) is None  # no data


def test_numeric_and_categorical_tests_pick_the_right_test_and_see_shift() -> None:
    rng = np.random.default_rng(0)
    same = numeric_test("chars", "continuous", rng.normal(size=400), rng.normal(size=4000))
    moved = numeric_test("chars", "continuous", rng.normal(size=400), rng.normal(1, 1, size=4000))
    assert same.psi is not None and moved.psi is not None and moved.wasserstein is not None
    assert same.test == "ks" and same.p_value > 0.01 and same.psi < 0.1
    assert moved.p_value < 1e-6 and moved.psi > 0.25 and moved.wasserstein > 0.5
    counts = numeric_test(
        "questions",
        "count",
        rng.poisson(1, 300).astype(np.float64),
        rng.poisson(2, 300).astype(np.float64),
    )
    assert counts.test == "mann-whitney" and counts.p_value < 1e-6
    nan = numeric_test("typo_rate", "continuous", np.array([np.nan] * 5), np.array([0.1] * 5))
    assert nan.test == "none" and nan.p_value == 1.0
    cat = categorical_test("language", ["en"] * 300, ["en"] * 250 + ["es"] * 50)
    assert cat.test == "chi-square" and cat.p_value < 1e-6
    assert cat.production_summary == {"en": 250 / 300, "es": 50 / 300}


def test_nearest_matches_brute_force_and_excludes_self() -> None:
    rng = np.random.default_rng(1)
    refs, queries = unit(rng.normal(size=(50, 8))), unit(rng.normal(size=(30, 8)))
    d, idx = nearest(refs, queries, k=3, chunk=7)
    full = 1 - queries @ refs.T
    assert np.array_equal(idx[:, 0], full.argmin(axis=1))
    assert np.allclose(d[:, 0], full.min(axis=1), atol=1e-5)
    assert np.all(np.diff(d, axis=1) >= -1e-9)
    loo, li = nearest(refs, refs, exclude_self=True)
    assert not np.any(li[:, 0] == np.arange(50)) and np.all(loo[:, 0] > 0)


@pytest.mark.parametrize(("n_eval", "n_prod"), [(300, 3000), (3000, 3000), (50, 5000)])
def test_calibrated_coverage_does_not_depend_on_sample_sizes(n_eval: int, n_prod: int) -> None:
    rng = np.random.default_rng(n_eval)
    pool = unit(rng.normal(size=(n_eval + n_prod, 16)))
    cal = calibrate(pool[:n_eval], level=0.95)
    d, _ = nearest(pool[:n_eval], pool[n_eval:])
    cov = float(np.mean(d[:, 0] <= cal.tau))
    lo, hi = coverage_interval(cal, d[:, 0], seed=0)
    assert 0.9 <= cov and lo <= cov <= hi
    assert np.all((novelty(cal, d[:, 0]) >= 0) & (novelty(cal, d[:, 0]) <= 1))


def test_coverage_interval_is_wider_for_a_small_eval_set() -> None:
    rng = np.random.default_rng(2)
    pool = unit(rng.normal(size=(6000, 16)))
    widths = []
    for n_eval in (40, 2000):
        cal = calibrate(pool[:n_eval])
        d, _ = nearest(pool[:n_eval], pool[3000:])
        lo, hi = coverage_interval(cal, d[:, 0], seed=0)
        widths.append(hi - lo)
    assert widths[0] > 2 * widths[1]


def test_one_eval_case_still_calibrates() -> None:
    cal = calibrate(unit(np.ones((1, 4))))
    assert cal.tau > 0 and len(cal.loo) == 1


def test_classifier_test_is_quiet_under_null_and_loud_under_shift() -> None:
    rng = np.random.default_rng(3)
    a, b = unit(rng.normal(size=(800, 16))), unit(rng.normal(size=(800, 16)))
    null = classifier_test("x", a, b, seed=0)
    assert not null.flagged and null.p_value > 0.01 and 0.4 < null.statistic < 0.6
    shifted = unit(rng.normal(size=(800, 16)) + np.eye(16)[0] * 1.5)
    alt = classifier_test("x", a, shifted, seed=0)
    assert alt.flagged and alt.statistic > 0.7 and alt.p_value <= 0.002
    assert classifier_test("x", a[:5], b[:5], seed=0).note == "too few inputs"
