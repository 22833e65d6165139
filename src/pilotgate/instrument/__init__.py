"""The instrumentation SDK: record every call of a live AI feature for almost nothing.

```python
from pilotgate import instrument as pg

pg.configure(collector="http://127.0.0.1:8765", api_key="pgk_…")  # or store="sqlite:///x.db"

@pg.track(feature="support-router", version="v3")
def answer(question: str) -> str: ...

with pg.session(session_id, user_id):
    reply = answer("Where is my card?")
pg.feedback(interaction_id, accepted=True, dwell_ms=5300)
pg.step(session_id, "copied_answer")
handle = pg.instrument_openai(feature="support-router", version="v3")  # or instrument_anthropic
```

The application's thread only appends a small tuple to a bounded in-memory buffer; a
background thread builds, redacts and sends records, spills them to disk while the
backend is away and replays them when it returns. Nothing here raises into the
application; what went wrong is counted in ``stats()``. See docs/sdk.md.
"""

from __future__ import annotations

import warnings
from typing import Any

from pilotgate.instrument._api import configure, flush, shutdown, stats
from pilotgate.instrument._capture import (
    Interaction,
    Tracker,
    annotate,
    current_interaction_id,
    feedback,
    session,
    step,
    track,
)
from pilotgate.instrument._config import SDKSettings
from pilotgate.instrument._sdk import Instrumentation
from pilotgate.instrument._sdk_anthropic import instrument_anthropic
from pilotgate.instrument._sdk_openai import instrument_openai

__all__ = [
    "Instrumentation",
    "Interaction",
    "SDKSettings",
    "Tracker",
    "annotate",
    "configure",
    "current_interaction_id",
    "feedback",
    "flush",
    "instrument_anthropic",
    "instrument_openai",
    "session",
    "shutdown",
    "stats",
    "step",
    "track",
]


def __getattr__(name: str) -> Any:
    # Deprecated alias: the SDK's settings were ``Settings``, a name ``pilotgate.plan`` also
    # uses for its (pydantic) settings. Kept so old scripts run; removed in a later release.
    if name == "Settings":
        warnings.warn(
            "pilotgate.instrument.Settings is now pilotgate.instrument.SDKSettings",
            DeprecationWarning,
            stacklevel=2,
        )
        return SDKSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
