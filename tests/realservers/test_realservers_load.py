"""The load engine's lean client against servers we did not write.

Each test runs a load (or single requests) and checks what the client counted (requests,
connections opened, retries, sends repeated after a reset) against what the server says
it served: nginx's access log, uvicorn's request counter and the client addresses its
app saw, aiohttp's handler. Requests that reached the server are the client's attempts
less those lost to a reset connection (those never reached it).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.realservers.realstack import KINDS, MODEL, TOKENS, RealServer, Served, real_server

from pilotgate.load import LoadConfig, RetryPolicy, run_load, to_target
from pilotgate.load._httpsend import RawHttpSender
from pilotgate.load._metrics import request_counts
from pilotgate.load._samples import Recorder

pytestmark = pytest.mark.slow
BODY = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'


def _target(srv: RealServer, *, stream: bool, path: str = "/v1") -> Any:
    return to_target(f"openai:{srv.url}{path}", model=MODEL, stream=stream)


def _check_against_server(req: dict[str, Any], served: Served, label: str) -> None:
    reached = req["sent"] + req["retries"] - req["resent_after_reset"]
    print(
        f"\n{label}: client sent={req['sent']} ok={req['ok']} retries={req['retries']} "
        f"resent_after_reset={req['resent_after_reset']} "
        f"connections_used={req['connections_used']} | server requests={served.requests} "
        f"connections={served.connections}"
    )
    assert reached == served.requests, (req, served)
    assert req["connections_used"] == served.connections, (req, served)


@pytest.mark.parametrize(
    ("client", "stream"),
    [("auto", False), ("auto", True), ("aiohttp", True)],
    ids=["json", "stream", "stream-aiohttp-client"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_load_counts_what_the_server_served(kind: str, client: str, stream: bool) -> None:
    # nginx closes each connection after 5 requests: mid-run, with "Connection: close".
    with real_server(kind, keepalive_requests=5) as srv:
        cfg = LoadConfig(concurrency=4, duration_s=20, max_requests=40, timeout_s=10, client=client)
        doc = run_load(cfg, _target(srv, stream=stream)).to_json()
        served = srv.counts()
    req = doc["requests"]
    _check_against_server(req, served, f"{kind} {'stream' if stream else 'json'} {client}")
    assert doc["client"] == ("raw" if client == "auto" else "aiohttp")
    assert (req["sent"], req["ok"], req["failed"]) == (40, 40, 0)
    assert req["output_tokens"] == 40 * TOKENS
    if stream:
        assert doc["latency_ms"]["ttft"]["n"] == 40 and doc["latency_ms"]["itl"]["n"] > 0
    if kind == "nginx":
        # closed every 5 requests, so at least 40 / 5 connections, none carrying more
        assert served.per_connection_max == 5 and served.connections >= 8
    else:
        assert served.connections == 4  # kept alive: one per user


def test_nginx_chunked_answers_are_read_whole() -> None:
    import http.client

    with real_server("nginx", keepalive_requests=3) as srv:
        # The /chunked/ route really answers chunked (no Content-Length)...
        host, port = srv.url.removeprefix("http://").split(":")
        probe = http.client.HTTPConnection(host, int(port), timeout=5)
        probe.request("POST", "/chunked/v1/chat/completions", body=b'{"model":"m"}')
        resp = probe.getresponse()
        assert resp.getheader("Transfer-Encoding") == "chunked" and resp.read()
        probe.close()
        cfg = LoadConfig(concurrency=3, duration_s=20, max_requests=30, timeout_s=10)
        doc = run_load(cfg, _target(srv, stream=False, path="/chunked/v1")).to_json()
        served = srv.counts()
    req = doc["requests"]
    assert (req["ok"], req["output_tokens"]) == (30, 30 * TOKENS)
    # the probe is one more request on one more connection
    _check_against_server(
        req, Served(served.requests - 1, served.connections - 1), "nginx chunked json"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_connections_the_server_closed_while_idle_are_replaced(kind: str) -> None:
    # The server closes a connection idle for 0.3 s; users think for 1.2 s between requests.
    with real_server(kind, idle_s=0.3) as srv:
        cfg = LoadConfig(
            concurrency=2, duration_s=3.0, max_requests=6, think_time_s=1.2, timeout_s=10
        )
        doc = run_load(cfg, _target(srv, stream=False)).to_json()
        served = srv.counts()
    req = doc["requests"]
    _check_against_server(req, served, f"{kind} idle closes")
    assert req["failed"] == 0 and req["sent"] >= 4
    # The server closed idle connections and the client replaced them (uvicorn's h11 server
    # does not close every one: the counts still agree with what it says).
    assert req["connections_used"] > 2


@pytest.mark.parametrize("first", ["kept-alive", "warmed"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_reset_on_a_pooled_connection_is_resent_and_counted_as_a_retry(
    kind: str, first: str
) -> None:
    """The keep-alive race, made certain: the client's loop is kept busy past the server's
    idle timeout, so it sends on a pooled connection whose close it has not read yet (one
    that carried a request before, or one warmed ahead of the run that never did)."""
    with real_server(kind, idle_s=0.3) as srv:
        sender = RawHttpSender(
            f"{srv.url}/v1/chat/completions", {}, [BODY],
            kind="openai", stream=False, timeout_s=10, policy=RetryPolicy(), rec=Recorder(),
            t0=time.perf_counter(), seed=0,
        )  # fmt: skip
        sender.start()
        assert sender.pool is not None
        try:
            if first == "kept-alive":
                await sender.run(0, 0, 0.0, 0.0)
            else:
                assert await sender.pool.warm(1) == 1
            time.sleep(1.0)  # blocks this loop: the server's close goes unread meanwhile
            await sender.run(1, 0, 0.0, 0.0)
        finally:
            sender.close()
        served = srv.counts()
    req = request_counts(sender.rec.samples())
    _check_against_server(req, served, f"{kind} reset on a {first} connection")
    n = 2 if first == "kept-alive" else 1
    # uvicorn keeps a connection that never sent a request open (its keep-alive timer starts
    # after a first answer): no race to lose there, and nothing re-sent.
    lost = 0 if first == "warmed" and kind.startswith("uvicorn") else 1
    assert (req["sent"], req["ok"], req["retries"], req["resent_after_reset"]) == (
        n, n, lost, lost,
    )  # fmt: skip
    assert req["by_status"] == ({"200": n, "connection": 1} if lost else {"200": n})
    assert (served.requests, served.connections) == (n, n)
