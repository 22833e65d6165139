"""``pilotgate perturb``'s verb: perturb a cases file and write the perturbed cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilotgate.perturb._cases import perturb_cases
from pilotgate.perturb._lookup import resolve_names
from pilotgate.records import Case, read_cases, write_cases

__all__ = ["PerturbFileResult", "perturb_file"]


@dataclass(frozen=True)
class PerturbFileResult:
    """What :func:`perturb_file` wrote (``to_json()`` is the ``pilotgate.perturb/1`` document)."""

    n_cases: int
    perturbations: list[str]
    samples: int
    seed: int
    severity: float | None
    n_written: int
    #: per perturbation, inputs left as they were (robustness does not count them).
    n_unchanged: dict[str, int]
    #: the names of the options in force (``glossary``, ``feature_description``).
    options: list[str]
    out: str

    def to_json(self) -> dict[str, Any]:
        return {"schema": "pilotgate.perturb/1", **self.__dict__}


def perturb_file(
    cases: str | Path,
    out: str | Path,
    names: Sequence[str],
    *,
    severity: float | None = None,
    samples: int = 1,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
) -> PerturbFileResult:
    """Apply each named perturbation ``samples`` times to every case and write them to ``out``.

    ``pilotgate robustness`` with the same seed and options sends exactly these inputs.

    Args:
        cases: a cases (or ingest) JSONL file.
        out: where the perturbed cases go (JSONL, each with its ``origin``).
        names: perturbation names, comma lists, ``all`` or ``family:NAME``.
        severity: one severity for all (0..1); None: each perturbation's own.
        samples: samples per case and perturbation.
        seed: the seed every sample derives from.
        options: from :func:`perturb_options` (glossary, feature description).
    """
    selected = resolve_names(list(names))
    originals, _ = read_cases(cases)
    perturbed = perturb_cases(
        originals, selected, severity=severity, samples=samples, seed=seed, options=options
    )
    n = write_cases(out, perturbed)
    return PerturbFileResult(
        n_cases=len(originals),
        perturbations=selected,
        samples=samples,
        seed=seed,
        severity=severity,
        n_written=n,
        n_unchanged=_unchanged(originals, perturbed),
        options=sorted(options or {}),
        out=str(out),
    )


def _unchanged(originals: Sequence[Case], perturbed: Sequence[Case]) -> dict[str, int]:
    """Per perturbation, how many perturbed inputs equal their original."""
    by_id = {c.id: c.input for c in originals}
    counts: dict[str, int] = {}
    for p in perturbed:
        origin = p.origin or {}
        if by_id.get(origin.get("case_id", "")) == p.input:
            name = str(origin.get("perturbation"))
            counts[name] = counts.get(name, 0) + 1
    return counts
