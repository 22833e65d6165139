"""The simulator's Messages API, driven by the official ``anthropic`` SDK unchanged."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import MessageParam, ToolParam

from pilotgate.simulator import Dist, Simulator, SimulatorProfile, run_in_thread

FAST = SimulatorProfile(ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), output_tokens=12)
USER: list[MessageParam] = [{"role": "user", "content": "Where is my card?"}]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with run_in_thread(FAST, seed=3) as running:
        yield running


_OPEN: list[anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(sim: Simulator, **kw: Any) -> anthropic.Anthropic:
    made = anthropic.Anthropic(base_url=sim.url, api_key="test-key", **kw)
    _OPEN.append(made)
    return made


def test_sdk_reads_a_whole_message(sim: Simulator) -> None:
    msg = client(sim).messages.create(
        model="claude-sim", max_tokens=50, system="REPLY: Your card is on its way", messages=USER
    )
    assert msg.type == "message" and msg.role == "assistant" and msg.model == "claude-sim"
    assert msg.id.startswith("msg_")
    assert msg.content[0].type == "text"
    text = msg.content[0].text
    assert text.startswith("Your card is on its way")
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == 12 and msg.usage.input_tokens >= 1


def test_sdk_streams_the_same_reply_with_every_event() -> None:
    # The same first request to a simulator of the same seed gets the same reply,
    # streamed or not (a repeat of a request to one simulator gets the next reply).
    with run_in_thread(FAST, seed=3) as sim:
        whole = client(sim).messages.create(model="claude-sim", max_tokens=50, messages=USER)
    with run_in_thread(FAST, seed=3) as sim:
        events = list(
            client(sim).messages.create(
                model="claude-sim", max_tokens=50, messages=USER, stream=True
            )
        )
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    blocks = [e.delta for e in events if e.type == "content_block_delta"]
    deltas = [d.text for d in blocks if d.type == "text_delta"]
    assert len(deltas) == len(blocks) == 12
    assert whole.content[0].type == "text"
    assert "".join(deltas) == whole.content[0].text
    final = [e for e in events if e.type == "message_delta"][0]
    assert final.usage.output_tokens == 12
    with run_in_thread(FAST, seed=3) as sim:
        manager = client(sim).messages.stream(model="claude-sim", max_tokens=50, messages=USER)
        with manager as stream:
            helper = stream.get_final_message()
    assert helper.content[0].type == "text"
    assert helper.content[0].text == whole.content[0].text


def test_max_tokens_caps_the_reply(sim: Simulator) -> None:
    msg = client(sim).messages.create(model="claude-sim", max_tokens=5, messages=USER)
    assert msg.usage.output_tokens == 5 and msg.stop_reason == "max_tokens"


def test_forced_tool_use_block(sim: Simulator) -> None:
    tool: ToolParam = {
        "name": "find_card",
        "description": "Find a card",
        "input_schema": {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
        },
    }
    msg = client(sim).messages.create(
        model="claude-sim",
        max_tokens=20,
        messages=USER,
        tools=[tool],
        tool_choice={"type": "tool", "name": "find_card"},
    )
    block = msg.content[0]
    assert block.type == "tool_use" and block.name == "find_card"
    assert isinstance(block.input["q"], str) and block.input["q"]
    assert msg.stop_reason == "tool_use"


def _post(
    sim: Simulator, body: dict[str, object], headers: dict[str, str]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    req = urllib.request.Request(
        sim.url + "/v1/messages", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def test_anthropic_version_header_and_fields_are_required(sim: Simulator) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": USER}
    status, doc, _ = _post(sim, body, {"content-type": "application/json"})
    assert status == 400 and doc["type"] == "error"
    assert "anthropic-version" in doc["error"]["message"]
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    status, doc, _ = _post(sim, {"model": "m", "messages": USER}, headers)
    assert status == 400 and "max_tokens" in doc["error"]["message"]


# Each request costs 4 prompt + 96 output tokens; a 195-token bucket admits one, then the
# next waits for 5 tokens: ≈ 1.5 s at 195 tokens per minute.
LIMITED = SimulatorProfile(
    ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), output_tokens=96, tpm=195
)
SIXTEEN: list[MessageParam] = [{"role": "user", "content": "abcdefghijklmnop"}]


def test_429_carries_retry_after_and_the_sdk_retries() -> None:
    with run_in_thread(LIMITED) as sim:
        c = client(sim, max_retries=0)
        c.messages.create(model="claude-sim", max_tokens=200, messages=SIXTEEN)
        with pytest.raises(anthropic.RateLimitError) as info:
            c.messages.create(model="claude-sim", max_tokens=200, messages=SIXTEEN)
        assert info.value.status_code == 429
        body = info.value.body
        assert isinstance(body, dict) and body["error"]["type"] == "rate_limit_error"
        assert int(info.value.response.headers["retry-after"]) >= 1
        assert 0 < int(info.value.response.headers["retry-after-ms"]) <= 1600
        msg = client(sim, max_retries=3).messages.create(
            model="claude-sim", max_tokens=200, messages=SIXTEEN
        )
        assert msg.usage.output_tokens == 96
        assert sim.stats.rate_limited >= 2
