"""The ASGI app behind ``pilotgate serve``: the collector (and the dashboard)."""

from pilotgate._web._hosts import allowed_hosts as server_hosts
from pilotgate._web.app import ServerSettings, create_app

__all__ = ["ServerSettings", "create_app", "server_hosts"]
