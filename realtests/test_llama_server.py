"""Load (streamed), eval with a judge, and robustness against a real small model server.

The load engine's TTFT and inter-token latency are checked against an independent client:
the official ``openai`` SDK, streaming the same prompts, timed by hand (the clock read
before the call and at each content chunk). Runs alternate SDK, pilotgate, SDK, so a
change of machine load between them shows as a spread of the SDK's own figures. The SDK's
clock also counts its own work (building the request, parsing each chunk into models),
which on a busy machine is many milliseconds, so that overhead is measured first against
pilotgate's simulator with known delays, and pilotgate's figures must fall between the
SDK's less its overhead and the SDK's (widened by 20 % and 3 ms for noise).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from conftest import MODEL_ALIAS
from pilotgate.load import LoadConfig, Workload, run_load, to_target
from pilotgate.scoring._judge import parse_verdict

PROMPTS = [
    "Name a colour of the sky.",
    "What is two plus two?",
    "Say hello in French.",
    "Name a fruit that is yellow.",
    "What is the capital of France?",
    "Give one word that rhymes with cat.",
]
MAX_TOKENS = 24


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOTGATE_STORE", f"sqlite:///{tmp_path}/store.db")


def _sdk_timings(base: str, model: str = MODEL_ALIAS) -> tuple[float, float]:
    """p50 TTFT and p50 inter-token gap (ms) over the prompts, by the openai SDK."""
    import openai

    client = openai.OpenAI(base_url=base, api_key="unused-local-key", max_retries=0)
    ttft: list[float] = []
    itl: list[float] = []
    try:
        for n, prompt in enumerate([PROMPTS[0], *PROMPTS]):  # the first one warms up
            t0 = time.perf_counter()
            stream = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}],
                stream=True, max_tokens=MAX_TOKENS, temperature=0,
            )  # fmt: skip
            times = [
                time.perf_counter()
                for chunk in stream
                if chunk.choices and chunk.choices[0].delta.content
            ]
            assert times, f"no content streamed for {prompt!r}"
            if n == 0:
                continue
            ttft.append((times[0] - t0) * 1000)
            itl += [(b - a) * 1000 for a, b in zip(times, times[1:], strict=False)]
    finally:
        client.close()
    return statistics.median(ttft), statistics.median(itl)


def _sdk_overhead() -> tuple[float, float]:
    """What the SDK's own work adds to its TTFT and ITL (ms), against known delays."""
    from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

    ttft_ms, token_ms = 20.0, 14.0
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(ttft_ms), token_ms=Dist.constant(token_ms),
        output_tokens=Dist.constant(MAX_TOKENS),
    )  # fmt: skip
    with run_in_thread(profile, seed=0) as sim:
        ttft, itl = _sdk_timings(sim.base_url, model="pilotgate-sim")
    return max(0.0, ttft - ttft_ms), max(0.0, itl - token_ms)


def test_streamed_load_agrees_with_the_official_sdk(llama: str) -> None:
    overhead = _sdk_overhead()
    target = to_target(
        f"openai:{llama}", model=MODEL_ALIAS, stream=True, max_tokens=MAX_TOKENS, temperature=0
    )
    before = _sdk_timings(llama)
    cfg = LoadConfig(concurrency=1, duration_s=120, max_requests=2 * len(PROMPTS), timeout_s=60)
    doc = run_load(cfg, target, Workload.from_texts(PROMPTS)).to_json()
    after = _sdk_timings(llama)
    req, lat = doc["requests"], doc["latency_ms"]
    ours = (lat["ttft"]["p50"], lat["itl"]["p50"])
    print(
        f"\nTTFT p50 ms: sdk {before[0]:.1f} / {after[0]:.1f}, pilotgate {ours[0]:.1f}"
        f"\nITL  p50 ms: sdk {before[1]:.1f} / {after[1]:.1f}, pilotgate {ours[1]:.1f}"
        f"\nSDK overhead against known delays: TTFT +{overhead[0]:.1f}, ITL +{overhead[1]:.1f}"
        f"\nrequests {req['ok']}/{req['sent']}, output tokens {req['output_tokens']}, "
        f"client {doc['client']}"
    )
    assert req["ok"] == req["sent"] == 2 * len(PROMPTS) and req["output_tokens"] > 0
    assert doc["client"] == "raw"  # the lean client read llama.cpp's CRLF event stream
    for k, name in enumerate(("TTFT", "ITL")):
        lo = 0.8 * (min(before[k], after[k]) - overhead[k]) - 3.0
        hi = 1.2 * max(before[k], after[k]) + 3.0
        assert ours[k] is not None and lo <= ours[k] <= hi, (name, ours[k], before[k], after[k])


def test_eval_with_the_small_model_as_judge(llama: str, tmp_path: Path) -> None:
    from pilotgate.evaluate import run_eval

    cases = [
        {"id": f"c{i}", "input": p, "expected": e}
        for i, (p, e) in enumerate(
            zip(PROMPTS, ["blue", "4", "bonjour", "banana", "Paris", "hat"], strict=True)
        )
    ]
    judge = f"judge:target=openai:{llama},model={MODEL_ALIAS},retries=0"
    res = run_eval(
        f"openai:{llama}", cases, [judge], model=MODEL_ALIAS, store=f"sqlite:///{tmp_path}/e.db",
        concurrency=1,
    )  # fmt: skip
    summary = res.document["scorers"]["judge"]
    unparsed = 0
    for row in res.rows:
        score = row["scores"]["judge"]
        replies, verdicts = score["judge"]["replies"], score["judge"]["verdicts"]
        print(f"\n{row['case_id']}: verdicts {verdicts} reply {replies[0][:120]!r}")
        assert replies and replies[0].strip(), "the judge wrote nothing"
        for reply, verdict in zip(replies, verdicts, strict=True):
            assert parse_verdict(reply) == verdict  # what was recorded is what the reply says
        if all(v is None for v in verdicts):
            unparsed += 1
        else:
            assert score["value"] in verdicts
    print(f"\njudge summary: {summary}")
    # A reply without a verdict is "not scored", never "failed" (DESIGN: n_scored, n_unscored).
    assert summary.get("n_unscored") == unparsed, (
        f"{unparsed} unparseable judge replies must be reported unscorable: {summary}"
    )
    assert summary.get("n_scored") == len(cases) - unparsed


def test_robustness_against_the_small_model(llama: str) -> None:
    from pilotgate.perturb import run_robustness
    from pilotgate.targets import resolve_target

    target = resolve_target(
        f"openai:{llama}", model=MODEL_ALIAS, max_tokens=MAX_TOKENS, temperature=0
    )
    from pilotgate.records import Case

    cases = [Case(id=f"c{i}", input=p) for i, p in enumerate(PROMPTS)]
    res = run_robustness(target, cases, perturbations="typo,all_caps", seed=0, concurrency=1)
    doc = res.to_json()
    print(f"\nrobustness: { {k: v['pass_rate'] for k, v in doc['perturbations'].items()} }")
    assert doc["mode"] == "consistency" and doc["n_cases"] == len(cases)
    for name, block in doc["perturbations"].items():
        assert 0 < block["n"] <= len(cases), name
        assert 0.0 <= block["pass_rate"] <= 1.0
        lo, hi = block["ci95"]
        assert 0.0 <= lo <= block["pass_rate"] <= hi <= 1.0
        for failure in block["failures"]:
            assert failure["output_original"] and failure["output_perturbed"]
