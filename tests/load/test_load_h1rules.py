"""RFC 9112 response rules, one test each, through the lean client on a real socket.

A loopback server answers each request with exact bytes and never closes a connection
unless told to, so whether the client reused a connection shows in how many the server
saw. Each case names the rule it checks.
"""

from __future__ import annotations

import json
import time

import pytest
from tests.load.h1canned import CLOSE, Canned

from pilotgate.load import RetryPolicy
from pilotgate.load._client import Attempt
from pilotgate.load._h1parse import H1Limits, ProtocolError, chunk_size, framing
from pilotgate.load._httpsend import RawHttpSender
from pilotgate.load._samples import Recorder

BODY = json.dumps(
    {"choices": [{"message": {"content": "a b c"}}], "usage": {"completion_tokens": 3}}
).encode()
L = len(BODY)
OK, REFUSED = "ok", "refused"


def _sender(port: int, limits: H1Limits | None = None, stream: bool = False) -> RawHttpSender:
    sender = RawHttpSender(
        f"http://127.0.0.1:{port}/v1/chat/completions", {}, [b"{}"], kind="openai",
        stream=stream, timeout_s=2.0, policy=RetryPolicy(), rec=Recorder(),
        t0=time.perf_counter(), seed=0,
    )  # fmt: skip
    sender.start(stamped=False, limits=limits)
    return sender


async def _send(
    srv: Canned, answers: list[bytes], n: int = 2, limits: H1Limits | None = None
) -> list[Attempt]:
    srv.answers = answers
    sender = _sender(srv.port, limits)
    outs = []
    try:
        for _ in range(n):
            out = Attempt()
            await sender.attempt(0, out)
            outs.append(out)
    finally:
        sender.close()
    return outs


def _chunk(data: bytes, size: str | None = None) -> bytes:
    return (size if size is not None else f"{len(data):x}").encode() + b"\r\n" + data + b"\r\n"


def _chunked(size: str | None = None, extra_head: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + extra_head + b"\r\n"
        + _chunk(BODY, size) + b"0\r\n\r\n"
    )  # fmt: skip


def _resp(headers: bytes, status: bytes = b"HTTP/1.1 200 OK") -> bytes:
    return status + b"\r\n" + headers + b"\r\n" + BODY


_UNDERSCORED = f"{str(L)[0]}_{str(L)[1:]}"
_HEX_UNDERSCORED = f"{L:x}"[0] + "_" + f"{L:x}"[1:]

FRAMING = {
    # Content-Length is 1*DIGIT (RFC 9112 §6.2): int() accepts all of these.
    "content-length-plus-sign": (_resp(b"Content-Length: +%d\r\n" % L), REFUSED),
    "content-length-underscore": (_resp(f"Content-Length: {_UNDERSCORED}\r\n".encode()), REFUSED),
    "content-length-negative-zero": (_resp(b"Content-Length: -0\r\n"), REFUSED),
    "content-length-hex": (_resp(f"Content-Length: 0x{L:x}\r\n".encode()), REFUSED),
    # Repeated fields are one list: identical lengths are one length (RFC 9110 §8.6)...
    "content-length-list-identical": (_resp(b"Content-Length: %d, %d\r\n" % (L, L)), OK),
    # ...and differing ones are an error, in one line or across two.
    "content-length-two-lines-differ": (
        _resp(b"Content-Length: %d\r\nContent-Length: %d\r\n" % (L, L + 5)),
        REFUSED,
    ),
    # Chunk sizes are 1*HEXDIG (RFC 9112 §7.1): int(x, 16) accepts all of these.
    "chunk-size-0x-prefix": (_chunked(f"0x{L:x}"), REFUSED),
    "chunk-size-plus-sign": (_chunked(f"+{L:x}"), REFUSED),
    "chunk-size-underscore": (_chunked(_HEX_UNDERSCORED), REFUSED),
    "chunk-size-leading-space": (_chunked(f" {L:x}"), REFUSED),
    "chunk-extension-after-whitespace": (_chunked(f"{L:x} ;name=value"), OK),
    # A status code is 3DIGIT.
    "status-code-signed": (_resp(b"Content-Length: %d\r\n" % L, b"HTTP/1.1 +20 OK"), REFUSED),
    "status-code-four-digits": (_resp(b"Content-Length: %d\r\n" % L, b"HTTP/1.1 2000 OK"), REFUSED),
    # No whitespace between a field name and its colon (RFC 9112 §5.1).
    "whitespace-before-colon": (_resp(b"Content-Length : %d\r\n" % L), REFUSED),
    # A bare CR inside a value is invalid (RFC 9112 §2.2).
    "bare-cr-in-value": (_resp(b"Content-Length: %d\r\nX-A: b\rc\r\n" % L), REFUSED),
    # The last coding decides: "xchunked" is not chunked, so the body runs to the close.
    "transfer-coding-not-chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n" + BODY + CLOSE,
        OK,
    ),
}


