"""The demo data generator: determinism, formats, the mix of kinds, drift, simulated users."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.demo import AssistantReply, ProdRequest, intent_labels
from pilotgate.demo._noise import luhn_card_number
from pilotgate.demo.data import KINDS, demo_set, production_stream, react, to_ingest_records
from pilotgate.errors import ConfigError
from pilotgate.records import Case, FeedbackRecord, InteractionRecord, parse_ingest_line


@pytest.fixture(scope="module")
def stream() -> list[ProdRequest]:
    return production_stream(seed=0)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def test_demo_set_is_clean_cases_format_and_seeded() -> None:
    cases = demo_set(seed=0)
    assert 45 <= len(cases) <= 55
    assert cases == demo_set(seed=0)
    assert [c["input"] for c in cases] != [c["input"] for c in demo_set(seed=1)]
    for c in cases:
        Case.model_validate(c)
        assert c["source"] == "demo"
        assert "clean" in c["tags"]
        assert c["expected"] in intent_labels()
    assert len({c["id"] for c in cases}) == len(cases)
    assert len({c["input"] for c in cases}) == len(cases)
    intents = Counter(c["expected"] for c in cases)
    assert 4 <= len(intents) <= 8  # a handful of intents, each a few times
    assert min(intents.values()) >= 5
    assert "out_of_scope" not in intents


def test_production_stream_is_deterministic(stream: list[ProdRequest]) -> None:
    again = production_stream(seed=0)
    assert [(r.id, r.ts, r.text, r.true_intent, r.tags) for r in stream] == [
        (r.id, r.ts, r.text, r.true_intent, r.tags) for r in again
    ]
    other = production_stream(seed=1, n=200)
    assert [r.text for r in other] != [r.text for r in stream[:200]]


def test_production_stream_shape(stream: list[ProdRequest]) -> None:
    assert len(stream) == 5000
    start = datetime(2025, 3, 3, tzinfo=UTC)
    assert all(r.ts.tzinfo is not None for r in stream)
    assert [r.ts for r in stream] == sorted(r.ts for r in stream)
    assert start <= stream[0].ts and stream[-1].ts < start + timedelta(days=14)
    assert len({r.id for r in stream}) == 5000
    users = {r.user_id for r in stream}
    assert 300 <= len(users) <= 400
    sizes = Counter(r.session_id for r in stream)
    assert set(sizes.values()) <= {1, 2, 3, 4}
    assert {1, 2, 3, 4} <= set(sizes.values())
    by_session: dict[str, list[ProdRequest]] = {}
    for r in stream:
        by_session.setdefault(r.session_id, []).append(r)
    for reqs in by_session.values():
        assert [r.seq for r in reqs] == list(range(len(reqs)))
        assert len({r.user_id for r in reqs}) == 1
    assert {r.true_intent for r in stream} == set(intent_labels())
    case = stream[0].to_case()
    Case.model_validate(case)
    assert case["source"] == "production" and case["expected"] == stream[0].true_intent


def test_kind_shares_are_wide_like_real_traffic(stream: list[ProdRequest]) -> None:
    kinds = Counter(r.kinds[0] for r in stream)
    not_clean = sum(1 for r in stream if "clean" not in r.tags) / len(stream)
    assert 0.35 <= not_clean <= 0.45
    for kind in KINDS:
        if kind != "clean":
            assert kinds[kind] / len(stream) >= 0.02, kind
    oos = [r for r in stream if "out_of_scope" in r.tags]
    assert all(r.true_intent == "out_of_scope" for r in oos)
    multi = [r for r in stream if "multi_part" in r.tags]
    assert all(len(r.intents) >= 2 and r.true_intent == r.intents[0] for r in multi)
    mixed = [r for r in stream if "mixed_language" in r.tags]
    langs = Counter(t for r in mixed for t in r.tags if t.startswith("lang:"))
    assert {"lang:es", "lang:es-en", "lang:fr-en", "lang:de-en", "lang:hi-en"} <= set(langs)
    shouting = [r for r in stream if r.kinds == ("shouting",) and "pii" not in r.tags]
    assert all(r.text.upper() == r.text for r in shouting)
    jargon = " ".join(r.text.lower() for r in stream if "jargon" in r.tags)
    for word in ("acct", "ach", "wire", "cc", "pls", "asap"):
        assert f" {word}" in f" {jargon}", word
    formatting = [r for r in stream if "formatting" in r.tags]
    assert any("**" in r.text or "> On" in r.text or "###" in r.text for r in formatting)


def test_mixed_language_drifts_up_in_week_two(stream: list[ProdRequest]) -> None:
    start = stream[0].ts.replace(hour=0, minute=0, second=0, microsecond=0)
    week1 = [r for r in stream if (r.ts - start).days < 7]
    week2 = [r for r in stream if (r.ts - start).days >= 7]

    def share(rs: list[ProdRequest]) -> float:
        return sum("mixed_language" in r.tags for r in rs) / len(rs)

    assert share(week2) > 1.5 * share(week1)


def test_planted_pii_includes_luhn_valid_cards(stream: list[ProdRequest]) -> None:
    pii = [r for r in stream if "pii" in r.tags]
    assert 0.02 <= len(pii) / len(stream) <= 0.07
    kinds = Counter(t for r in pii for t in r.tags if t.startswith("pii:"))
    assert set(kinds) == {"pii:email", "pii:phone", "pii:card_number"}
    rng = random.Random(3)
    for _ in range(50):
        assert _luhn_ok(luhn_card_number(rng).replace(" ", ""))
    assert any("@" in r.text for r in pii if "pii:email" in r.tags)


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        production_stream(n=-1)
    assert production_stream(n=0) == []
    naive = production_stream(n=3, start=datetime(2025, 1, 6))  # noqa: DTZ001
    assert all(r.ts.tzinfo is UTC for r in naive)


def _reply(intent: str) -> AssistantReply:
    return AssistantReply(intent, 0.8, "text", "v1", tokens_in=10, tokens_out=5)


def test_simulated_users_react_to_correctness(stream: list[ProdRequest]) -> None:
    rng = random.Random(0)
    reqs = [r for r in stream if r.true_intent != "out_of_scope"][:600]
    right = [react(r, _reply(r.true_intent), rng) for r in reqs]
    wrong_label = {x: "fees" if x != "fees" else "balance" for x in intent_labels()}
    wrong = [
        react(r, _reply(wrong_label[r.true_intent]), rng)
        for r in reqs
        if len(r.intents) == 1 or wrong_label[r.true_intent] not in r.intents
    ]
    acc_right = sum(x.accepted for x in right) / len(right)
    acc_wrong = sum(x.accepted for x in wrong) / len(wrong)
    assert acc_right > 0.75 and acc_wrong < 0.2
    assert sum(x.outcome == "rejected" for x in wrong) / len(wrong) > 0.5
    med = sorted(x.dwell_ms for x in right)[len(right) // 2]
    med_wrong = sorted(x.dwell_ms for x in wrong)[len(wrong) // 2]
    assert med_wrong > 1.5 * med
    assert not any(x.abandoned for x in right)
    assert 0.1 < sum(x.abandoned for x in wrong) / len(wrong) < 0.6
    assert all(x.edited_output for x in wrong if x.outcome == "edited")
    oos = next(r for r in stream if r.true_intent == "out_of_scope")
    graceful = [react(oos, _reply("out_of_scope"), rng) for _ in range(100)]
    assert all(x.correctness == "right" for x in graceful)
    assert react(oos, "[intent=out_of_scope] sorry", rng).correctness == "right"


def test_react_is_seeded(stream: list[ProdRequest]) -> None:
    a = [react(r, _reply("balance"), random.Random(7)) for r in stream[:50]]
    b = [react(r, _reply("balance"), random.Random(7)) for r in stream[:50]]
    assert a == b


def test_ingest_records_validate_and_tell_the_story(stream: list[ProdRequest]) -> None:
    rng = random.Random(1)
    first = next(r for r in stream if r.seq == 0)
    reply = _reply("card_lost" if first.true_intent != "card_lost" else "balance")
    reaction = react(first, reply, rng)
    records = to_ingest_records(first, reply, reaction, latency_ms=812.5, ttft_ms=300.0)
    parsed = [parse_ingest_line(r) for r in records]
    kinds = [p.kind for p in parsed]
    assert kinds[0] == "interaction" and kinds[1] == "feedback"
    inter = parsed[0]
    assert isinstance(inter, InteractionRecord)
    assert inter.id == first.id and inter.output == f"[intent={reply.intent}] text"
    assert inter.version == "v1" and inter.tokens_in == 10 and inter.latency_ms == 812.5
    assert inter.metadata["truth"]["intent"] == first.true_intent
    steps = [p for p in parsed if p.kind == "step"]
    names = [s.name for s in steps]
    assert names[:4] == ["opened_assistant", "asked", "answered", reaction.outcome]
    assert ("abandoned" in names) == reaction.abandoned
    assert [s.ts for s in steps] == sorted(s.ts for s in steps)
    fb = parsed[1]
    assert isinstance(fb, FeedbackRecord)
    assert fb.interaction_id == first.id and fb.accepted == reaction.accepted
    assert fb.dwell_ms == reaction.dwell_ms
    failed = to_ingest_records(first, None, None, latency_ms=30000, error="timeout", version="v2")
    parsed_failed = [parse_ingest_line(r) for r in failed]
    assert isinstance(parsed_failed[0], InteractionRecord)
    assert parsed_failed[0].error == "timeout" and parsed_failed[0].output is None
    assert [p.kind for p in parsed_failed] == ["interaction", "step", "step"]
