"""HTTP servers we did not write, started on loopback, each able to say what it served.

* ``nginx``: Debian's binary, started unprivileged by the test with its own config, pid,
  logs and temp paths in a throwaway directory, proxying to the provider simulator; its
  access log (one line per request: connection serial, request number on it, status,
  path) is what it served.
* ``uvicorn-h11`` / ``uvicorn-httptools``: uvicorn with either HTTP implementation,
  serving a small OpenAI-compatible ASGI app whose streams go out through sse-starlette
  (CRLF line ends, as llama.cpp's Python server sends them); uvicorn's own request
  counter and the client addresses the app saw are what it served.
* ``aiohttp``: aiohttp's web server with the same answers (LF line ends).

Every server closes idle keep-alive connections after ``idle_s``. ``counts()`` is read once,
at the end (for nginx it stops the server first, so that every request is logged).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TOKENS = 5
MODEL = "real-stack"
KINDS = ["nginx", "uvicorn-h11", "uvicorn-httptools", "aiohttp"]


@dataclass
class Served:
    """What a server says it served."""

    requests: int
    connections: int
    per_connection_max: int = 0


@dataclass
class RealServer:
    kind: str
    url: str  # http://127.0.0.1:PORT (the OpenAI base URL is url + "/v1")
    counts: Any  # () -> Served
    extra: dict[str, Any] = field(default_factory=dict)


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_port(port: int, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


# -- the answers (the same from every Python server) -----------------------------------


def completion() -> bytes:
    return json.dumps(
        {
            "id": "c1", "object": "chat.completion", "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "a b c d e"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": TOKENS, "total_tokens": 8},
        }
    ).encode()  # fmt: skip


def stream_events() -> list[str]:
    out = []
    for i in range(TOKENS):
        delta = {"content": " abcde"[i + 1 : i + 2] + " "}
        out.append(json.dumps({"choices": [{"index": 0, "delta": delta}]}))
    out.append(json.dumps({"choices": [], "usage": {"completion_tokens": TOKENS}}))
    out.append("[DONE]")
    return out


# -- nginx in front of the simulator ---------------------------------------------------

_NGINX_CONF = """
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    log_format counted '$connection $connection_requests $status $request_uri';
    access_log {d}/access.log counted;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests {keepalive_requests};
    keepalive_timeout {idle_ms}ms;
    client_header_timeout {idle_ms}ms;  # a connection that never sends is closed as soon
    upstream sim {{ server 127.0.0.1:{sim_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        location / {{ proxy_pass http://sim; }}
        # The same answers with their Content-Length removed: nginx sends them chunked.
        location /chunked/ {{
            rewrite ^/chunked(/.*)$ $1 break;
            proxy_pass http://sim;
            sub_filter_types application/json;
            sub_filter_once off;
            sub_filter '"assistant"' '"assistant"';
        }}
    }}
}}
"""


def nginx_log(path: Path) -> list[tuple[str, int, int, str]]:
    """``(connection serial, request number on it, status, uri)`` per access-log line."""
    rows = []
    for line in path.read_text().splitlines():
        conn, n, status, uri = line.split()
        rows.append((conn, int(n), int(status), uri))
    return rows


@contextmanager
def nginx(*, keepalive_requests: int, idle_s: float) -> Iterator[RealServer]:
    if not os.path.exists(NGINX):
        pytest.skip(f"SKIPPED LOUDLY: no nginx at {NGINX} (.ci/run installs Debian's nginx)")
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(5), token_ms=Dist.constant(2), output_tokens=Dist.constant(TOKENS)
    )
    d = Path(tempfile.mkdtemp(prefix="pilotgate-nginx-"))
    os.chmod(d, 0o755)  # workers (nobody, when started as root) create their temp files here
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()
    with run_in_thread(profile, seed=0) as sim:
        conf = d / "nginx.conf"
        conf.write_text(
            _NGINX_CONF.format(
                d=d, port=port, sim_port=sim.port, keepalive_requests=keepalive_requests,
                idle_ms=int(idle_s * 1000),
                user="user nobody nogroup;" if os.geteuid() == 0 else "",
            )
        )  # fmt: skip
        cmd = [NGINX, "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")]
        stderr = open(d / "stderr.log", "wb")  # closed below
        proc = subprocess.Popen([*cmd, "-g", "daemon off;"], stderr=stderr)

        def stop() -> None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)  # graceful: finish, log every request, exit
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)

        try:
            _wait_port(port, "nginx", proc)

            def counts() -> Served:
                # nginx logs a request after its last byte went out, so a client can finish
                # before the line is written: stop nginx (gracefully) first, then read.
                stop()
                rows = [r for r in nginx_log(d / "access.log") if r[3].endswith("/completions")]
                return Served(
                    requests=len(rows),
                    connections=len({r[0] for r in rows}),
                    per_connection_max=max((r[1] for r in rows), default=0),
                )

            yield RealServer("nginx", f"http://127.0.0.1:{port}", counts, {"sim": sim, "dir": d})
        finally:
            stop()
            stderr.close()
            shutil.rmtree(d, ignore_errors=True)


# -- uvicorn (h11 or httptools) with an ASGI app ---------------------------------------


class CountingApp:
    """An OpenAI-compatible ASGI app that notes every request and the client address."""

    def __init__(self) -> None:
        self.requests = 0
        self.peers: set[tuple[str, int]] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        self.requests += 1
        self.peers.add(tuple(scope["client"]))
        if json.loads(body or b"{}").get("stream"):
            from sse_starlette.sse import EventSourceResponse

            async def events() -> Any:
                for data in stream_events():
                    await asyncio.sleep(0.002)
                    yield {"data": data}

            await EventSourceResponse(events())(scope, receive, send)
            return
        payload = completion()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(payload)),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


@contextmanager
def uvicorn_server(http: str, *, idle_s: float) -> Iterator[RealServer]:
    import uvicorn

    if http == "httptools":
        pytest.importorskip("httptools", reason="SKIPPED LOUDLY: httptools is not installed")
    app = CountingApp()
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, http=http, lifespan="off", log_level="warning", access_log=False,
        # deliberately a float (sub-second idle): uvicorn's hint says int, call_later takes any
        timeout_keep_alive=idle_s,  # type: ignore[arg-type]
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

        def counts() -> Served:
            # uvicorn's own counter, and the client addresses the app saw (one per connection)
            assert server.server_state.total_requests == app.requests
            return Served(requests=app.requests, connections=len(app.peers))

        yield RealServer(f"uvicorn-{http}", f"http://127.0.0.1:{port}", counts)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


# -- aiohttp's web server --------------------------------------------------------------


@contextmanager
def aiohttp_server(*, idle_s: float) -> Iterator[RealServer]:
    from aiohttp import web

    from pilotgate._thread import serve_in_thread

    seen: dict[str, Any] = {"requests": 0, "peers": set()}

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen["requests"] += 1
        assert request.transport is not None
        seen["peers"].add(request.transport.get_extra_info("peername"))
        if not body.get("stream"):
            return web.Response(body=completion(), content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for data in stream_events():
            await asyncio.sleep(0.002)
            await resp.write(f"data: {data}\n\n".encode())
        await resp.write_eof()
        return resp

    class Running:
        def __init__(self) -> None:
            app = web.Application()
            app.router.add_post("/v1/chat/completions", chat)
            self.runner = web.AppRunner(app, keepalive_timeout=idle_s, access_log=None)
            self.port = 0

        async def start(self) -> Running:
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            self.port = self.runner.addresses[0][1]
            return self

        async def stop(self) -> None:
            await self.runner.cleanup()

    running = Running()
    with serve_in_thread(running.start, name="aiohttp-server", what="aiohttp", timeout_s=15):

        def counts() -> Served:
            return Served(requests=seen["requests"], connections=len(seen["peers"]))

        yield RealServer("aiohttp", f"http://127.0.0.1:{running.port}", counts)


@contextmanager
def real_server(
    kind: str, *, keepalive_requests: int = 5, idle_s: float = 5.0
) -> Iterator[RealServer]:
    """Start server ``kind`` (one of :data:`KINDS`)."""
    if kind == "nginx":
        with nginx(keepalive_requests=keepalive_requests, idle_s=idle_s) as srv:
            yield srv
    elif kind.startswith("uvicorn-"):
        with uvicorn_server(kind.split("-", 1)[1], idle_s=idle_s) as srv:
            yield srv
    else:
        with aiohttp_server(idle_s=idle_s) as srv:
            yield srv
