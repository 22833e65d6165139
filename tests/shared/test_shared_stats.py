"""The one Wilson interval (pilotgate._stats) and the package names that now call it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotgate import _stats
from pilotgate._stats import Z95, wilson_interval
from pilotgate.evaluate import wilson as eval_wilson
from pilotgate.perturb import wilson as perturb_wilson
from pilotgate.report._stats import wilson as report_wilson
from pilotgate.shift._stats import wilson_interval as shift_wilson
from pilotgate.usage import wilson as usage_wilson

# (k, n) -> scipy.stats.binomtest(k, n).proportion_ci(method="wilson"), scipy 1.x
KNOWN = {
    (0, 10): (0.0, 0.27753279986288926),
    (8, 10): (0.4901624715366418, 0.9433178485456248),
    (10, 10): (0.7224672001371109, 1.0),
    (1, 1): (0.20654931437723745, 1.0),
    (30, 40): (0.5980603857923197, 0.858128813609037),
    (95, 100): (0.8882495307680809, 0.978456320845632),
    (3, 6): (0.18761630648265054, 0.8123836935173494),
    (999, 1000): (0.9943574414020421, 0.9998234536293739),
}
CASES = [(k, n) for n in (1, 2, 7, 10, 40, 100, 1000) for k in range(0, n + 1, max(1, n // 9))]


@pytest.mark.parametrize(("k", "n"), sorted(KNOWN))
def test_known_values(k: int, n: int) -> None:
    assert wilson_interval(k, n, exact_edges=True) == pytest.approx(KNOWN[k, n], abs=1e-12)


@pytest.mark.parametrize(("k", "n"), CASES)
def test_matches_scipy(k: int, n: int) -> None:
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(method="wilson")
    assert wilson_interval(k, n, exact_edges=True) == pytest.approx((ci.low, ci.high), abs=1e-12)
    ci99 = binomtest(k, n).proportion_ci(confidence_level=0.99, method="wilson")
    got = wilson_interval(k, n, 2.5758293035489004, exact_edges=True)
    assert got == pytest.approx((ci99.low, ci99.high), abs=1e-12)


def test_z95_is_the_normal_quantile() -> None:
    from scipy.stats import norm

    assert float(norm.ppf(0.975)) == pytest.approx(Z95, abs=1e-15)


def test_empty_sample_is_no_data_everywhere() -> None:
    """One convention at n = 0 across the package: None, never the uninformative (0, 1)."""
    from pilotgate.evaluate import mean_ci
    from pilotgate.perturb._stats import Rate
    from pilotgate.usage._stats import Rate as UsageRate

    assert wilson_interval(0, 0) is None
    assert wilson_interval(0, -3, exact_edges=True) is None
    for fn in (eval_wilson, perturb_wilson, report_wilson, shift_wilson, usage_wilson):
        assert fn(0, 0) is None
    assert mean_ci([]).to_json()["ci95"] is None
    assert Rate(0, 0).to_json()["ci95"] is None and Rate(0, 0).to_json()["pass_rate"] is None
    assert UsageRate(0, 0).to_json()["ci95"] is None


def _interval(successes: int, n: int, *, exact_edges: bool = False) -> tuple[float, float]:
    """``wilson_interval`` where n > 0, so never None."""
    ci = wilson_interval(successes, n, exact_edges=exact_edges)
    assert ci is not None
    return ci


def test_exact_edges_only_snaps_all_or_nothing() -> None:
    for n in range(1, 200):
        lo, _ = _interval(0, n, exact_edges=True)
        _, hi = _interval(n, n, exact_edges=True)
        assert (lo, hi) == (0.0, 1.0)
        raw_lo, _ = _interval(0, n)
        assert 0.0 <= raw_lo < 1e-15
    assert wilson_interval(3, 7, exact_edges=True) == wilson_interval(3, 7)


@given(st.integers(1, 10_000), st.data())
def test_interval_holds_the_share(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    for edges in (False, True):
        lo, hi = _interval(k, n, exact_edges=edges)
        assert 0.0 <= lo <= k / n + 1e-12 and k / n - 1e-12 <= hi <= 1.0


@pytest.mark.parametrize(("k", "n"), [*CASES, (0, 0)])
def test_package_names_keep_their_conventions(k: int, n: int) -> None:
    snapped = wilson_interval(k, n, exact_edges=True)
    assert eval_wilson(k, n) == snapped and perturb_wilson(k, n) == snapped
    assert shift_wilson(k, n) == wilson_interval(k, n, 1.959964)
    assert report_wilson(k, n) == wilson_interval(k, n, 1.959964)
    assert usage_wilson(k, n) == wilson_interval(k, n)


def test_import_loads_no_numpy() -> None:
    code = "import sys, pilotgate._stats; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert _stats.__all__ == ["Z95", "wilson_interval"]
