"""Perturbations: a fast, offline, seeded catalogue of realistic input damage.

Each perturbation is a registered pure function ``(text, *, severity, rng) -> str``
(see :func:`list_perturbations`); :func:`perturb_case` derives one perturbed case with
its provenance, and :func:`run_robustness` sends exactly those inputs to a target and
judges each answer against the answer to the original (or the case's reference).
"""

from __future__ import annotations

from pilotgate._stats import Rate
from pilotgate.perturb._base import (
    FAMILIES,
    PERTURBATIONS,
    PerturbationInfo,
    PerturbFn,
    count_for,
    perturbation,
)
from pilotgate.perturb._cases import perturb_case, perturb_cases, perturb_text
from pilotgate.perturb._lookup import get_perturbation, list_perturbations, resolve_names
from pilotgate.perturb._options import invert_glossary, perturb_options, read_glossary
from pilotgate.perturb._report import CurvePoint, GroupStat, PairResult, RobustnessResult
from pilotgate.perturb._suite import arun_robustness, run_robustness
from pilotgate.perturb._terminal import print_catalogue, print_robustness
from pilotgate.perturb._write import PerturbFileResult, perturb_file

__all__ = [
    "FAMILIES",
    "PERTURBATIONS",
    "CurvePoint",
    "GroupStat",
    "PairResult",
    "PerturbFileResult",
    "PerturbFn",
    "PerturbationInfo",
    "Rate",
    "RobustnessResult",
    "arun_robustness",
    "count_for",
    "get_perturbation",
    "invert_glossary",
    "list_perturbations",
    "perturb_case",
    "perturb_cases",
    "perturb_file",
    "perturb_options",
    "perturb_text",
    "perturbation",
    "print_catalogue",
    "print_robustness",
    "read_glossary",
    "resolve_names",
    "run_robustness",
]
