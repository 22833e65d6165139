"""Eval sets from production: build, de-duplicate, redact, review, version, import, export.

``build_eval_set(store, "prod", BuildSpec(feature="support", size=200))`` samples stored
interactions with combinable, seeded strategies (uniform, stratified by input cluster,
failure-weighted, novelty-weighted), drops near-duplicates, redacts personal data and
saves the next immutable version ``prod@N``. ``docs/cases.md`` has the long form.
"""

from pilotgate.cases._build import build_eval_set
from pilotgate.cases._dedup import Deduper, DedupResult, dedup_texts, normalise_text
from pilotgate.cases._spec import (
    BUILD_SCHEMA,
    FAILURE_KINDS,
    STRATEGIES,
    BuildResult,
    BuildSpec,
    parse_strategies,
)

__all__ = [
    "BUILD_SCHEMA",
    "FAILURE_KINDS",
    "STRATEGIES",
    "BuildResult",
    "BuildSpec",
    "DedupResult",
    "Deduper",
    "build_eval_set",
    "dedup_texts",
    "normalise_text",
    "parse_strategies",
]
