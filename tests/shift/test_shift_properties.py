"""Property tests: invariants that hold for any input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate._coverage import Calibration, novelty
from pilotgate._stats import wilson as wilson_interval
from pilotgate.embeddings._lexical import LexicalEmbedder
from pilotgate.shift._stats import benjamini_hochberg

EMB = LexicalEmbedder(dim=64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=8))
def test_lexical_vectors_are_unit_or_zero_for_any_text(texts: list[str]) -> None:
    v = EMB.embed(texts)
    norms = np.linalg.norm(v, axis=1)
    assert v.shape == (len(texts), 64) and np.all(np.isfinite(v))
    assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0))
    assert np.array_equal(v, EMB.embed(texts))


@settings(deadline=None)  # the first example imports scipy.stats
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_bh_q_values_bound_p_values_and_keep_their_order(p: list[float]) -> None:
    q = benjamini_hochberg(p)
    assert all(qi >= pi - 1e-12 and qi <= 1 for pi, qi in zip(p, q, strict=True))
    order = np.argsort(p, kind="stable")
    assert all(q[order[i]] <= q[order[i + 1]] + 1e-12 for i in range(len(p) - 1))


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_interval_is_inside_unit_and_contains_the_share(k: int, n: int) -> None:
    k = min(k, n)
    ci = wilson_interval(k, n)
    assert ci is not None
    lo, hi = ci
    assert 0 <= lo <= k / n + 1e-12 and k / n - 1e-12 <= hi <= 1


@given(
    st.lists(st.floats(0, 2), min_size=2, max_size=50),
    st.lists(st.floats(0, 2), min_size=1, max_size=50),
)
def test_novelty_is_a_share_and_grows_with_distance(loo: list[float], d: list[float]) -> None:
    cal = Calibration(np.sort(np.array(loo)), 0.95, float(np.max(loo)))
    dist = np.sort(np.array(d))
    nov = novelty(cal, dist)
    assert np.all((nov >= 0) & (nov <= 1)) and np.all(np.diff(nov) >= 0)


@given(
    st.lists(st.floats(0, 1), min_size=2, max_size=50),
    st.lists(st.integers(0, 2000), min_size=2, max_size=50, unique=True),
)
def test_novelty_is_strictly_monotone_so_it_ranks_as_distance_does(
    loo: list[float], d: list[int]
) -> None:
    """No ties beyond the farthest eval spacing: novelty orders inputs exactly as distance."""
    cal = Calibration(np.sort(np.array(loo)), 0.95, float(np.max(loo)))
    dist = np.sort(np.array(d)) / 1000  # cosine distances 0.001 apart, up to 2
    nov = novelty(cal, dist)
    assert np.all((nov >= 0) & (nov < 1))
    far = dist > max(loo)
    assert np.all(np.diff(nov[far]) > 0)  # strictly increasing past the calibration
    assert np.all(np.diff(nov) >= 0)
    # at the i-th smallest eval spacing it is the calibrated rank i / (n + 1)
    q = np.sort(np.array(loo))
    # (distances closer than 1e-12 count as equal: novelty's documented resolution)
    if len(np.unique(np.round(q, 12))) == len(q) and q[0] > 1e-12:
        assert novelty(cal, q) == pytest.approx(np.arange(1, len(q) + 1) / (len(q) + 1))
