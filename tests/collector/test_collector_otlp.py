"""Spans from a real OpenTelemetry SDK become interactions (OTLP/JSON and OTLP/protobuf)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.trace", reason="opentelemetry-sdk is not installed")

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import Status, StatusCode

from pilotgate.ingest import ingest_files
from pilotgate.store import Store


def _genai_spans() -> tuple[ReadableSpan, ...]:
    """What an app instrumented with the GenAI semantic conventions emits."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "support-router", "service.version": "v3"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        span.set_attribute("gen_ai.usage.input_tokens", 42)
        span.set_attribute("gen_ai.usage.output_tokens", 7)
        span.set_attribute("gen_ai.conversation.id", "conv-1")
        span.set_attribute(
            "gen_ai.input.messages",
            json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Reset my PIN, "
                                                     "I am ann@example.com"}]}]),
        )  # fmt: skip
        span.set_attribute(
            "gen_ai.output.messages",
            json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Go to "
                                                          "Settings > Security."}]}]),
        )  # fmt: skip
    with tracer.start_as_current_span("legacy completion") as span:  # older conventions
        span.set_attribute("gen_ai.system", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-3.5-turbo")
        span.set_attribute("gen_ai.usage.prompt_tokens", 5)
        span.set_attribute("gen_ai.usage.completion_tokens", 3)
        span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "hello there"})
        span.add_event("gen_ai.content.completion", {"gen_ai.completion": "hi!"})
        span.set_status(Status(StatusCode.ERROR, "rate limited"))
    with tracer.start_as_current_span("db query"):  # not a GenAI call: skipped
        pass
    provider.shutdown()
    return exporter.get_finished_spans()


def _otlp_json(spans: tuple[ReadableSpan, ...]) -> dict[str, Any]:
    """OTLP/JSON as the spec writes it (the protobuf JSON mapping, ids in hex)."""
    doc: dict[str, Any] = MessageToDict(encode_spans(spans))
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in s:
                        s[k] = base64.b64decode(s[k]).hex()
    return doc


def _check(store: Store) -> None:
    rows = {r["metadata"]["model"]: r for r in store.interactions()}
    assert set(rows) == {"gpt-4o-mini", "gpt-3.5-turbo"}
    chat = rows["gpt-4o-mini"]
    assert chat["feature"] == "support-router" and chat["version"] == "v3"
    assert chat["tokens_in"] == 42 and chat["tokens_out"] == 7
    from pilotgate.redact import Pseudonymiser

    # redaction is on: the session id is stored as the store's keyed hash of "conv-1"
    assert chat["session_id"] == Pseudonymiser(store.secret("pseudonym")).id("conv-1")
    assert chat["input_messages"] == [{"role": "user", "content": "Reset my PIN, I am [EMAIL]"}]
    assert chat["output"] == "Go to Settings > Security."
    assert chat["latency_ms"] is not None and chat["latency_ms"] >= 0
    assert chat["metadata"]["provider"] == "openai" and chat["error"] is None
    assert len(chat["metadata"]["trace_id"]) == 32
    legacy = rows["gpt-3.5-turbo"]
    assert legacy["input_messages"] == [{"role": "user", "content": "hello there"}]
    assert legacy["output"] == "hi!"
    assert (legacy["tokens_in"], legacy["tokens_out"]) == (5, 3)
    assert legacy["error"] == "rate limited"


def test_otlp_json_export_over_http(collector: Any) -> None:
    doc = _otlp_json(_genai_spans())
    status, body, _ = collector.request("POST", "/v1/traces", doc)
    assert status == 200 and body == {}
    _check(collector.store)
    # the same export again: same ids, nothing new
    collector.request("POST", "/v1/traces", doc)
    assert collector.store.count() == 2


def test_otlp_protobuf_export_over_http(collector: Any) -> None:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    data = encode_spans(_genai_spans()).SerializeToString()
    status, body, hdrs = collector.request(
        "POST", "/v1/traces", data, content_type="application/x-protobuf"
    )
    assert status == 200 and hdrs["content-type"] == "application/x-protobuf"
    resp = trace_service_pb2.ExportTraceServiceResponse()
    resp.ParseFromString(body if isinstance(body, bytes) else b"")
    assert resp.partial_success.rejected_spans == 0
    _check(collector.store)


def test_otlp_json_file_ingest(tmp_path: Any) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_otlp_json(_genai_spans())), encoding="utf-8")
    from pilotgate.redact import Redactor

    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        report = ingest_files([path], store, redactor=Redactor())
        assert report.read == 2 and report.files[0].skipped_spans == 1
        assert report.redactions == {"email": 1}
        _check(store)


def test_bad_otlp_bodies_are_400(collector: Any) -> None:
    status, _, _ = collector.request(
        "POST", "/v1/traces", b"\x00\x01garbage", content_type="application/x-protobuf"
    )
    assert status == 400
    assert collector.request("POST", "/v1/traces", [1, 2])[0] == 400
    assert collector.request("POST", "/v1/traces", b"{", content_type="application/json")[0] == 400
