"""Table-driven verdict logic: estimate vs bound judging, sample sizes, no data, overall."""

from __future__ import annotations

import pytest

from pilotgate.gate import Evidence, MetricValue, NoData, judge, overall_verdict

EV = Evidence("load", "latest", "pilotgate load ...", "load-1")


def mv(value: float, ci: tuple[float, float] | None = None, n: int = 100) -> MetricValue:
    return MetricValue(value, ci, n, EV)


CASES = [
    # id, op, threshold, measured, min_samples, judge_on, status, judged value
    ("estimate passes >=", ">=", 0.7, mv(0.75, (0.66, 0.83)), 30, "estimate", "pass", 0.75),
    ("estimate fails >=", ">=", 0.7, mv(0.65, (0.6, 0.7)), 30, "estimate", "fail", 0.65),
    ("estimate equal passes >=", ">=", 0.7, mv(0.7), 30, "estimate", "pass", 0.7),
    ("strict > fails at equality", ">", 0.7, mv(0.7), 30, "estimate", "fail", 0.7),
    ("estimate passes <=", "<=", 4000, mv(3500, (3300, 4200)), 30, "estimate", "pass", 3500),
    ("bound >= uses lower bound: fail", ">=", 0.7, mv(0.75, (0.66, 0.83)), 30, "bound", "fail",
     0.66),
    ("bound >= uses lower bound: pass", ">=", 0.7, mv(0.8, (0.72, 0.87)), 30, "bound", "pass",
     0.72),
    ("bound <= uses upper bound: fail", "<=", 4000, mv(3500, (3300, 4200)), 30, "bound", "fail",
     4200),
    ("bound <= uses upper bound: pass", "<=", 4000, mv(3500, (3300, 3900)), 30, "bound", "pass",
     3900),
    ("bound < uses upper bound", "<", 0.02, mv(0.01, (0.005, 0.02)), 30, "bound", "fail", 0.02),
    ("bound without interval, estimate fails", "<=", 4000, mv(4500), 30, "bound", "fail", 4500),
    ("bound without interval, estimate passes", "<=", 4000, mv(3500), 30, "bound",
     "insufficient_data", None),
    ("too few samples", ">=", 0.7, mv(0.9, (0.8, 0.95), n=29), 30, "estimate",
     "insufficient_data", None),
    ("exactly min samples", ">=", 0.7, mv(0.9, (0.8, 0.95), n=30), 30, "estimate", "pass", 0.9),
    ("too few samples even if failing", ">=", 0.7, mv(0.1, n=5), 30, "estimate",
     "insufficient_data", None),
    ("no data", ">=", 0.7, NoData("no load run", EV), 30, "estimate", "insufficient_data", None),
    ("== bound needs a zero-width interval", "==", 1.0, mv(1.0, (0.9, 1.0)), 30, "bound", "fail",
     0.9),
    ("!= bound excludes the threshold", "!=", 0.0, mv(0.2, (0.1, 0.3)), 30, "bound", "pass", 0.2),
    ("!= bound containing the threshold", "!=", 0.0, mv(0.2, (-0.1, 0.3)), 30, "bound", "fail",
     0.0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("op", "threshold", "measured", "min_samples", "judge_on", "status", "judged"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_judge(
    op: str,
    threshold: float,
    measured: MetricValue | NoData,
    min_samples: int,
    judge_on: str,
    status: str,
    judged: float | None,
) -> None:
    j = judge(op, threshold, measured=measured, min_samples=min_samples, judge_on=judge_on)
    assert j.status == status, j.reason
    assert j.judged_value == judged
    assert j.reason


def test_reasons_name_the_cause() -> None:
    few = judge(">=", 0.7, measured=mv(0.9, n=3), min_samples=30)
    assert "n = 3 < min_samples = 30" in few.reason
    none = judge(">=", 0.7, measured=NoData("no load run in the window", EV), min_samples=1)
    assert "no load run in the window" in none.reason
    bound = judge("<=", 4000, measured=mv(3500, (3300, 4200)), min_samples=1, judge_on="bound")
    assert "4200" in bound.reason and "[3300, 4200]" in bound.reason


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        (["pass", "pass"], "pass"),
        (["pass", "insufficient_data"], "insufficient_data"),
        (["insufficient_data", "fail", "pass"], "fail"),
        (["fail"], "fail"),
        ([], "insufficient_data"),
    ],
)
def test_overall(statuses: list[str], verdict: str) -> None:
    assert overall_verdict(statuses) == verdict
