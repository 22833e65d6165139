"""openai: adapter against the provider simulator over real loopback HTTP."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pilotgate.errors import TargetError
from pilotgate.simulator import Dist, Simulator, SimulatorProfile, run_in_thread
from pilotgate.targets import (
    TargetResult,
    check_reachable,
    close_sessions,
    resolve_target,
    run_many,
)
from pilotgate.targets._openai import OpenAITarget

FAST = SimulatorProfile(
    ttft_ms=Dist.constant(5), token_ms=Dist.constant(1), output_tokens=Dist.constant(7)
)


@pytest.fixture(autouse=True)
async def _sessions() -> AsyncIterator[None]:
    yield
    await close_sessions()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_in_thread(FAST, seed=0) as s:
        yield s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def _one(url: str, text: str = "Where is my card?", **kw: Any) -> TargetResult:
    target = resolve_target(f"openai:{url}/v1", model="pilotgate-sim", **kw)
    try:
        return await target.call(text)
    finally:
        await target.aclose()


async def test_non_streaming_reads_output_usage_and_status(sim: Simulator) -> None:
    r = await _one(sim.url)
    assert r.ok, r.detail
    assert r.status == 200
    assert r.output.strip() != ""
    assert r.tokens_out == 7
    assert r.tokens_in is not None and r.tokens_in > 0
    assert r.first_token is None and r.ttft_ms is None
    assert r.chunks == 0
    assert r.end > r.start and r.latency_ms > 0
    assert r.retries == 0 and r.retry_wait_ms == 0


async def test_streaming_joins_deltas_records_first_token_and_final_usage() -> None:
    # Fresh simulators with the same seed answer the same request with the same reply,
    # streamed or not, so the joined deltas must equal the whole answer.
    outputs = {}
    for stream in (False, True):
        with run_in_thread(FAST, seed=3) as s:
            outputs[stream] = await _one(s.url, stream=stream)
    whole, streamed = outputs[False], outputs[True]
    assert streamed.ok, streamed.detail
    assert streamed.output == whole.output
    assert streamed.chunks == 7
    assert streamed.tokens_out == 7 and streamed.tokens_in == whole.tokens_in
    assert streamed.first_token is not None
    assert streamed.start < streamed.first_token <= streamed.end
    assert streamed.ttft_ms is not None and streamed.ttft_ms <= streamed.latency_ms
    assert streamed.itl_ms is not None


async def test_streaming_without_usage_option_leaves_tokens_unknown(sim: Simulator) -> None:
    r = await _one(sim.url, stream=True, stream_usage=False)
    assert r.ok and r.output
    assert r.tokens_out is None and r.tokens_in is None


async def test_messages_input_and_system_prompt_are_sent(sim: Simulator) -> None:
    target = resolve_target(
        f"openai:{sim.url}/v1", model="pilotgate-sim", system_prompt="Be brief.", max_tokens=3
    )
    messages = [{"role": "user", "content": "hi"}]
    assert isinstance(target, OpenAITarget)
    body = target.body(messages)
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["max_tokens"] == 3
    r = await target.call(messages)
    await target.aclose()
    assert r.ok and r.tokens_out == 3  # the simulator honours max_tokens


async def test_429_with_retry_after_is_retried_counted_and_honoured() -> None:
    # rpm=60: a bucket of 60 requests refilled at 1/s; the 61st gets 429 + Retry-After.
    profile = FAST.model_copy(update={"rpm": 60})
    with run_in_thread(profile, seed=0) as s:
        drain = resolve_target(f"openai:{s.url}/v1", model="m")
        first = await run_many(drain, [f"q{i}" for i in range(60)], concurrency=8)
        assert all(r.ok for r in first)
        limited = await drain.call("one more")
        assert limited.error == "rate_limited" and limited.status == 429
        assert limited.retries == 0
        assert "retry-after" in limited.headers and "retry-after-ms" in limited.headers
        assert "x-ratelimit-remaining-requests" in limited.headers

        # A backoff base of 30 s would wait >= 15 s: a wait under 1.1 s shows the
        # server's retry-after-ms (<= 1000 ms at 1 request/s) was used instead.
        retrying = resolve_target(f"openai:{s.url}/v1", model="m", retries=2, retry_backoff_s=30)
        r = await retrying.call("and another")
        assert r.ok, r.detail
        assert r.retries >= 1
        assert 0 < r.retry_wait_ms <= 1100
        assert s.stats.rate_limited >= 2


async def test_retry_after_longer_than_allowed_is_not_waited() -> None:
    profile = FAST.model_copy(update={"rpm": 1})  # the second request must wait ~60 s
    with run_in_thread(profile, seed=0) as s:
        t = resolve_target(f"openai:{s.url}/v1", model="m", retries=3, retry_max_wait_s=5)
        assert (await t.call("a")).ok
        r = await t.call("b")
        assert r.error == "rate_limited"
        assert r.retries == 0 and r.retry_wait_ms == 0


async def test_server_errors_are_http_5xx_and_not_retried_when_500() -> None:
    profile = FAST.model_copy(update={"error_rate": 1.0})
    with run_in_thread(profile, seed=0) as s:
        r = await _one(s.url, retries=2, retry_backoff_s=0.01)
    assert r.error == "http_5xx" and r.status == 500
    assert r.retries == 0  # only 429/503/connection errors are retried
    assert r.detail is not None and "500" in r.detail


@pytest.mark.parametrize("stream", [False, True])
async def test_timeouts_are_classified(stream: bool) -> None:
    profile = FAST.model_copy(update={"ttft_ms": Dist.constant(3000)})
    with run_in_thread(profile, seed=0) as s:
        r = await _one(s.url, stream=stream, timeout_s=0.2)
    assert r.error == "timeout"
    assert r.output == ""
    assert r.detail is not None and "0.2 s" in r.detail


async def test_connection_refused_is_classified_and_retried_when_asked() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    r = await _one(url)
    assert r.error == "connect" and r.status is None
    assert r.detail is not None and "127.0.0.1" in r.detail
    r2 = await _one(url, retries=2, retry_backoff_s=0.01, retry_backoff_max_s=0.02)
    assert r2.error == "connect" and r2.retries == 2 and r2.retry_wait_ms > 0


async def test_api_key_is_sent_from_env_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-sim-very-secret-4242"
    profile = FAST.model_copy(update={"api_key": key})
    monkeypatch.setenv("PG_TEST_KEY", key)
    with run_in_thread(profile, seed=0) as s:
        t = resolve_target(f"openai:{s.url}/v1", model="m", api_key_env="PG_TEST_KEY")
        r = await t.call("hello")
        assert r.ok, r.detail
        await check_reachable(t)
        for text in (repr(t), t.fingerprint, str(t.config), t.config.model_dump_json()):
            assert key not in text

        monkeypatch.setenv("PG_TEST_KEY", "sk-wrong-key-0000")
        bad = await t.call("hello")
        assert bad.error == "http_4xx" and bad.status == 401
        assert "sk-wrong-key-0000" not in (bad.detail or "")
        with pytest.raises(TargetError, match="rejected the credentials") as exc:
            await check_reachable(t)
        assert "sk-wrong-key-0000" not in str(exc.value)
        await t.aclose()

        # Without a key the simulator answers 401 as well.
        r3 = await _one(s.url)
        assert r3.error == "http_4xx" and r3.status == 401


def test_missing_api_key_variable_is_a_target_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PG_TEST_MISSING_KEY", raising=False)
    with pytest.raises(TargetError, match="PG_TEST_MISSING_KEY is not set"):
        resolve_target("openai:http://127.0.0.1:9/v1", model="m", api_key_env="PG_TEST_MISSING_KEY")


def test_openai_needs_a_model() -> None:
    with pytest.raises(TargetError, match="needs a model.*--model"):
        resolve_target("openai:http://127.0.0.1:9/v1")


async def test_check_reachable_fails_fast_with_clear_errors(sim: Simulator) -> None:
    ok = resolve_target(f"openai:{sim.url}/v1", model="m")
    await check_reachable(ok)

    wrong_base = resolve_target(f"openai:{sim.url}/api", model="m")
    with pytest.raises(TargetError, match="404.*fix: give the API base URL"):
        await check_reachable(wrong_base)

    port = _free_port()
    down = resolve_target(f"openai:http://127.0.0.1:{port}/v1", model="m")
    with pytest.raises(TargetError, match=f"cannot reach 127.0.0.1:{port}") as exc:
        await check_reachable(down)
    assert "\n" not in str(exc.value)
    assert exc.value.exit_code == 2


async def test_one_shared_session_per_loop_and_it_closes_with_the_last_user(
    sim: Simulator,
) -> None:
    from pilotgate.targets._session import _SESSIONS

    a = resolve_target(f"openai:{sim.url}/v1", model="m")
    b = resolve_target(f"openai:{sim.url}/v1", model="m", stream=True)
    assert (await a.call("x")).ok and (await b.call("y")).ok
    assert len(_SESSIONS) == 1
    (entry,) = _SESSIONS.values()
    session = entry.session
    await a.aclose()
    assert not session.closed
    await b.aclose()
    assert session.closed and not _SESSIONS


async def test_run_many_keeps_order_and_reports_progress(sim: Simulator) -> None:
    target = resolve_target(f"openai:{sim.url}/v1", model="pilotgate-sim")
    seen: list[int] = []
    inputs = [f"question {i}" for i in range(20)]
    results = await run_many(target, inputs, concurrency=4, progress=lambda i, r: seen.append(i))
    assert len(results) == 20 and all(r.ok for r in results)
    assert sorted(seen) == list(range(20))
    # The simulator's reply depends only on the request body (and seed), so recomputing
    # one answer on a fresh simulator checks that results come back in input order.
    with run_in_thread(FAST, seed=0) as fresh:
        again = await _one(fresh.url, "question 5")
    assert again.output == results[5].output


def test_a_forgotten_session_is_closed_when_asyncio_run_ends(sim: Simulator) -> None:
    import asyncio
    import gc
    import warnings

    from pilotgate.targets._session import _SESSIONS

    target = resolve_target(f"openai:{sim.url}/v1", model="m")
    sessions = []

    async def call_and_forget() -> bool:
        result = await target.call("x")
        sessions.append(_SESSIONS[asyncio.get_running_loop()].session)
        return result.ok

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert asyncio.run(call_and_forget())  # no aclose(), no close_sessions()
        assert asyncio.run(call_and_forget())  # a second loop gets its own session
        gc.collect()
    assert len(sessions) == 2 and sessions[0] is not sessions[1]
    assert all(s.closed for s in sessions)
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_503_without_hint_is_retried_with_backoff() -> None:
    import asyncio

    # One slot, no queue: a second request while the first is served gets 503 (no hint).
    profile = FAST.model_copy(update={"capacity": 1, "max_queue": 0, "ttft_ms": Dist.constant(600)})
    with run_in_thread(profile, seed=0) as s:
        first = asyncio.create_task(_one(s.url, "occupy the slot"))
        for _ in range(500):
            if s.stats.in_flight == 1:
                break
            await asyncio.sleep(0.01)
        assert s.stats.in_flight == 1

        rejected = await _one(s.url, "no retries")
        assert rejected.error == "http_5xx" and rejected.status == 503
        assert "retry-after" not in rejected.headers

        retried = await _one(
            s.url, "with retries", retries=10, retry_backoff_s=0.2, retry_backoff_max_s=0.4
        )
        assert (await first).ok
    assert retried.ok, retried.detail
    assert retried.retries >= 1 and retried.retry_wait_ms > 0
    assert s.stats.queue_rejected >= 2
