"""The bundled demo: Northwind Bank's support assistant and the data to pilot it with.

* :mod:`pilotgate.demo.feature` — the assistant (MiniLM intent routing, reply written
  through an OpenAI-compatible LLM), as a class and as ``python:pilotgate.demo.feature:answer``.
* :func:`run_feature_in_thread` / :func:`serve_feature` — the assistant over HTTP.
* :mod:`pilotgate.demo.data` — the demo set, the production stream, simulated users.
* :func:`run_demo` with :func:`capability_steps` — the whole flow (``pilotgate demo``).

Names load their modules on first use, so importing this package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pilotgate.demo._intents import INTENTS, OUT_OF_SCOPE, Intent, intent_labels
    from pilotgate.demo._orchestrate import DemoConfig, DemoStep, run_demo
    from pilotgate.demo._reaction import Reaction, react, to_ingest_records
    from pilotgate.demo._reply import FEATURE_NAME, AssistantReply, format_output
    from pilotgate.demo._request import ProdRequest
    from pilotgate.demo._router import VERSIONS, IntentRouter, Route, normalize
    from pilotgate.demo._server import (
        FeatureServer,
        run_feature_in_thread,
        serve_feature,
        start_feature_server,
    )
    from pilotgate.demo._steps import capability_steps
    from pilotgate.demo.data import demo_set, production_stream
    from pilotgate.demo.feature import LLMError, SupportAssistant

__all__ = [
    "FEATURE_NAME",
    "INTENTS",
    "OUT_OF_SCOPE",
    "VERSIONS",
    "AssistantReply",
    "DemoConfig",
    "DemoStep",
    "FeatureServer",
    "Intent",
    "IntentRouter",
    "LLMError",
    "ProdRequest",
    "Reaction",
    "Route",
    "SupportAssistant",
    "capability_steps",
    "demo_set",
    "format_output",
    "intent_labels",
    "normalize",
    "production_stream",
    "react",
    "run_demo",
    "run_feature_in_thread",
    "serve_feature",
    "start_feature_server",
    "to_ingest_records",
]

_LAZY = {
    "INTENTS": "_intents",
    "OUT_OF_SCOPE": "_intents",
    "Intent": "_intents",
    "intent_labels": "_intents",
    "DemoConfig": "_orchestrate",
    "DemoStep": "_orchestrate",
    "run_demo": "_orchestrate",
    "capability_steps": "_steps",
    "Reaction": "_reaction",
    "react": "_reaction",
    "to_ingest_records": "_reaction",
    "FEATURE_NAME": "_reply",
    "AssistantReply": "_reply",
    "format_output": "_reply",
    "ProdRequest": "_request",
    "VERSIONS": "_router",
    "IntentRouter": "_router",
    "Route": "_router",
    "normalize": "_router",
    "FeatureServer": "_server",
    "run_feature_in_thread": "_server",
    "serve_feature": "_server",
    "start_feature_server": "_server",
    "demo_set": "data",
    "production_stream": "data",
    "LLMError": "feature",
    "SupportAssistant": "feature",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pilotgate.demo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pilotgate.demo.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
