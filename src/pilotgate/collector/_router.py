"""The collector's routes: batches of ingest records, feedback, OTLP traces and logs, health.

Every write is authenticated (Bearer API key), size-limited, validated record by record,
redacted, and committed before the 2xx goes out, so an acknowledged batch is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from pilotgate._gc import gc_paused
from pilotgate._json import loads
from pilotgate._version import __version__
from pilotgate.collector._access import (
    Access,
    Caller,
    RateLimiter,
    foreign_references,
    require_json,
)
from pilotgate.collector._body import decode_batch, read_body
from pilotgate.collector._keys import authenticate
from pilotgate.collector._otlp_join import merge_stored
from pilotgate.collector._settings import CollectorSettings
from pilotgate.errors import StoreError
from pilotgate.ingest import (
    NORMALISED,
    BatchFate,
    InvalidRecord,
    RecordError,
    store_batch,
    validate_record,
    write_isolated,
)
from pilotgate.redact import Pseudonymiser, Redactor
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


BROWSER_JS = Path(__file__).with_name("browser.js")
BEACON_MAX_BYTES = 64 * 1024  # what browsers let one beacon carry
_FOREIGN = (
    "no interaction with this id in the key's project: feedback and steps refer to their "
    "own project's interactions (send them after the interaction is stored)"
)


def _beacon_doc(data: bytes) -> dict[str, Any]:
    try:
        doc = loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise HTTPException(400, detail="a beacon body is one JSON object") from None
    if not isinstance(doc, dict):
        raise HTTPException(400, detail='a beacon body is {"key": …, "records": [...]}')
    return doc


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
    normalised: int = Field(
        default=0,
        description="NUL characters and lone surrogates replaced with U+FFFD (no store "
        "can hold them).",
    )


class Health(BaseModel):
    status: str = Field(description="'ok' when the store answers.")
    version: str = Field(description="pilotgate version.")
    store: str = Field(description="Store backend: sqlite or postgresql.")


def collector_router(store: Store, settings: CollectorSettings) -> APIRouter:
    """The collector's routes over ``store``, configured by ``settings``."""
    router = APIRouter(tags=["collector"])
    redactor = None
    if settings.redact:
        pseud = Pseudonymiser(store.secret("pseudonym")) if settings.pseudonymise_ids else None
        redactor = Redactor(settings.redact_kinds, settings.redact_patterns, pseudonymiser=pseud)
    # SQLite has one writer at a time; queueing here beats "database is locked" retries
    write_lock = threading.Lock() if store.dialect == "sqlite" else None
    limiter = RateLimiter(settings.browser_rate_per_s, settings.browser_burst)
    access = Access(store, require_key=settings.require_key, limiter=limiter)
    merge_lock = write_lock or threading.Lock()

    def process(
        items: Iterable[tuple[int, Any]],
        caller: Caller,
        only_kind: str | None = None,
        merge: bool = False,
    ) -> IngestResponse:
        with gc_paused():  # a batch is thousands of fresh dicts and no cycles
            return _process(items, caller, only_kind, merge)

    def decode_and_process(
        data: bytes, content_type: str, caller: Caller, only_kind: str | None = None
    ) -> IngestResponse:
        # decoding a big body takes milliseconds: here in a worker thread, not on the loop
        with gc_paused():
            records = decode_batch(data, content_type)
            return _process(enumerate(records), caller, only_kind)

    def _validate(
        obj: Any, caller: Caller, only_kind: str | None, counts: dict[str, int]
    ) -> dict[str, Any]:
        if isinstance(obj, Exception):
            raise InvalidRecord("(json)", str(obj))
        rec = validate_record(obj, default_kind=only_kind or "interaction", counts=counts)
        if only_kind is not None and rec["kind"] != only_kind:
            raise InvalidRecord("kind", f"this route takes {only_kind} records only")
        if caller.is_browser and rec["kind"] not in ("feedback", "step"):
            raise InvalidRecord("kind", "a browser key sends feedback and steps only")
        return rec

    def _process(
        items: Iterable[tuple[int, Any]],
        caller: Caller,
        only_kind: str | None,
        merge: bool = False,
    ) -> IngestResponse:
        good: list[dict[str, Any]] = []
        where: list[int] = []  # batch index of each good record
        errors: list[RecordError] = []
        redactions: dict[str, int] = {}
        for index, obj in items:
            try:
                rec = _validate(obj, caller, only_kind, redactions)
                if redactor is not None:
                    for k, v in redactor.record(rec).items():
                        redactions[k] = redactions.get(k, 0) + v
                if caller.key is not None and rec["kind"] != "feedback":
                    rec["metadata"] = {**(rec.get("metadata") or {}), "project": caller.project}
            except InvalidRecord as exc:
                errors.append(RecordError(index, exc.field, exc.error))
                continue
            except RecursionError:
                errors.append(RecordError(index, "(record)", "nested too deeply"))
                continue
            good.append(rec)
            where.append(index)
        foreign = foreign_references(store, caller.project, good) if good else set()
        if foreign:
            for pos in sorted(foreign):
                errors.append(RecordError(where[pos], "interaction_id", _FOREIGN))
            good = [r for pos, r in enumerate(good) if pos not in foreign]
            where = [i for pos, i in enumerate(where) if pos not in foreign]
        if merge:  # OTLP spans and log events: joined with what is stored under their id
            before = len(errors)
            stored_new = _store_merged(list(zip(where, good, strict=True)), caller.project, errors)
            accepted = len(good) - (len(errors) - before)
        else:
            fate = _store(good, caller.project)
            for pos, reason in fate.refused:
                errors.append(RecordError(where[pos], "(record)", reason))
            accepted = len(good) - len(fate.refused)
            stored_new = sum(fate.stored_new.values())
        errors.sort(key=lambda e: e.index)
        normalised = redactions.pop(NORMALISED, 0)
        return IngestResponse(
            accepted=accepted,
            stored_new=stored_new,
            errors=[ErrorItem(**e.to_json()) for e in errors],
            redactions=redactions,
            normalised=normalised,
        )

    def _store(good: list[dict[str, Any]], project: str) -> BatchFate:
        """Store what passed; only a store that is away gets "retry later" (nothing stored)."""
        if not good:
            return BatchFate()
        try:
            if write_lock is None:
                return store_batch(store, good, project=project)
            with write_lock:
                return store_batch(store, good, project=project)
        except StoreError:
            raise HTTPException(
                503,
                detail="the store is unavailable; retry the whole batch later "
                "(records are keyed by id: storing one twice changes nothing)",
                headers={"Retry-After": "1"},
            ) from None

    def _store_merged(
        good: list[tuple[int, dict[str, Any]]], project: str, errors: list[RecordError]
    ) -> int:
        """Join OTLP span and log-event records with what is stored under their id (in the
        caller's project: ids are unique per project); returns how many are new.

        The read and the write happen under one lock, so a span and its log events
        arriving together cannot overwrite each other. A record the store refuses for
        good is isolated by the same bisection as every other write path and named
        alone; the others are stored.
        """
        if not good:
            return 0

        def merge_write(records: list[dict[str, Any]]) -> dict[str, int]:
            ids = list({rec["id"] for rec in records})
            stored = {r["id"]: r for r in store.interactions(ids=ids, project=project)}
            merged = merge_stored(records, stored)
            if merged:
                store.add_interactions(merged, upsert=True, project=project)
            return {"interaction": sum(1 for r in merged if r["id"] not in stored)}

        with merge_lock:
            try:
                fate = write_isolated([rec for _, rec in good], merge_write)
            except StoreError:
                raise HTTPException(
                    503,
                    detail="the store is unavailable; retry the whole batch later",
                    headers={"Retry-After": "1"},
                ) from None
        for pos, reason in fate.refused:  # the rows' fault: say so, never "retry later"
            errors.append(RecordError(good[pos][0], "(record)", reason))
        return sum(fate.stored_new.values())

    def answer(resp: IngestResponse, caller: Caller) -> JSONResponse:
        # every record refused: a client error (retrying the same batch cannot help)
        status = 422 if resp.errors and not resp.accepted else 200
        return JSONResponse(resp.model_dump(), status_code=status, headers=caller.cors())

    async def records_route(request: Request, only_kind: str | None) -> JSONResponse:
        ctype = require_json(request)
        caller = await access.caller(request, ("ingest", "browser"))
        try:
            data = await read_body(request, settings.max_body_bytes)
            resp = await run_in_threadpool(decode_and_process, data, ctype, caller, only_kind)
        except HTTPException as exc:  # let a page read why its request failed
            raise HTTPException(
                exc.status_code, exc.detail, {**(exc.headers or {}), **caller.cors()}
            ) from None
        return answer(resp, caller)

    @router.post(
        "/v1/ingest",
        response_model=IngestResponse,
        openapi_extra=_BATCH_SCHEMA,
        summary="Store a batch of ingest records (interactions, feedback, steps).",
    )
    async def ingest(request: Request) -> JSONResponse:
        return await records_route(request, None)

    @router.post(
        "/v1/feedback",
        response_model=IngestResponse,
        openapi_extra=_BATCH_SCHEMA,
        summary="Store feedback: one object, an array, or {records: [...]}.",
    )
    async def feedback(request: Request) -> JSONResponse:
        return await records_route(request, "feedback")

    @router.options("/v1/ingest", include_in_schema=False)
    @router.options("/v1/feedback", include_in_schema=False)
    async def preflight(request: Request) -> Response:
        origin = await run_in_threadpool(access.preflight_origin, request)
        if origin is None:
            return Response(status_code=403, content="origin not allowed")
        return Response(status_code=204, headers=access.preflight_headers(origin))

    @router.post("/v1/browser/beacon", include_in_schema=False)
    async def beacon(request: Request) -> Response:
        """``navigator.sendBeacon``'s route: it cannot set headers, so the browser key
        travels in the body and the body is ``text/plain`` (all a beacon can send without
        a preflight). Browser keys only, from their own origins: nothing a page's key
        could not do through ``/v1/ingest``."""
        data = await read_body(request, min(settings.max_body_bytes, BEACON_MAX_BYTES))
        doc = _beacon_doc(data)
        key = await run_in_threadpool(authenticate, store, str(doc.get("key", "")))
        if key is not None and not key.allows("browser"):
            key = None  # other keys never travel in a body
        caller = access.check(request, key, ("browser",))
        records = doc.get("records")
        if not isinstance(records, list):
            raise HTTPException(400, detail="'records' must be a JSON array", headers=caller.cors())
        resp = await run_in_threadpool(process, enumerate(records), caller)
        return answer(resp, caller)

    @router.post("/v1/traces", summary="OTLP/HTTP traces (JSON or protobuf); GenAI spans.")
    async def traces(request: Request) -> Response:
        from pilotgate.collector._otlp_route import PROTOBUF, handle_traces

        ctype = require_json(request, (PROTOBUF,))
        caller = await access.caller(request, ("ingest",))
        data = await read_body(request, settings.max_body_bytes)
        return await handle_traces(data, ctype, process, caller)

    @router.get("/v1/browser.js", include_in_schema=False)
    async def browser_js() -> Response:
        return Response(
            BROWSER_JS.read_bytes(),
            media_type="application/javascript; charset=utf-8",
            headers={
                "Cache-Control": "public, max-age=300",
                "X-Content-Type-Options": "nosniff",
                # pages on other origins load it with <script src>
                "Cross-Origin-Resource-Policy": "cross-origin",
            },
        )

    @router.post("/v1/logs", summary="OTLP/HTTP logs (JSON or protobuf); GenAI log events.")
    async def logs(request: Request) -> Response:
        from pilotgate.collector._otlp_route import PROTOBUF, handle_logs

        ctype = require_json(request, (PROTOBUF,))
        caller = await access.caller(request, ("ingest",))
        data = await read_body(request, settings.max_body_bytes)
        return await handle_logs(data, ctype, process, caller)

    @router.get("/health", response_model=Health)
    async def health() -> Health:
        return Health(status="ok", version=__version__, store=store.dialect)

    return router
