"""The typed result of a robustness run, its ``--json`` document and its store rows."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pilotgate._stats import Rate

__all__ = ["CurvePoint", "GroupStat", "PairResult", "RobustnessResult"]

SCHEMA = "pilotgate.robustness/1"


@dataclass(frozen=True)
class PairResult:
    """One perturbed input judged against its original.

    Attributes:
        case_id: the original case.
        perturbed_id: ``"<case id>~<perturbation>~<k>"``.
        perturbation: registry name; ``family`` its family.
        severity: the severity it was generated at; ``k`` the sample index.
        expectation: what was judged: ``consistency``, ``correctness``, ``refusal``,
            ``not_injected``.
        original: the original input (text); ``perturbed`` what was sent instead.
        output_original: the target's answer to the original ("" on error).
        output_perturbed: its answer to the perturbed input.
        passed: the verdict; ``value`` the score in [0, 1]; ``detail`` why.
        unchanged: the perturbation left this input as it was (not counted in n).
        error: target error class on the perturbed call (counted as a failure), or on
            the original when consistency could not be judged (not counted).
        scored: False when the scorer could not judge the pair (e.g. the original's
            answer holds no label to be consistent with); ``detail`` says why. Not
            counted: it is "not scored", never "failed".
    """

    case_id: str
    perturbed_id: str
    perturbation: str
    family: str
    severity: float
    k: int
    expectation: str
    original: str
    perturbed: str
    output_original: str
    output_perturbed: str
    passed: bool
    value: float
    detail: str
    unchanged: bool = False
    error: str | None = None
    scored: bool = True

    @property
    def counted(self) -> bool:
        """Whether this pair enters the pass rate."""
        return self.scored and not self.unchanged and not (self.error or "").startswith("original:")

    def failure_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "id": self.perturbed_id,
            "severity": self.severity,
            "original": self.original,
            "perturbed": self.perturbed,
            "output_original": self.output_original,
            "output_perturbed": self.output_perturbed,
            "score": round(self.value, 6),
            "detail": self.detail,
            "error": self.error,
        }


@dataclass(frozen=True)
class CurvePoint:
    """Pass rate at one severity."""

    severity: float
    rate: Rate

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, **self.rate.pass_json()}


@dataclass
class GroupStat:
    """Statistics of one perturbation or one family at the run's main severity.

    Attributes:
        name: perturbation or family name.
        family: the family (same as name for a family).
        expectation: what its pairs were judged on.
        rate: pass rate with interval over counted pairs.
        baseline: the pass rate on clean inputs it is compared with (None when the
            expectation has no clean counterpart: refusal, not_injected).
        n_unchanged: pairs skipped because the perturbation did not change the input.
        n_errors: perturbed calls that failed (counted as failures).
        unscored: pairs the scorer could not judge, by reason (not counted).
        failures: failing pairs, worst first.
        severity: the severity (perturbations only).
    """

    name: str
    family: str
    expectation: str
    rate: Rate
    baseline: float | None
    n_unchanged: int = 0
    n_errors: int = 0
    unscored: dict[str, int] = field(default_factory=dict)
    failures: list[PairResult] = field(default_factory=list)
    severity: float | None = None

    @property
    def drop(self) -> float | None:
        """Clean pass rate minus this pass rate (positive = worse under perturbation)."""
        rate = self.rate.pass_rate
        if self.baseline is None or rate is None:
            return None
        return self.baseline - rate

    def to_json(self, max_failures: int) -> dict[str, Any]:
        drop = self.drop
        out: dict[str, Any] = {
            **self.rate.pass_json(),
            "family": self.family,
            "expectation": self.expectation,
            "baseline_pass_rate": self.baseline,
            "drop": None if drop is None else round(drop, 6),
            "n_unchanged": self.n_unchanged,
            "n_errors": self.n_errors,
            "n_scored": self.rate.n,
            "n_unscored": sum(self.unscored.values()),
            "unscored_reasons": self.unscored,
            "failures": [f.failure_json() for f in self.failures[:max_failures]],
        }
        if self.severity is not None:
            out["severity"] = self.severity
        return out


@dataclass
class RobustnessResult:
    """Everything a robustness run measured.

    ``perturbations`` and ``families`` hold the main-severity statistics,
    ``severity_curve`` the pass rate per severity for each perturbation and family,
    ``pairs`` every judged pair (for the store and the report's side-by-side view).
    """

    SCHEMA: ClassVar[str] = SCHEMA

    mode: str
    n_cases: int
    seed: int
    samples: int
    target: str
    scorers: dict[str, dict[str, Any]]
    clean: Rate | None
    perturbations: dict[str, GroupStat]
    families: dict[str, GroupStat]
    severity_curve: dict[str, list[CurvePoint]]
    family_curve: dict[str, list[CurvePoint]]
    pairs: list[PairResult]
    calls: int = 0
    max_failures: int = 20
    #: What was measured (feature, version, eval_set), when the caller said.
    scope: dict[str, Any] = field(default_factory=dict)
    #: The stored run's id when ``run_robustness(store=…)`` recorded it.
    run_id: str | None = None

    def worst(self, limit: int = 10, per_perturbation: int = 2) -> list[PairResult]:
        """The lowest-scoring failures across the run, at most a few per perturbation.

        Ties on score go to the perturbations with the lowest pass rate first.
        """

        def rate(name: str) -> float:
            stat = self.perturbations.get(name)
            r = stat.rate.pass_rate if stat is not None else None
            return 1.0 if r is None else r

        fails = sorted(
            (p for p in self.pairs if p.counted and not p.passed),
            key=lambda p: (p.value, rate(p.perturbation), p.perturbation, p.perturbed_id),
        )
        seen: dict[str, int] = defaultdict(int)
        out: list[PairResult] = []
        for p in fails:
            if seen[p.perturbation] < per_perturbation:
                seen[p.perturbation] += 1
                out.append(p)
            if len(out) >= limit:
                break
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``pilotgate.robustness/1`` document (docs/formats.md, fields only ever added)."""
        return {
            "schema": self.SCHEMA,
            "mode": self.mode,
            "n_cases": self.n_cases,
            "seed": self.seed,
            "samples": self.samples,
            "target": self.target,
            "calls": self.calls,
            "scorers": self.scorers,
            "clean": None if self.clean is None else self.clean.pass_json(),
            "perturbations": {
                k: v.to_json(self.max_failures) for k, v in self.perturbations.items()
            },
            "families": {k: v.to_json(self.max_failures) for k, v in self.families.items()},
            "severity_curve": {
                k: [p.to_json() for p in pts] for k, pts in self.severity_curve.items()
            },
            "family_severity_curve": {
                k: [p.to_json() for p in pts] for k, pts in self.family_curve.items()
            },
            "worst": [p.failure_json() | {"perturbation": p.perturbation} for p in self.worst()],
            **{k: v for k, v in self.scope.items() if v is not None},
        }

    def write_rows(self, path: str | Path) -> int:
        """Write :meth:`rows` as JSONL (``--rows``), one judged pair a line; returns the count."""
        rows = self.rows()
        with Path(path).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        return len(rows)

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per judged pair, ready to store as per-case results."""
        return [
            {
                "case_id": p.case_id,
                "perturbed_id": p.perturbed_id,
                "perturbation": p.perturbation,
                "family": p.family,
                "severity": p.severity,
                "k": p.k,
                "expectation": p.expectation,
                "input": p.perturbed,
                "output": p.output_perturbed,
                "reference_output": p.output_original,
                "passed": p.passed,
                "score": p.value,
                "detail": p.detail,
                "counted": p.counted,
                "scored": p.scored,
                "error": p.error,
            }
            for p in self.pairs
        ]


def group_pairs(
    name: str,
    family: str,
    expectation: str,
    pairs: Sequence[PairResult],
    baseline: float | None,
    severity: float | None = None,
) -> GroupStat:
    counted = [p for p in pairs if p.counted]
    fails = sorted((p for p in counted if not p.passed), key=lambda p: (p.value, p.perturbed_id))
    return GroupStat(
        name=name,
        family=family,
        expectation=expectation,
        rate=Rate.of(p.passed for p in counted),
        baseline=baseline,
        n_unchanged=sum(p.unchanged for p in pairs),
        n_errors=sum(1 for p in counted if p.error),
        unscored=dict(
            Counter(p.detail or "not scored" for p in pairs if not p.scored).most_common()
        ),
        failures=fails,
        severity=severity,
    )
