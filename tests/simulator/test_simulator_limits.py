"""Capacity queueing, rate limits, injected errors and stalls, over real loopback HTTP.

Timing assertions are lower bounds and orderings only (the machine is shared).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from pilotgate.simulator import Dist, Simulator, SimulatorProfile
from pilotgate.simulator._limits import format_duration

ZERO = {"ttft_ms": Dist.constant(0), "token_ms": Dist.constant(0), "output_tokens": 10}


def chat(content: str = "hello") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}]}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def start(**fields: Any) -> Simulator:
    sim = Simulator(SimulatorProfile(**{**ZERO, **fields}), seed=0)
    await sim.start()
    return sim


async def timed_post(
    s: aiohttp.ClientSession, sim: Simulator, body: dict[str, Any], stream: bool = False
) -> tuple[int, float, aiohttp.ClientResponse]:
    t0 = time.perf_counter()
    async with s.post(sim.base_url + "/chat/completions", json={**body, "stream": stream}) as r:
        await r.read()
    return r.status, time.perf_counter() - t0, r


async def test_capacity_queues_fifo_so_latency_grows(session: aiohttp.ClientSession) -> None:
    # A long TTFT, and the second request sent only once the first holds the one slot, so
    # the two overlap even when a busy machine delays this event loop.
    sim = await start(ttft_ms=Dist.constant(400), capacity=1)
    t0 = time.perf_counter()

    async def finish_time(body: dict[str, Any], stream: bool) -> tuple[int, float]:
        status, _, _ = await timed_post(session, sim, body, stream)
        return status, time.perf_counter() - t0

    try:
        first = asyncio.create_task(finish_time(chat("first"), False))
        while sim.stats.in_flight == 0 and not first.done():
            await asyncio.sleep(0.005)
        second = asyncio.create_task(finish_time(chat("second"), True))
        (s1, f1), (s2, f2) = await asyncio.gather(first, second)
    finally:
        await sim.stop()
    assert (s1, s2) == (200, 200)
    assert f1 >= 0.4
    # One slot: the second waited for the first's whole service, then had its own TTFT.
    assert f2 > f1
    assert f2 >= 0.8
    assert sim.stats.in_flight_max == 1
    assert sim.stats.queued_max == 1
    assert sim.stats.in_flight == 0 and sim.stats.queued == 0


async def test_full_queue_answers_503(session: aiohttp.ClientSession) -> None:
    sim = await start(ttft_ms=Dist.constant(100), capacity=1, max_queue=1)
    try:
        results = await asyncio.gather(*(timed_post(session, sim, chat(str(i))) for i in range(4)))
    finally:
        await sim.stop()
    statuses = sorted(r[0] for r in results)
    assert statuses == [200, 200, 503, 503]
    assert sim.stats.queue_rejected == 2


async def test_rpm_bucket_429_headers_then_success_after_retry_after(
    session: aiohttp.ClientSession,
) -> None:
    sim = await start(rpm=120)  # a bucket of 120 requests refilled at 2 per second
    try:
        ok = []
        for i in range(200):  # the bucket refills as we go: stop at the first 429
            status, _, resp = await timed_post(session, sim, chat(str(i)))
            if status != 200:
                limited = resp
                break
            ok.append((status, resp))
        wait_ms = int(limited.headers["retry-after-ms"])
        await asyncio.sleep(wait_ms / 1000 + 0.05)
        after, _, again = await timed_post(session, sim, chat("after the wait"))
    finally:
        await sim.stop()
    assert 120 <= len(ok) < 200
    first_headers = ok[0][1].headers
    assert first_headers["x-ratelimit-limit-requests"] == "120"
    assert first_headers["x-ratelimit-remaining-requests"] == "119"
    assert "x-ratelimit-limit-tokens" not in first_headers
    assert status == 429
    h = limited.headers
    assert 0 < wait_ms <= 500
    assert h["retry-after"] == "1"
    assert h["x-ratelimit-remaining-requests"] == "0"
    assert h["x-ratelimit-limit-requests"] == "120"
    assert h["x-ratelimit-reset-requests"].endswith("s")
    assert after == 200
    assert again.headers["x-ratelimit-remaining-requests"] == "0"
    assert sim.stats.rate_limited == 1


async def test_tpm_bucket_counts_prompt_and_completion_tokens(
    session: aiohttp.ClientSession,
) -> None:
    sim = await start(tpm=600)  # 600 tokens, refilled at 10 per second
    body = chat("x" * 40)  # 10 prompt tokens + 10 completion tokens = 20 per request
    try:
        n_ok = 0
        while n_ok < 100:  # stop at the first 429
            status, _, resp = await timed_post(session, sim, body)
            if status != 200:
                break
            n_ok += 1
    finally:
        await sim.stop()
    assert 30 <= n_ok < 100
    assert status == 429
    h = resp.headers
    assert h["x-ratelimit-limit-tokens"] == "600"
    assert int(h["x-ratelimit-remaining-tokens"]) < 20
    assert int(h["retry-after-ms"]) <= 2000
    assert int(h["retry-after"]) >= 1


async def test_error_rate_gives_seeded_500s(session: aiohttp.ClientSession) -> None:
    async def statuses(rate: float) -> list[int]:
        sim = await start(error_rate=rate)
        try:
            return [(await timed_post(session, sim, chat(str(i))))[0] for i in range(150)]
        finally:
            await sim.stop()

    some = await statuses(0.3)
    assert set(some) == {200, 500}
    assert 20 <= some.count(500) <= 75
    assert some == await statuses(0.3)  # same seed, same requests: same faults
    assert set(await statuses(0.0)) == {200}
    assert set(await statuses(1.0)) == {500}


async def test_stall_holds_responses_inside_its_window(session: aiohttp.ClientSession) -> None:
    # Wide windows and times measured from the simulator's start, so a busy machine that
    # delays this loop makes no difference: a request sent inside [1.0, 2.5] s is held
    # until 2.5 s; one answered before 1.0 s was not held.
    sim = await start(stall_at_s=1.0, stall_ms=1500)
    t0 = time.perf_counter()
    try:
        before, _, _ = await timed_post(session, sim, chat("before"))
        t_before = time.perf_counter() - t0
        await asyncio.sleep(max(0.0, 1.1 - (time.perf_counter() - t0)))
        during, _, _ = await timed_post(session, sim, chat("during"))
        t_during = time.perf_counter() - t0
    finally:
        await sim.stop()
    assert (before, during) == (200, 200)
    assert t_before < 1.0
    assert t_during >= 2.4  # held until the stall ended (2.5 s after start, less timer slack)


async def test_stall_pauses_a_stream_in_progress(session: aiohttp.ClientSession) -> None:
    sim = await start(token_ms=Dist.constant(100), output_tokens=10, stall_at_s=0.3, stall_ms=800)
    arrivals: list[float] = []
    try:
        t0 = time.perf_counter()
        body = {**chat("stream me"), "stream": True}
        async with session.post(sim.base_url + "/chat/completions", json=body) as r:
            async for _ in r.content.iter_any():
                arrivals.append(time.perf_counter() - t0)
    finally:
        await sim.stop()
    assert r.status == 200
    assert arrivals[-1] >= 1.0  # the stall ended 1.1 s after start, before the last token
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert max(gaps) >= 0.5  # one long silence, not a uniformly slower stream
    assert sim.stats.token_events == 10


async def test_client_disconnect_frees_the_slot(session: aiohttp.ClientSession) -> None:
    sim = await start(ttft_ms=Dist.constant(5000), capacity=1)
    try:
        task = asyncio.create_task(timed_post(session, sim, chat("abandoned")))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(50):
            if sim.stats.in_flight == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        await sim.stop()
    assert sim.stats.in_flight == 0
    assert sim.stats.disconnects == 1


def test_reset_durations_use_openai_format() -> None:
    assert format_duration(0) == "0s"
    assert format_duration(0.0201) == "21ms"
    assert format_duration(1.5) == "1.5s"
    assert format_duration(360) == "6m0s"
    assert format_duration(59.88) == "59.88s"
