"""Is an address this machine? One answer for every place that relaxes a rule on loopback.

``pilotgate serve --no-auth``, the dashboard's local (key-less) login and the load
tester's remote-target consent all trust loopback and nothing else, so they share this
check: a difference between them would be a hole in one of them.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["is_loopback_host", "safe_url"]


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


def safe_url(url: str | None) -> str:
    """``url`` without user:password, fit to print, log or hash.

    Also takes a target spec (``openai:http://user:key@host/v1``): the first ``scheme://``
    anywhere, not only at the start, loses its credentials.
    """
    if not url:
        return ""
    return re.sub(r"(\w+://)[^/@]*@", r"\1", url, count=1)
