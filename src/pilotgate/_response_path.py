"""Reading a value out of a JSON response by a dotted path (``choices.0.message.content``).

Shared by the ``http:`` target (``targets/_http.py``) and the load engine's HTTP senders
(``load/_httpsend.py``), which read the same ``response_path`` of the same plan.
"""

from __future__ import annotations

from typing import Any

from pilotgate.errors import TargetError

__all__ = ["DEFAULT_RESPONSE_PATH", "MissingPath", "lookup", "parse_path"]

DEFAULT_RESPONSE_PATH = "output"


class MissingPath(Exception):
    """The response has nothing at the path (the segment is the exception's argument)."""


def parse_path(path: str) -> list[str]:
    """Split a dotted path; raise TargetError on an empty segment."""
    segments = path.split(".")
    if not path or any(s == "" for s in segments):
        raise TargetError(
            f"bad response path {path!r}",
            fix="write a dotted path such as 'output' or 'choices.0.message.content'",
        )
    return segments


def lookup(data: Any, segments: list[str]) -> Any:
    """Follow dict keys and list indices; raise MissingPath when the path is not there."""
    node = data
    for seg in segments:
        if isinstance(node, dict) and seg in node:
            node = node[seg]
        elif isinstance(node, list) and seg.lstrip("-").isdigit():
            index = int(seg)
            if not -len(node) <= index < len(node):
                raise MissingPath(seg)
            node = node[index]
        else:
            raise MissingPath(seg)
    return node
