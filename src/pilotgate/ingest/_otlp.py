"""OpenTelemetry traces (OTLP/JSON and OTLP/protobuf) to interaction records.

Spans that follow the GenAI semantic conventions become interactions: the model from
``gen_ai.request.model``, tokens from ``gen_ai.usage.*``, messages from
``gen_ai.input.messages`` / ``gen_ai.output.messages`` (or the older ``gen_ai.prompt`` /
``gen_ai.completion`` attributes, indexed ``gen_ai.prompt.N.*`` attributes and span
events), the session from ``gen_ai.conversation.id``. Spans without any ``gen_ai.*``
attribute are skipped: they are the app's own plumbing, not calls of the feature.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from pilotgate.ingest._openinference import is_openinference, openinference_fields

__all__ = ["otlp_json_records", "otlp_protobuf_records", "span_to_record"]

Attrs = dict[str, Any]


def _any_value(v: Any) -> Any:
    """Decode an OTLP ``AnyValue`` (JSON form) into a plain Python value."""
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:  # int64 travels as a string in OTLP/JSON
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return None
    if "arrayValue" in v:
        return [_any_value(x) for x in (v["arrayValue"] or {}).get("values", []) or []]
    if "kvlistValue" in v:
        return _attrs((v["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _attrs(items: Any) -> Attrs:
    out: Attrs = {}
    if isinstance(items, list):
        for kv in items:
            if isinstance(kv, dict) and isinstance(kv.get("key"), str):
                out[kv["key"]] = _any_value(kv.get("value"))
    return out


def _maybe_json(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in ("[", "{"):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _text_of(content: Any) -> str:
    """Text of a message's content: a string, or the text parts of a parts list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict):
                t = part.get("content", part.get("text"))
                if isinstance(t, str):
                    texts.append(t)
            elif isinstance(part, str):
                texts.append(part)
        return "".join(texts)
    if isinstance(content, dict):
        return _text_of([content])
    return "" if content is None else json.dumps(content)


def _messages(value: Any) -> list[dict[str, Any]] | None:
    """Chat messages from the many shapes GenAI instrumentations emit."""
    value = _maybe_json(value)
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    out = []
    for m in value:
        if isinstance(m, dict):
            content = m.get("parts", m.get("content", m.get("message", {}).get("content")))
            if isinstance(m.get("message"), dict):
                m = {**m["message"], **m}
            out.append({"role": str(m.get("role") or "user"), "content": _text_of(content)})
        elif isinstance(m, str):
            out.append({"role": "user", "content": m})
    return out or None


def _indexed(attrs: Attrs, prefix: str) -> list[dict[str, Any]] | None:
    """OpenLLMetry-style ``gen_ai.prompt.0.role`` / ``gen_ai.prompt.0.content`` attributes."""
    msgs: dict[int, dict[str, Any]] = {}
    for key, v in attrs.items():
        if key.startswith(prefix):
            idx, _, field = key[len(prefix) :].partition(".")
            if idx.isdigit() and field in ("role", "content"):
                msgs.setdefault(int(idx), {})[field] = v
    if not msgs:
        return None
    return [
        {"role": str(m.get("role", "user")), "content": _text_of(m.get("content"))}
        for _, m in sorted(msgs.items())
    ]


