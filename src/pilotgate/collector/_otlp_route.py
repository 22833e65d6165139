"""``POST /v1/traces``: OTLP/HTTP in JSON or protobuf, answered in the same encoding."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Response
from fastapi.concurrency import run_in_threadpool

from pilotgate.ingest import otlp_json_records, otlp_protobuf_records

__all__ = ["handle_traces"]

PROTOBUF = "application/x-protobuf"


def _decode(data: bytes, is_proto: bool) -> list[tuple[int, Any]]:
    """The GenAI spans of an export, as (index, record); others are left out."""
    try:
        if is_proto:
            spans = list(otlp_protobuf_records(data))
        else:
            spans = list(otlp_json_records(json.loads(data) if data.strip() else {}))
    except RecursionError:
        raise HTTPException(400, detail="body nested too deeply") from None
    except (ValueError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        raise HTTPException(400, detail=f"not an OTLP trace export: {exc}") from None
    return [(i, rec) for i, rec in spans if rec is not None]


async def handle_traces(
    data: bytes, content_type: str, process: Callable[..., Any], caller: Any
) -> Response:
    """Map GenAI spans to interactions and store them; others are acknowledged and dropped.

    Decoding (up to the body limit of protobuf or JSON) runs in a worker thread, like
    storing: the event loop keeps serving other requests meanwhile.
    """
    is_proto = content_type.split(";")[0].strip().lower() == PROTOBUF
    genai = await run_in_threadpool(_decode, data, is_proto)
    resp = await run_in_threadpool(process, genai, caller, "interaction")
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
