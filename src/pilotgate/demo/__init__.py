"""The bundled demo: Northwind Bank's support assistant and the data to pilot it with.

* :mod:`pilotgate.demo.feature` — the assistant (MiniLM intent routing, reply written
  through an OpenAI-compatible LLM), as a class and as ``python:pilotgate.demo.feature:answer``.
* :func:`run_feature_in_thread` / :func:`serve_feature` — the assistant over HTTP.
* :mod:`pilotgate.demo.data` — the demo set, the production stream, simulated users.
* :func:`run_demo` with :func:`capability_steps` — the whole flow (``pilotgate demo``).

Names load their modules on first use, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotgate._lazy import lazy_names

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
    "INTENTS": "pilotgate.demo._intents",
    "OUT_OF_SCOPE": "pilotgate.demo._intents",
    "Intent": "pilotgate.demo._intents",
    "intent_labels": "pilotgate.demo._intents",
    "DemoConfig": "pilotgate.demo._orchestrate",
    "DemoStep": "pilotgate.demo._orchestrate",
    "run_demo": "pilotgate.demo._orchestrate",
    "capability_steps": "pilotgate.demo._steps",
    "Reaction": "pilotgate.demo._reaction",
    "react": "pilotgate.demo._reaction",
    "to_ingest_records": "pilotgate.demo._reaction",
    "FEATURE_NAME": "pilotgate.demo._reply",
    "AssistantReply": "pilotgate.demo._reply",
    "format_output": "pilotgate.demo._reply",
    "ProdRequest": "pilotgate.demo._request",
    "VERSIONS": "pilotgate.demo._router",
    "IntentRouter": "pilotgate.demo._router",
    "Route": "pilotgate.demo._router",
    "normalize": "pilotgate.demo._router",
    "FeatureServer": "pilotgate.demo._server",
    "run_feature_in_thread": "pilotgate.demo._server",
    "serve_feature": "pilotgate.demo._server",
    "start_feature_server": "pilotgate.demo._server",
    "demo_set": "pilotgate.demo.data",
    "production_stream": "pilotgate.demo.data",
    "LLMError": "pilotgate.demo.feature",
    "SupportAssistant": "pilotgate.demo.feature",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
