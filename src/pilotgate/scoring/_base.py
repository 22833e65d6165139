"""The :class:`Score` type, the scorer registry and configured (bound) scorers.

A scorer is a plain function ``fn(output, reference=None, *, input=None, **config)``
returning a :class:`Score` (or a bool, or a float in [0, 1]). It is registered under a
name with :func:`scorer` and configured by name and keyword arguments with
:func:`get_scorer`, which records both, so a report can name exactly what judged it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pilotgate._registry import Registry
from pilotgate.errors import ConfigError

__all__ = [
    "NO_REFERENCE",
    "NO_VERDICT",
    "SCORERS",
    "BoundScorer",
    "Score",
    "ScoreFn",
    "is_scored",
    "scored_phrase",
    "scorer",
]


@dataclass(frozen=True)
class Score:
    """One judgement.

    Attributes:
        value: how good, in ``[0, 1]`` (1 = perfect); graded scorers use the range.
        passed: the verdict the statistics count.
        detail: a short human-readable reason ("label 'billing' != 'card'").
        scored: False when the scorer could not judge the case at all (no reference, a
            judge reply with no verdict); ``detail`` then says why. Such a case is
            "not scored", never "failed": statistics leave it out and count it apart.
    """

    value: float
    passed: bool
    detail: str = ""
    scored: bool = True

    def __post_init__(self) -> None:
        v = float(self.value)
        object.__setattr__(self, "value", 0.0 if v != v else min(1.0, max(0.0, v)))

    @classmethod
    def of(cls, ok: bool, detail: str = "") -> Score:
        """A binary score."""
        return cls(1.0 if ok else 0.0, ok, detail)

    @classmethod
    def not_applicable(cls, reason: str) -> Score:
        """The scorer cannot judge this case (``reason`` says why, e.g. ``NO_REFERENCE``)."""
        return cls(0.0, False, reason, scored=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "passed": self.passed, "detail": self.detail}
        out["scored"] = self.scored
        return out


NO_REFERENCE = "no reference"
"""The reason a reference-based scorer gives for a case without one."""


NO_VERDICT = "judge gave no verdict"
"""The reason a judge gives when no reply (after its retries) held a verdict."""

_PHRASES = {NO_REFERENCE: "have no reference", NO_VERDICT: "got no judge verdict"}


def scored_phrase(n_scored: int, reasons: Mapping[str, int]) -> str:
    """ "280 of 300 scored (20 have no reference)": how many cases a number stands on.

    Args:
        n_scored: cases the scorer judged.
        reasons: why the others were not judged, ``{reason: count}``.
    """
    n_unscored = sum(reasons.values())
    total = n_scored + n_unscored
    if not n_unscored:
        return f"{total} of {total} scored"
    parts = []
    for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        head = next((p for r, p in _PHRASES.items() if reason.startswith(r)), None)
        parts.append(f"{count} {head}" if head else f"{count} not scored: {reason}")
    return f"{n_scored} of {total} scored ({', '.join(parts)})"


def is_scored(score: Mapping[str, Any] | None) -> bool:
    """Whether a stored score (``Score.to_json()``) is a judgement; older rows lack the flag."""
    return score is not None and bool(score.get("scored", True))


ScoreResult = Score | bool | float
ScoreFn = Callable[..., ScoreResult | Awaitable[ScoreResult]]

SCORERS: Registry[ScoreFn] = Registry("scorer")


def scorer(name: str, **meta: Any) -> Callable[[ScoreFn], ScoreFn]:
    """Register a scoring function under ``name`` (``meta``: e.g. ``description``)."""

    def deco(fn: ScoreFn) -> ScoreFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        meta.setdefault("description", doc[0] if doc else "")
        SCORERS.add(name, fn, **meta)
        return fn

    return deco


def _to_score(res: ScoreResult) -> Score:
    if isinstance(res, Score):
        return res
    if isinstance(res, bool):
        return Score.of(res)
    if isinstance(res, int | float):
        return Score(float(res), float(res) >= 0.5)
    raise TypeError(f"a scorer returned {type(res).__name__}; expected Score, bool or float")


@dataclass(frozen=True)
class BoundScorer:
    """A registered scorer with its configuration, callable as ``s(output, reference)``.

    Attributes:
        name: the registry name.
        kwargs: the configuration it was built with (kept for reports and re-runs).
    """

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    fn: ScoreFn = field(default=lambda *a, **k: False, repr=False, compare=False)

    def __call__(self, output: str, reference: Any = None, *, input: str | None = None) -> Score:
        """Score synchronously (a coroutine-returning scorer must use :meth:`ascore`)."""
        res = self.fn(output, reference, input=input, **self.kwargs)
        if inspect.isawaitable(res):
            close = getattr(res, "close", None)
            if close is not None:
                close()
            raise ConfigError(
                f"scorer {self.name!r} is asynchronous", fix="await scorer.ascore(...) instead"
            )
        return _to_score(res)

    async def ascore(
        self, output: str, reference: Any = None, *, input: str | None = None
    ) -> Score:
        """Score, awaiting the scorer when it is asynchronous (an LLM judge)."""
        res = self.fn(output, reference, input=input, **self.kwargs)
        if inspect.isawaitable(res):
            res = await res
        return _to_score(res)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kwargs": dict(self.kwargs)}
