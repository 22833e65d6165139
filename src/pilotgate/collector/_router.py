"""The collector's routes: batches of ingest records, feedback, OTLP traces and logs, health.

Every write is authenticated (Bearer API key), size-limited, validated record by record,
redacted, and committed before the 2xx goes out, so an acknowledged batch is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from pilotgate._version import __version__
from pilotgate.collector._body import decode_batch, read_body
from pilotgate.collector._keys import verify_key
from pilotgate.collector._settings import CollectorSettings
from pilotgate.errors import PilotgateError
from pilotgate.ingest import InvalidRecord, RecordError, store_records, validate_record
from pilotgate.ingest._gc import gc_paused
from pilotgate.ingest._otlp_join import merge_stored
from pilotgate.redact import Redactor
from pilotgate.store import Store

__all__ = ["IngestResponse", "collector_router"]

_BATCH_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["records"],
                    "properties": {
                        "records": {
                            "type": "array",
                            "items": {"type": "object", "additionalProperties": True},
                        }
                    },
                }
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


class ErrorItem(BaseModel):
    """One record that was not stored."""

    index: int = Field(description="Position of the record in the batch (0-based).")
    field: str = Field(description="The field at fault, or (record) / (json).")
    error: str = Field(description="Why it was refused.")


class IngestResponse(BaseModel):
    """What happened to a batch: every good record is stored even if others were bad."""

    accepted: int = Field(description="Records that passed validation and were committed.")
    stored_new: int = Field(description="Of those, how many were not already stored.")
    errors: list[ErrorItem] = Field(description="Records refused, by index, field and reason.")
    redactions: dict[str, int] = Field(description="PII spans redacted, per kind.")


class Health(BaseModel):
    status: str = Field(description="'ok' when the store answers.")
    version: str = Field(description="pilotgate version.")
    store: str = Field(description="Store backend: sqlite or postgresql.")


def _nul_id(index: int, rec: dict[str, Any], errors: list[RecordError]) -> bool:
    """Refuse (on its own) a record whose id has a NUL: PostgreSQL would fail the batch."""
    if "\x00" in rec["id"]:
        errors.append(RecordError(index, "id", "contains a NUL character"))
        return True
    return False


def collector_router(store: Store, settings: CollectorSettings) -> APIRouter:
    """The collector's routes over ``store``, configured by ``settings``."""
    router = APIRouter(tags=["collector"])
    redactor = (
        Redactor(settings.redact_kinds, settings.redact_patterns) if settings.redact else None
    )
    # SQLite has one writer at a time; queueing here beats "database is locked" retries
    write_lock = threading.Lock() if store.dialect == "sqlite" else None
    merge_lock = write_lock or threading.Lock()

    async def auth(request: Request) -> str | None:
        if not settings.require_key:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401, detail="missing API key", headers={"WWW-Authenticate": "Bearer"}
            )
        project = await run_in_threadpool(verify_key, store, token.strip())
        if project is None:
            raise HTTPException(
                401, detail="invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        return project

    def process(
        items: Iterable[tuple[int, Any]],
        project: str | None,
        only_kind: str | None = None,
        merge: bool = False,
    ) -> IngestResponse:
        with gc_paused():  # a batch is thousands of fresh dicts and no cycles
            return _process(items, project, only_kind, merge)

    def decode_and_process(
        data: bytes, content_type: str, project: str | None, only_kind: str | None = None
    ) -> IngestResponse:
        # decoding a big body takes milliseconds: here in a worker thread, not on the loop
        with gc_paused():
            records = decode_batch(data, content_type)
            return _process(enumerate(records), project, only_kind)

    def _process(
        items: Iterable[tuple[int, Any]],
        project: str | None,
        only_kind: str | None,
        merge: bool = False,
    ) -> IngestResponse:
        good: list[tuple[int, dict[str, Any]]] = []
        errors: list[RecordError] = []
        redactions: dict[str, int] = {}
        for index, obj in items:
            try:
                if isinstance(obj, Exception):
                    raise InvalidRecord("(json)", str(obj))
                rec = validate_record(obj, default_kind=only_kind or "interaction")
                if only_kind is not None and rec["kind"] != only_kind:
                    raise InvalidRecord("kind", f"this route takes {only_kind} records only")
                if redactor is not None:
                    for k, v in redactor.record(rec).items():
                        redactions[k] = redactions.get(k, 0) + v
                if project is not None and rec["kind"] != "feedback":
                    rec["metadata"] = {**(rec.get("metadata") or {}), "project": project}
            except InvalidRecord as exc:
                errors.append(RecordError(index, exc.field, exc.error))
                continue
            except RecursionError:
                errors.append(RecordError(index, "(record)", "nested too deeply"))
                continue
            good.append((index, rec))
        n_refused = len(errors)
        if merge:
            stored = _store_merged(good, project, errors)
        else:
            stored = _store([rec for _, rec in good])
        return IngestResponse(
            accepted=len(good) - (len(errors) - n_refused),
            stored_new=sum(stored.values()),
            errors=[ErrorItem(**e.to_json()) for e in errors],
            redactions=redactions,
        )

    def _store(good: list[dict[str, Any]]) -> dict[str, int]:
        if not good:
            return {}
        try:
            if write_lock is None:
                return store_records(store, good)
            with write_lock:
                return store_records(store, good)
        except PilotgateError:
            raise HTTPException(
                503,
                detail="the store refused the batch; nothing from it was stored, retry later",
                headers={"Retry-After": "1"},
            ) from None
        except (ValueError, RecursionError):
            raise HTTPException(400, detail="a record could not be encoded for storage") from None

    def _store_merged(
        good: list[tuple[int, dict[str, Any]]], project: str | None, errors: list[RecordError]
    ) -> dict[str, int]:
        """Join OTLP span and log-event records with what is stored under their id.

        The read and the write happen under one lock, so a span and its log events
        arriving together cannot overwrite each other. A record whose id is stored for
        another project is refused.
        """
        if not good:
            return {}
        with merge_lock:
            good = [(i, rec) for i, rec in good if not _nul_id(i, rec, errors)]
            try:
                ids = list({rec["id"] for _, rec in good})
                stored = {r["id"]: r for r in store.interactions(ids=ids)}
            except PilotgateError:
                raise HTTPException(
                    503, detail="the store is unavailable", headers={"Retry-After": "1"}
                ) from None
            keep = []
            for index, rec in good:
                twin = stored.get(rec["id"])
                if twin is not None and (twin.get("metadata") or {}).get("project") != project:
                    errors.append(RecordError(index, "id", "already stored for another project"))
                    continue
                keep.append(rec)
            merged = merge_stored(keep, stored)
            if not merged:
                return {}
            try:
                store.add_interactions(merged, upsert=True)
            except PilotgateError:
                raise HTTPException(
                    503,
                    detail="the store refused the batch; nothing from it was stored, retry later",
                    headers={"Retry-After": "1"},
                ) from None
            except (ValueError, RecursionError):
                raise HTTPException(
                    400, detail="a record could not be encoded for storage"
                ) from None
        return {"interaction": sum(1 for r in merged if r["id"] not in stored)}

    def answer(resp: IngestResponse) -> JSONResponse:
        # every record refused: a client error (retrying the same batch cannot help)
        status = 422 if resp.errors and not resp.accepted else 200
        return JSONResponse(resp.model_dump(), status_code=status)

    @router.post(
        "/v1/ingest",
        response_model=IngestResponse,
        openapi_extra=_BATCH_SCHEMA,
        summary="Store a batch of ingest records (interactions, feedback, steps).",
    )
    async def ingest(request: Request, project: str | None = Depends(auth)) -> JSONResponse:
        data = await read_body(request, settings.max_body_bytes)
        ctype = request.headers.get("content-type", "")
        resp = await run_in_threadpool(decode_and_process, data, ctype, project)
        return answer(resp)

    @router.post(
        "/v1/feedback",
        response_model=IngestResponse,
        openapi_extra=_BATCH_SCHEMA,
        summary="Store feedback: one object, an array, or {records: [...]}.",
    )
    async def feedback(request: Request, project: str | None = Depends(auth)) -> JSONResponse:
        data = await read_body(request, settings.max_body_bytes)
        ctype = request.headers.get("content-type", "")
        resp = await run_in_threadpool(decode_and_process, data, ctype, project, "feedback")
        return answer(resp)

    @router.post("/v1/traces", summary="OTLP/HTTP traces (JSON or protobuf); GenAI spans.")
    async def traces(request: Request, project: str | None = Depends(auth)) -> Response:
        from pilotgate.collector._otlp_route import handle_traces

        data = await read_body(request, settings.max_body_bytes)
        return await handle_traces(data, request.headers.get("content-type", ""), process, project)

    @router.post("/v1/logs", summary="OTLP/HTTP logs (JSON or protobuf); GenAI log events.")
    async def logs(request: Request, project: str | None = Depends(auth)) -> Response:
        from pilotgate.collector._otlp_route import handle_logs

        data = await read_body(request, settings.max_body_bytes)
        return await handle_logs(data, request.headers.get("content-type", ""), process, project)

    @router.get("/health", response_model=Health)
    async def health() -> Health:
        return Health(status="ok", version=__version__, store=store.dialect)

    return router
