"""The ASGI app behind ``pilotgate serve``: the collector (and the dashboard)."""

from pilotgate._web._hosts import allowed_hosts as server_hosts
from pilotgate._web._serve import ServeConfig, base_url, bind, run_server
from pilotgate._web.app import ServerSettings, create_app

__all__ = [
    "ServeConfig",
    "ServerSettings",
    "base_url",
    "bind",
    "create_app",
    "run_server",
    "server_hosts",
]
