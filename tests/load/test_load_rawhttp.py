"""The lean HTTP/1.1 client against a loopback server that answers with exact bytes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from pilotgate.load import LoadConfig, RetryPolicy, run_load, to_target
from pilotgate.load._client import Attempt
from pilotgate.load._httpsend import RawHttpSender, head_to_dict
from pilotgate.load._rawhttp import RawPool, build_request, raw_supported
from pilotgate.load._rxstamp import stamping_supported
from pilotgate.load._samples import Recorder

Writer = asyncio.StreamWriter
BODY = json.dumps(
    {"choices": [{"message": {"content": "a b c"}}], "usage": {"completion_tokens": 3}}
).encode()


def _chunk(data: bytes, ext: str = "") -> bytes:
    return f"{len(data):x}{ext}\r\n".encode() + data + b"\r\n"


async def _ok(w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    w.write(b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)


async def _dribble(w: Writer) -> None:
    """The whole response one byte per write: every parse state sees partial input."""
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
    for i in range(len(data)):
        w.write(data[i : i + 1])
        await w.drain()


async def _chunked(w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in (BODY[:10], BODY[10:11], BODY[11:]):
        w.write(_chunk(piece, ";ext=1"))
        await w.drain()
        await asyncio.sleep(0.005)
    w.write(b"0\r\nX-Trailer: yes\r\n\r\n")


async def _sse(w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
    w.write(b"Transfer-Encoding: chunked\r\n\r\n")
    for tok in ("He", "llo", " there"):
        ev = {"choices": [{"delta": {"content": tok}}]}
        w.write(_chunk(b"data: " + json.dumps(ev).encode() + b"\n\n"))
        await w.drain()
        await asyncio.sleep(0.02)
    w.write(_chunk(b'data: {"choices":[],"usage":{"completion_tokens":3}}\n\ndata: [DONE]\n\n'))
    w.write(b"0\r\n\r\n")


async def _close_after(w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY))
    w.write(BODY)


async def _until_eof(w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\n\r\n" + BODY)
    w.close()


async def _slow(w: Writer) -> None:
    await asyncio.sleep(3)
    await _ok(w)


async def _drop(w: Writer) -> None:
    w.close()


async def _limited(w: Writer) -> None:
    w.write(b"HTTP/1.1 429 Too Many Requests\r\nretry-after-ms: 250\r\n")
    w.write(b"x-ratelimit-remaining-requests: 0\r\nContent-Length: 2\r\n\r\n{}")


async def _ok_then_hang_up(w: Writer) -> None:
    """Answer as if keeping the connection alive, then close it (an idle timeout)."""
    await _ok(w)
    await w.drain()
    await asyncio.sleep(0.02)
    w.close()


async def _flaky(w: Writer) -> None:
    """Close a connection at its second request without answering (the keep-alive race)."""
    w.__dict__["n"] = w.__dict__.get("n", 0) + 1
    if w.__dict__["n"] == 2:
        w.close()
    else:
        await _ok(w)


async def _garbage(w: Writer) -> None:
    w.write(b"SPDY/9 200 OK\r\n\r\n")


async def _bad_chunk(w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")


ROUTES: dict[str, Callable[[Writer], Awaitable[None]]] = {
    "/flaky": _flaky,
    "/garbage": _garbage,
    "/bad-chunk": _bad_chunk,
    "/ok": _ok,
    "/dribble": _dribble,
    "/chunked": _chunked,
    "/sse": _sse,
    "/close": _close_after,
    "/eof": _until_eof,
    "/slow": _slow,
    "/drop": _drop,
    "/limited": _limited,
    "/hangup": _ok_then_hang_up,
}


@dataclass
class Server:
    port: int = 0
    stamped: bool = False  # which client transport the test uses
    connections: int = 0
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        self.connections += 1
        try:
            while not writer.is_closing():
                head = await reader.readuntil(b"\r\n\r\n")
                line, *rest = head.decode("latin-1").split("\r\n")
                n = next(int(h.split(":")[1]) for h in rest if h.lower().startswith("content-l"))
                await reader.readexactly(n)
                path = line.split()[1]
                self.requests.append(path)
                await ROUTES[path](writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server(stamped: bool) -> AsyncIterator[Server]:
    srv = Server(stamped=stamped)
    s = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    srv.port = s.sockets[0].getsockname()[1]
    async with s:
        yield srv
        s.close()


@pytest.fixture(params=[True, False], ids=["kernel-stamps", "asyncio-transport"])
def stamped(request: pytest.FixtureRequest) -> bool:
    """Every lean-client test runs over both transports (stamps exist on Linux only)."""
    if request.param and not stamping_supported():
        pytest.skip("no kernel receive timestamps on this platform")
    return bool(request.param)


def _sender(
    server: Server, url: str, timeout_s: float = 2.0, stream: bool = False
) -> RawHttpSender:
    sender = RawHttpSender(
        url, {"Content-Type": "application/json"}, [b'{"q":1}'], kind="openai", stream=stream,
        timeout_s=timeout_s, policy=RetryPolicy(), rec=Recorder(), t0=time.perf_counter(),
        seed=0,
    )  # fmt: skip
    sender.start(stamped=server.stamped)
    assert sender.pool is not None and sender.pool.stamped == server.stamped
    return sender


async def _one(sender: RawHttpSender) -> Attempt:
    out = Attempt()
    await sender.attempt(0, out)
    return out


@pytest.mark.parametrize("path", ["/ok", "/dribble", "/chunked", "/close", "/eof"])
async def test_bodies_by_length_chunks_and_eof_are_read_whole(server: Server, path: str) -> None:
    sender = _sender(server, server.url(path))
    try:
        for _ in range(3):
            out = await _one(sender)
            assert (out.status, out.error, out.tokens) == (200, 0, 3)
            assert out.end >= 0
    finally:
        sender.close()
    assert server.requests == [path] * 3
    # Keep-alive responses reuse one connection; "Connection: close" and EOF bodies cannot.
    assert server.connections == (3 if path in ("/close", "/eof") else 1)


async def test_keep_alive_pool_grows_to_the_concurrency_only(server: Server) -> None:
    sender = _sender(server, server.url("/chunked"))
    try:
        for _ in range(3):
            outs = await asyncio.gather(*(_one(sender) for _ in range(5)))
            assert all(o.status == 200 and o.tokens == 3 for o in outs)
        assert sender.pool is not None and sender.pool.opened == 5
    finally:
        sender.close()
    assert server.connections == 5 and len(server.requests) == 15


async def test_stream_events_are_timed_where_they_arrive(server: Server) -> None:
    sender = _sender(server, server.url("/sse"), stream=True)
    try:
        out = await _one(sender)
    finally:
        sender.close()
    assert (out.status, out.error, out.tokens) == (200, 0, 3)
    assert out.itl is not None and len(out.itl) == 2
    # Events read in one go share a stamp; never out of order.
    assert all(gap >= 0 for gap in out.itl)
    assert 0 < out.first_token < out.first_token + sum(out.itl) <= out.end


async def test_a_timeout_fails_the_attempt_and_drops_the_connection(server: Server) -> None:
    sender = _sender(server, server.url("/slow"), timeout_s=0.2)
    try:
        t = time.perf_counter()
        out = await _one(sender)
        assert time.perf_counter() - t >= 0.2  # never early
        assert sender.pool is not None and not sender.pool.conns
    finally:
        sender.close()
    assert out.error == 2 and out.status == 0  # "timeout"


async def test_a_server_that_hangs_up_is_a_connection_error(server: Server) -> None:
    sender = _sender(server, server.url("/drop"))
    try:
        out = await _one(sender)
    finally:
        sender.close()
    assert out.error == 3  # "connection"
    assert server.requests == ["/drop"]  # a fresh connection's failure is not re-sent


@pytest.mark.parametrize("path", ["/garbage", "/bad-chunk"])
async def test_a_malformed_response_is_a_connection_error(server: Server, path: str) -> None:
    sender = _sender(server, server.url(path))
    try:
        out = await _one(sender)
        assert sender.pool is not None and not sender.pool.conns  # dropped, never reused
    finally:
        sender.close()
    assert (out.error, out.status) == (3, 0)  # "connection", no usable status


async def test_a_reused_connection_reset_before_answering_is_sent_again(server: Server) -> None:
    from pilotgate.load._metrics import request_counts

    sender = _sender(server, server.url("/flaky"))
    try:
        for i in range(2):
            await sender.run(i, 0, 0.0, 0.0)
    finally:
        sender.close()
    samples = sender.rec.samples()
    assert samples["error"].tolist() == [0, 0] and samples["retries"].tolist() == [0, 1]
    req = request_counts(samples)
    # The re-send is a retry in the result, and the lost attempt a connection error.
    assert (req["sent"], req["ok"], req["retries"], req["resent_after_reset"]) == (2, 2, 1, 1)
    assert req["by_status"] == {"200": 2, "connection": 1}
    assert req["connections_used"] == server.connections == 2
    assert server.requests == ["/flaky"] * 3


async def test_a_kept_alive_connection_closed_by_the_server_is_replaced(server: Server) -> None:
    sender = _sender(server, server.url("/hangup"))
    try:
        for _ in range(3):
            out = await _one(sender)
            assert (out.status, out.error) == (200, 0)
            await asyncio.sleep(0.05)  # the server hangs up meanwhile
    finally:
        sender.close()
    assert server.connections == 3 and len(server.requests) == 3


async def test_rate_limit_answers_carry_retry_after_and_headers(server: Server) -> None:
    sender = _sender(server, server.url("/limited"))
    try:
        out = await _one(sender)
    finally:
        sender.close()
    assert (out.status, out.error, out.retry_after) == (429, 1, 0.25)
    assert sender.rec.ratelimit == {"x-ratelimit-remaining-requests": "0"}
    assert sender.rec.ratelimit_min == {"x-ratelimit-remaining-requests": 0.0}


def test_request_bytes_and_when_the_lean_client_applies() -> None:
    raw = build_request("http://h:81/v1/x?a=1", {"Authorization": "Bearer k"}, b"{}")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /v1/x?a=1 HTTP/1.1"
    headers = head_to_dict(b"HTTP/1.1 200 OK\r\n" + head.split(b"\r\n", 1)[1])
    assert headers["host"] == "h:81" and headers["authorization"] == "Bearer k"
    assert headers["content-length"] == "2" and body == b"{}"
    assert headers["content-type"] == "application/json"
    assert raw_supported("http://127.0.0.1:8000/v1", {"A": "b"})
    assert not raw_supported("https://127.0.0.1/v1", {})
    assert not raw_supported("http://u:p@127.0.0.1/v1", {})
    assert not raw_supported("http://127.0.0.1/v1", {"A": "b\r\nX: y"})


def test_the_engine_uses_the_lean_client_and_aiohttp_alike() -> None:
    from pilotgate.load import DelayServer, DelaySpec

    with DelayServer(DelaySpec(kind="constant", value_ms=2)) as srv:
        target = to_target(f"openai:{srv.url}", model="m")
        docs = {
            client: run_load(
                LoadConfig(concurrency=3, duration_s=5, max_requests=30, client=client), target
            ).to_json()
            for client in ("auto", "aiohttp")
        }
    assert {c: d["client"] for c, d in docs.items()} == {"auto": "raw", "aiohttp": "aiohttp"}
    for doc in docs.values():
        assert doc["requests"]["ok"] == 30 and doc["requests"]["by_status"] == {"200": 30}
        assert doc["requests"]["output_tokens"] == 30
        assert doc["latency_ms"]["service"]["p50"] >= 2.0


async def test_pool_resolves_names(server: Server) -> None:
    pool = RawPool(f"http://localhost:{server.port}/ok", 2.0, stamped=server.stamped)
    conn = await pool.connect()
    try:
        await conn.request(build_request(server.url("/ok"), {}, b"{}"), time.perf_counter() + 2)
        assert conn.status == 200 and json.loads(conn.body)["usage"]["completion_tokens"] == 3
    finally:
        pool.close()


def test_http_targets_go_through_the_lean_client_too() -> None:
    from pilotgate.load import DelayServer

    with DelayServer() as srv:
        target = to_target(
            f"http:{srv.url}/answer", response_path="choices.0.message.content",
            request_template={"question": "{{input}}"},
        )  # fmt: skip
        doc = run_load(LoadConfig(concurrency=2, duration_s=5, max_requests=10), target).to_json()
        assert srv.stats()["count"] == 10
    assert doc["requests"]["ok"] == 10 and doc["client"] == "raw"
    assert doc["requests"]["output_tokens"] == 10  # "ok": one word per answer


def test_the_pool_is_warmed_to_the_concurrency() -> None:
    from pilotgate.load import Shard
    from pilotgate.load._engine import _warm_size

    assert _warm_size(LoadConfig(concurrency=8), Shard()) == 8
    assert _warm_size(LoadConfig(concurrency=8, ramp_to=20), Shard(index=1, count=2)) == 10
    assert _warm_size(LoadConfig(rate=2000), Shard()) == 500  # a quarter-second of arrivals
    assert _warm_size(LoadConfig(rate=2000, max_inflight=64), Shard()) == 64
    assert _warm_size(LoadConfig(rate=100, max_requests=3), Shard()) == 3
    assert _warm_size(LoadConfig(rate=1e6), Shard()) == 1024


def test_requests_still_running_after_the_drain_are_cancelled_and_counted() -> None:
    from pilotgate.load import DelayServer, DelaySpec

    with DelayServer(DelaySpec(kind="constant", value_ms=5000)) as srv:
        cfg = LoadConfig(rate=20, duration_s=0.5, drain_s=0.2, timeout_s=30)
        doc = run_load(cfg, to_target(f"openai:{srv.url}", model="m")).to_json()
    req = doc["requests"]
    assert req["sent"] == 10 and req["ok"] == 0
    assert req["errors"] == {"cancelled": 10} and req["by_status"] == {"cancelled": 10}
    assert req["retries"] == 0


async def test_kernel_stamps_time_bytes_where_they_arrived(stamped: bool) -> None:
    """A client kept off the CPU reads late; with kernel stamps its times stay true."""
    from pilotgate.load import DelayServer

    with DelayServer() as srv:  # its own process: it answers while this loop is blocked
        pool = RawPool(srv.url, 10.0, stamped=stamped)
        try:
            conn = await pool.connect()
            sent = time.perf_counter()
            fut = conn.request(build_request(srv.url, {}, b"{}"), sent + 10)
            time.sleep(1.0)  # blocks the loop on purpose: it cannot read meanwhile
            unblocked = time.perf_counter()
            await fut
        finally:
            pool.close()
    assert conn.status == 200 and conn.t_done >= sent
    if stamped:
        assert conn.t_done < unblocked  # when the answer arrived
    else:
        assert conn.t_done >= unblocked  # when the loop got round to it


async def test_a_request_larger_than_the_socket_buffer_is_sent_whole(server: Server) -> None:
    body = json.dumps({"q": "x" * 4_000_000}).encode()  # far past one send() call
    sender = RawHttpSender(
        server.url("/ok"), {}, [body], kind="openai", stream=False, timeout_s=10,
        policy=RetryPolicy(), rec=Recorder(), t0=time.perf_counter(), seed=0,
    )  # fmt: skip
    sender.start(stamped=server.stamped)
    try:
        outs = [await _one(sender) for _ in range(2)]
    finally:
        sender.close()
    assert [(o.status, o.error) for o in outs] == [(200, 0), (200, 0)]
    assert server.requests == ["/ok", "/ok"] and server.connections == 1
