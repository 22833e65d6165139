"""Silent users: implicit feedback, rephrases, abandonment and churn after a bad answer.

Most users never press thumbs up or down; they ask again in other words, ask for a
human, close the tab, or never come back. :func:`refresh_signals` derives each
interaction's implicit signals (``rephrased``, ``escalated``, ``abandoned``, ``copied``,
``followed_up``, explicit ``accepted``) and an implicit outcome (good / bad / unknown)
from what is stored, and materialises them so reads stay fast; :func:`silent_users`
reads the figures: rates with intervals, silent churn by first experience, retention
curves, rephrase examples and off-purpose requests. ``docs/signals.md`` has the rules.
"""

from pilotgate.signals._compute import Computed, Journey, compute, journeys
from pilotgate.signals._phrases import DEFAULT_ESCALATION, DEFAULT_NEGATIVE, PhraseMatcher
from pilotgate.signals._refresh import (
    Freshness,
    RefreshStats,
    features_built_with,
    freshness,
    refresh_signals,
)
from pilotgate.signals._report import SIGNAL_METRICS, SilentUsers, silent_users
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