@pytest.mark.parametrize("case", FRAMING)
async def test_framing_rule(canned: Canned, case: str) -> None:
    answer, expect = FRAMING[case]
    out = (await _send(canned, [answer], n=1))[0]
    if expect == OK:
        assert (out.status, out.error, out.tokens) == (200, 0, 3)
    else:
        assert (out.status, out.error) == (0, 3)  # no usable status; "connection"


CONNECTION = {
    # Connection is a token list (RFC 9112 §9.6): "close" anywhere closes.
    "close-then-other-token": (b"HTTP/1.1", b"Connection: close, TE\r\n", 2),
    "keep-alive-then-close": (b"HTTP/1.1", b"Connection: keep-alive, close\r\n", 2),
    "close-in-a-second-field-line": (
        b"HTTP/1.1",
        b"Connection: keep-alive\r\nConnection: close\r\n",
        2,
    ),
    "close-in-an-obs-fold": (b"HTTP/1.1", b"Connection: keep-alive,\r\n close\r\n", 2),
    "other-token-keeps-1.1-alive": (b"HTTP/1.1", b"Connection: TE\r\n", 1),
    "http-1.0-keep-alive-in-a-list": (b"HTTP/1.0", b"Connection: TE, Keep-Alive\r\n", 1),
    "http-1.0-without-keep-alive-closes": (b"HTTP/1.0", b"", 2),
}


@pytest.mark.parametrize("case", CONNECTION)
async def test_connection_tokens_decide_reuse(canned: Canned, case: str) -> None:
    version, headers, connections = CONNECTION[case]
    answer = _resp(headers + b"Content-Length: %d\r\n" % L, version + b" 200 OK")
    outs = await _send(canned, [answer], n=2)
    assert [(o.status, o.error, o.tokens) for o in outs] == [(200, 0, 3)] * 2
    assert canned.connections == connections and canned.requests == 2


async def test_chunked_with_a_content_length_is_read_by_chunks_and_not_reused(
    canned: Canned,
) -> None:
    # RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; such a connection is closed.
    answer = _chunked(extra_head=b"Content-Length: 3\r\n")
    outs = await _send(canned, [answer], n=2)
    assert [(o.status, o.error, o.tokens) for o in outs] == [(200, 0, 3)] * 2
    assert canned.connections == 2


LIMITS = H1Limits(body=L - 1)
BOUNDS = {
    "body-by-content-length": _resp(b"Content-Length: %d\r\n" % L),
    "body-by-chunks": _chunked(),
    "body-until-close": b"HTTP/1.1 200 OK\r\n\r\n" + BODY + CLOSE,
}


@pytest.mark.parametrize("case", BOUNDS)
async def test_a_body_over_the_limit_is_refused(canned: Canned, case: str) -> None:
    out = (await _send(canned, [BOUNDS[case]], n=1, limits=LIMITS))[0]
    assert (out.status, out.error) == (0, 3)
    ok = (await _send(canned, [BOUNDS[case]], n=1, limits=H1Limits(body=L)))[0]
    assert (ok.status, ok.error, ok.tokens) == (200, 0, 3)  # exactly at the limit: read


