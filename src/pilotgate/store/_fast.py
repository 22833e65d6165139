"""A fast, exact-subset validator for well-formed interaction records.

Pydantic's validation of an :class:`~pilotgate.records.InteractionRecord` costs ~8 µs, the
largest share of ingest time. Well-formed records (the SDK's, most files') are checked here
with plain type tests in ~1–2 µs. Anything this path is not sure about returns ``None`` and
goes through pydantic, so what is accepted and the error messages stay pydantic's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["normalise_interaction"]

_FIELDS = frozenset(
    (
        "kind",
        "id",
        "ts",
        "feature",
        "version",
        "session_id",
        "user_id",
        "input",
        "output",
        "latency_ms",
        "ttft_ms",
        "tokens_in",
        "tokens_out",
        "error",
        "metadata",
    )
)


def _opt_str(v: Any) -> bool:
    return v is None or type(v) is str


def _opt_ms(v: Any) -> float | None | bool:
    """A non-negative finite number as float, None for None, False when not acceptable."""
    if v is None:
        return None
    t = type(v)
    if (t is float or t is int) and v >= 0 and (t is int or math.isfinite(v)):
        return float(v)
    return False


def _opt_count(v: Any) -> bool:
    return v is None or (type(v) is int and v >= 0)


def _ts(v: Any) -> datetime | None:
    if type(v) is str:
        try:
            dt = datetime.fromisoformat(v)
        except ValueError:
            return None
    elif isinstance(v, datetime):
        dt = v
    else:
        return None
    if dt.tzinfo is None:
        return None
    return dt if dt.tzinfo is UTC else dt.astimezone(UTC)


def normalise_interaction(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record as a plain dict with every field (ts an aware UTC datetime), or None.

    None means "not certainly valid": validate with pydantic to accept it or to learn why not.
    """
    if not _FIELDS.issuperset(obj.keys()) or obj.get("kind", "interaction") != "interaction":
        return None
    rid = obj.get("id")
    feature = obj.get("feature")
    version = obj.get("version", "")
    if type(rid) is not str or not 0 < len(rid) <= 200:
        return None
    if type(feature) is not str or not feature or type(version) is not str:
        return None
    ts = _ts(obj.get("ts"))
    if ts is None:
        return None
    inp = obj.get("input")
    if type(inp) is not str:
        if type(inp) is not list or not all(type(m) is dict for m in inp):
            return None
    session_id = obj.get("session_id")
    user_id = obj.get("user_id")
    output = obj.get("output")
    error = obj.get("error")
    if not (_opt_str(session_id) and _opt_str(user_id) and _opt_str(output) and _opt_str(error)):
        return None
    latency = _opt_ms(obj.get("latency_ms"))
    ttft = _opt_ms(obj.get("ttft_ms"))
    if latency is False or ttft is False:
        return None
    tokens_in = obj.get("tokens_in")
    tokens_out = obj.get("tokens_out")
    if not (_opt_count(tokens_in) and _opt_count(tokens_out)):
        return None
    metadata = obj.get("metadata")
    if metadata is None:
        if "metadata" in obj:
            return None
        metadata = {}
    elif type(metadata) is not dict:
        return None
    return {
        "kind": "interaction",
        "id": rid,
        "ts": ts,
        "feature": feature,
        "version": version,
        "session_id": session_id,
        "user_id": user_id,
        "input": inp,
        "output": output,
        "latency_ms": latency,
        "ttft_ms": ttft,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "error": error,
        "metadata": metadata,
    }
