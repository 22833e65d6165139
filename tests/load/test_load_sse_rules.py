"""Event-stream rules end to end: the lean client, the aiohttp client and the openai: target
read the same exact bytes from a loopback server and agree on every token."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
from tests.load.h1canned import PAUSE, Canned

from pilotgate.load import RetryPolicy
from pilotgate.load._client import Attempt
from pilotgate.load._httpsend import AiohttpSender, HttpSenderBase, RawHttpSender
from pilotgate.load._samples import Recorder
from pilotgate.targets import close_sessions, resolve_target


def _ev(token: str) -> bytes:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": token}}]}).encode()


def _sse(body: bytes) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    pieces = body.split(PAUSE)
    chunks = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p]
    return head + PAUSE.join(chunks) + b"0\r\n\r\n"


A, B = _ev("Hel"), _ev("lo")
CUT = A.index(b" ")  # between two JSON tokens
DONE = b"data: [DONE]\n\n"
CASES = {
    # one JSON document over two data lines (joined with LF, which JSON reads as space)
    "multi-line-data": b"data: "
    + A[:CUT]
    + b"\ndata: "
    + A[CUT + 1 :]
    + b"\n\ndata: "
    + B
    + b"\n\n",
    "cr-line-ends": b"data: " + A + b"\r\rdata: " + B + b"\r\r" + DONE,
    "crlf-split-between-reads": b"data: " + A + b"\r" + PAUSE + b"\n\r\ndata: " + B + b"\r\n\r\n",
    "comments-and-other-fields": (
        b": keep-alive\nevent: message\nid: 1\nretry: 500\ndata: " + A + b"\n\n"
        b": ping\n\ndata: " + B + b"\n\n" + DONE
    ),
    "no-space-after-colon": b"data:" + A + b"\n\ndata:" + B + b"\n\ndata:[DONE]\n\n",
    "byte-order-mark": b"\xef\xbb\xbfdata: " + A + b"\n\ndata: " + B + b"\n\n",
    # the stream ends inside an event: that event is never dispatched
    "unterminated-last-event": b"data: " + A + b"\n\ndata: " + B + b"\n\ndata: " + _ev("X"),
}


async def _load_attempt(sender: HttpSenderBase) -> tuple[int, int, str]:
    out = Attempt()
    await sender.attempt(0, out)
    return out.status, out.error, f"tokens={out.tokens} itl={len(out.itl or [])}"


async def _raw(port: int) -> tuple[int, int, str]:
    sender = RawHttpSender(
        f"http://127.0.0.1:{port}/v1/chat/completions", {}, [b"{}"], kind="openai",
        stream=True, timeout_s=3.0, policy=RetryPolicy(), rec=Recorder(),
        t0=time.perf_counter(), seed=0,
    )  # fmt: skip
    sender.start(stamped=False)
    try:
        return await _load_attempt(sender)
    finally:
        sender.close()


async def _aiohttp(port: int) -> tuple[int, int, str]:
    async with aiohttp.ClientSession() as session:
        sender = AiohttpSender(
            session, f"http://127.0.0.1:{port}/v1/chat/completions", {}, [b"{}"],
            kind="openai", stream=True, timeout_s=3.0, policy=RetryPolicy(), rec=Recorder(),
            t0=time.perf_counter(), seed=0,
        )  # fmt: skip
        return await _load_attempt(sender)


@pytest.mark.parametrize("case", CASES)
async def test_every_reader_reads_the_stream_by_the_rules(canned: Canned, case: str) -> None:
    canned.answers = [_sse(CASES[case])]
    expected = (200, 0, "tokens=2 itl=1")
    assert await _raw(canned.port) == expected
    assert await _aiohttp(canned.port) == expected
    target = resolve_target(f"openai:http://127.0.0.1:{canned.port}/v1", model="m", stream=True)
    try:
        result = await target.call("hi")
    finally:
        await target.aclose()
        await close_sessions()
    assert (result.error, result.output, result.chunks) == (None, "Hello", 2)
    assert canned.requests == 3
