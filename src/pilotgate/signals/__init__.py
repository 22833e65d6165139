"""Silent users: implicit feedback, rephrases, abandonment and churn after a bad answer.

Most users never press thumbs up or down; they ask again in other words, ask for a
human, close the tab, or never come back. :func:`refresh_signals` derives each
interaction's implicit signals (``rephrased``, ``escalated``, ``abandoned``, ``copied``,
``followed_up``, explicit ``accepted``) and an implicit outcome (good / bad / unknown)
from what is stored, and materialises them so reads stay fast; :func:`silent_users`
reads the figures: rates with intervals, silent churn by first experience, retention
curves, rephrase examples and off-purpose requests. ``docs/signals.md`` has the rules.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type checkers see the real names; at run time __getattr__ loads them
    from pilotgate.signals._compute import Computed, Journey, compute, journeys
    from pilotgate.signals._metrics import SIGNAL_METRICS
    from pilotgate.signals._phrases import DEFAULT_ESCALATION, DEFAULT_NEGATIVE, PhraseMatcher
    from pilotgate.signals._refresh import (
        Freshness,
        RefreshStats,
        features_built_with,
        freshness,
        refresh_signals,
    )
    from pilotgate.signals._report import SilentUsers, silent_users
    from pilotgate.signals._rules import Feedback, Row, Rules, Signals, Step
    from pilotgate.signals._terminal import print_silent_users

__all__ = [
    "DEFAULT_ESCALATION",
    "DEFAULT_NEGATIVE",
    "SIGNAL_METRICS",
    "Computed",
    "Feedback",
    "Freshness",
    "Journey",
    "PhraseMatcher",
    "RefreshStats",
    "Row",
    "Rules",
    "SilentUsers",
    "Signals",
    "Step",
    "compute",
    "features_built_with",
    "freshness",
    "journeys",
    "print_silent_users",
    "refresh_signals",
    "silent_users",
]

#: where each name lives: importing ``pilotgate.signals`` loads none of them (the gate reads
#: ``SIGNAL_METRICS`` without the computation's numpy)
_LAZY = {
    "DEFAULT_ESCALATION": "_phrases",
    "DEFAULT_NEGATIVE": "_phrases",
    "PhraseMatcher": "_phrases",
    "SIGNAL_METRICS": "_metrics",
    "Computed": "_compute",
    "Journey": "_compute",
    "compute": "_compute",
    "journeys": "_compute",
    "Freshness": "_refresh",
    "RefreshStats": "_refresh",
    "features_built_with": "_refresh",
    "freshness": "_refresh",
    "refresh_signals": "_refresh",
    "SilentUsers": "_report",
    "silent_users": "_report",
    "Feedback": "_rules",
    "Row": "_rules",
    "Rules": "_rules",
    "Signals": "_rules",
    "Step": "_rules",
    "print_silent_users": "_terminal",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pilotgate.signals' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pilotgate.signals.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
