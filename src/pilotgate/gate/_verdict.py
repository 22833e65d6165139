"""Judging one criterion, and the overall verdict.

A criterion is judged on the estimate, or (``judge_on = "bound"``) on the conservative end
of its 95 % interval: the lower bound for ``>``/``>=``, the upper bound for ``<``/``<=``.
Below ``min_samples``, or with no data, the answer is ``insufficient_data``: the gate
refuses to decide on too little evidence rather than guess.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pilotgate.gate._catalogue import MetricValue, NoData

__all__ = ["FAIL", "INSUFFICIENT", "PASS", "Judgement", "judge", "overall_verdict"]

PASS = "pass"
FAIL = "fail"
INSUFFICIENT = "insufficient_data"

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Judgement:
    """The status of one criterion, the number it was decided on, and why."""

    status: str
    judged_value: float | None
    reason: str


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _bound(op: str, value: float, ci: tuple[float, float], threshold: float) -> float:
    """The end of the interval that is least favourable to passing."""
    lo, hi = ci
    if op in (">", ">="):
        return lo
    if op in ("<", "<="):
        return hi
    if op == "==":  # passes only if the whole interval equals the threshold
        return lo if lo != threshold else hi
    # "!=": passes only if the interval excludes the threshold
    return threshold if lo <= threshold <= hi else value


def judge(
    op: str,
    threshold: float,
    *,
    measured: MetricValue | NoData,
    min_samples: int,
    judge_on: str = "estimate",
) -> Judgement:
    """Pass, fail or insufficient data for ``measured <op> threshold``."""
    if isinstance(measured, NoData):
        return Judgement(INSUFFICIENT, None, f"no data: {measured.reason}")
    if measured.value is None:
        return Judgement(INSUFFICIENT, None, "no value")
    if measured.n < min_samples:
        return Judgement(INSUFFICIENT, None, f"n = {measured.n} < min_samples = {min_samples}")
    cmp = _OPS[op]
    value = measured.value
    if judge_on != "bound":
        ok = cmp(value, threshold)
        return Judgement(
            PASS if ok else FAIL, value, f"estimate {_fmt(value)} {op} {_fmt(threshold)}: {ok}"
        )
    if measured.ci95 is None:
        # The bound is never more favourable than the estimate: a failing estimate fails;
        # a passing one cannot be confirmed without an interval.
        if not cmp(value, threshold):
            return Judgement(
                FAIL, value, f"estimate {_fmt(value)} already fails {op} {_fmt(threshold)}"
            )
        return Judgement(
            INSUFFICIENT,
            None,
            "judge_on = 'bound' but the metric has no interval; the estimate "
            f"{_fmt(value)} passes, the bound cannot be checked",
        )
    b = _bound(op, value, measured.ci95, threshold)
    ok = cmp(b, threshold) and (op != "==" or measured.ci95[0] == measured.ci95[1] == threshold)
    lo, hi = measured.ci95
    return Judgement(
        PASS if ok else FAIL,
        b,
        f"95 % interval [{_fmt(lo)}, {_fmt(hi)}]: bound {_fmt(b)} {op} {_fmt(threshold)}: {ok}",
    )


def overall_verdict(statuses: Iterable[str]) -> str:
    """fail if any failed, else insufficient_data if any lacks data, else pass.

    No criteria at all is ``insufficient_data``: a gate with nothing declared decides nothing.
    """
    seen = set(statuses)
    if not seen:
        return INSUFFICIENT
    if FAIL in seen:
        return FAIL
    if INSUFFICIENT in seen:
        return INSUFFICIENT
    return PASS
