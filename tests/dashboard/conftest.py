"""A real dashboard over a filled store: uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from tests.dashboard._dash_server import Server
from tests.report._report_fixture import Filled, fill

from pilotgate.store import Store


def start_server(store: Store, filled: Filled, *, require_login: bool | None) -> Iterator[Server]:
    import uvicorn
    from fastapi import FastAPI

    from pilotgate._web import ServerSettings, create_app
    from pilotgate._web.dashboard import dashboard_router

    if require_login is None:
        app = create_app(store, settings=ServerSettings(plan=filled.plan))
    else:
        app = FastAPI()
        app.include_router(dashboard_router(store, plan=filled.plan, require_login=require_login))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", filled)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    path = tmp_path_factory.mktemp("dash") / "store.db"
    store = Store(f"sqlite:///{path}")
    try:
        yield fill(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def server(filled_store: Filled) -> Iterator[Server]:
    """The whole app (collector + dashboard), open to loopback clients."""
    yield from start_server(filled_store.store, filled_store, require_login=None)


@pytest.fixture(scope="module")
def login_server(filled_store: Filled) -> Iterator[Server]:
    """The dashboard as when exposed: every page asks for an API key."""
    yield from start_server(filled_store.store, filled_store, require_login=True)
