"""Pure parts: retry waits, percentiles and timeline, levels, workloads, estimates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotgate.load import (
    LoadConfig,
    RetryPolicy,
    Samples,
    Shard,
    Workload,
    estimate,
    expected_levels,
    is_loopback,
    sweep_levels,
    to_target,
)
from pilotgate.load._client import retry_delay
from pilotgate.load._metrics import summarize, timeline
from pilotgate.load._samples import Recorder
from pilotgate.load._schedule import open_plan


def test_retry_delay_honours_the_server_then_backs_off_with_jitter() -> None:
    p = RetryPolicy()
    assert retry_delay(p, 0, 0.25, u=0.9) == 0.25  # retry-after(-ms) wins
    assert retry_delay(p, 0, 120.0, u=0.0) == 0.5  # too long a hint: own backoff
    assert retry_delay(p, 0, None, u=0.0) == 0.5
    assert retry_delay(p, 2, None, u=1.0) == pytest.approx(2.0 * 0.75)
    assert retry_delay(p, 10, None, u=0.0) == 8.0  # capped


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=300))
def test_summaries_are_numpy_percentiles(values: list[float]) -> None:
    arr = np.asarray(values) / 1000.0
    out = summarize(arr)
    ref = np.percentile(np.asarray(values), [50, 90, 95, 99, 99.9])
    got = [out[k] for k in ("p50", "p90", "p95", "p99", "p999")]
    assert got == pytest.approx(ref, abs=1e-3)
    assert out["max"] == pytest.approx(max(values), abs=1e-3)
    assert out["n"] == len(values)


def test_timeline_bins_requests_by_second() -> None:
    rec = Recorder()
    nan = float("nan")
    for i, (t, end, err) in enumerate([(0.1, 0.3, 0), (0.5, 1.2, 0), (1.5, 2.5, 1)]):
        status = 200 if not err else 500
        rec.add(i, t, t, t, t, nan, end, 0.0, 5, status, 0, err, None)
    rows = timeline(rec.samples(), LoadConfig(rate=1).slo)
    assert [r["started"] for r in rows] == [2, 1, 0]
    assert [r["completed"] for r in rows] == [1, 1, 1]
    assert [r["failed"] for r in rows] == [0, 0, 1]
    assert [r["output_tokens"] for r in rows] == [5, 5, 0]
    assert rows[1]["e2e_p50_ms"] == pytest.approx(700)


def test_samples_roundtrip_through_json() -> None:
    rec = Recorder()
    rec.add(3, 0.1, 0.1, 0.2, 0.3, 0.35, 0.5, 0.1, 7, 200, 1, 0, [0.01, 0.02])
    rec.by_status = {"200": 1, "429": 1}
    s = rec.samples()
    back = Samples.from_json(json.loads(json.dumps(s.to_json())))
    for k in s.cols:
        assert np.array_equal(s[k], back[k], equal_nan=True)
    assert back.itl.tolist() == [0.01, 0.02] and back.by_status == s.by_status


def test_open_plans_are_seeded_and_bounded() -> None:
    cfg = LoadConfig(rate=1000, duration_s=2, arrival="poisson", seed=1, max_requests=1500)
    a, b = open_plan(cfg, 3), open_plan(cfg, 3)
    assert np.array_equal(a.intended, b.intended) and len(a.intended) == 1500
    other = open_plan(cfg.model_copy(update={"seed": 2}), 3)
    assert not np.array_equal(a.intended[:50], other.intended[:50])
    const = open_plan(LoadConfig(rate=50, duration_s=2), 1)
    assert np.allclose(const.intended, np.arange(100) / 50)
    ramp = open_plan(LoadConfig(rate=10, ramp_to=30, duration_s=10), 1)
    assert len(ramp.intended) == 200  # the mean rate, 20/s, for 10 s
    assert np.sum(ramp.intended < 5) < np.sum(ramp.intended >= 5)


def test_levels() -> None:
    assert expected_levels(10) == ([10.0, 20.0, 30.0], ["1x", "2x", "3x"])
    assert expected_levels(4, 2.5) == ([4.0, 8.0, 10.0], ["1x", "2x", "2.5x"])
    assert sweep_levels(10, 80, 4) == pytest.approx([10, 20, 40, 80])


def test_shard_parse() -> None:
    assert Shard.parse("2/4") == Shard(index=1, count=4)
    assert Shard(index=1, count=2).compose(Shard(index=1, count=3)) == Shard(index=3, count=6)
    with pytest.raises(ValueError):
        Shard.parse("0/2")


def test_workload_reads_cases_and_ingest_lengths(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    lines = [
        {"id": "a", "input": "hello there", "tokens_out": 40},
        {"kind": "interaction", "id": "b", "ts": "2026-01-01T00:00:00Z", "feature": "f",
         "input": "another", "tokens_out": 90},
        {"id": "c", "input": [{"role": "user", "content": "hi"}]},
    ]  # fmt: skip
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    w = Workload.from_file(f)
    assert w.max_tokens == [40, 90, None]
    target = to_target("openai:http://127.0.0.1:9/v1", model="m", max_tokens=64)
    from pilotgate.load._workload import build_bodies

    bodies = [json.loads(b) for b in build_bodies(target, w)]
    assert [b["max_tokens"] for b in bodies] == [40, 90, 64]
    assert bodies[2]["messages"] == [{"role": "user", "content": "hi"}]


def test_estimate_and_loopback() -> None:
    target = to_target("openai:http://10.0.0.1/v1", model="m", max_tokens=100)
    target = target.model_copy(update={"price_input_per_1k": 1.0, "price_output_per_1k": 2.0})
    w = Workload.from_texts(["x" * 400])
    est = estimate(LoadConfig(rate=10, duration_s=10), target, w)
    assert (est.requests, est.input_tokens, est.output_tokens) == (100, 10_000, 10_000)
    assert est.cost == pytest.approx(10 + 20)
    assert est.max_requests_with_retries == 300
    assert is_loopback("http://127.0.0.1:8000/v1") and is_loopback("http://localhost/")
    assert is_loopback("http://[::1]:80/") and not is_loopback("http://10.0.0.1/")
