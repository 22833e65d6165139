"""On the bundled demo data: the gaps the demo set misses, and a null split of production."""

from __future__ import annotations

import random
from collections import Counter

import pytest

demo = pytest.importorskip("pilotgate.demo.data")

from pilotgate.shift import analyze_shift  # noqa: E402


@pytest.mark.slow
def test_demo_set_misses_intents_and_kinds_that_production_has() -> None:
    cases = demo.demo_set(0)
    stream = demo.production_stream(0, n=2_500)
    truth = {p.id: p for p in stream}
    r = analyze_shift(
        [c["input"] for c in cases],
        [p.text for p in stream],
        embedder="lexical",
        seed=0,
        eval_ids=[c["id"] for c in cases],
        production_ids=[p.id for p in stream],
        production_ts=[p.ts for p in stream],
    )
    assert r.coverage.value < 0.9  # a 50-case demo set does not cover a pilot's traffic
    demo_intents = {c["expected"] for c in cases}
    dominant = []
    for gap in r.gaps:
        distinct = {truth[r.production_ids[i]].text for i in gap.members}
        assert len(gap.examples) == min(5, len(distinct))
        intents = Counter(truth[r.production_ids[i]].true_intent for i in gap.members)
        intent, count = intents.most_common(1)[0]
        if count / gap.size >= 0.8:
            dominant.append(intent)
    # The demo set has no address changes and no out-of-scope requests; production has both.
    assert not {"update_address", "out_of_scope"} & demo_intents
    assert "update_address" in dominant[:3], dominant
    assert "out_of_scope" in dominant, dominant
    uncovered = Counter(
        truth[pid].true_intent for pid, c in zip(r.production_ids, r.covered, strict=True) if not c
    )
    total = Counter(p.true_intent for p in stream)
    share = {k: uncovered[k] / total[k] for k in total}
    # The lexical backend sees words, not meaning: some of both still look like demo cases
    # (MiniLM marks all out-of-scope requests uncovered; see docs/shift.md).
    assert share["out_of_scope"] >= 0.6 and share["update_address"] >= 0.5, share
    assert min(share["out_of_scope"], share["update_address"]) >= 3 * share["balance"], share


@pytest.mark.slow
def test_null_random_split_of_the_demo_stream() -> None:
    texts = [p.text for p in demo.production_stream(1, n=3_300)]
    random.Random(0).shuffle(texts)
    r = analyze_shift(texts[:300], texts[300:], embedder="lexical", seed=0)
    assert r.coverage.value >= 0.9
    doc = r.to_json()
    assert doc["drift"]["flagged"] == []
    assert all(d["p_value"] >= 0.01 for d in doc["drift"]["embedding"])
