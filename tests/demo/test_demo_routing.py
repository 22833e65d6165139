"""Routing quality: the demo-tuned v1 shines on the demo set and degrades on production;
the week-two v2 recovers. Also the v2 input normalisation, which needs no model."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pilotgate.demo import VERSIONS, IntentRouter, normalize
from pilotgate.demo.data import demo_set, production_stream


def test_normalize_strips_production_noise() -> None:
    assert normalize("I LOST MY CARD!!!!") == "i lost my card!"
    assert normalize("acct bal pls") == "account balance please"
    assert normalize("need ACH asap") == "need ach bank transfer urgently"
    pasted = "**Subject:** help\n\n- my cc was stolen\n\nThanks,\nSam\nSent from my iPhone"
    out = normalize(pasted)
    assert "credit card was stolen" in out
    assert "**" not in out and "iPhone" not in out and "Thanks" not in out
    quoted = "Hi,\n\nwhat is my balance??\n\n> On Mon, Mar 3 Northwind wrote:\n> hello"
    assert "wrote" not in normalize(quoted)
    assert normalize("") == ""
    assert normalize("Café déjà vu") == "Café déjà vu"  # nothing to clean: unchanged


def test_versions_differ_the_way_the_docs_say() -> None:
    v1, v2 = VERSIONS["v1"], VERSIONS["v2"]
    assert not (v1.normalize or v1.extra_exemplars or v1.oos_exemplars or v1.split_parts)
    assert v2.normalize and v2.extra_exemplars and v2.oos_exemplars and v2.split_parts


@pytest.mark.slow
def test_v1_is_demo_ready_and_degrades_in_production_v2_recovers() -> None:
    pytest.importorskip("onnxruntime")
    from pilotgate.embeddings import get_embedder

    emb = get_embedder("minilm")
    demo = demo_set(seed=0)
    stream = production_stream(seed=0)
    sample = random.Random(0).sample(stream, 400)
    acc: dict[str, dict[str, float]] = {}
    for version in ("v1", "v2"):
        router = IntentRouter(version, emb)
        d = router.route([c["input"] for c in demo])
        p = router.route([r.text for r in sample])
        ok = [a.intent == r.true_intent for a, r in zip(p, sample, strict=True)]
        noisy = [o for o, r in zip(ok, sample, strict=True) if "clean" not in r.tags]
        acc[version] = {
            "demo": sum(a.intent == c["expected"] for a, c in zip(d, demo, strict=True))
            / len(demo),
            "prod": sum(ok) / len(ok),
            "noisy": sum(noisy) / len(noisy),
        }
        assert all(0 <= a.confidence <= 1.0001 for a in p)
        assert Counter(a.intent for a in p)["out_of_scope"] > 0
    assert acc["v1"]["demo"] >= 0.9
    assert acc["v1"]["prod"] <= acc["v1"]["demo"] - 0.1  # the demo-to-production gap
    assert acc["v1"]["noisy"] < 0.7
    assert acc["v2"]["prod"] >= acc["v1"]["prod"] + 0.08  # the week-two fix shows
    assert acc["v2"]["noisy"] >= acc["v1"]["noisy"] + 0.15
    assert acc["v2"]["demo"] >= 0.9  # and does not break the demo


def test_router_caches_and_keeps_input_order() -> None:
    pytest.importorskip("onnxruntime")
    from pilotgate.embeddings import get_embedder

    router = IntentRouter("v2", get_embedder("minilm"))
    texts = ["what is my balance", "I lost my card", "what is my balance", "tell me a joke"]
    routes = router.route(texts)
    assert [r.intent for r in routes] == ["balance", "card_lost", "balance", "out_of_scope"]
    assert router.cached("I lost my card") == routes[1]
    assert router.route([]) == []
