"""``build_eval_set``: dedup, redaction, determinism, strategies, signals, references."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pilotgate.cases import BuildSpec, build_eval_set, dedup_texts, normalise_text
from pilotgate.cases._synthetic import distinct_texts, planted_duplicates, synthetic_production
from pilotgate.errors import ConfigError, InputError
from pilotgate.store import Store

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _fill(store: Store, syn: Any) -> None:
    store.add_interactions(syn.interactions)
    store.add_feedback(syn.feedback)
    store.add_steps(syn.steps)


def test_normalise_text_folds_case_space_punctuation() -> None:
    assert normalise_text("  Where IS my order?!  ") == "where is my order"
    assert normalise_text("ﬁle_name\tA,B") == "file name a b"


@pytest.mark.parametrize("seed", [0, 1])
def test_dedup_recall_and_false_merges_on_planted_copies(seed: int) -> None:
    texts, origin = planted_duplicates(2000, 400, seed)
    res = dedup_texts(texts, threshold=0.92)
    kept = set(res.kept)
    copies = [i for i, o in enumerate(origin) if o != i]
    originals = [i for i, o in enumerate(origin) if o == i]
    recall = sum(i not in kept for i in copies) / len(copies)
    false_merges = sum(i not in kept for i in originals) / len(originals)
    assert recall >= 0.95, recall
    assert false_merges <= 0.01, false_merges
    # a dropped copy is dropped as a copy of its own original
    right = sum(res.dropped[i][1] == origin[i] for i in copies if i in res.dropped)
    assert right >= 0.95 * len(res.dropped)


def test_dedup_threshold_one_keeps_all_but_identical_normalised() -> None:
    texts = ["Where is my order?", "where is my order", "Where is my ordr?"]
    res = dedup_texts(texts, threshold=1.0)
    assert res.kept == [0, 2] and res.by_reason == {"text": 1, "embedding": 0}


def test_build_removes_planted_copies_in_store(store: Store) -> None:
    texts, origin = planted_duplicates(300, 80, seed=3)
    rows = [
        {"id": f"i{k:04d}", "ts": T0 + timedelta(minutes=k), "feature": "f", "input": t}
        for k, t in enumerate(texts)
    ]
    store.add_interactions(rows)
    res = build_eval_set(store, "d", BuildSpec(size=1000, weights={"uniform": 1}), save=False)
    kept = {int(c.id[1:]) for c in res.cases}
    groups = {origin[i] for i in kept}
    assert len(kept) - len(groups) <= 0.05 * 80  # >= 95 % of the planted copies removed
    assert len(groups) >= 0.99 * 300  # <= 1 % of distinct requests merged away
    assert res.removed["text"] + res.removed["embedding"] == len(texts) - len(kept)


def test_build_redacts_every_planted_datum(store: Store) -> None:
    syn = synthetic_production(1500, seed=5, pii_share=0.4)
    # also plant personal data in outputs, edits and comments
    for k, r in enumerate(syn.interactions[:300]):
        if r["output"] is not None:
            r["output"] += f" We will write to agent{k}@support.example.com."
            syn.pii.append(f"agent{k}@support.example.com")
    for k, fb in enumerate(syn.feedback):
        fb["comment"] = f"call me back on +1 415 555 {k % 10000:04d}"
        syn.pii.append(f"+1 415 555 {k % 10000:04d}")
        if fb.get("edited_output"):
            fb["edited_output"] += " card 4111 1111 1111 1111"
    _fill(store, syn)
    res = build_eval_set(
        store, "p", BuildSpec(size=600, weights={"failures": 1, "uniform": 1}), save=True
    )
    _, stored = store.get_eval_set("p")
    assert len(stored) == len(res.cases) == 600
    blob = json.dumps(stored)
    leaked = [v for v in set(syn.pii) if v in blob]
    assert leaked == []
    assert "4111 1111 1111 1111" not in blob
    assert "[EMAIL]" in blob and "[PHONE]" in blob and "[CARD]" in blob
    assert res.redactions.get("email", 0) > 0 and res.redactions.get("card", 0) > 0
    # without redaction the data would have been there: the test can fail
    raw = build_eval_set(
        store, "p", BuildSpec(size=600, weights={"uniform": 1}, redact=False), save=False
    )
    assert any(v in json.dumps([c.model_dump() for c in raw.cases]) for v in syn.pii)


def test_same_seed_same_cases_other_seed_other_cases(store: Store) -> None:
    _fill(store, synthetic_production(2000, seed=1))
    weights = {"uniform": 1, "stratified": 1, "failures": 1}

    def run(seed: int) -> list[dict[str, Any]]:
        spec = BuildSpec(size=120, weights=weights, seed=seed)
        return [c.model_dump() for c in build_eval_set(store, "s", spec, save=False).cases]

    a, b, c = run(7), run(7), run(8)
    assert a == b
    assert [x["id"] for x in a] != [x["id"] for x in c]


def test_stratified_represents_the_rare_kind(store: Store) -> None:
    syn = synthetic_production(3000, seed=2, rare_share=0.01)
    _fill(store, syn)

    def rare(weights: dict[str, float]) -> int:
        spec = BuildSpec(size=100, weights=weights, seed=0, clusters=12)
        cases = build_eval_set(store, "r", spec, save=False).cases
        return sum(c.id in syn.rare_ids for c in cases)

    # uniform expects ~1 rare case in 100; equal shares per cluster give the rare
    # cluster (Spanish requests) about 100 / 12
    assert rare({"stratified": 1}) >= 5
    assert rare({"uniform": 1}) <= 4


def test_failures_strategy_takes_only_failures_and_tags_them(store: Store) -> None:
    _fill(store, synthetic_production(1500, seed=4))
    res = build_eval_set(store, "f", BuildSpec(size=80, weights={"failures": 1}), save=False)
    assert res.by_strategy == {"failures": 80}
    for c in res.cases:
        kinds = c.origin["failures"] if c.origin else []
        assert kinds and all(f"failure:{k}" in c.tags for k in kinds)
        assert any(t.startswith("cluster:") for t in c.tags)
    assert res.failures_in_pool["slow"] >= 100


def test_failures_share_goes_to_others_when_none(store: Store) -> None:
    rows = [
        {"id": f"i{k}", "ts": T0 + timedelta(minutes=k), "feature": "f", "input": t}
        for k, t in enumerate(planted_duplicates(60, 0, seed=0)[0])
    ]
    store.add_interactions(rows)
    res = build_eval_set(
        store, "x", BuildSpec(size=30, weights={"failures": 1, "uniform": 1}), save=False
    )
    assert len(res.cases) == 30 and res.by_strategy == {"uniform": 30}
    assert any("no interaction has a failure signal" in n for n in res.notes)


def test_novelty_prefers_what_the_current_set_misses(store: Store) -> None:
    syn = synthetic_production(2000, seed=6, rare_share=0.05)
    _fill(store, syn)
    english = [
        {"id": r["id"], "input": r["input"]}
        for r in syn.interactions
        if r["id"] not in syn.rare_ids
    ][:300]
    store.save_eval_set("cur", english)
    res = build_eval_set(store, "cur", BuildSpec(size=40, weights={"novelty": 1}), save=False)
    rare = sum(c.id in syn.rare_ids for c in res.cases)
    assert rare >= 20  # 5 % of traffic, most of what the set does not cover
    assert all("novelty_distance" in (c.origin or {}) for c in res.cases)


def test_signals_abandoned_slow_errored_edited(store: Store) -> None:
    rows = []
    texts = distinct_texts(20, seed=0)
    for k in range(20):
        rows.append(
            {
                "id": f"i{k}",
                "ts": T0 + timedelta(minutes=k),
                "feature": "f",
                "session_id": f"s{k // 2}",
                "input": texts[k],
                "output": f"answer {k}",
                "latency_ms": 1000.0 if k == 7 else 100.0 + k,
                "error": "Boom" if k == 3 else None,
            }
        )
    store.add_interactions(rows)
    store.add_feedback(
        [
            {"interaction_id": "i5", "ts": T0, "accepted": False},
            {"interaction_id": "i6", "ts": T0, "accepted": True, "edited_output": "better 6"},
            {"interaction_id": "i8", "ts": T0, "accepted": True},
        ]
    )
    # session s4 = i8, i9: abandoned after i9 (its last call before the step)
    store.add_steps(
        [{"session_id": "s4", "ts": T0 + timedelta(minutes=9, seconds=30), "name": "abandoned"}]
    )
    res = build_eval_set(store, "g", BuildSpec(size=50, weights={"uniform": 1}), save=False)
    by_id = {c.id: c for c in res.cases}
    kinds = {
        i: (c.origin or {})["failures"] for i, c in by_id.items() if (c.origin or {})["failures"]
    }
    assert kinds["i3"] == ["errored"]
    assert kinds["i5"] == ["rejected"]
    assert kinds["i6"] == ["edited"]
    assert "slow" in kinds["i7"] and "slow" in kinds["i19"]
    assert kinds["i9"] == ["abandoned"]
    assert "i8" not in kinds
    # references: the edit, else the accepted output, else none
    assert by_id["i6"].expected == "better 6"
    assert by_id["i6"].origin and by_id["i6"].origin["reference_source"] == "edited"
    assert by_id["i8"].expected == "answer 8"
    assert by_id["i5"].expected is None
    none = build_eval_set(
        store, "g", BuildSpec(size=50, weights={"uniform": 1}, references="none"), save=False
    )
    assert all(c.expected is None for c in none.cases)


def test_filters_and_versions(store: Store) -> None:
    _fill(store, synthetic_production(400, seed=9))
    spec = BuildSpec(version="v1", since=T0 + timedelta(hours=1), size=500, weights={"uniform": 1})
    res = build_eval_set(store, "v", spec)
    assert res.version == 1 and res.cases
    for c in res.cases:
        assert c.origin and c.origin["version"] == "v1"
        assert datetime.fromisoformat(c.origin["ts"]) >= T0 + timedelta(hours=1)
    again = build_eval_set(store, "v", BuildSpec(size=5, weights={"uniform": 1}))
    assert again.version == 2 and again.ref == "v@2"
    meta, cases = store.get_eval_set("v@1")
    assert meta["params"]["spec"]["version"] == "v1" and len(cases) == len(res.cases)


def test_no_matching_interactions_is_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="no stored interactions"):
        build_eval_set(store, "e", BuildSpec(feature="nope"))


def test_bad_spec_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        BuildSpec(weights={"psychic": 1})
    with pytest.raises(ConfigError):
        BuildSpec(dedup_threshold=1.5)


@pytest.mark.slow
def test_novelty_uses_the_coverage_definition_of_shift() -> None:
    """An input is 'not covered' for the novelty strategy exactly when shift says so."""
    import numpy as np

    from pilotgate.cases._strategies import novelty_scores
    from pilotgate.embeddings import get_embedder
    from pilotgate.shift import analyze_shift

    syn = synthetic_production(360, seed=6, rare_share=0.05)
    texts = [r["input"] for r in syn.interactions]
    ev, prod = texts[:120], texts[120:]
    shift = analyze_shift(ev, prod, embedder="lexical", seed=0, progress=False)
    emb = get_embedder("lexical")
    ours = novelty_scores(emb.embed(prod), emb.embed(ev))
    assert shift.n_production_analyzed == len(prod)
    assert np.array_equal(ours.covered, shift.covered)
    assert np.allclose(ours.distance, shift.distance, atol=1e-5)
    assert 0 < int((~ours.covered).sum()) < len(prod)


def test_chat_inputs_keep_their_messages_and_are_redacted(store: Store) -> None:
    msgs = [
        {"role": "system", "content": "You are the support assistant."},
        {"role": "user", "content": "My card 4111 1111 1111 1111 was charged twice"},
    ]
    store.add_interactions(
        [
            {"id": "m1", "ts": T0, "feature": "f", "input": msgs, "output": "Refunded."},
            {"id": "t1", "ts": T0, "feature": "f", "input": "Where is my parcel?"},
        ]
    )
    res = build_eval_set(store, "chat", BuildSpec(size=5, weights={"uniform": 1}))
    by_id = {c.id: c for c in res.cases}
    chat = by_id["m1"].input
    assert isinstance(chat, list) and [m["role"] for m in chat] == ["system", "user"]
    assert chat[1]["content"] == "My card [CARD] was charged twice"
    assert by_id["t1"].input == "Where is my parcel?"
    assert res.redactions == {"card": 1}


def test_same_seed_same_cases_with_novelty(store: Store) -> None:
    syn = synthetic_production(1500, seed=8, rare_share=0.03)
    _fill(store, syn)
    build_eval_set(store, "n", BuildSpec(size=100, weights={"uniform": 1}, seed=3))
    spec = BuildSpec(size=60, weights={"novelty": 1, "stratified": 1}, seed=4, against="n@1")
    a = [c.model_dump() for c in build_eval_set(store, "n", spec, save=False).cases]
    b = [c.model_dump() for c in build_eval_set(store, "n", spec, save=False).cases]
    assert a == b and len(a) == 60


class _CountingEmbedder:
    """A user embedder (the plug-in interface): lexical vectors, counting texts embedded."""

    embedded = 0

    def __init__(self) -> None:
        from pilotgate.embeddings import get_embedder

        self._inner = get_embedder("lexical")
        self.name = "counting-test-v1"
        self.dim = self._inner.dim

    def embed(self, texts: Any) -> Any:
        type(self).embedded += len(texts)
        return self._inner.embed(texts)


def test_model_embeddings_are_cached_in_the_store(store: Store) -> None:
    from pilotgate.embeddings import register_embedder

    register_embedder("counting-test", _CountingEmbedder)
    _fill(store, synthetic_production(600, seed=10))
    spec = BuildSpec(size=30, weights={"stratified": 1}, embedder="counting-test")
    _CountingEmbedder.embedded = 0
    first = build_eval_set(store, "e", spec, save=False)
    assert _CountingEmbedder.embedded > 0
    _CountingEmbedder.embedded = 0
    second = build_eval_set(store, "e", spec, save=False)
    assert _CountingEmbedder.embedded == 0  # every vector came from the store
    assert [c.id for c in first.cases] == [c.id for c in second.cases]


class _NoMemo(dict[str, str]):
    """A ``_Picker._seen`` that never remembers: every copy is redacted, embedded, judged."""

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: str) -> None:
        pass


@pytest.mark.parametrize("threshold", [0.92, 1.0])
def test_repeated_texts_are_judged_once_with_the_same_outcome(
    store: Store, monkeypatch: pytest.MonkeyPatch, threshold: float
) -> None:
    """A feature with few distinct inputs (buttons, canned questions): a text is prepared a
    few times at most, not once per row, and the cases, their order and every removal count
    are what judging each copy afresh gives."""
    import pilotgate.cases._build as b

    syn = synthetic_production(400, seed=5)
    base = [r["input"] for r in syn.interactions[:40]] + ["", "   "]
    rows = [{**r, "input": base[k % len(base)]} for k, r in enumerate(syn.interactions)]
    store.add_interactions(rows)
    store.add_feedback(syn.feedback)
    weights = {"uniform": 1, "stratified": 1, "failures": 1}
    spec = BuildSpec(size=120, weights=weights, seed=3, dedup_threshold=threshold)
    prepared: list[int] = []
    real = b._Picker._prepare

    def counting(self: Any, order: Any, start: int, batch: int = 256) -> None:
        before = len(self._prepared)
        real(self, order, start, batch)
        prepared.append(len(self._prepared) - before)

    monkeypatch.setattr(b._Picker, "_prepare", counting)
    memo = build_eval_set(store, "m", spec, save=False)
    n_memo = sum(prepared)
    prepared.clear()
    real_init = b._Picker.__init__

    def no_memo(self: Any, *a: Any, **k: Any) -> None:
        real_init(self, *a, **k)
        self._seen = _NoMemo()

    monkeypatch.setattr(b._Picker, "__init__", no_memo)
    fresh = build_eval_set(store, "m", spec, save=False)
    assert [c.model_dump() for c in memo.cases] == [c.model_dump() for c in fresh.cases]
    assert memo.removed == fresh.removed and sum(memo.removed.values()) > 300
    # a text waiting in one strategy's batch can be prepared again for another strategy
    assert n_memo <= 4 * len(base) and 2 * n_memo < sum(prepared), (n_memo, sum(prepared))
