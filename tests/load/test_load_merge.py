"""Shards and worker processes merge exactly: the same numbers as one run over the union."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pilotgate.errors import InputError
from pilotgate.load import (
    DelayServer,
    DelaySpec,
    LoadConfig,
    LoadResult,
    Samples,
    Shard,
    merge_results,
    run_load,
    to_target,
)
from pilotgate.load._schedule import open_plan, user_plans


@pytest.mark.parametrize("arrival", ["constant", "poisson"])
def test_the_union_of_shard_plans_is_the_unsharded_plan(arrival: str) -> None:
    cfg = LoadConfig(rate=300, duration_s=2, arrival=arrival, ramp_to=600, seed=5)
    whole = open_plan(cfg, n_inputs=7)
    parts = [open_plan(cfg, 7, Shard(index=k, count=3)) for k in range(3)]
    idx = np.concatenate([p.global_index for p in parts])
    order = np.argsort(idx)
    assert np.array_equal(idx[order], whole.global_index)
    assert np.array_equal(np.concatenate([p.intended for p in parts])[order], whole.intended)
    assert np.array_equal(np.concatenate([p.inputs for p in parts])[order], whole.inputs)


def test_user_shards_partition_the_users() -> None:
    cfg = LoadConfig(concurrency=4, ramp_to=10, duration_s=6)
    users = sorted(u.user for k in range(3) for u in user_plans(cfg, Shard(index=k, count=3)))
    assert users == list(range(10))


def _doc_roundtrip(res: LoadResult) -> LoadResult:
    doc = json.loads(json.dumps(res.to_json(include_samples=True)))
    return LoadResult.from_json(doc)


def test_merged_shards_equal_one_run_over_their_union() -> None:
    spec = DelaySpec(kind="lognormal", median_ms=20, sigma=0.6, seed=9)
    with DelayServer(spec) as srv:
        target = to_target(f"openai:{srv.url}", model="m")
        shards = []
        for k in range(2):
            cfg = LoadConfig(rate=100, duration_s=1.0, shard=Shard(index=k, count=2))
            shards.append(_doc_roundtrip(run_load(cfg, target)))  # through JSON, as the CLI
    merged = merge_results(shards)
    assert merged.config.shard == Shard()
    s = merged.samples
    assert len(s) == 100
    assert sorted(s["index"].tolist()) == list(range(100))
    # One run over the union of the shards' requests:
    union = np.concatenate([(p.samples["end"] - p.samples["intended"]) for p in shards])
    expected = np.percentile(union * 1000, [50, 90, 95, 99, 99.9])
    e2e = merged.to_json()["latency_ms"]["e2e"]
    got = [e2e[k] for k in ("p50", "p90", "p95", "p99", "p999")]
    assert got == pytest.approx(expected, abs=1e-3)
    assert e2e["max"] == pytest.approx(union.max() * 1000, abs=1e-3)
    assert merged.to_json()["requests"]["by_status"] == {"200": 100}
    # Merging is order-independent.
    again = merge_results(shards[::-1]).to_json()
    assert again["latency_ms"] == merged.to_json()["latency_ms"]


def test_worker_processes_cover_the_whole_plan() -> None:
    with DelayServer(DelaySpec(kind="constant", value_ms=5)) as srv:
        cfg = LoadConfig(rate=60, duration_s=1.0, workers=2)
        res = run_load(cfg, to_target(f"openai:{srv.url}", model="m"))
        hits = srv.stats()["count"]
    assert sorted(res.samples["index"].tolist()) == list(range(60))
    assert hits == 60
    assert res.to_json()["requests"]["ok"] == 60


def test_merge_refuses_mismatched_or_duplicate_shards() -> None:
    a = LoadResult(LoadConfig(rate=10, shard=Shard(index=0, count=2)), "t", Samples.empty(), 1.0)
    b = LoadResult(LoadConfig(rate=20, shard=Shard(index=1, count=2)), "t", Samples.empty(), 1.0)
    with pytest.raises(InputError, match="different configurations"):
        merge_results([a, b])
    with pytest.raises(InputError, match="twice"):
        merge_results([a, a])
    no_samples = a.to_json()
    with pytest.raises(InputError, match="no raw samples"):
        LoadResult.from_json(no_samples)


def test_connection_counters_sum_across_shards_and_survive_json() -> None:
    from pilotgate.load._samples import Recorder, Samples

    parts = []
    for used, resent in ((3, 1), (2, 0)):
        rec = Recorder()
        rec.counters["connections_used"] += used
        rec.counters["resent_after_reset"] += resent
        parts.append(rec.samples())
    merged = Samples.concat(parts)
    assert merged.counters == {"connections_used": 5, "resent_after_reset": 1}
    assert Samples.from_json(merged.to_json()).counters == merged.counters
    old = merged.to_json()
    del old["counters"]  # a shard written before the counters existed still merges
    assert Samples.from_json(old).counters == {"connections_used": 0, "resent_after_reset": 0}
