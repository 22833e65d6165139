"""Eval sets from production: build, de-duplicate, redact, review, version, import, export.

``build_eval_set(store, "prod", BuildSpec(feature="support", size=200))`` samples stored
interactions with combinable, seeded strategies (uniform, stratified by input cluster,
failure-weighted, novelty-weighted), drops near-duplicates, redacts personal data and
saves the next immutable version ``prod@N``. The review queue (:func:`pending_reviews`,
:func:`record_review`, :func:`apply_reviews`) is shared by the terminal and the browser.
``docs/cases.md`` has the long form, with the promptfoo and Inspect mappings.
"""

from pilotgate.cases._build import build_eval_set
from pilotgate.cases._dedup import Deduper, DedupResult, dedup_texts, normalise_text
from pilotgate.cases._formats import EXPORT_FORMATS, export_cases, import_cases
from pilotgate.cases._label_import import LabelImport, import_labels
from pilotgate.cases._registry import CASE_STRATEGIES, StrategyInput
from pilotgate.cases._render import render_cases
from pilotgate.cases._review import (
    REVIEW_ACTIONS,
    ApplyResult,
    Review,
    apply_reviews,
    default_reviewer,
    latest_reviews,
    list_reviews,
    pending_reviews,
    record_review,
)
from pilotgate.cases._spec import (
    BUILD_SCHEMA,
    FAILURE_KINDS,
    STRATEGIES,
    BuildResult,
    BuildSpec,
    parse_strategies,
)
from pilotgate.cases._tui import ReviewSession, review_session
from pilotgate.cases._versions import (
    EvalSetDiff,
    diff_eval_sets,
    export_eval_set,
    import_eval_set,
    list_eval_sets,
    load_eval_set,
    show_eval_set,
)

__all__ = [
    "LabelImport",
    "BUILD_SCHEMA",
    "CASE_STRATEGIES",
    "EXPORT_FORMATS",
    "FAILURE_KINDS",
    "REVIEW_ACTIONS",
    "STRATEGIES",
    "ApplyResult",
    "BuildResult",
    "BuildSpec",
    "DedupResult",
    "Deduper",
    "EvalSetDiff",
    "Review",
    "ReviewSession",
    "StrategyInput",
    "apply_reviews",
    "build_eval_set",
    "dedup_texts",
    "default_reviewer",
    "diff_eval_sets",
    "export_cases",
    "export_eval_set",
    "import_cases",
    "import_eval_set",
    "import_labels",
    "latest_reviews",
    "list_eval_sets",
    "list_reviews",
    "load_eval_set",
    "normalise_text",
    "parse_strategies",
    "pending_reviews",
    "record_review",
    "render_cases",
    "review_session",
    "show_eval_set",
]
