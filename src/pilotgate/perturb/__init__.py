"""Perturbations: a fast, offline, seeded catalogue of realistic input damage.

Each perturbation is a registered pure function ``(text, *, severity, rng) -> str``
(see :func:`list_perturbations`); :func:`perturb_case` derives one perturbed case with
its provenance, and :func:`run_robustness` sends exactly those inputs to a target and
judges each answer against the answer to the original (or the case's reference).
"""

from __future__ import annotations

from pilotgate.perturb._base import (
    FAMILIES,
    PERTURBATIONS,
    PerturbationInfo,
    PerturbFn,
    count_for,
    derive_rng,
    perturbation,
)
from pilotgate.perturb._cases import perturb_case, perturb_cases, perturb_text
from pilotgate.perturb._docs import catalogue_markdown
from pilotgate.perturb._lookup import get_perturbation, list_perturbations, resolve_names
from pilotgate.perturb._options import invert_glossary, perturb_options
from pilotgate.perturb._report import CurvePoint, GroupStat, PairResult, RobustnessResult
from pilotgate.perturb._stats import Rate, wilson
from pilotgate.perturb._suite import arun_robustness, run_robustness

__all__ = [
    "FAMILIES",
    "PERTURBATIONS",
    "CurvePoint",
    "GroupStat",
    "PairResult",
    "PerturbFn",
    "PerturbationInfo",
    "Rate",
    "RobustnessResult",
    "arun_robustness",
    "catalogue_markdown",
    "count_for",
    "derive_rng",
    "get_perturbation",
    "invert_glossary",
    "list_perturbations",
    "perturb_case",
    "perturb_cases",
    "perturb_options",
    "perturb_text",
    "perturbation",
    "resolve_names",
    "run_robustness",
    "wilson",
]
