"""``create_app``: one FastAPI app, one router per capability.

Routers are mounted here and nowhere else, so this file is the map of what the server
answers. Each router takes the store and the settings it needs.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import ConfigDict, Field

from pilotgate._version import __version__
from pilotgate._web._hosts import LOOPBACK_NAMES, HostCheck
from pilotgate.collector import CollectorSettings, collector_router
from pilotgate.plan import Plan
from pilotgate.store import Store

__all__ = ["ServerSettings", "create_app"]


class ServerSettings(CollectorSettings):
    """Settings of the whole server: the collector's plus what other routers need."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan | None = Field(default=None, description="The pilot plan, when there is one.")
    allowed_hosts: tuple[str, ...] = Field(
        default=LOOPBACK_NAMES,
        description="Host names the server answers to (421 for others): the loopback "
        "names, the bind address and --allowed-host names ('*.example.com' allowed).",
    )
    dashboard_login: bool | None = Field(
        default=None,
        description="True: the dashboard always asks for a read key (set whenever the "
        "server binds a non-loopback address); None: only clients that are not local do.",
    )
    session_secret: str | None = Field(
        default=None,
        repr=False,
        description="Signs dashboard sessions (PILOTGATE_SESSION_SECRET); by default a "
        "secret generated once and kept in the store, the same for every worker.",
    )


def create_app(store: Store, *, settings: ServerSettings | None = None) -> FastAPI:
    """The app over ``store``. The caller owns the store (and closes it)."""
    settings = settings or ServerSettings()
    app = FastAPI(title="pilotgate", version=__version__, docs_url="/docs", redoc_url=None)
    app.add_middleware(HostCheck, hosts=settings.allowed_hosts)
    app.state.store = store
    app.state.settings = settings
    app.include_router(collector_router(store, settings))
    from pilotgate._web.dashboard import dashboard_router

    app.include_router(dashboard_router(store, settings))
    from pilotgate._web._favicon import favicon_router

    app.include_router(favicon_router())
    return app
