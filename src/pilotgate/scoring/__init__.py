"""Scorers shared by eval runs and robustness suites.

A scorer is a registered plain function judging an output against a reference;
:func:`get_scorer` configures one by name and keyword arguments
(``get_scorer("numeric", tolerance=0.01)``) and the result returns a :class:`Score`.
Built-ins: exact, normalised_match, contains, regex, json_schema, numeric, label,
embedding, refusal, not_injected, judge. A scorer that cannot judge a case (a
reference-based one without a reference, a judge whose reply holds no verdict) returns
:meth:`Score.not_applicable` with the reason: the case is "not scored", never "failed".
"""

from __future__ import annotations

from pilotgate.scoring._base import (
    NO_REFERENCE,
    NO_VERDICT,
    SCORERS,
    BoundScorer,
    Score,
    ScoreFn,
    is_scored,
    scored_phrase,
    scorer,
)
from pilotgate.scoring._judge_cache import judge_cache
from pilotgate.scoring._labels import (
    CANARY_RE,
    LABEL_EXTRACTORS,
    extract_label,
    label_extractor,
)
from pilotgate.scoring._lookup import get_scorer, list_scorers
from pilotgate.scoring._python import python_scorer_key
from pilotgate.scoring._schema import validate_json
from pilotgate.scoring._text import normalise, parse_number

__all__ = [
    "CANARY_RE",
    "NO_REFERENCE",
    "NO_VERDICT",
    "LABEL_EXTRACTORS",
    "SCORERS",
    "BoundScorer",
    "Score",
    "ScoreFn",
    "extract_label",
    "get_scorer",
    "is_scored",
    "judge_cache",
    "label_extractor",
    "list_scorers",
    "normalise",
    "parse_number",
    "python_scorer_key",
    "scored_phrase",
    "scorer",
    "validate_json",
]
