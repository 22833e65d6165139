"""Optional second destination: the same interactions as OTLP/HTTP (JSON) GenAI spans.

So a team can see pilot traffic in the observability stack it already has. One span per
interaction, with the OpenTelemetry GenAI semantic conventions (``gen_ai.operation.name``,
``gen_ai.request.model``, ``gen_ai.usage.*``, ``gen_ai.input.messages``,
``gen_ai.output.messages``, ``gen_ai.conversation.id``) plus ``pilotgate.feature`` /
``pilotgate.version`` so that the collector's ``/v1/traces`` maps them back losslessly.

Best effort by design: the pilotgate backend is the system of record (spilled, replayed);
spans the OTLP endpoint does not take are counted, not kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pilotgate.instrument._transport import CollectorTransport, Reject

__all__ = ["OtlpTransport", "records_to_otlp"]


def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    else:
        v = {"stringValue": value if isinstance(value, str) else json.dumps(value)}
    return {"key": key, "value": v}


def _messages(value: Any, role: str) -> str:
    if isinstance(value, list):
        msgs = [
            {
                "role": str(m.get("role", role)),
                "parts": [{"type": "text", "content": m.get("content", "")}],
            }
            for m in value
            if isinstance(m, dict)
        ]
    else:
        msgs = [{"role": role, "parts": [{"type": "text", "content": value or ""}]}]
    return json.dumps(msgs, ensure_ascii=False)


def _span(rec: Mapping[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(str(rec["id"]).encode()).hexdigest()
    start = int(datetime.fromisoformat(rec["ts"]).timestamp() * 1e9)
    end = start + int((rec.get("latency_ms") or 0.0) * 1e6)
    md = rec.get("metadata") or {}
    attrs = [
        _kv("gen_ai.operation.name", "chat"),
        _kv("pilotgate.feature", rec["feature"]),
        _kv("pilotgate.version", rec.get("version") or ""),
        _kv("pilotgate.interaction_id", rec["id"]),
        _kv("gen_ai.input.messages", _messages(rec.get("input"), "user")),
    ]
    if rec.get("output") is not None:
        attrs.append(_kv("gen_ai.output.messages", _messages(rec["output"], "assistant")))
    optional = {
        "gen_ai.request.model": md.get("model"),
        "gen_ai.conversation.id": rec.get("session_id"),
        "user.id": rec.get("user_id"),
        "gen_ai.usage.input_tokens": rec.get("tokens_in"),
        "gen_ai.usage.output_tokens": rec.get("tokens_out"),
        "error.type": rec.get("error"),
    }
    attrs.extend(_kv(k, v) for k, v in optional.items() if v is not None)
    span: dict[str, Any] = {
        "traceId": digest[:32],
        "spanId": digest[32:48],
        "name": f"chat {md.get('model') or rec['feature']}",
        "kind": 3,  # CLIENT
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": attrs,
    }
    if rec.get("error"):
        span["status"] = {"code": 2, "message": str(rec["error"])}
    return span


def records_to_otlp(records: list[dict[str, Any]], service: str) -> dict[str, Any]:
    """An OTLP/JSON ``ExportTraceServiceRequest`` for the interaction records."""
    spans = [_span(r) for r in records if r.get("kind") == "interaction"]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_kv("service.name", service)]},
                "scopeSpans": [{"scope": {"name": "pilotgate.instrument"}, "spans": spans}],
            }
        ]
    }


class OtlpTransport(CollectorTransport):
    """``POST`` OTLP/JSON to a traces endpoint (e.g. ``http://127.0.0.1:4318/v1/traces``)."""

    def __init__(self, url: str, headers: Mapping[str, str] | None, service: str) -> None:
        parts = urlsplit(url)
        super().__init__(f"{parts.scheme}://{parts.netloc}", None)
        self.path = parts.path or "/v1/traces"
        self.headers.update(headers or {})
        self.service = service

    def export(self, records: list[dict[str, Any]], timeout: float) -> int:
        """Send the interactions among ``records``; returns how many spans were sent."""
        doc = records_to_otlp(records, self.service)
        n = len(doc["resourceSpans"][0]["scopeSpans"][0]["spans"])
        if n:
            self.post(doc, timeout)
        return n

    def post(self, doc: dict[str, Any], timeout: float) -> None:
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        status, data, _ = self.request(body, timeout)
        if not 200 <= status < 300:
            raise Reject(f"OTLP endpoint said {status}: {data[:200]!r}")
