"""Joining a GenAI span's record with its log events' record, whichever arrived first.

Both have the id ``otel-<trace>-<span>``. The span says when, how long, which model,
how many tokens and whether it failed; the log events (:mod:`._otlp_logs`) say what was
asked and answered. A record from log events that is still waiting for its span carries
``metadata.awaiting_span``; the span's arrival clears it. Re-sending either side is
harmless: messages already present are not added twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["merge_interaction", "merge_stored", "row_to_record"]

_FIELDS = (
    "id", "ts", "feature", "version", "session_id", "user_id", "output", "latency_ms",
    "ttft_ms", "tokens_in", "tokens_out", "error",
)  # fmt: skip


def row_to_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored interaction row as a record dict (the form the store takes back)."""
    rec: dict[str, Any] = {"kind": "interaction", **{k: row.get(k) for k in _FIELDS}}
    ts = rec["ts"]
    if isinstance(ts, datetime) and ts.tzinfo is None:
        rec["ts"] = ts.replace(tzinfo=UTC)
    messages = row.get("input_messages")
    rec["input"] = messages if isinstance(messages, list) else (row.get("input") or "")
    rec["metadata"] = dict(row.get("metadata") or {})
    return rec


def _key(message: Any) -> str:
    return json.dumps(message, sort_keys=True, ensure_ascii=False, default=str)


def _merge_messages(old: Any, new: Any) -> Any:
    """``old`` then the messages of ``new`` not already in it (linear: keys in a set)."""
    if not new:
        return old
    if not old:
        return new
    if isinstance(old, list) and isinstance(new, list):
        seen = {_key(m) for m in old}
        out = list(old)
        for m in new:
            k = _key(m)
            if k not in seen:
                seen.add(k)
                out.append(m)
        return out
    return old


def merge_interaction(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` (a span's or log events' record) joined with what is stored as ``old``."""
    old_md = dict(old.get("metadata") or {})
    new_md = dict(new.get("metadata") or {})
    if new_md.get("otlp_part") == "logs":
        out = dict(old)
        out["input"] = _merge_messages(old.get("input"), new.get("input"))
        if not old.get("output"):
            out["output"] = new.get("output")
        for name in ("tokens_in", "tokens_out"):
            if out.get(name) is None:
                out[name] = new.get(name)
        md = {**new_md, **old_md}
        if old_md.get("otlp_part") == "span":
            md.pop("awaiting_span", None)
    else:
        out = dict(new)
        if not new.get("input"):
            out["input"] = old.get("input") or ""
        if new.get("output") is None:
            out["output"] = old.get("output")
        md = {**old_md, **new_md}
        md.pop("awaiting_span", None)
    out["metadata"] = md
    return out


def merge_stored(
    records: Iterable[dict[str, Any]], stored: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Each record joined with its stored twin (``stored``: rows by id) and with the
    earlier records of the same batch that share its id; one record per id, in order."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        rid = rec["id"]
        prev = out.get(rid)
        if prev is None and rid in stored:
            prev = row_to_record(stored[rid])
        out[rid] = rec if prev is None else merge_interaction(prev, rec)
    return list(out.values())
