"""Perturbations: a fast, offline, seeded catalogue of realistic input damage.

Each perturbation is a registered pure function ``(text, *, severity, rng) -> str``
(see :func:`list_perturbations`); :func:`perturb_case` derives one perturbed case with
its provenance, and the robustness suite sends exactly those inputs to a target.
"""

from __future__ import annotations

from pilotgate.perturb._base import (
    FAMILIES,
    PERTURBATIONS,
    PerturbationInfo,
    PerturbFn,
    count_for,
    derive_rng,
    get_perturbation,
    list_perturbations,
    perturbation,
    resolve_names,
)
from pilotgate.perturb._cases import perturb_case, perturb_cases, perturb_text

__all__ = [
    "FAMILIES",
    "PERTURBATIONS",
    "PerturbFn",
    "PerturbationInfo",
    "count_for",
    "derive_rng",
    "get_perturbation",
    "list_perturbations",
    "perturb_case",
    "perturb_cases",
    "perturb_text",
    "perturbation",
    "resolve_names",
]
