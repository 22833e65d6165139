"""A real collector on a free loopback port, in a thread, over a fresh store."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from pilotgate._web import ServerSettings, create_app
from pilotgate.collector import create_key
from pilotgate.store import Store


@dataclass
class Collector:
    port: int
    store: Store
    key: str

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | Any = None,
        *,
        key: str | None = "default",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = {"Content-Type": content_type}
        if key == "default":
            key = self.key
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        if body is not None and not isinstance(body, bytes | str):
            body = json.dumps(body)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        try:
            data: Any = json.loads(raw) if raw else None
        except ValueError:
            data = raw
        return resp.status, data, hdrs


class _Served(uvicorn.Server):
    """uvicorn's server with the thread and socket it runs on, so the test can stop it."""

    _pilotgate_thread: threading.Thread
    _pilotgate_sock: socket.socket


def start_collector(store: Store, settings: ServerSettings) -> tuple[_Served, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(store, settings=settings)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = _Served(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("collector did not start")
        time.sleep(0.01)
    server._pilotgate_thread = thread
    server._pilotgate_sock = sock
    return server, port


def stop_collector(server: _Served) -> None:
    server.should_exit = True
    server._pilotgate_thread.join(10)
    server._pilotgate_sock.close()


@pytest.fixture
def collector_factory(tmp_path: Any) -> Iterator[Callable[..., Collector]]:
    started: list[tuple[_Served, Store]] = []

    def make(store: Store | None = None, **settings: Any) -> Collector:
        st = store or Store(f"sqlite:///{tmp_path}/collector-{len(started)}.db")
        key, _ = create_key(st, "acme", name="tests")
        settings.setdefault("max_body_bytes", 64 * 1024)
        server, port = start_collector(st, ServerSettings(**settings))
        started.append((server, st))
        return Collector(port, st, key)

    yield make
    for server, st in started:
        stop_collector(server)
        st.close()


@pytest.fixture
def collector(collector_factory: Callable[..., Collector]) -> Collector:
    return collector_factory()