async def test_a_chunk_size_line_over_the_limit_is_refused(canned: Canned) -> None:
    long_ext = _chunked(f"{L:x};" + "x" * 5000)
    out = (await _send(canned, [long_ext], n=1))[0]
    assert (out.status, out.error) == (0, 3)
    # ...also while its CRLF has not arrived yet (no waiting for the timeout).
    unfinished = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3b;" + b"x" * 5000
    t = time.perf_counter()
    out = (await _send(canned, [unfinished], n=1))[0]
    assert (out.status, out.error) == (0, 3) and time.perf_counter() - t < 1.5


async def test_a_trailer_section_over_the_limit_is_refused(canned: Canned) -> None:
    trailer = b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 100) for i in range(200))
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunk(BODY) + b"0\r\n" + trailer + b"\r\n"
    )  # fmt: skip
    out = (await _send(canned, [answer], n=1))[0]
    assert (out.status, out.error) == (0, 3)
    small = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunk(BODY)
    out = (await _send(canned, [small + b"0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"], n=1))[0]
    assert (out.status, out.error, out.tokens) == (200, 0, 3)


def _sse_answer(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n"
        % len(body)
    ) + body


def _event(content: str) -> bytes:
    return json.dumps({"choices": [{"delta": {"content": content}}]}).encode()


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("line", b"data: " + _event("x" * 300) + b"\n\n"),
        ("unfinished-line", b"data: " + _event("x" * 300)),
        ("event", b"data: " + _event("y" * 150) + b"\n\n"),
    ],
)
async def test_event_stream_buffers_are_bounded(canned: Canned, case: str, body: bytes) -> None:
    # Each body is a well-formed stream; only the bounds (a line of 256 bytes, an event's
    # data of 128) refuse it.
    canned.answers = [_sse_answer(body)]
    limits = H1Limits(sse_line=256, sse_event=128)
    sender = _sender(canned.port, limits, stream=True)
    try:
        out = Attempt()
        await sender.attempt(0, out)
    finally:
        sender.close()
    assert out.error == 6  # "parse": the answer cannot be read within the bounds


def test_the_parse_functions_directly() -> None:
    assert chunk_size(b"1A") == 26 and chunk_size(b"0") == 0
    assert chunk_size(b"5\t; a=b ; c") == 5
    for bad in (b"", b"-1", b"0x5", b" 5", b"5 5", b"1_0", b"+5", b"g", b"f" * 16):
        with pytest.raises(ProtocolError):
            chunk_size(bad)
    lim = H1Limits()
    status, keep, sse, chunked, length, rl = framing(
        b"HTTP/1.1 429 Too Many\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\n"
        b"X-RateLimit-Remaining-Requests: 0\r\nContent-Length: 007",
        lim,
    )
    assert (status, keep, sse, chunked, length, rl) == (429, True, True, False, 7, True)
    assert framing(b"HTTP/1.1 200", lim)[0] == 200  # a reason phrase may be absent
    # Transfer-Encoding ending elsewhere than chunked: body to the close, no reuse.
    assert framing(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip", lim)[1:5] == (
        False, False, False, -1,
    )  # fmt: skip
    for bad in (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1" + b"0" * 18,
        b"HTTP/1.1 200 OK\r\nContent-Length: %d" % (lim.body + 1),
        b"HTTP/1.1 200 OK\r\n continued",
        b"HTTP/1.1 200 OK\r\nno colon",
        b"HTTP/1.1 200 OK\r\n\x00bad: 1",
        b"HTTP/2 200 OK",
        b"HTTP/1.1 099 Odd",
    ):
        with pytest.raises(ProtocolError):
            framing(bad, lim)
