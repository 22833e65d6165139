"""The collector: an authenticated, size-limited HTTP endpoint that stores what apps send.

``POST /v1/ingest`` takes batches of ingest records, ``POST /v1/feedback`` feedback,
``POST /v1/traces`` OTLP/HTTP traces whose GenAI spans become interactions. Mount
:func:`collector_router` in an app (``pilotgate._web.create_app`` does).
"""

from pilotgate.collector._keys import ApiKey, create_key, list_keys, revoke_key, verify_key
from pilotgate.collector._router import IngestResponse, collector_router
from pilotgate.collector._settings import CollectorSettings

__all__ = [
    "ApiKey",
    "CollectorSettings",
    "IngestResponse",
    "collector_router",
    "create_key",
    "list_keys",
    "revoke_key",
    "verify_key",
]
