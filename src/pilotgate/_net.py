"""Is an address this machine? One answer for every place that relaxes a rule on loopback.

``pilotgate serve --no-auth``, the dashboard's local (key-less) login and the load
tester's remote-target consent all trust loopback and nothing else, so they share this
check: a difference between them would be a hole in one of them.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback_host"]


def is_loopback_host(host: str | None) -> bool:
    """True when ``host`` is ``localhost`` or a loopback IP (127.0.0.0/8, ``::1``).

    Names are compared as given (callers lower-case URL hosts first); any other name is
    not loopback, since resolving it could answer anything.
    """
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
