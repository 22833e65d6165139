"""``POST /v1/traces`` and ``POST /v1/logs``: OTLP/HTTP in JSON or protobuf, answered in kind.

Spans and GenAI log events of one call share an interaction id; the collector joins
them with what is already stored under it (whichever arrived first), see
:mod:`pilotgate.collector._otlp_join`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import HTTPException, Response
from fastapi.concurrency import run_in_threadpool

from pilotgate.ingest import (
    otlp_json_log_records,
    otlp_json_records,
    otlp_protobuf_log_records,
    otlp_protobuf_records,
)

__all__ = ["handle_logs", "handle_traces"]

PROTOBUF = "application/x-protobuf"
Decoded = Iterator[tuple[int, dict[str, Any] | None]]


def _decode(
    data: bytes,
    is_proto: bool,
    from_json: Callable[[Any], Decoded],
    from_proto: Callable[[bytes], Decoded],
    what: str,
) -> list[tuple[int, dict[str, Any]]]:
    try:
        if is_proto:
            items = list(from_proto(data))
        else:
            items = list(from_json(json.loads(data) if data.strip() else {}))
    except RecursionError:
        raise HTTPException(400, detail="body nested too deeply") from None
    except (ValueError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        raise HTTPException(400, detail=f"not an OTLP {what} export: {exc}") from None
    return [(i, rec) for i, rec in items if rec is not None]


async def handle_traces(
    data: bytes, content_type: str, process: Callable[..., Any], caller: Any
) -> Response:
    """Map GenAI spans to interactions and store them; others are acknowledged and dropped.

    Decoding (up to the body limit of protobuf or JSON) runs in a worker thread, like
    storing: the event loop keeps serving other requests meanwhile.
    """
    is_proto = content_type.split(";")[0].strip().lower() == PROTOBUF
    genai = await run_in_threadpool(
        _decode, data, is_proto, otlp_json_records, otlp_protobuf_records, "trace"
    )
    resp = await run_in_threadpool(process, genai, caller, "interaction", True)
    rejected = len(resp.errors)
    message = "; ".join(f"span {e.index}: {e.field}: {e.error}" for e in resp.errors[:5])
    if is_proto:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        out = trace_service_pb2.ExportTraceServiceResponse()
        if rejected:
            out.partial_success.rejected_spans = rejected
            out.partial_success.error_message = message
        return Response(out.SerializeToString(), media_type=PROTOBUF)
    body: dict[str, Any] = {}
    if rejected:
        body["partialSuccess"] = {"rejectedSpans": rejected, "errorMessage": message}
    return Response(json.dumps(body), media_type="application/json")


async def handle_logs(
    data: bytes, content_type: str, process: Callable[..., Any], caller: Any
) -> Response:
    """Join GenAI log events to their spans' interactions; other log records are dropped.

    Decoded in a worker thread, like the traces.
    """
    is_proto = content_type.split(";")[0].strip().lower() == PROTOBUF
    parts = await run_in_threadpool(
        _decode, data, is_proto, otlp_json_log_records, otlp_protobuf_log_records, "logs"
    )
    resp = await run_in_threadpool(process, parts, caller, "interaction", True)
    rejected = len(resp.errors)
    message = "; ".join(f"log record {e.index}: {e.field}: {e.error}" for e in resp.errors[:5])
    if is_proto:
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

        out = logs_service_pb2.ExportLogsServiceResponse()
        if rejected:
            out.partial_success.rejected_log_records = rejected
            out.partial_success.error_message = message
        return Response(out.SerializeToString(), media_type=PROTOBUF)
    body: dict[str, Any] = {}
    if rejected:
        body["partialSuccess"] = {"rejectedLogRecords": rejected, "errorMessage": message}
    return Response(json.dumps(body), media_type="application/json")
