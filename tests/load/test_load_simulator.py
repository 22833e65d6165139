"""Against the provider simulator: rate limits and retries, streaming TTFT and ITL."""

from __future__ import annotations

import numpy as np
import pytest

from pilotgate.load import LoadConfig, RetryPolicy, run_load, to_target
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread


def _target(url: str, *, stream: bool = False):  # type: ignore[no-untyped-def]
    return to_target(f"openai:{url}/v1", model="pilotgate-sim", stream=stream)


def test_429s_are_retried_after_the_servers_wait_and_counted() -> None:
    # 120 requests per minute: a full bucket of 120, then one every 0.5 s.
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(0), token_ms=Dist.constant(0), output_tokens=Dist.constant(3),
        rpm=120,
    )  # fmt: skip
    # A 5 s backoff shows whether the client honoured retry-after-ms (< 0.5 s) instead.
    policy = RetryPolicy(max_retries=2, initial_backoff_s=5.0, budget_ratio=None)
    with run_in_thread(profile, seed=1) as sim:
        cfg = LoadConfig(rate=100, duration_s=1.5, timeout_s=5, retry=policy)
        res = run_load(cfg, _target(sim.url))
        stats = sim.stats
        attempts, limited = stats.completions, stats.rate_limited
    doc = res.to_json()
    req, s = doc["requests"], res.samples
    assert req["sent"] == 150
    # Every attempt is counted by status, exactly as the server answered it.
    assert req["by_status"]["429"] == limited > 0
    assert sum(req["by_status"].values()) == attempts == req["sent"] + req["retries"]
    assert req["by_status"]["200"] == req["ok"]
    retried = s["retries"] > 0
    assert retried.sum() == req["retried_requests"] > 0
    # Failed requests used up their retries on 429s.
    failed = s["error"] != 0
    assert np.all(s["retries"][failed] == 2) and np.all(s["status"][failed] == 429)
    # Waits followed the server's retry-after-ms (< 0.5 s each), not the 5 s backoff...
    assert np.all(s["wait"][retried] > 0)
    assert np.all(s["wait"][retried] / s["retries"][retried] < 1.0)
    # ...and count in the user-facing latency, not in the final attempt's service time.
    e2e = s["end"] - s["intended"]
    assert np.all(e2e[retried] >= s["wait"][retried])
    lat = doc["latency_ms"]
    assert lat["e2e"]["max"] > 300 > lat["service"]["max"]
    assert doc["ratelimit"]["last"]["x-ratelimit-limit-requests"] == "120"
    assert doc["ratelimit"]["min_remaining"]["x-ratelimit-remaining-requests"] == 0


def test_retries_zero_turns_retrying_off() -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(0), token_ms=Dist.constant(0), output_tokens=Dist.constant(2),
        rpm=60,
    )  # fmt: skip
    with run_in_thread(profile, seed=1) as sim:
        cfg = LoadConfig(concurrency=4, duration_s=0.5, max_requests=90,
                         retry=RetryPolicy(max_retries=0))  # fmt: skip
        doc = run_load(cfg, _target(sim.url)).to_json()
    req = doc["requests"]
    assert req["retries"] == 0
    assert req["sent"] == 90
    assert req["by_status"] == {"200": 60, "429": 30}
    assert req["failed"] == 30 and req["errors"] == {"http": 30}
    assert doc["slo"]["attainment"] == pytest.approx(60 / 90, abs=1e-4)


def test_streamed_ttft_and_itl_match_the_simulators_distributions() -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(120), token_ms=Dist.constant(25), output_tokens=Dist.constant(12)
    )
    with run_in_thread(profile, seed=2) as sim:
        cfg = LoadConfig(concurrency=4, duration_s=1.2, max_requests=40, timeout_s=5)
        res = run_load(cfg, _target(sim.url, stream=True))
    doc = res.to_json()
    lat = doc["latency_ms"]
    assert doc["requests"]["ok"] == doc["requests"]["sent"] >= 8
    assert doc["requests"]["output_tokens"] == 12 * doc["requests"]["ok"]
    assert lat["ttft"]["p50"] == pytest.approx(120, rel=0.05)
    assert lat["ttft"]["mean"] == pytest.approx(120, rel=0.05)
    assert lat["itl"]["p50"] == pytest.approx(25, rel=0.05)
    assert lat["itl"]["mean"] == pytest.approx(25, rel=0.05)
    assert lat["itl"]["n"] == 11 * doc["requests"]["ok"]  # 12 tokens, 11 gaps each
    # Whole answer = TTFT + 11 gaps.
    assert lat["service"]["p50"] == pytest.approx(120 + 11 * 25, rel=0.05)
