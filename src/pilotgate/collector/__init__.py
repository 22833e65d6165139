"""The collector: an authenticated, size-limited HTTP endpoint that stores what apps send.

``POST /v1/ingest`` takes batches of ingest records, ``POST /v1/feedback`` feedback,
``POST /v1/traces`` OTLP/HTTP traces whose GenAI spans become interactions,
``POST /v1/browser/beacon`` a page's beacons and ``GET /v1/browser.js`` the browser script.
Keys belong to a project and carry scopes (``ingest``, ``read``, ``admin``, ``browser``). Mount
:func:`collector_router` in an app (``pilotgate._web.create_app`` does).
"""

from pilotgate.collector._keys import (
    SCOPES,
    ApiKey,
    authenticate,
    create_key,
    list_keys,
    revoke_key,
    verify_key,
)
from pilotgate.collector._router import IngestResponse, collector_router
from pilotgate.collector._settings import CollectorSettings
from pilotgate.collector._terminal import print_keys

__all__ = [
    "SCOPES",
    "ApiKey",
    "CollectorSettings",
    "IngestResponse",
    "authenticate",
    "collector_router",
    "create_key",
    "list_keys",
    "print_keys",
    "revoke_key",
    "verify_key",
]
