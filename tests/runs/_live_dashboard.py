"""A real dashboard on a free loopback port, in a thread, for tests that read its pages."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pilotgate.store import Store

__all__ = ["dashboard", "get"]


@contextmanager
def dashboard(url: str, plan_path: Path) -> Iterator[tuple[str, str]]:
    import uvicorn
    from fastapi import FastAPI

    from pilotgate._web.dashboard import dashboard_router
    from pilotgate.collector import create_key
    from pilotgate.plan import load_plan

    store = Store(url)
    key, _ = create_key(store, "pilot", name="test")
    app = FastAPI()
    app.include_router(dashboard_router(store, plan=load_plan(plan_path), require_login=False))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "dashboard did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def get(url: str, key: str | None = None) -> str:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return str(resp.read().decode())
