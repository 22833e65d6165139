"""Production text made safe to show in a terminal or a page.

Text written by strangers can carry terminal control sequences (``ESC [2J`` clears the
reviewer's screen, ``ESC ]8;;URL`` plants a hidden link, ``ESC ]52`` writes their
clipboard), C1 controls that some terminals obey as ESC, and bidirectional overrides that
make a reply read differently from what it says. :func:`visible` replaces each with a
visible escape (``\\x1b``, ``\\u202e``): the reviewer sees that it was there, and nothing
acts on it. Newlines and tabs stay. :func:`term_text` also keeps rich's ``[markup]`` from
being interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["percent", "rate_cell", "term_text", "visible"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """``value`` as text with control and bidi-override characters shown as escapes."""
    s = value if isinstance(value, str) else "" if value is None else str(value)
    if s.isascii() and s.isprintable():
        return s
    return _CONTROL.sub(_escape, s)


def term_text(value: Any, style: str = "") -> Any:
    """A ``rich.text.Text`` of ``value``: no markup interpreted, controls made visible."""
    from rich.text import Text

    return Text(visible(value), style=style)


def rate_cell(rate: Mapping[str, Any]) -> str:
    """A rate document (``value``, ``ci95``, ``n``) as ``12.5% [9%–17%] n=240``; ``–`` if none."""
    if rate.get("value") is None:
        return "–"
    lo, hi = rate["ci95"]
    return f"{rate['value']:.1%} [{lo:.0%}–{hi:.0%}] n={rate['n']}"


def percent(x: float | None) -> str:
    """A share as ``12.3%``; ``—`` when there is none."""
    return "—" if x is None else f"{100 * x:.1f}%"
