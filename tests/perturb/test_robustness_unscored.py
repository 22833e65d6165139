"""Robustness counts only the pairs its scorer could judge (issue 15, point 1)."""

from __future__ import annotations

from pilotgate.perturb._report import PairResult, group_pairs


def _pair(i: int, passed: bool, *, scored: bool = True, error: str | None = None) -> PairResult:
    return PairResult(
        case_id=f"c{i}",
        perturbed_id=f"c{i}~typo~0",
        perturbation="typo",
        family="character",
        severity=0.5,
        k=0,
        expectation="consistency",
        original="x",
        perturbed="y",
        output_original="o",
        output_perturbed="p",
        passed=passed,
        value=float(passed),
        detail="" if scored else "no reference",
        error=error,
        scored=scored,
    )


def test_unscored_pairs_are_left_out_and_counted_apart() -> None:
    pairs = [_pair(i, i % 2 == 0) for i in range(8)]  # 4 of 8 pass
    pairs += [_pair(100 + i, False, scored=False) for i in range(3)]
    pairs.append(_pair(200, False, error="timeout"))  # an error stays a failure
    g = group_pairs("typo", "character", "consistency", pairs, baseline=1.0)
    assert (g.rate.n, g.rate.passed) == (9, 4)
    doc = g.to_json(10)
    assert doc["n_scored"] == 9 and doc["n_unscored"] == 3
    assert doc["unscored_reasons"] == {"no reference": 3}
    assert all(f["case_id"] not in {"c100", "c101", "c102"} for f in doc["failures"])
