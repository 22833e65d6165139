"""OpenTelemetry GenAI log events (OTLP logs, JSON or protobuf) as partial interactions.

Instrumentations that follow the GenAI conventions with content capture on send the
messages as log records tied to the call's span: one ``gen_ai.{system,user,assistant,
tool}.message`` per input message and one ``gen_ai.choice`` per choice (the older
events), or one ``gen_ai.client.inference.operation.details`` carrying
``gen_ai.input.messages`` / ``gen_ai.output.messages`` (the newer event). Each span's
events become one *partial* interaction with the span's id (``otel-<trace>-<span>``),
to be joined with the span's own record by :func:`merge_interaction`, whichever comes
first. Log records without a span id cannot be joined and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from pilotgate.ingest._otlp import (
    _any_value,
    _attrs,
    _b64_hex,
    _maybe_json,
    _messages,
    _nanos,
    _text_of,
)

__all__ = ["otlp_json_log_records", "otlp_protobuf_log_records"]

_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE = "gen_ai.choice"
DETAILS = "gen_ai.client.inference.operation.details"


def _message_of(body: Any, role: str) -> dict[str, Any]:
    body = _maybe_json(body)
    if not isinstance(body, dict):
        return {"role": role, "content": _text_of(body)}
    msg: dict[str, Any] = {"role": str(body.get("role") or role)}
    msg["content"] = _text_of(_maybe_json(body.get("content")))
    if body.get("tool_calls"):
        msg["tool_calls"] = body["tool_calls"]
    if body.get("id") is not None and role == "tool":
        msg["tool_call_id"] = body["id"]
    return msg


class _Part:
    """What the log events of one span said, in the order they were sent."""

    def __init__(self, rid: str, ts: int | None, resource: dict[str, Any]) -> None:
        self.rid, self.ts, self.resource = rid, ts, resource
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[str] = []
        self.meta: dict[str, Any] = {}
        self.tokens: tuple[Any, Any] = (None, None)

    def add(self, name: str, attrs: dict[str, Any], body: Any) -> bool:
        if name in _MESSAGE_EVENTS:
            self.inputs.append(_message_of(body, _MESSAGE_EVENTS[name]))
        elif name == CHOICE:
            self._choice(_maybe_json(body))
        elif name == DETAILS:
            self._details(attrs, body)
        else:
            return False
        return True

    def _choice(self, body: Any) -> None:
        if not isinstance(body, dict) or (body.get("index") or 0) != 0:
            return
        message = _maybe_json(body.get("message"))
        content = message.get("content") if isinstance(message, dict) else message
        self.outputs.append(_text_of(_maybe_json(content)))
        if isinstance(message, dict) and message.get("tool_calls"):
            self.meta["tool_calls"] = message["tool_calls"]
        if body.get("finish_reason"):
            self.meta["finish_reason"] = body["finish_reason"]

    def _details(self, attrs: dict[str, Any], body: Any) -> None:
        doc = _maybe_json(body)
        src = {**(doc if isinstance(doc, dict) else {}), **attrs}
        system = src.get("gen_ai.system_instructions")
        if system:
            self.inputs.append({"role": "system", "content": _text_of(_maybe_json(system))})
        self.inputs.extend(_messages(src.get("gen_ai.input.messages")) or [])
        outs = _messages(src.get("gen_ai.output.messages")) or []
        self.outputs.extend(m["content"] for m in outs)
        model = src.get("gen_ai.response.model") or src.get("gen_ai.request.model")
        if model:
            self.meta["model"] = model
        self.tokens = (src.get("gen_ai.usage.input_tokens"), src.get("gen_ai.usage.output_tokens"))

    def record(self, trace_id: str, span_id: str) -> dict[str, Any]:
        res = self.resource
        meta = {"source": "otlp", "otlp_part": "logs", "awaiting_span": True, **self.meta}
        meta.update({"trace_id": trace_id, "span_id": span_id})
        ts = datetime.fromtimestamp(self.ts / 1e9, UTC) if self.ts else datetime.now(UTC)
        rec: dict[str, Any] = {
            "kind": "interaction",
            "id": self.rid,
            "ts": ts.isoformat(),
            "feature": res.get("service.name") or "otel",
            "version": str(res.get("service.version") or ""),
            "input": self.inputs or "",
            "output": "".join(self.outputs) if self.outputs else None,
            "metadata": meta,
        }
        if self.tokens[0] is not None:
            rec["tokens_in"] = self.tokens[0]
        if self.tokens[1] is not None:
            rec["tokens_out"] = self.tokens[1]
        return rec


def _walk(doc: Any, id_text: Callable[[Any], str]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(index of the span's first log record, partial interaction) per span; others None."""
    if not isinstance(doc, dict):
        raise ValueError("an OTLP/JSON logs export is an object with resourceLogs")
    parts: dict[str, tuple[int, _Part, str, str]] = {}
    n = 0
    for rl in doc.get("resourceLogs") or []:
        resource = _attrs(((rl or {}).get("resource") or {}).get("attributes"))
        for sl in (rl or {}).get("scopeLogs") or []:
            for lr in (sl or {}).get("logRecords") or []:
                index, n = n, n + 1
                if not isinstance(lr, dict):
                    yield index, None
                    continue
                attrs = _attrs(lr.get("attributes"))
                name = lr.get("eventName") or attrs.get("event.name") or ""
                trace_id, span_id = id_text(lr.get("traceId", "")), id_text(lr.get("spanId", ""))
                if not span_id or not str(name).startswith("gen_ai."):
                    yield index, None
                    continue
                rid = f"otel-{trace_id}-{span_id}"
                if rid not in parts:
                    ts = _nanos(lr.get("timeUnixNano")) or _nanos(lr.get("observedTimeUnixNano"))
                    parts[rid] = (index, _Part(rid, ts, resource), trace_id, span_id)
                if not parts[rid][1].add(str(name), attrs, _any_value(lr.get("body"))):
                    yield index, None
    for index, part, trace_id, span_id in parts.values():
        yield index, part.record(trace_id, span_id)


def otlp_json_log_records(doc: Any) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Partial interactions (one per span) from an OTLP/JSON ``ExportLogsServiceRequest``."""
    return _walk(doc, lambda v: v if isinstance(v, str) else "")


def otlp_protobuf_log_records(data: bytes) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """The same from OTLP/protobuf bytes.

    Raises:
        ValueError: the bytes are not a valid export request.
        MissingDependencyError: opentelemetry-proto is not installed.
    """
    try:
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    except ImportError:
        from pilotgate.errors import MissingDependencyError

        raise MissingDependencyError("opentelemetry-proto", "otlp", "OTLP/protobuf") from None
    req = logs_service_pb2.ExportLogsServiceRequest()
    try:
        req.ParseFromString(data)
    except DecodeError as exc:
        raise ValueError(f"not an OTLP ExportLogsServiceRequest: {exc}") from None
    return _walk(MessageToDict(req), _b64_hex)
