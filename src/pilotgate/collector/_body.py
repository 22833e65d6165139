"""Reading request bodies within a size limit, and decoding ingest batches."""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import HTTPException, Request

from pilotgate._json import loads

__all__ = ["decode_batch", "read_body"]


DRAIN_FACTOR = 4
"""A body over the limit is read and discarded up to this many times the limit before the
413 goes out: a client that is still sending when the server closes gets a connection
reset instead of the answer (urllib, requests and most SDKs do), so it could not tell
"too large, split it" from "network error, retry the same thing"."""


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, detail=f"request body over the limit of {limit} bytes")


async def _drain(request: Request, already: int, limit: int) -> None:
    """Read and drop the rest of an oversized body, up to ``DRAIN_FACTOR * limit`` bytes."""
    seen = already
    bound = DRAIN_FACTOR * limit
    if seen > bound:
        return
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > bound:
                return
    except Exception:  # the client went away: nothing left to answer
        return


async def read_body(request: Request, limit: int) -> bytes:
    """The (decompressed) body; 413 past ``limit`` bytes, checked while it streams in.

    A body declared or found too large is drained (within a bound) before the 413, so a
    standard client, still sending, reads the answer.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        if int(declared) <= DRAIN_FACTOR * limit:
            await _drain(request, 0, limit)
        raise _too_large(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            await _drain(request, size, limit)
            raise _too_large(limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding not in ("gzip", "deflate"):
        raise HTTPException(415, detail=f"unsupported content-encoding {encoding!r}")
    return _inflate(data, encoding, limit)


def _inflate(data: bytes, encoding: str, limit: int) -> bytes:
    """Decompress a gzip or zlib body whole: every gzip member (RFC 1952 allows several,
    and ``cat a.gz b.gz`` makes them), refusing a cut stream or trailing bytes with 400."""
    out: list[bytes] = []
    size = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
        try:
            part = inflater.decompress(rest, limit + 1 - size)
        except zlib.error as exc:
            raise HTTPException(400, detail=f"body is not valid {encoding}: {exc}") from None
        size += len(part)
        out.append(part)
        if size > limit or inflater.unconsumed_tail:
            raise _too_large(limit)
        if not inflater.eof:  # cut off in transit: refuse it rather than store part of a batch
            raise HTTPException(400, detail=f"body is a truncated {encoding} stream")
        rest = inflater.unused_data
        if not rest.strip(b"\0"):  # some writers pad the last member with zeros
            return b"".join(out)
        if rest[:2] != b"\x1f\x8b":
            raise HTTPException(400, detail=f"unexpected bytes after the {encoding} stream")


def _loads(raw: bytes) -> Any:
    return loads(raw)


def decode_batch(data: bytes, content_type: str) -> list[Any]:
    """A batch's records: ``{"records": [...]}``, a JSON array, one object, or JSONL.

    A JSONL line that is not JSON becomes a :class:`ValueError` instance in its slot, so
    the caller reports it by index and keeps the other lines.

    Raises:
        HTTPException: 400 when the body as a whole is unreadable.
    """
    ctype = content_type.split(";")[0].strip().lower()
    if not data.strip():
        return []
    if ctype not in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines"):
        try:
            doc = _loads(data)
        except RecursionError:
            raise HTTPException(400, detail="body nested too deeply") from None
        except (ValueError, UnicodeDecodeError):
            doc = _JSONL  # not one document: read it line by line
        if doc is not _JSONL:
            if isinstance(doc, dict) and "records" in doc:
                records = doc["records"]
                if not isinstance(records, list):
                    raise HTTPException(400, detail="'records' must be a JSON array")
                return records
            if isinstance(doc, list):
                return doc
            if isinstance(doc, dict):
                return [doc]
            raise HTTPException(400, detail='expected {"records": [...]} or JSON Lines')
    out: list[Any] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            out.append(_loads(line))
        except RecursionError:
            out.append(ValueError("nested too deeply"))
        except UnicodeDecodeError as exc:
            out.append(ValueError(f"not UTF-8 (byte {exc.start})"))
        except ValueError as exc:
            out.append(ValueError(f"invalid JSON: {exc}"))
    return out


_JSONL = object()
