"""The Host check: the server answers only to the names it was told it has.

A page on ``attacker.example`` whose DNS answer is switched to 127.0.0.1 (DNS
rebinding) makes the victim's browser send same-origin requests to a loopback server,
with ``Host: attacker.example``. Refusing every Host that is not one of the server's own
names closes that: by default the loopback names, plus the bind address and
``--allowed-host`` names (``*.example.com`` for a domain's subdomains).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["HostCheck", "allowed_hosts", "host_of"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def allowed_hosts(bind: str | None, extra: Iterable[str]) -> tuple[str, ...]:
    """The names to accept: loopback's, the bind address (unless a wildcard), ``extra``."""
    names = [*LOOPBACK_NAMES, *(h.strip().lower() for h in extra if h.strip())]
    if bind and bind not in ("0.0.0.0", "::", ""):
        names.append(bind.strip("[]").lower())
    return tuple(dict.fromkeys(names))


def host_of(header: str) -> str:
    """The name in a Host header, without its port (``[::1]:80`` -> ``::1``)."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else ""
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class HostCheck:
    """ASGI middleware: 421 Misdirected Request for a Host that is not allowed."""

    def __init__(self, app: Any, hosts: Iterable[str]) -> None:
        self.app = app
        self.exact = {h for h in hosts if not h.startswith("*.")}
        self.suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))

    def allows(self, host: str) -> bool:
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                header = value
                break
        if self.allows(host_of(header.decode("latin-1"))):
            await self.app(scope, receive, send)
            return
        body = (
            b"this server does not answer to that Host name; start it with "
            b"--allowed-host NAME to add one\n"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 421,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
