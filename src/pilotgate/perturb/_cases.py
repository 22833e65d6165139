"""Perturbing cases: ids, provenance and the per-sample RNG that makes runs reproducible."""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pilotgate.errors import ConfigError
from pilotgate.perturb._base import PerturbationInfo, PerturbFn, derive_rng
from pilotgate.perturb._lookup import get_perturbation
from pilotgate.records import Case

__all__ = ["perturb_case", "perturb_cases", "perturb_text"]

_ACCEPTS: dict[int, frozenset[str]] = {}


def _accepted(fn: PerturbFn) -> frozenset[str]:
    key = id(fn)
    names = _ACCEPTS.get(key)
    if names is None:
        target = inspect.unwrap(fn)
        params = inspect.signature(target).parameters.values()
        names = frozenset(
            p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in ("severity", "rng")
        )
        _ACCEPTS[key] = names
    return names


def check_severity(severity: float) -> float:
    if not 0.0 <= severity <= 1.0:
        raise ConfigError(
            f"severity must be between 0 and 1 (got {severity})",
            fix="pass e.g. --severity 0.1",
        )
    return float(severity)


def perturb_text(
    text: str,
    name: str,
    *,
    rng: random.Random,
    severity: float | None = None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """Apply perturbation ``name`` to ``text``.

    ``options`` may hold keys for several perturbations at once (``glossary``,
    ``feature_description``, ``pool``); each perturbation receives only those it takes.
    """
    info = get_perturbation(name)
    assert info.fn is not None
    sev = info.default_severity if severity is None else check_severity(severity)
    return info.fn(text, severity=sev, rng=rng, **_kwargs(info.fn, options))


def _perturb_input(
    value: str | list[dict[str, Any]],
    fn: PerturbFn,
    rng: random.Random,
    severity: float,
    kwargs: Mapping[str, Any],
) -> str | list[dict[str, Any]]:
    if isinstance(value, str):
        return fn(value, severity=severity, rng=rng, **kwargs)
    msgs = [dict(m) for m in value]
    for msg in reversed(msgs):
        if msg.get("role", "user") == "user" and isinstance(msg.get("content"), str):
            msg["content"] = fn(msg["content"], severity=severity, rng=rng, **kwargs)
            break
    return msgs


def _kwargs(fn: PerturbFn, options: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not options:
        return _NO_KWARGS
    accepted = _accepted(fn)
    return {k: v for k, v in options.items() if k in accepted}


_NO_KWARGS: Mapping[str, Any] = {}
# Validating through the model's core validator directly: the same checks as Case(...)
# without the keyword-argument wrapper, and cheaper than model_construct, which walks
# the fields in Python (measured: 2.0 vs 2.9 vs 3.8 µs per case).
_make_case = Case.__pydantic_validator__.validate_python


def _build(
    case: Case,
    info: PerturbationInfo,
    sev: float,
    seed: int,
    k: int,
    kwargs: Mapping[str, Any],
) -> Case:
    name = info.name
    assert info.fn is not None
    rng = derive_rng(seed, case.id, name, k)
    perturbed: Case = _make_case(
        {
            "id": f"{case.id}~{name}~{k}",
            "input": _perturb_input(case.input, info.fn, rng, sev, kwargs),
            "expected": case.expected,
            "tags": list(case.tags),
            "source": "perturbed",
            "origin": {
                "case_id": case.id,
                "perturbation": name,
                "severity": sev,
                "seed": seed,
                "k": k,
                "family": info.family,
            },
        }
    )
    return perturbed


def perturb_case(
    case: Case,
    name: str,
    severity: float | None = None,
    seed: int = 0,
    k: int = 0,
    *,
    options: Mapping[str, Any] | None = None,
) -> Case:
    """One perturbed copy of ``case``: sample ``k`` of perturbation ``name``.

    The id is ``"<case id>~<name>~<k>"``, ``expected`` and ``tags`` are copied, and
    ``origin`` records case id, perturbation, severity and seed (plus ``k`` and the
    family). The RNG comes from :func:`derive_rng`, so the result depends only on these
    arguments: ``pilotgate perturb`` and ``pilotgate robustness`` agree for a seed.
    For chat inputs the last user message is perturbed.
    """
    info = get_perturbation(name)
    assert info.fn is not None
    sev = info.default_severity if severity is None else check_severity(severity)
    return _build(case, info, sev, seed, k, _kwargs(info.fn, options))


def perturb_cases(
    cases: Iterable[Case],
    names: Sequence[str],
    *,
    severity: float | None = None,
    samples: int = 1,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
) -> list[Case]:
    """Every case × perturbation × sample, in that nesting order."""
    if samples < 1:
        raise ConfigError(f"samples must be at least 1 (got {samples})", fix="pass --samples 1")
    plan = []
    for name in names:  # look each perturbation up once, not once per sample
        info = get_perturbation(name)
        assert info.fn is not None
        sev = info.default_severity if severity is None else check_severity(severity)
        plan.append((info, sev, _kwargs(info.fn, options)))
    return [
        _build(case, info, sev, seed, k, kwargs)
        for case in cases
        for info, sev, kwargs in plan
        for k in range(samples)
    ]
