"""The simulator over real loopback HTTP: OpenAI shapes, streaming, determinism, auth."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from pilotgate.errors import ConfigError
from pilotgate.simulator import Dist, Simulator, SimulatorProfile, run_in_thread

FAST = SimulatorProfile(ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), output_tokens=12)


def chat(content: str = "Where is my card?", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-test", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def start(profile: SimulatorProfile = FAST, seed: int = 0) -> Simulator:
    sim = Simulator(profile, seed=seed)
    await sim.start("127.0.0.1", 0)
    return sim


async def post(s: aiohttp.ClientSession, sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    async with s.post(sim.base_url + "/chat/completions", json=body) as r:
        assert r.status == 200, await r.text()
        doc: dict[str, Any] = await r.json()
        return doc


async def stream_events(
    s: aiohttp.ClientSession, sim: Simulator, body: dict[str, Any]
) -> tuple[aiohttp.ClientResponse, list[str]]:
    async with s.post(sim.base_url + "/chat/completions", json={**body, "stream": True}) as r:
        text = await r.text()
    assert text.endswith("\n\n")
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events), events
    return r, [e[len("data: ") :] for e in events]


async def test_non_streaming_matches_openai_shape(session: aiohttp.ClientSession) -> None:
    sim = await start()
    try:
        doc = await post(session, sim, chat())
    finally:
        await sim.stop()
    assert doc["id"].startswith("chatcmpl-")
    assert doc["object"] == "chat.completion"
    assert isinstance(doc["created"], int)
    assert doc["model"] == "gpt-test"
    (choice,) = doc["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert isinstance(content, str) and len(content.split()) == 12
    usage = doc["usage"]
    assert usage["completion_tokens"] == 12
    assert usage["prompt_tokens"] == len("Where is my card?") // 4 + 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_streaming_chunks_usage_and_done(session: aiohttp.ClientSession) -> None:
    sim = await start()
    try:
        body = chat(stream_options={"include_usage": True})
        resp, events = await stream_events(session, sim, body)
        _, plain = await stream_events(session, sim, chat("another question"))
    finally:
        await sim.stop()
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert len(content) == 12
    finish = chunks[-2]
    assert finish["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 12
    assert all(c["usage"] is None for c in chunks[:-1])
    # Without include_usage: no usage anywhere.
    assert all("usage" not in json.loads(e) for e in plain[:-1])


async def test_stream_and_whole_reply_agree_and_max_tokens_caps(
    session: aiohttp.ClientSession,
) -> None:
    sims = [await start(), await start()]
    try:
        whole = await post(session, sims[0], chat())
        _, events = await stream_events(session, sims[1], chat())
        capped = await post(session, sims[0], chat("cap me", max_tokens=3))
    finally:
        for sim in sims:
            await sim.stop()
    pieces = [json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1]]
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]
    assert capped["usage"]["completion_tokens"] == 3
    assert capped["choices"][0]["finish_reason"] == "length"


async def test_reply_line_starts_the_answer(session: aiohttp.ClientSession) -> None:
    sim = await start()
    system = {"role": "system", "content": "You route requests.\nREPLY: Your card is blocked."}
    body = {"messages": [system, {"role": "user", "content": "card?"}]}
    try:
        full = await post(session, sim, body)
        short = await post(session, sim, {**body, "max_tokens": 2})
    finally:
        await sim.stop()
    text = full["choices"][0]["message"]["content"]
    assert text.startswith("Your card is blocked. ")
    assert len(text.split()) == 12
    assert short["choices"][0]["message"]["content"] == "Your card"
    assert full["model"] == "pilotgate-sim"  # the first profile model when none is named


async def test_same_seed_same_outputs_whatever_the_order(session: aiohttp.ClientSession) -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.uniform(0, 5), token_ms=Dist.constant(0), output_tokens=Dist.uniform(3, 30)
    )
    bodies = [chat(f"question {i}") for i in range(12)] + [chat("question 0")]

    async def contents(seed: int, order: list[int], concurrent: bool) -> dict[int, str]:
        sim = await start(profile, seed=seed)
        try:
            if concurrent:
                docs = await asyncio.gather(*(post(session, sim, bodies[i]) for i in order))
            else:
                docs = [await post(session, sim, bodies[i]) for i in order]
        finally:
            await sim.stop()
        return {i: d["choices"][0]["message"]["content"] for i, d in zip(order, docs, strict=True)}

    forward = await contents(7, list(range(12)), concurrent=False)
    backward = await contents(7, list(range(11, -1, -1)), concurrent=True)
    other_seed = await contents(8, list(range(12)), concurrent=False)
    assert forward == backward
    assert forward != other_seed
    # The second occurrence of a body gets its own (reproducible) reply.
    again = await contents(7, [0, 12], concurrent=False)
    assert again[0] == forward[0]
    assert again[12] != forward[0]
    assert again == await contents(7, [0, 12], concurrent=False)


async def test_models_health_stats_and_errors(session: aiohttp.ClientSession) -> None:
    sim = await start(SimulatorProfile(models=["a", "b"]))
    url = sim.url
    try:
        async with session.get(url + "/v1/models") as r:
            models = await r.json()
        async with session.get(url + "/health") as r:
            health = (r.status, await r.json())
        async with session.post(url + "/v1/chat/completions", data=b"{not json") as r:
            bad_json = (r.status, (await r.json())["error"]["type"])
        async with session.post(url + "/v1/chat/completions", json={"messages": []}) as r:
            no_messages = (r.status, (await r.json())["error"]["param"])
        async with session.post(url + "/v1/chat/completions", json=chat(max_tokens=0)) as r:
            bad_cap = (r.status, (await r.json())["error"]["param"])
        async with session.get(url + "/v1/chat/completions") as r:
            wrong_method = r.status
        async with session.get(url + "/nope") as r:
            missing = r.status
        async with session.get(url + "/stats") as r:
            stats = await r.json()
    finally:
        await sim.stop()
    assert [m["id"] for m in models["data"]] == ["a", "b"]
    assert models["object"] == "list"
    assert health == (200, {"status": "ok"})
    assert bad_json == (400, "invalid_request_error")
    assert no_messages == (400, "messages")
    assert bad_cap == (400, "max_tokens")
    assert wrong_method == 405
    assert missing == 404
    assert stats["by_status"]["400"] == 3
    assert sim.stats.requests == 8


async def test_api_key_required(session: aiohttp.ClientSession) -> None:
    sim = await start(FAST.model_copy(update={"api_key": "sk-test"}))
    url = sim.base_url + "/chat/completions"
    try:
        async with session.post(url, json=chat()) as r:
            missing = (r.status, (await r.json())["error"]["code"])
        async with session.post(url, json=chat(), headers={"Authorization": "Bearer no"}) as r:
            wrong = r.status
        async with session.post(url, json=chat(), headers={"Authorization": "Bearer sk-test"}) as r:
            right = r.status
        async with session.get(sim.base_url + "/models") as r:
            models = r.status
        async with session.get(sim.url + "/health") as r:
            health = r.status
    finally:
        await sim.stop()
    assert missing == (401, "invalid_api_key")
    assert (wrong, right, models, health) == (401, 200, 401, 200)


def _raw_exchange(port: int, payload: bytes, expect_responses: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        data = b""
        while data.count(b"HTTP/1.1 ") < expect_responses or not data.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_pipelined_keep_alive_and_refused_chunked_upload() -> None:
    body = json.dumps(chat()).encode()
    req = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    with run_in_thread(FAST) as sim:
        two = _raw_exchange(sim.port, req + req, 2)
        chunked = _raw_exchange(
            sim.port, b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 1
        )
        garbage = _raw_exchange(sim.port, b"NONSENSE\r\n\r\n", 1)
        stream_body = json.dumps(chat(stream=True)).encode()
        old_stream = _raw_exchange(
            sim.port,
            b"POST /v1/chat/completions HTTP/1.0\r\nContent-Length: %d\r\n\r\n%b"
            % (len(stream_body), stream_body),
            1,
        )
    assert two.count(b"HTTP/1.1 200 OK") == 2
    assert b"transfer-encoding" not in old_stream.lower()
    assert old_stream.rstrip().endswith(b"data: [DONE]")
    assert b"connection: close" in old_stream
    assert chunked.startswith(b"HTTP/1.1 411 ")
    assert garbage.startswith(b"HTTP/1.1 400 ")


def test_run_in_thread_serves_sync_callers_and_reports_bind_errors() -> None:
    with run_in_thread(FAST, seed=3) as sim:
        req = urllib.request.Request(
            sim.base_url + "/chat/completions",
            data=json.dumps(chat()).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            doc = json.loads(resp.read())
        with pytest.raises(ConfigError, match=str(sim.port)):
            with run_in_thread(FAST, port=sim.port):
                pass
    assert doc["usage"]["completion_tokens"] == 12
    assert sim.stats.by_status == {200: 1}


def test_public_api_is_pinned() -> None:
    import pilotgate.simulator as simulator

    assert sorted(simulator.__all__) == [
        "Dist",
        "Simulator",
        "SimulatorProfile",
        "SimulatorStats",
        "load_profile",
        "profile_from_mapping",
        "run_in_thread",
        "serve_forever",
    ]
    defaults = SimulatorProfile()
    assert (defaults.capacity, defaults.rpm, defaults.tpm, defaults.error_rate) == (
        None,
        None,
        None,
        0.0,
    )
    assert defaults.ttft_ms == Dist.constant(300) and defaults.output_tokens == Dist.constant(60)
