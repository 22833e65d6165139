"""Reading and formatting helpers shared by the report and the dashboard."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["fmt_ms", "fmt_num", "fmt_pct", "num", "pick"]


def num(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, NaN, text)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def pick(doc: Any, *paths: str, default: Any = None) -> Any:
    """The first value found at one of the dotted ``paths`` in nested dicts.

    Documents written by other capabilities grow fields over time; reading them through
    alternative paths keeps the report working with every version that has the data.
    """
    for path in paths:
        cur = doc
        for part in path.split("."):
            if isinstance(cur, Mapping) and part in cur:
                cur = cur[part]
            elif isinstance(cur, Sequence) and not isinstance(cur, str) and part.isdigit():
                idx = int(part)
                cur = cur[idx] if idx < len(cur) else None
            else:
                cur = None
            if cur is None:
                break
        if cur is not None:
            return cur
    return default


def fmt_num(value: Any, digits: int = 3) -> str:
    f = num(value)
    if f is None:
        return "—"
    if f != 0 and abs(f) < 10 ** (-digits):
        return f"{f:.2e}"
    if abs(f) >= 1000:
        return f"{f:,.0f}"
    return f"{f:.{digits}g}" if abs(f) >= 1 else f"{f:.{digits}f}".rstrip("0").rstrip(".")


def fmt_pct(value: Any, digits: int = 1) -> str:
    f = num(value)
    return "—" if f is None else f"{100 * f:.{digits}f} %"


def fmt_ms(value: Any) -> str:
    f = num(value)
    if f is None:
        return "—"
    if f >= 10_000:
        return f"{f / 1000:.1f} s"
    return f"{f:,.0f} ms"
