"""The gate's silent-user metrics, by name: a module of its own, importing nothing, so
that the gate registers them without loading the signals' computation (numpy)."""

from __future__ import annotations

__all__ = ["SIGNAL_METRICS"]

#: The gate's catalogue entries this module answers (usage.<name>).
SIGNAL_METRICS = {
    "implicit_bad_rate": "Share of interactions whose implicit outcome is bad (explicit "
    "feedback wins; rephrased, escalated or errored otherwise), Wilson 95 %.",
    "rephrase_rate": "Share of interactions the same user or session asked again in "
    "other words within [signals] rephrase_window_s.",
    "silent_churn": "Share of users whose first interaction was bad who did not come back "
    "within [signals] return_days (users seen long enough only).",
    "return_rate": "Share of users who came back within [signals] return_days of their "
    "first interaction (users seen long enough only).",
    "off_purpose_rate": "Share of requests outside the plan's [signals] scope (shift's "
    "calibrated coverage).",
}
