"""``/v1/logs``: GenAI log events joined to their spans, and OpenInference spans.

Bodies are OTLP/JSON as the specification writes it (hex ids), or protobuf made from it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

from pilotgate.collector import create_key
from pilotgate.store import Store

TRACE, SPAN = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
T0 = 1_767_000_000_000_000_000  # ns


def _kv(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in attrs.items()]


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": _kv(v)}}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": str(v)}


RESOURCE = {"attributes": _kv({"service.name": "support-router", "service.version": "v3"})}


def span_doc(attrs: dict[str, Any], span_id: str = SPAN, name: str = "chat") -> dict[str, Any]:
    span = {
        "traceId": TRACE, "spanId": span_id, "name": name, "kind": 3,
        "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 250_000_000),
        "attributes": _kv(attrs),
    }  # fmt: skip
    return {"resourceSpans": [{"resource": RESOURCE, "scopeSpans": [{"spans": [span]}]}]}


def logs_doc(*events: tuple[str, Any, dict[str, Any]], span_id: str = SPAN) -> dict[str, Any]:
    records = [
        {
            "timeUnixNano": str(T0 + i),
            "eventName": name,
            "traceId": TRACE,
            "spanId": span_id,
            "body": _value(body),
            "attributes": _kv(attrs),
        }  # fmt: skip
        for i, (name, body, attrs) in enumerate(events)
    ]
    return {"resourceLogs": [{"resource": RESOURCE, "scopeLogs": [{"logRecords": records}]}]}


V2_SPAN = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 5,
}
SYSTEM = ("gen_ai.system.message", {"content": "Be brief."}, {"gen_ai.system": "openai"})
USER = ("gen_ai.user.message", {"content": "Where is my card?"}, {"gen_ai.system": "openai"})
CHOICE = (
    "gen_ai.choice",
    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Shipped."}},
    {"gen_ai.system": "openai"},
)


def only(store: Store) -> dict[str, Any]:
    (rec,) = store.interactions()
    return rec


def _post(collector: Any, path: str, doc: dict[str, Any]) -> Any:
    status, body, _ = collector.request("POST", path, doc)
    assert status == 200, body
    return body


@pytest.mark.postgres
def test_log_events_first_then_the_span(collector_factory: Any, store_url: str) -> None:
    c = collector_factory(Store(store_url))
    _post(c, "/v1/logs", logs_doc(SYSTEM, USER, CHOICE))
    early = only(c.store)
    assert early["output"] == "Shipped." and early["metadata"]["awaiting_span"] is True
    _post(c, "/v1/traces", span_doc(V2_SPAN))
    rec = only(c.store)
    assert rec["id"] == f"otel-{TRACE}-{SPAN}"
    assert rec["input_messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is my card?"},
    ]
    assert rec["output"] == "Shipped."
    assert (rec["tokens_in"], rec["tokens_out"], rec["latency_ms"]) == (12, 5, 250.0)
    md = rec["metadata"]
    assert md["model"] == "gpt-4o-mini" and md["finish_reason"] == "stop"
    assert "awaiting_span" not in md and md["project"] == "acme"
    assert (rec["feature"], rec["version"]) == ("support-router", "v3")


@pytest.mark.postgres
def test_span_first_then_log_events_in_two_batches(collector_factory: Any, store_url: str) -> None:
    c = collector_factory(Store(store_url))
    _post(c, "/v1/traces", span_doc(V2_SPAN))
    assert only(c.store)["output"] is None
    _post(c, "/v1/logs", logs_doc(SYSTEM, USER))
    _post(c, "/v1/logs", logs_doc(CHOICE))
    _post(c, "/v1/logs", logs_doc(SYSTEM, USER, CHOICE))  # a re-sent batch adds nothing
    rec = only(c.store)
    assert [m["role"] for m in rec["input_messages"]] == ["system", "user"]
    assert rec["output"] == "Shipped." and rec["tokens_out"] == 5
    assert "awaiting_span" not in rec["metadata"]


def test_operation_details_event(collector: Any) -> None:
    details = {
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "Fees?"}]}]
        ),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": "None."}]}]
        ),
        "gen_ai.request.model": "gpt-5",
        "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 1,
    }
    event = ("gen_ai.client.inference.operation.details", None, details)
    _post(collector, "/v1/logs", logs_doc(event))
    rec = only(collector.store)
    assert rec["input_messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Fees?"},
    ]
    assert rec["output"] == "None." and (rec["tokens_in"], rec["tokens_out"]) == (3, 1)
    assert rec["metadata"]["model"] == "gpt-5"


def test_protobuf_logs_answer_in_protobuf(collector: Any) -> None:
    doc = logs_doc(USER, CHOICE)
    for rl in doc["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for lr in sl["logRecords"]:
                lr["traceId"] = base64.b64encode(bytes.fromhex(lr["traceId"])).decode()
                lr["spanId"] = base64.b64encode(bytes.fromhex(lr["spanId"])).decode()
    req = ParseDict(doc, logs_service_pb2.ExportLogsServiceRequest())
    status, body, headers = collector.request(
        "POST", "/v1/logs", req.SerializeToString(), content_type="application/x-protobuf"
    )
    assert status == 200 and headers["content-type"] == "application/x-protobuf"
    resp = logs_service_pb2.ExportLogsServiceResponse()
    resp.ParseFromString(body or b"")  # an empty message encodes as no bytes
    assert resp.partial_success.rejected_log_records == 0
    rec = only(collector.store)
    assert rec["id"] == f"otel-{TRACE}-{SPAN}" and rec["output"] == "Shipped."


def test_logs_that_cannot_join_are_acknowledged_and_skipped(collector: Any) -> None:
    doc = logs_doc(USER)
    doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["spanId"] = ""
    _post(collector, "/v1/logs", doc)
    _post(collector, "/v1/logs", logs_doc(("app.startup", "hello", {})))
    assert collector.store.interactions() == []
    status, _, _ = collector.request("POST", "/v1/logs", b"{not json")
    assert status == 400


def test_another_projects_key_cannot_overwrite(collector: Any) -> None:
    _post(collector, "/v1/traces", span_doc(V2_SPAN))
    _post(collector, "/v1/logs", logs_doc(USER, CHOICE))
    other, _ = create_key(collector.store, "other", name="intruder")
    forged: tuple[str, Any, dict[str, Any]] = (
        "gen_ai.choice",
        {"index": 0, "message": {"content": "forged"}},
        {},
    )
    status, _, _ = collector.request("POST", "/v1/logs", logs_doc(forged), key=other)
    assert status == 200  # ids are unique per project: it lands in the intruder's own
    mine = [r for r in collector.store.interactions() if r["project"] != "other"]
    assert len(mine) == 1 and mine[0]["output"] == "Shipped."


OI_LLM = {
    "openinference.span.kind": "LLM",
    "llm.system": "openai",
    "llm.model_name": "gpt-4o-mini",
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "Be brief.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.contents.0.message_content.type": "text",
    "llm.input_messages.1.message.contents.0.message_content.text": "Where is my card?",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": "Shipped.",
    "llm.token_count.prompt": 12,
    "llm.token_count.completion": 5,
    "session.id": "s-1",
    "user.id": "u-1",
    "input.value": json.dumps({"messages": [{"role": "user", "content": "ignored"}]}),
}


def test_openinference_llm_spans_become_interactions(collector: Any) -> None:
    _post(collector, "/v1/traces", span_doc(OI_LLM))
    chain = {"openinference.span.kind": "CHAIN", "input.value": "q", "output.value": "a"}
    _post(collector, "/v1/traces", span_doc(chain, span_id="aaaaaaaaaaaaaaaa"))
    rec = only(collector.store)
    assert rec["input_messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is my card?"},
    ]
    assert rec["output"] == "Shipped." and (rec["tokens_in"], rec["tokens_out"]) == (12, 5)
    from pilotgate.redact import Pseudonymiser  # redaction on: ids are keyed pseudonyms

    assert rec["session_id"] == Pseudonymiser(collector.store.secret("pseudonym")).id("s-1")
    assert rec["user_id"] is not None
    md = rec["metadata"]
    assert md["model"] == "gpt-4o-mini" and md["convention"] == "openinference"


def test_openinference_falls_back_to_input_and_output_value(collector: Any) -> None:
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "m",
        "input.value": json.dumps({"messages": [{"role": "user", "content": "Fees?"}]}),
        "output.value": json.dumps({"choices": [{"message": {"content": "None."}}]}),
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "lookup",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"q": 1}',
    }
    _post(collector, "/v1/traces", span_doc(attrs))
    rec = only(collector.store)
    assert rec["input_messages"] == [{"role": "user", "content": "Fees?"}]
    assert rec["metadata"]["tool_calls"] == [{"name": "lookup", "arguments": '{"q": 1}'}]
    assert "lookup" in rec["output"]


def test_a_span_with_many_log_messages_joins_in_linear_time(collector_factory: Any) -> None:
    import time

    # 40k distinct messages, sent twice: a quadratic join (1.6e9 comparisons) takes minutes.
    many: list[tuple[str, Any, dict[str, Any]]] = [
        ("gen_ai.user.message", {"content": f"m{i}"}, {}) for i in range(40_000)
    ]
    c_big = collector_factory(max_body_bytes=16 * 1024 * 1024)
    _post(c_big, "/v1/traces", span_doc(V2_SPAN))
    t0 = time.perf_counter()
    for _ in range(2):
        status, body, _ = c_big.request("POST", "/v1/logs", json.dumps(logs_doc(*many)), headers={})
        assert status == 200, body
    assert time.perf_counter() - t0 < 60
    assert len(only(c_big.store)["input_messages"]) == 40_000


@pytest.mark.postgres
def test_a_nul_in_an_id_never_sinks_the_batch(collector_factory: Any, store_url: str) -> None:
    """PostgreSQL refuses NUL anywhere: the id is normalised (U+FFFD), as on every path."""
    c = collector_factory(Store(store_url))
    doc = logs_doc(USER, CHOICE)
    bad = logs_doc(USER, span_id="bad\u0000span")["resourceLogs"][0]["scopeLogs"][0]
    doc["resourceLogs"][0]["scopeLogs"].append(bad)
    body = _post(c, "/v1/logs", doc)
    assert "partialSuccess" not in body
    rows = {r["id"]: r for r in c.store.interactions()}
    assert len(rows) == 2 and not any("\x00" in i for i in rows)
    assert any("\ufffd" in i for i in rows)
    (good,) = (r for i, r in rows.items() if "\ufffd" not in i)
    assert good["output"] == "Shipped."
