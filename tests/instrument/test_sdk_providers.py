"""``instrument_openai`` / ``instrument_anthropic``: the official SDKs, against the simulator.

Every kind of call an app makes (plain, streamed, async, a tool call, a 429 the SDK
retries, a 429 it gives up on) is stored with model, tokens, input and output, and TTFT
for streams; ``undo()`` puts the SDK back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from anthropic.resources.messages import AsyncMessages, Messages
from anthropic.types import MessageParam, ToolParam
from openai.resources.chat.completions import Completions
from openai.types.chat import (
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
)

from pilotgate import instrument as pg
from pilotgate.simulator import Dist, Simulator, SimulatorProfile, run_in_thread
from pilotgate.store import Store

# 20 ms to the first token, then 2 ms between tokens: a stream's TTFT is measurable.
PROFILE = SimulatorProfile(ttft_ms=Dist.constant(20), token_ms=Dist.constant(2), output_tokens=8)
# 4 prompt + 96 output tokens per request against a 195-token bucket: the second request
# in a row gets a 429 asking for ≈ 1.5 s (5 tokens at 3.25 a second): long enough that a
# loaded machine still sends it within the wait.
LIMITED = SimulatorProfile(
    ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), output_tokens=96, tpm=195
)
SIXTEEN: list[ChatCompletionMessageParam] = [{"role": "user", "content": "abcdefghijklmnop"}]
Q: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Where is my card?"}]
# The same messages for Anthropic's SDK, whose message type is not OpenAI's.
SIXTEEN_AN: list[MessageParam] = [{"role": "user", "content": "abcdefghijklmnop"}]
Q_AN: list[MessageParam] = [{"role": "user", "content": "Where is my card?"}]
TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "find_card",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
        },
    },
}


_OPEN: list[Any] = []


def _oa(**kw: Any) -> openai.OpenAI:
    client = openai.OpenAI(**kw)
    _OPEN.append(client)
    return client


def _an(**kw: Any) -> anthropic.Anthropic:
    client = anthropic.Anthropic(**kw)
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/sdk.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "spill"))
    return url


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with run_in_thread(PROFILE, seed=1) as running:
        yield running


def stored(url: str) -> list[dict[str, Any]]:
    assert pg.flush(10), pg.stats()
    with Store(url) as s:
        return sorted(s.interactions(), key=lambda r: r["ts"])


def md(rec: dict[str, Any]) -> dict[str, Any]:
    value = rec.get("metadata") or {}
    return json.loads(value) if isinstance(value, str) else dict(value)


def inp(rec: dict[str, Any]) -> Any:
    value = rec["input"]
    return json.loads(value) if isinstance(value, str) and value.startswith("[") else value


def test_openai_plain_stream_async_and_tool_calls(db: str, sim: Simulator) -> None:
    handle = pg.instrument_openai(feature="assistant", version="v7")
    try:
        c = _oa(base_url=sim.base_url, api_key="k")
        plain = c.chat.completions.create(model="gpt-sim", messages=Q)
        chunks = list(
            c.chat.completions.create(
                model="gpt-sim",
                messages=Q,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        tool = c.chat.completions.create(
            model="gpt-sim",
            messages=Q,
            tools=[TOOL],
            tool_choice={"type": "function", "function": {"name": "find_card"}},
        )
        tool_calls = tool.choices[0].message.tool_calls
        assert tool_calls is not None
        call = tool_calls[0]
        # the assistant's turn as apps pass it back: the SDK's model_dump() dict
        follow: list[Any] = [
            *Q,
            tool.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "card 4421 shipped"},
        ]
        c.chat.completions.create(model="gpt-sim", messages=follow)

        async def run_async() -> str:
            ac = openai.AsyncOpenAI(base_url=sim.base_url, api_key="k")
            parts = []
            stream = await ac.chat.completions.create(
                model="gpt-sim",
                messages=SIXTEEN,
                stream=True,
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            await ac.chat.completions.create(model="gpt-sim", messages=SIXTEEN)
            await ac.close()
            return "".join(parts)

        async_text = asyncio.run(run_async())
    finally:
        handle.undo()
    recs = stored(db)
    assert len(recs) == 6
    assert {r["feature"] for r in recs} == {"assistant"} and {r["version"] for r in recs} == {"v7"}
    r_plain, r_stream, r_tool, r_follow, r_astream, r_async = recs
    assert r_plain["output"] == plain.choices[0].message.content
    assert inp(r_plain) == Q
    assert plain.usage is not None
    assert (r_plain["tokens_in"], r_plain["tokens_out"]) == (
        plain.usage.prompt_tokens,
        plain.usage.completion_tokens,
    )
    assert md(r_plain)["model"] == "gpt-sim" and r_plain["ttft_ms"] is None
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert r_stream["output"] == text and r_stream["tokens_out"] == 8
    # TTFT: at least the simulator's 20 ms, and before the end of the stream
    assert 20 <= r_stream["ttft_ms"] <= r_stream["latency_ms"]
    tool_md = md(r_tool)
    assert tool_md["tool_calls"][0]["name"] == "find_card"
    assert json.loads(tool_md["tool_calls"][0]["arguments"])["q"]
    assert tool_md["finish_reason"] == "tool_calls" and tool_md["tools"] == ["find_card"]
    roles = [m["role"] for m in inp(r_follow)]
    assert roles == ["user", "assistant", "tool"]
    assert inp(r_follow)[1]["tool_calls"][0]["function"]["name"] == "find_card"
    assert r_astream["output"] == async_text and r_astream["ttft_ms"] >= 20
    assert r_async["output"] and r_async["tokens_out"] == 8


def test_openai_429_retried_by_the_sdk_and_given_up(db: str) -> None:
    handle = pg.instrument_openai()
    try:
        with run_in_thread(LIMITED) as sim:
            c = _oa(base_url=sim.base_url, api_key="k", max_retries=3)
            c.chat.completions.create(model="gpt-sim", messages=SIXTEEN)
            c.chat.completions.create(model="gpt-sim", messages=SIXTEEN)
            with pytest.raises(openai.RateLimitError):
                c.with_options(max_retries=0).chat.completions.create(
                    model="gpt-sim",
                    messages=SIXTEEN,
                )
    finally:
        handle.undo()
    first, retried, failed = stored(db)
    assert "retries" not in md(first)
    assert md(retried)["retries"] >= 1 and set(md(retried)["retry_statuses"]) == {429}
    assert retried["error"] is None and retried["tokens_out"] == 96
    assert failed["error"] == "RateLimitError" and md(failed)["status_code"] == 429


def test_client_scope_and_undo_restore_the_sdk(db: str, sim: Simulator) -> None:
    original = Completions.create
    mine = _oa(base_url=sim.base_url, api_key="k")
    other = _oa(base_url=sim.base_url, api_key="k")
    handle = pg.instrument_openai(mine, feature="scoped")
    assert pg.instrument_openai(mine).patched == []  # a second call does not wrap twice
    mine.chat.completions.create(model="gpt-sim", messages=Q)
    other.chat.completions.create(model="gpt-sim", messages=Q)
    handle.undo()
    mine.chat.completions.create(model="gpt-sim", messages=Q)
    assert [r["feature"] for r in stored(db)] == ["scoped"]
    glob = pg.instrument_openai()
    assert Completions.create is not original
    glob.undo()
    assert Completions.create is original
    assert "create" not in vars(mine.chat.completions)
    before = (Messages.create, Messages.stream, AsyncMessages.stream)
    handle = pg.instrument_anthropic()
    assert Messages.stream is not before[1] and len(handle.patched) >= 4
    handle.undo()
    assert (Messages.create, Messages.stream, AsyncMessages.stream) == before


def test_a_stream_closed_early_is_recorded_incomplete(db: str, sim: Simulator) -> None:
    with pg.instrument_openai():
        c = _oa(base_url=sim.base_url, api_key="k")
        with c.chat.completions.create(model="gpt-sim", messages=Q, stream=True) as s:
            next(iter(s))
            next(iter(s))
    (rec,) = stored(db)
    assert md(rec)["stream_incomplete"] is True and md(rec)["stream_chunks"] == 2


def test_a_dropped_stream_is_recorded_when_collected(db: str, sim: Simulator) -> None:
    import gc

    with pg.instrument_openai():
        c = _oa(base_url=sim.base_url, api_key="k")
        stream = c.chat.completions.create(model="gpt-sim", messages=Q, stream=True)
        for _ in stream:
            break  # the app stops reading and never closes it
        stream.response.close()  # (the test's own hygiene: no unclosed socket warning)
        del stream
        gc.collect()
    (rec,) = stored(db)
    assert md(rec)["stream_incomplete"] is True and md(rec)["stream_chunks"] == 1


def test_anthropic_plain_stream_async_and_tool_use(db: str, sim: Simulator) -> None:
    handle = pg.instrument_anthropic(feature="claude-feature", version="v2")
    try:
        c = _an(base_url=sim.url, api_key="k")
        plain = c.messages.create(
            model="claude-sim",
            max_tokens=64,
            system="Be brief.",
            messages=Q_AN,
        )
        events = list(
            c.messages.create(model="claude-sim", max_tokens=64, messages=Q_AN, stream=True)
        )
        c.messages.create(
            model="claude-sim",
            max_tokens=64,
            messages=Q_AN,
            tools=[{"name": "find_card", "input_schema": TOOL["function"]["parameters"]}],
            tool_choice={"type": "tool", "name": "find_card"},
        )

        async def run_async() -> str:
            ac = anthropic.AsyncAnthropic(base_url=sim.url, api_key="k")
            parts = []
            stream = await ac.messages.create(
                model="claude-sim",
                max_tokens=64,
                messages=SIXTEEN_AN,
                stream=True,
            )
            async for event in stream:
                if event.type == "content_block_delta":
                    assert event.delta.type == "text_delta"
                    parts.append(event.delta.text)
            await ac.close()
            return "".join(parts)

        async_text = asyncio.run(run_async())
    finally:
        handle.undo()
    r_plain, r_stream, r_tool, r_async = stored(db)
    assert {r["feature"] for r in (r_plain, r_stream)} == {"claude-feature"}
    assert plain.content[0].type == "text"
    assert r_plain["output"] == plain.content[0].text
    assert inp(r_plain) == [{"role": "system", "content": "Be brief."}, *Q_AN]
    assert r_plain["tokens_in"] == plain.usage.input_tokens and r_plain["tokens_out"] == 8
    assert md(r_plain)["model"] == "claude-sim"
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert all(d.type == "text_delta" for d in deltas)
    text = "".join(d.text for d in deltas if d.type == "text_delta")
    assert r_stream["output"] == text and r_stream["tokens_out"] == 8
    assert r_stream["tokens_in"] >= 1
    assert 20 <= r_stream["ttft_ms"] <= r_stream["latency_ms"]
    assert md(r_tool)["tool_calls"][0]["name"] == "find_card"
    assert md(r_tool)["stop_reason"] == "tool_use"
    assert r_async["output"] == async_text and r_async["ttft_ms"] >= 20


def test_anthropic_429_retried_by_the_sdk(db: str) -> None:
    with pg.instrument_anthropic():
        with run_in_thread(LIMITED) as sim:
            c = _an(base_url=sim.url, api_key="k", max_retries=3)
            c.messages.create(model="claude-sim", max_tokens=200, messages=SIXTEEN_AN)
            c.messages.create(model="claude-sim", max_tokens=200, messages=SIXTEEN_AN)
            with pytest.raises(anthropic.RateLimitError):
                c.with_options(max_retries=0).messages.create(
                    model="claude-sim",
                    max_tokens=200,
                    messages=SIXTEEN_AN,
                )
    first, retried, failed = stored(db)
    assert md(retried)["retries"] >= 1 and set(md(retried)["retry_statuses"]) == {429}
    assert retried["error"] is None and retried["tokens_out"] == 96
    assert failed["error"] == "RateLimitError" and md(failed)["status_code"] == 429


def test_instrumented_sdk_still_works_when_the_sdk_is_not_configured(sim: Simulator) -> None:
    pg.shutdown(0.5)  # nothing configured: the wrapper must just pass through
    with pg.instrument_openai():
        c = _oa(base_url=sim.base_url, api_key="k")
        out = c.chat.completions.create(model="gpt-sim", messages=Q)
        streamed = list(c.chat.completions.create(model="gpt-sim", messages=Q, stream=True))
    assert out.choices[0].message.content and streamed


def test_stream_helpers_are_recorded(db: str, sim: Simulator) -> None:
    with pg.instrument_openai(), pg.instrument_anthropic():
        oc = _oa(base_url=sim.base_url, api_key="k")
        with oc.chat.completions.stream(model="gpt-sim", messages=Q) as s:
            o_text = "".join(e.delta for e in s if e.type == "content.delta")
        ac = _an(base_url=sim.url, api_key="k")
        with ac.messages.stream(model="claude-sim", max_tokens=64, messages=Q_AN) as ms:
            a_text = "".join(ms.text_stream)

        async def run_async() -> str:
            client = anthropic.AsyncAnthropic(base_url=sim.url, api_key="k")
            async with client.messages.stream(
                model="claude-sim",
                max_tokens=64,
                messages=SIXTEEN_AN,
            ) as stream:
                message = await stream.get_final_message()
            await client.close()
            assert message.content[0].type == "text"
            return message.content[0].text

        async_text = asyncio.run(run_async())
    r_open, r_anth, r_async = stored(db)
    assert r_open["output"] == o_text and md(r_open)["provider"] == "openai"
    assert r_anth["output"] == a_text and r_anth["tokens_out"] == 8 and r_anth["ttft_ms"] >= 20
    assert r_async["output"] == async_text and md(r_async)["provider"] == "anthropic"
    assert inp(r_async) == SIXTEEN_AN


def test_streamed_tool_calls_are_recorded(db: str, sim: Simulator) -> None:
    choice: ChatCompletionToolChoiceOptionParam = {
        "type": "function",
        "function": {"name": "find_card"},
    }
    with pg.instrument_openai(), pg.instrument_anthropic():
        oc = _oa(base_url=sim.base_url, api_key="k")
        chunks = list(
            oc.chat.completions.create(
                model="gpt-sim",
                messages=Q,
                tools=[TOOL],
                tool_choice=choice,
                stream=True,
            )
        )
        args = ""
        for c in chunks:
            if c.choices and c.choices[0].delta.tool_calls:
                function = c.choices[0].delta.tool_calls[0].function
                assert function is not None
                args += function.arguments or ""
        ac = _an(base_url=sim.url, api_key="k")
        tool: ToolParam = {"name": "find_card", "input_schema": TOOL["function"]["parameters"]}
        with ac.messages.stream(
            model="claude-sim", max_tokens=64, messages=Q_AN, tools=[tool],
            tool_choice={"type": "tool", "name": "find_card"},
        ) as stream:  # fmt: skip
            final = stream.get_final_message()
    r_open, r_anth = stored(db)
    (call,) = md(r_open)["tool_calls"]
    assert call["name"] == "find_card" and call["arguments"] == args and json.loads(args)["q"]
    assert md(r_open)["finish_reason"] == "tool_calls" and r_open["ttft_ms"] >= 20
    (block,) = final.content
    assert block.type == "tool_use"
    (a_call,) = md(r_anth)["tool_calls"]
    assert a_call["name"] == "find_card" and json.loads(a_call["arguments"]) == block.input
    assert md(r_anth)["stop_reason"] == "tool_use" and r_anth["tokens_out"] == 8
