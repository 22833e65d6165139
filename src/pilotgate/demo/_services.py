"""The demo's two local services: the provider simulator and the assistant (v1 and v2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

__all__ = [
    "LOAD_PROFILE",
    "REPLAY_PROFILE",
    "Collector",
    "DemoServices",
    "collector_in_thread",
    "demo_services",
]

#: A fast, well-provisioned provider for replaying production: the replay measures the
#: feature, not a queue. Load tests use their own, tighter simulator.
REPLAY_PROFILE: dict[str, object] = {
    "ttft_ms": {"kind": "lognormal", "median": 60.0, "sigma": 0.35},
    "token_ms": {"kind": "constant", "value": 1.5},
    "output_tokens": {"kind": "uniform", "low": 30, "high": 90},
}

#: A provider with the limits real deployments have: a handful of requests served at
#: once (the rest queue) and a requests-per-minute budget answered with 429 +
#: Retry-After. Load tests at 3x the expected users run against the assistant on this one.
LOAD_PROFILE: dict[str, object] = {
    "ttft_ms": {"kind": "lognormal", "median": 220.0, "sigma": 0.3},
    "token_ms": {"kind": "constant", "value": 6.0},
    "output_tokens": {"kind": "uniform", "low": 20, "high": 60},
    "capacity": 3,
    "rpm": 1200,
}


@dataclass
class DemoServices:
    llm_url: str
    feature_urls: dict[str, str]


@dataclass
class Collector:
    url: str
    api_key: str


@contextmanager
def collector_in_thread(store_url: str) -> Iterator[Collector]:
    """``pilotgate serve`` (collector + dashboard) on a free loopback port, with a new key."""
    import asyncio
    import socket
    import threading

    import uvicorn

    from pilotgate._web import create_app
    from pilotgate.collector import create_key
    from pilotgate.store import Store

    store = Store(store_url)
    sock = socket.socket()
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        secret, _ = create_key(store, "demo", name="demo replay")
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(store), log_level="warning", lifespan="off", access_log=False)
        )
        srv = server
        thread = threading.Thread(
            target=lambda: asyncio.run(srv.serve(sockets=[sock])), name="pilotgate-collector"
        )
        thread.daemon = True
        thread.start()
        while not server.started and thread.is_alive():
            threading.Event().wait(0.02)
        if not server.started:
            from pilotgate.errors import PilotgateError

            raise PilotgateError(
                "the demo collector did not start", where=f"127.0.0.1:{port}", fix="see --verbose"
            )
        yield Collector(f"http://127.0.0.1:{port}", secret)
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        sock.close()
        store.close()


@contextmanager
def demo_services(seed: int = 0) -> Iterator[DemoServices]:
    """Start the simulator and both assistant versions on free loopback ports."""
    from pilotgate.demo import run_feature_in_thread
    from pilotgate.simulator import profile_from_mapping, run_in_thread

    with ExitStack() as stack:
        sim = stack.enter_context(run_in_thread(profile_from_mapping(REPLAY_PROFILE), seed=seed))
        tight = stack.enter_context(run_in_thread(profile_from_mapping(LOAD_PROFILE), seed=seed))
        urls = {}
        for version in ("v1", "v2"):
            srv = stack.enter_context(run_feature_in_thread(sim.url + "/v1", version=version))
            urls[version] = srv.url
        load = stack.enter_context(run_feature_in_thread(tight.url + "/v1", version="v2"))
        urls["load"] = load.url
        yield DemoServices(llm_url=sim.url, feature_urls=urls)
