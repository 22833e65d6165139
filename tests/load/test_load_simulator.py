"""Against the provider simulator: rate limits and retries, streaming TTFT and ITL."""

from __future__ import annotations

import numpy as np
import pytest

from pilotgate.load import LoadConfig, RetryPolicy, run_load, to_target
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.targets import TargetConfig


def _target(url: str, *, stream: bool = False) -> TargetConfig:
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
    service = s["end"] - s["last_sent"]
    assert np.all(e2e >= service + s["wait"] - 1e-9)
    lat = doc["latency_ms"]
    ok = s["error"] == 0
    assert lat["e2e"]["max"] >= 1000 * float(np.max(s["wait"][ok])) > 0
    assert doc["ratelimit"]["last"]["x-ratelimit-limit-requests"] == "120"
    assert doc["ratelimit"]["min_remaining"]["x-ratelimit-remaining-requests"] == 0


def test_retries_zero_turns_retrying_off() -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(0), token_ms=Dist.constant(0), output_tokens=Dist.constant(2),
        rpm=60,
    )  # fmt: skip
    with run_in_thread(profile, seed=1) as sim:
        # The request cap ends the run (the duration is only a bound on a slow machine).
        cfg = LoadConfig(concurrency=4, duration_s=20, max_requests=90,
                         retry=RetryPolicy(max_retries=0))  # fmt: skip
        doc = run_load(cfg, _target(sim.url)).to_json()
        limited = sim.stats.rate_limited
    req = doc["requests"]
    assert req["retries"] == 0
    assert req["sent"] == 90
    # A bucket of 60 (plus whatever refilled at 1/s while the run lasted), then 429s.
    n_ok = req["by_status"]["200"]
    assert 60 <= n_ok < 90
    assert req["by_status"] == {"200": n_ok, "429": 90 - n_ok} and limited == 90 - n_ok
    assert req["failed"] == 90 - n_ok and req["errors"] == {"http": 90 - n_ok}
    assert doc["slo"]["attainment"] == pytest.approx(n_ok / 90, abs=1e-4)


def test_streamed_ttft_and_itl_are_measured_per_token() -> None:
    """Counts and bounds that hold on any machine; the 5 % match to the simulator's
    distributions is a timing figure (benchmarks/load_accuracy.py, streaming section)."""
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(120), token_ms=Dist.constant(25), output_tokens=Dist.constant(12)
    )
    with run_in_thread(profile, seed=2) as sim:
        cfg = LoadConfig(concurrency=4, duration_s=1.2, max_requests=40, timeout_s=10)
        res = run_load(cfg, _target(sim.url, stream=True))
    doc = res.to_json()
    lat, s = doc["latency_ms"], res.samples
    ok = doc["requests"]["ok"]
    assert ok == doc["requests"]["sent"] >= 4
    assert doc["requests"]["output_tokens"] == 12 * ok
    assert lat["itl"]["n"] == 11 * ok  # 12 tokens, 11 gaps each
    ttft = s["first_token"] - s["last_sent"]
    # The simulator sends the first token 120 ms after the request, the last 11 x 25 ms
    # later (against absolute times, never before): measured times can be later, never
    # earlier (the simulator on uvloop's millisecond clock once sent up to 1 ms early)
    assert np.all(ttft * 1000 >= 120 - 1e-6)
    assert np.all((s["end"] - s["last_sent"]) * 1000 >= 120 + 11 * 25 - 1e-6)
    assert np.all(s.itl >= 0)
    # First token + the gaps = the last token, which is no later than the end.
    last = s["first_token"] + np.add.reduceat(s.itl, np.arange(0, len(s.itl), 11))
    assert np.all(last <= s["end"] + 1e-9)
    assert lat["ttft"]["p50"] >= 120 and lat["service"]["p50"] >= 395
