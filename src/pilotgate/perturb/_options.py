"""Perturbation options from the pilot plan: the feature's glossary and description.

``pilotgate perturb`` and ``pilotgate robustness`` both take their defaults from here, so
with the same plan and seed they still produce the same inputs (the jargon and
out-of-scope perturbations read these options).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.plan import Plan

__all__ = ["invert_glossary", "perturb_options", "read_glossary"]


def invert_glossary(jargon_to_plain: Mapping[str, str]) -> dict[str, str]:
    """The plan's glossary (``jargon = "plain wording"``) as the ``jargon`` perturbation
    takes it: plain wording (lower case) -> jargon.

    Where several jargon terms mean the same plain wording, the first one in the plan
    wins, so the result does not depend on anything but the plan's text.
    """
    out: dict[str, str] = {}
    for jargon, plain in jargon_to_plain.items():
        key = str(plain).strip().lower()
        if key and str(jargon).strip():
            out.setdefault(key, str(jargon).strip())
    return out


def perturb_options(
    plan: Plan | None = None,
    *,
    glossary: Mapping[str, str] | None = None,
    feature_description: str | None = None,
) -> dict[str, Any]:
    """Options for :func:`perturb_cases` / :func:`run_robustness`.

    Args:
        plan: the pilot plan, if any: its ``[feature] glossary`` (inverted, see
            :func:`invert_glossary`) and ``description`` are the defaults.
        glossary: plain -> jargon, overriding the plan's (``--glossary FILE``).
        feature_description: overriding the plan's (``--feature-description``).

    Returns:
        ``{"glossary": …, "feature_description": …}`` with only the keys that have a
        value; without any, the perturbations use their built-in defaults (a banking
        glossary, a bank's support assistant).
    """
    options: dict[str, Any] = {}
    feature = plan.feature if plan is not None else None
    if glossary is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in glossary.items()):
            raise ConfigError(
                "the glossary must map plain words to jargon, both strings",
                fix='write a JSON object like {"money": "funds"}',
            )
        options["glossary"] = dict(glossary)
    elif feature is not None and feature.glossary:
        options["glossary"] = invert_glossary(feature.glossary)
    if feature_description:
        options["feature_description"] = feature_description
    elif feature is not None and feature.description.strip():
        options["feature_description"] = feature.description.strip()
    return options


def read_glossary(path: str | Path) -> dict[str, str]:
    """A ``--glossary`` file: a JSON object ``{"plain word": "jargon", ...}``.

    Raises:
        ConfigError: the file cannot be read, is not JSON, or is not an object (naming it).
    """
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read glossary: {exc}", where=str(path)) from None
    if not isinstance(table, dict):
        raise ConfigError(
            "the glossary is not a JSON object",
            where=str(path),
            fix='write {"plain word": "jargon", ...}',
        )
    return table
