"""The ``openai:`` and ``http:`` targets (aiohttp underneath) against servers we did not
write, their counts checked against what each server says it served."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.realservers.realstack import KINDS, MODEL, real_server

from pilotgate.targets import Target, close_sessions, resolve_target, run_many

pytestmark = pytest.mark.slow
N = 24


@pytest.fixture(autouse=True)
async def _sessions() -> AsyncIterator[None]:
    yield
    await close_sessions()


def _targets(url: str) -> dict[str, Target]:
    return {
        "openai-json": resolve_target(f"openai:{url}/v1", model=MODEL),
        "openai-stream": resolve_target(f"openai:{url}/v1", model=MODEL, stream=True),
        "http": resolve_target(
            f"http:{url}/v1/chat/completions",
            request_template={
                "model": MODEL,
                "messages": [{"role": "user", "content": "{{input}}"}],
            },
            response_path="choices.0.message.content",
        ),
    }


@pytest.mark.parametrize("kind", KINDS)
async def test_target_calls_count_what_the_server_served(kind: str) -> None:
    # nginx closes every connection after 3 requests ("Connection: close"), mid-run.
    with real_server(kind, keepalive_requests=3) as srv:
        outcome: dict[str, Any] = {}
        for name, target in _targets(srv.url).items():
            try:
                results = await run_many(target, [f"q{i}" for i in range(N)], concurrency=4)
            finally:
                await target.aclose()
            outcome[name] = results
        served = srv.counts()
    calls = sum(len(r) for r in outcome.values())
    retries = sum(x.retries for r in outcome.values() for x in r)
    print(f"\n{kind} targets: calls={calls} retries={retries} | server requests={served.requests}")
    for name, results in outcome.items():
        assert all(r.ok for r in results), (name, [r.detail for r in results if not r.ok][:3])
        assert all(r.output.strip() for r in results)
        if name == "openai-stream":
            assert all(r.first_token is not None and r.chunks == 5 for r in results)
    assert retries == 0 and served.requests == calls == 3 * N


@pytest.mark.parametrize("kind", KINDS)
async def test_a_target_retries_a_reset_reused_connection_and_counts_it(kind: str) -> None:
    with real_server(kind, idle_s=0.3) as srv:
        target = resolve_target(f"openai:{srv.url}/v1", model=MODEL, retry_backoff_s=0.05)
        try:
            first = await target.call("one")
            time.sleep(1.0)  # blocks this loop past the idle timeout: the close goes unread
            second = await target.call("two")
        finally:
            await target.aclose()
        served = srv.counts()
    print(
        f"\n{kind} target reset on reuse: retries={first.retries}+{second.retries} "
        f"| server requests={served.requests} connections={served.connections}"
    )
    assert first.ok and second.ok, second.detail
    # The lost attempt never reached the server; the retry did, on a new connection.
    assert (first.retries, second.retries) == (0, 1)
    assert (served.requests, served.connections) == (2, 2)
