"""The result of a shift analysis and its ``--json`` document (schema pilotgate.shift/1)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from pilotgate.records import Case
from pilotgate.shift._drift import DriftTest
from pilotgate.shift._gaps import Gap, suggest_cases
from pilotgate.shift._stats import TestResult

__all__ = ["Coverage", "ShiftResult", "SCHEMA"]

SCHEMA = "pilotgate.shift/1"


@dataclass
class Coverage:
    """Share of (analysed) production inputs within the calibrated radius of an eval case."""

    value: float
    ci95: tuple[float, float]
    covered: int
    n: int
    level: float
    tau: float

    def to_json(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 4),
            "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
            "covered": self.covered,
            "n": self.n,
            "calibration": {
                "method": "eval leave-one-out nearest-neighbour distance, conformal quantile",
                "level": self.level,
                "tau": round(self.tau, 5),
            },
        }


@dataclass
class ShiftResult:
    """Everything :func:`~pilotgate.shift.analyze_shift` found; ``to_json()`` is the contract."""

    SCHEMA: ClassVar[str] = SCHEMA

    embedder: str
    seed: int
    n_eval: int
    n_production: int
    n_production_analyzed: int
    coverage: Coverage
    gaps: list[Gap]
    scattered: int
    embedding_drift: list[DriftTest]
    descriptor_drift: list[TestResult]
    coverage_by_day: list[dict[str, Any]]
    map: dict[str, Any]
    #: Per analysed production input: ids, cosine distance, novelty, covered, gap index.
    production_ids: list[str]
    distance: npt.NDArray[np.float64] = field(repr=False)
    novelty: npt.NDArray[np.float64] = field(repr=False)
    covered: npt.NDArray[np.bool_] = field(repr=False)
    gap_of: list[str | None] = field(repr=False)
    production_texts: list[str] = field(default_factory=list, repr=False)
    production_vectors: npt.NDArray[np.float32] | None = field(default=None, repr=False)
    sample: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: What was measured (feature, version, eval_set, inputs), when the caller said.
    scope: dict[str, Any] = field(default_factory=dict)
    #: The stored run's id when ``analyze_shift(store=…)`` recorded it.
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The docs/formats.md document: fields may be added, never removed."""
        flagged = [t.descriptor for t in self.descriptor_drift if t.flagged]
        flagged += [d.name for d in self.embedding_drift if d.flagged]
        return {
            "schema": self.SCHEMA,
            "embedder": self.embedder,
            "seed": self.seed,
            "n_eval": self.n_eval,
            "n_production": self.n_production,
            "n_production_analyzed": self.n_production_analyzed,
            "sample": self.sample,
            # formats.md: `coverage` is the share itself; its interval and calibration sit beside
            "coverage": round(self.coverage.value, 4),
            "coverage_ci95": [round(self.coverage.ci95[0], 4), round(self.coverage.ci95[1], 4)],
            "coverage_detail": self.coverage.to_json(),
            "gaps": [g.to_json() for g in self.gaps],
            "scattered_uncovered": self.scattered,
            "drift": {
                "flagged": flagged,
                "embedding": [d.to_json() for d in self.embedding_drift],
                "descriptors": [_test_json(t) for t in self.descriptor_drift],
            },
            "coverage_by_day": self.coverage_by_day,
            "map": self.map,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "notes": self.notes,
            **{k: v for k, v in self.scope.items() if v is not None},
        }

    def score_rows(self) -> list[dict[str, Any]]:
        """One row per analysed production input: ``{id, novelty, covered, gap, distance}``."""
        return [
            {
                "id": pid,
                "novelty": round(float(nv), 4),
                "covered": bool(cv),
                "gap": gap,
                "distance": round(float(d), 5),
            }
            for pid, nv, cv, gap, d in zip(
                self.production_ids,
                self.novelty,
                self.covered,
                self.gap_of,
                self.distance,
                strict=True,
            )
        ]

    def write_scores(self, path: str | Path) -> int:
        """Write :meth:`score_rows` as JSONL; returns the number of lines."""
        rows = self.score_rows()
        with Path(path).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        return len(rows)

    def suggest_cases(self, n: int) -> list[Case]:
        """``n`` production inputs to add as cases, spread over the gaps (source "suggested")."""
        if self.production_vectors is None:
            return []
        return suggest_cases(
            self.gaps,
            n,
            prod_vecs=self.production_vectors,
            prod_texts=self.production_texts,
            prod_ids=self.production_ids,
        )

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def _test_json(t: TestResult) -> dict[str, Any]:
    return {
        "descriptor": t.descriptor,
        "test": t.test,
        "statistic": _num(t.statistic),
        "p_value": _num(t.p_value),
        "q_value": _num(t.q_value),
        "psi": _num(t.psi),
        "wasserstein": _num(t.wasserstein) if t.wasserstein is not None else None,
        "eval": _summary(t.eval_summary),
        "production": _summary(t.production_summary),
        "n_eval": t.n_eval,
        "n_production": t.n_production,
        "flagged": t.flagged,
    }


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(f"{x:.6g}")


def _summary(v: float | dict[str, float]) -> float | dict[str, float] | None:
    if isinstance(v, dict):
        return {k: round(x, 4) for k, x in sorted(v.items(), key=lambda kv: -kv[1])}
    return _num(v)
