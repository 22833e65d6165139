"""``create_app``: one FastAPI app, one router per capability.

Routers are mounted here and nowhere else, so this file is the map of what the server
answers. Each router takes the store and the settings it needs.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import ConfigDict, Field

from pilotgate._version import __version__
from pilotgate.collector import CollectorSettings, collector_router
from pilotgate.plan import Plan
from pilotgate.store import Store

__all__ = ["ServerSettings", "create_app"]


class ServerSettings(CollectorSettings):
    """Settings of the whole server: the collector's plus what other routers need."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan | None = Field(default=None, description="The pilot plan, when there is one.")


def create_app(store: Store, *, settings: ServerSettings | None = None) -> FastAPI:
    """The app over ``store``. The caller owns the store (and closes it)."""
    settings = settings or ServerSettings()
    app = FastAPI(title="pilotgate", version=__version__, docs_url="/docs", redoc_url=None)
    app.state.store = store
    app.state.settings = settings
    app.include_router(collector_router(store, settings))
    from pilotgate._web.dashboard import dashboard_router

    app.include_router(dashboard_router(store, settings))
    from pilotgate._web._favicon import favicon_router

    app.include_router(favicon_router())
    return app
