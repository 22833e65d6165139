"""The seed's point, measured: the demo feature scores lower on production than on its demo set."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pilotgate.demo import feature
from pilotgate.demo.data import demo_set, production_stream
from pilotgate.evaluate import arun_eval, compare_runs
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

pytestmark = pytest.mark.slow  # loads MiniLM and routes ~200 texts


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    fast = SimulatorProfile(
        ttft_ms=Dist.constant(1), token_ms=Dist.constant(0), output_tokens=Dist.constant(40)
    )
    with run_in_thread(fast, seed=0) as sim:
        monkeypatch.setenv("PILOTGATE_DEMO_LLM_URL", sim.url + "/v1")
        yield sim.url


async def test_production_cases_score_lower_than_demo_cases(
    llm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path}/demo.db"
    prod = [r.to_case() for r in production_stream(seed=0, n=2000)]
    prod = random.Random(0).sample(prod, 120)
    target = "python:pilotgate.demo.feature:answer"
    try:
        demo = await arun_eval(target, demo_set(), ["label"], store=db, version="v1", name="demo")
        real = await arun_eval(target, prod, ["label"], store=db, version="v1", name="prod")
        monkeypatch.setenv("PILOTGATE_DEMO_VERSION", "v2")
        await feature.aclose()  # the next call builds a v2 assistant
        fixed = await arun_eval(target, prod, ["label"], store=db, version="v2", name="prod")
    finally:
        await feature.aclose()
    d = demo.document["scorers"]["label"]
    p = real.document["scorers"]["label"]
    assert d["n"] >= 40 and p["n"] == 120
    assert demo.document["n_errors"] == real.document["n_errors"] == 0
    # measurably lower: the two 95 % intervals do not even overlap
    assert p["ci95"][1] < d["ci95"][0], (d, p)
    # the gap shows up where production differs from the demo: its noisy request kinds
    by_tag = real.document["by_tag"]
    assert by_tag["clean"]["label"]["mean"] > p["mean"]
    # the version cache key keeps v2 from reusing v1's answers, and v2 is the fix
    assert fixed.calls == 120
    cmp = compare_runs(real.run_id, fixed.run_id, store=db)
    assert cmp.document["labels"] == {"a": "v1", "b": "v2"}
    assert cmp.document["scorers"]["label"]["diff"] > 0