def _from_events(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Messages carried by span events (older GenAI conventions)."""
    inputs: list[dict[str, Any]] = []
    outputs: list[str] = []
    for ev in events:
        name = ev.get("name", "")
        a = _attrs(ev.get("attributes"))
        if name == "gen_ai.content.prompt" and "gen_ai.prompt" in a:
            inputs.extend(_messages(a["gen_ai.prompt"]) or [])
        elif name == "gen_ai.content.completion" and "gen_ai.completion" in a:
            outputs.extend(m["content"] for m in _messages(a["gen_ai.completion"]) or [])
        elif name in ("gen_ai.user.message", "gen_ai.system.message", "gen_ai.assistant.message"):
            role = name.split(".")[1]
            content = a.get("content", _any_value(ev.get("body")))
            inputs.append({"role": a.get("role", role), "content": _text_of(_maybe_json(content))})
        elif name == "gen_ai.choice":
            msg = _maybe_json(a.get("message", a.get("content", _any_value(ev.get("body")))))
            if isinstance(msg, dict):
                msg = msg.get("content", msg.get("message", {}).get("content"))
            outputs.append(_text_of(msg))
    return inputs, outputs


def _nanos(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def span_to_record(
    span: dict[str, Any], resource: Attrs, *, id_text: Callable[[Any], str] = str
) -> dict[str, Any] | None:
    """One span (OTLP/JSON shape) as an ingest interaction dict, or None if not GenAI.

    OpenInference spans are mapped too (:mod:`._openinference`); of those, only LLM-kind
    spans are model calls.
    """
    a = _attrs(span.get("attributes"))
    oi: dict[str, Any] | None = None
    if is_openinference(a):
        oi = openinference_fields(a)
        if oi is None:
            return None
    elif not any(k.startswith("gen_ai.") for k in a):
        return None
    rec = _genai_record(span, a, resource, id_text)
    if oi is not None:
        meta = {**rec["metadata"], **oi.pop("metadata")}
        rec.update({k: v for k, v in oi.items() if v not in (None, "")})
        rec["metadata"] = meta
    return rec


def _genai_record(
    span: dict[str, Any], a: Attrs, resource: Attrs, id_text: Callable[[Any], str]
) -> dict[str, Any]:
    inputs = _messages(a.get("gen_ai.input.messages")) or _messages(a.get("gen_ai.prompt"))
    inputs = inputs or _indexed(a, "gen_ai.prompt.")
    outputs = _messages(a.get("gen_ai.output.messages")) or _messages(a.get("gen_ai.completion"))
    outputs = outputs or _indexed(a, "gen_ai.completion.")
    ev_in, ev_out = _from_events(span.get("events") or [])
    inputs = inputs or ev_in or None
    system = a.get("gen_ai.system_instructions")
    if inputs and system:
        inputs = [{"role": "system", "content": _text_of(_maybe_json(system))}, *inputs]
    output_text = "".join(m["content"] for m in outputs) if outputs else ("".join(ev_out) or None)
    start, end = _nanos(span.get("startTimeUnixNano")), _nanos(span.get("endTimeUnixNano"))
    status = span.get("status") or {}
    failed = status.get("code") in (2, "STATUS_CODE_ERROR")
    trace_id, span_id = id_text(span.get("traceId", "")), id_text(span.get("spanId", ""))
    model = a.get("gen_ai.request.model") or a.get("gen_ai.response.model")
    meta = {
        "source": "otlp",
        "model": model,
        "response_model": a.get("gen_ai.response.model"),
        "provider": a.get("gen_ai.provider.name") or a.get("gen_ai.system"),
        "operation": a.get("gen_ai.operation.name"),
        "trace_id": trace_id or None,
        "span_id": span_id or None,
        "otlp_part": "span",
    }
    return {
        "kind": "interaction",
        "id": f"otel-{trace_id}-{span_id}" if span_id else f"otel-{span.get('name', 'span')}",
        "ts": datetime.fromtimestamp(start / 1e9, UTC).isoformat() if start else None,
        "feature": a.get("pilotgate.feature") or resource.get("service.name") or "otel",
        "version": str(a.get("pilotgate.version") or resource.get("service.version") or ""),
        "session_id": a.get("gen_ai.conversation.id") or a.get("session.id"),
        "user_id": a.get("user.id") or a.get("enduser.id"),
        "input": inputs if inputs else "",
        "output": output_text,
        "latency_ms": (end - start) / 1e6 if start and end and end >= start else None,
        "tokens_in": a.get("gen_ai.usage.input_tokens", a.get("gen_ai.usage.prompt_tokens")),
        "tokens_out": a.get("gen_ai.usage.output_tokens", a.get("gen_ai.usage.completion_tokens")),
        "error": (a.get("error.type") or status.get("message") or "error") if failed else None,
        "metadata": {k: v for k, v in meta.items() if v is not None},
    }


def _walk(doc: Any, id_text: Callable[[Any], str]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    if not isinstance(doc, dict):
        raise ValueError("an OTLP/JSON export is an object with resourceSpans")
    n = 0
    for rs in doc.get("resourceSpans") or []:
        resource = _attrs(((rs or {}).get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
            for span in (ss or {}).get("spans") or []:
                rec = (
                    span_to_record(span, resource, id_text=id_text)
                    if isinstance(span, dict)
                    else None
                )
                yield n, rec
                n += 1


def otlp_json_records(doc: Any) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(span index, interaction dict or None when the span is not a GenAI call)."""
    return _walk(doc, lambda v: v if isinstance(v, str) else "")


def _b64_hex(v: Any) -> str:
    if not isinstance(v, str) or not v:
        return ""
    try:
        return base64.b64decode(v).hex()
    except ValueError:
        return v


def otlp_protobuf_records(data: bytes) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Decode an OTLP/protobuf ``ExportTraceServiceRequest`` and map its spans.

    Raises:
        ValueError: the bytes are not a valid export request.
        MissingDependencyError: opentelemetry-proto is not installed.
    """
    try:
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    except ImportError:
        from pilotgate.errors import MissingDependencyError

        raise MissingDependencyError("opentelemetry-proto", "otlp", "OTLP/protobuf") from None
    req = trace_service_pb2.ExportTraceServiceRequest()
    try:
        req.ParseFromString(data)
    except DecodeError as exc:
        raise ValueError(f"not an OTLP ExportTraceServiceRequest: {exc}") from None
    # MessageToDict gives the OTLP/JSON field names, but ids as base64 rather than hex
    doc = MessageToDict(req)
    return _walk(doc, _b64_hex)
