"""The one home of rates and Wilson intervals (pilotgate._stats), with one convention."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotgate import _stats
from pilotgate._stats import Z95, Rate, wilson

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
    assert wilson(k, n) == pytest.approx(KNOWN[k, n], abs=1e-12)


@pytest.mark.parametrize(("k", "n"), CASES)
def test_matches_scipy(k: int, n: int) -> None:
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(method="wilson")
    assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    ci99 = binomtest(k, n).proportion_ci(confidence_level=0.99, method="wilson")
    got = wilson(k, n, 2.5758293035489004)
    assert got == pytest.approx((ci99.low, ci99.high), abs=1e-12)


def test_z95_is_the_normal_quantile() -> None:
    from scipy.stats import norm

    assert float(norm.ppf(0.975)) == pytest.approx(Z95, abs=1e-15)


def test_empty_sample_is_no_data_everywhere() -> None:
    """One convention at n = 0 across the package: None, never the uninformative (0, 1)."""
    from pilotgate.evaluate import mean_ci

    assert wilson(0, 0) is None
    assert wilson(0, -3) is None
    assert mean_ci([]).to_json()["ci95"] is None
    assert Rate(0, 0).pass_json()["ci95"] is None and Rate(0, 0).pass_json()["pass_rate"] is None
    assert Rate(0, 0).to_json() == {"value": None, "ci95": None, "n": 0, "k": 0}


def test_edges_are_exact_for_all_or_nothing() -> None:
    for n in range(1, 200):
        lo, _ = wilson(0, n) or (1.0, 1.0)
        _, hi = wilson(n, n) or (0.0, 0.0)
        assert (lo, hi) == (0.0, 1.0)


@given(st.integers(1, 10_000), st.data())
def test_interval_holds_the_share(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    ci = wilson(k, n)
    assert ci is not None
    lo, hi = ci
    assert 0.0 <= lo <= k / n + 1e-12 and k / n - 1e-12 <= hi <= 1.0


def test_one_rate_k_of_n() -> None:
    r = Rate.of([True, True, False, True])
    assert (r.k, r.n, r.passed, r.value, r.pass_rate) == (3, 4, 3, 0.75, 0.75)
    assert r.ci95 == wilson(3, 4)
    assert Rate(k=1, n=2) + Rate(k=2, n=2) == Rate(3, 4)
    doc = Rate(30, 40).pass_json()
    assert doc["n"] == 40 and doc["passed"] == 30 and doc["pass_rate"] == 0.75
    assert doc["ci95"] == [round(x, 6) for x in wilson(30, 40) or ()]
    assert Rate(30, 40).to_json() == {
        "value": 0.75,
        "ci95": list(wilson(30, 40) or ()),
        "n": 40,
        "k": 30,
    }


def test_one_home_no_wrappers() -> None:
    """No package defines its own Wilson interval or Rate class any more."""
    import pilotgate.perturb
    import pilotgate.usage

    assert pilotgate.perturb.Rate is Rate and pilotgate.usage.Rate is Rate
    src = Path(pilotgate.__file__).parent
    for path in src.rglob("*.py"):
        if path == Path(_stats.__file__):
            continue
        text = path.read_text(encoding="utf-8")
        assert "def wilson" not in text and "class Rate(" not in text, path


def test_import_loads_no_numpy() -> None:
    code = "import sys, pilotgate._stats; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert _stats.__all__ == ["Z95", "Rate", "wilson"]
