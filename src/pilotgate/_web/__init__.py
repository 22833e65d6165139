"""The ASGI app behind ``pilotgate serve``: the collector (and the dashboard)."""

from pilotgate._web.app import ServerSettings, create_app

__all__ = ["ServerSettings", "create_app"]
