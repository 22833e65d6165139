"""pilotgate: from an AI demo that worked to a production pilot that holds.

Importing this package does nothing and costs almost nothing; the names below load their
modules on first use.

    import pilotgate
    pilotgate.configure(store="sqlite:///pilotgate.db")
    @pilotgate.track(feature="support-router", version="v3")
    def answer(question: str) -> str: ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotgate._lazy import lazy_names
from pilotgate._version import __version__

if TYPE_CHECKING:  # users' type checkers see the real types; at run time __getattr__ loads them
    from pilotgate.errors import PilotgateError
    from pilotgate.instrument import (
        configure,
        current_interaction_id,
        feedback,
        flush,
        instrument_anthropic,
        instrument_openai,
        session,
        shutdown,
        stats,
        step,
        track,
    )
    from pilotgate.plan import Plan, load_plan
    from pilotgate.store import Store, open_store

__all__ = [
    "PilotgateError",
    "Plan",
    "Store",
    "__version__",
    "configure",
    "current_interaction_id",
    "feedback",
    "flush",
    "instrument_anthropic",
    "instrument_openai",
    "load_plan",
    "open_store",
    "session",
    "shutdown",
    "stats",
    "step",
    "track",
]

_LAZY = {
    "configure": "pilotgate.instrument",
    "current_interaction_id": "pilotgate.instrument",
    "feedback": "pilotgate.instrument",
    "flush": "pilotgate.instrument",
    "instrument_anthropic": "pilotgate.instrument",
    "instrument_openai": "pilotgate.instrument",
    "session": "pilotgate.instrument",
    "shutdown": "pilotgate.instrument",
    "stats": "pilotgate.instrument",
    "step": "pilotgate.instrument",
    "track": "pilotgate.instrument",
    "Plan": "pilotgate.plan",
    "load_plan": "pilotgate.plan",
    "Store": "pilotgate.store",
    "open_store": "pilotgate.store",
    "PilotgateError": "pilotgate.errors",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
