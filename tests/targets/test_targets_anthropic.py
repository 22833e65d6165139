"""anthropic: target against the simulator's Messages API: calls, eval, robustness, load."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._stack import simulate_process

from pilotgate.errors import TargetError
from pilotgate.perturb import run_robustness
from pilotgate.records import Case
from pilotgate.simulator import Dist, Simulator, SimulatorProfile, run_in_thread
from pilotgate.targets import TargetResult, close_sessions, resolve_target
from pilotgate.targets._anthropic import AnthropicTarget

FAST = SimulatorProfile(
    ttft_ms=Dist.constant(30), token_ms=Dist.constant(1), output_tokens=Dist.constant(7)
)


@pytest.fixture(autouse=True)
async def _sessions() -> AsyncIterator[None]:
    yield
    await close_sessions()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_in_thread(FAST, seed=0) as s:
        yield s


async def _one(url: str, text: str = "Where is my card?", **kw: Any) -> TargetResult:
    target = resolve_target(f"anthropic:{url}", model="claude-sim", **kw)
    try:
        return await target.call(text)
    finally:
        await target.aclose()


async def test_whole_message_output_usage_and_body(sim: Simulator) -> None:
    r = await _one(sim.url, system_prompt="Be brief.", max_tokens=50)
    assert r.ok, r.detail
    assert r.status == 200 and r.output.strip() and r.chunks == 0
    assert r.tokens_out == 7 and r.tokens_in is not None and r.tokens_in > 0
    target = resolve_target(f"anthropic:{sim.url}", model="claude-sim", system_prompt="S")
    assert isinstance(target, AnthropicTarget)
    body = target.body([{"role": "system", "content": "Rules."}, {"role": "user", "content": "hi"}])
    assert body["system"] == "Rules." and body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["max_tokens"] == 1024 and "stream" not in body
    assert target.endpoint == f"{sim.url}/v1/messages"


async def test_stream_ttft_at_the_first_text_delta(sim: Simulator) -> None:
    r = await _one(sim.url, stream=True)
    assert r.ok, r.detail
    assert r.chunks == 7 and r.tokens_out == 7 and r.tokens_in is not None
    assert r.ttft_ms is not None and r.ttft_ms >= 30 - 0.5
    whole = await _one(sim.url, stream=False, text="Where is my card? (whole)")
    assert len(whole.output.split()) == len(r.output.split()) == 7


async def test_api_key_goes_in_x_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_ANTHROPIC_KEY", "sk-ant-test")
    profile = FAST.model_copy(update={"api_key": "sk-ant-test"})
    with run_in_thread(profile) as keyed:
        ok = await _one(keyed.url, api_key_env="SIM_ANTHROPIC_KEY")
        monkeypatch.setenv("SIM_ANTHROPIC_KEY", "wrong")
        bad = await _one(keyed.url, api_key_env="SIM_ANTHROPIC_KEY")
    assert ok.ok, ok.detail
    assert bad.status == 401 and "sk-ant" not in (bad.detail or "")


async def test_429_is_retried_after_the_servers_wait() -> None:
    # 4 prompt + 96 output tokens a request against a 195-token bucket: one, then ≈ 1.5 s.
    limited = SimulatorProfile(
        ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), output_tokens=96, tpm=195
    )
    with run_in_thread(limited) as s:
        first = await _one(s.url, text="abcdefghijklmnop", max_tokens=200, retries=2)
        second = await _one(s.url, text="abcdefghijklmnop", max_tokens=200, retries=2)
        limited_n = s.stats.rate_limited
    assert first.ok and second.ok, second.detail
    assert second.retries == limited_n >= 1


def test_model_is_required() -> None:
    with pytest.raises(TargetError, match="needs a model"):
        resolve_target("anthropic:http://127.0.0.1:9")


def test_robustness_runs_on_an_anthropic_target(sim: Simulator) -> None:
    cases = [Case(id="a", input="How do I block my card?"), Case(id="b", input="Balance?")]
    before = sim.stats.completions
    target = resolve_target(f"anthropic:{sim.url}", model="claude-sim")
    result = run_robustness(target, cases, perturbations=["all_caps", "typo"], samples=1)
    assert result.calls == sim.stats.completions - before > 0
    assert all(p.error is None for p in result.pairs)


def _pilotgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pilotgate", *args], capture_output=True, text=True, timeout=240
    )


def test_eval_run_cli_on_an_anthropic_target(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "".join(
            json.dumps({"id": f"c{i}", "input": f"card {i}", "expected": "card"}) + "\n"
            for i in range(6)
        )
    )
    out = tmp_path / "eval.json"
    with simulate_process("--ttft-ms", "1", "--token-ms", "0", "--output-tokens", "5") as url:
        proc = _pilotgate(
            "eval", "run", "--target", f"anthropic:{url}", "--model", "claude-sim",
            "--cases", str(cases), "--scorer", "contains", "--json", str(out),
            "--store", f"sqlite:///{tmp_path}/e.db",
        )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(out.read_text())
    assert doc["n_cases"] == 6 and doc["n_errors"] == 0 and doc["n_ok"] == 6


def test_load_cli_ttft_and_itl_within_5_percent(tmp_path: Path) -> None:
    """``pilotgate load --target anthropic:…`` against ``pilotgate simulate`` (two processes).

    The simulator sends the first text delta 200 ms after the request and one delta every
    40 ms after it; the medians the load client reports must be within 5 % of those.
    """
    out = tmp_path / "load.json"
    sim_args = ("--ttft-ms", "200", "--token-ms", "40", "--output-tokens", "12")
    with simulate_process(*sim_args) as url:
        proc = _pilotgate(
            "load", "--target", f"anthropic:{url}", "--model", "claude-sim", "--stream",
            "--concurrency", "3", "--duration", "4", "--max-requests", "24",
            "--json", str(out), "--no-store",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    req, lat = doc["requests"], doc["latency_ms"]
    assert req["ok"] == req["sent"] >= 6 and req["failed"] == 0
    assert req["output_tokens"] == 12 * req["ok"]
    assert lat["ttft"]["p50"] == pytest.approx(200, rel=0.05)
    assert lat["itl"]["p50"] == pytest.approx(40, rel=0.05)
    assert lat["itl"]["n"] == 11 * req["ok"]
