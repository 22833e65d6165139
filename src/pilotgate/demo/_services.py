"""The demo's two local services: the provider simulator and the assistant (v1 and v2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

__all__ = ["LOAD_PROFILE", "REPLAY_PROFILE", "DemoServices", "demo_services"]

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
    "capacity": 10,
    "rpm": 1500,
}


@dataclass
class DemoServices:
    llm_url: str
    feature_urls: dict[str, str]


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
