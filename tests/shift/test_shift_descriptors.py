"""Descriptors: each one on inputs built to trigger it, languages, scripts, word lists."""

from __future__ import annotations

import itertools
import math

import pytest

from pilotgate._lexicon import FUNCTION_WORDS
from pilotgate.shift import DESCRIPTORS, compute_descriptors


def one(text: str) -> tuple[dict[str, float], str]:
    d = compute_descriptors([text])
    return {k: float(v[0]) for k, v in d.values.items()}, d.language[0]


def test_every_descriptor_is_computed_for_every_text() -> None:
    d = compute_descriptors(["a", "b c?"])
    names = {s.name for s in DESCRIPTORS} - {"language"}
    assert set(d.values) == names
    assert all(len(v) == 2 for v in d.values.values()) and len(d.language) == 2


def test_counts_and_formatting() -> None:
    v, _ = one("What is this? And why?? see https://example.com\n- one\n- two\n```x = 1;```")
    assert v["questions"] == 2
    assert v["url"] == 1 and v["list"] == 1 and v["code"] == 1
    v, _ = one("## Title\nsome **bold** text")
    assert v["markdown"] == 1 and v["code"] == 0 and v["list"] == 0 and v["url"] == 0


def test_casing_and_punctuation_anomalies() -> None:
    v, _ = one("WHY IS MY ACCOUNT LOCKED !!!")
    assert v["shouting"] == 1.0 and v["punctuation_anomalies"] > 0
    v, _ = one("i lost my card")
    assert v["no_capitals"] == 1.0 and v["shouting"] == 0.0


def test_typo_rate_counts_near_misses_of_english_words_only() -> None:
    v, lang = one("I did not recieve teh parcel yesterday")
    assert lang == "en"
    assert 0.2 < v["typo_rate"] < 0.6
    clean, _ = one("I did not receive the parcel yesterday")
    assert clean["typo_rate"] == 0.0
    spanish, lang = one("no he recibido el paquete todavía, por favor ayuda")
    assert lang == "es" and math.isnan(spanish["typo_rate"])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Where is my parcel? It was due on Monday.", "en"),
        ("¿Dónde está mi pedido? Tenía que llegar el lunes.", "es"),
        ("Où est ma commande ? Elle devait arriver lundi.", "fr"),
        ("Wo ist meine Bestellung? Sie sollte am Montag kommen.", "de"),
        ("bhai mera paisa wapas kab aayega, order abhi tak nahi aaya", "hi-Latn"),
        ("Где мой заказ?", "script:Cyrillic"),
        ("我的订单在哪里", "script:CJK"),
        ("मेरा ऑर्डर कहाँ है", "script:Devanagari"),
        ("12345 !!!", "und"),
    ],
)
def test_language_labels(text: str, lang: str) -> None:
    assert one(text)[1] == lang


def test_mixed_language_share_sees_code_switching() -> None:
    mixed, _ = one("my parcel hasn't arrived pero necesito el reembolso ya, por favor")
    pure, _ = one("my parcel hasn't arrived and I need the refund now, please")
    assert mixed["mixed_language"] >= 0.2
    assert pure["mixed_language"] == 0.0


def test_function_word_lists_are_disjoint() -> None:
    for a, b in itertools.combinations(FUNCTION_WORDS, 2):
        assert not FUNCTION_WORDS[a] & FUNCTION_WORDS[b], (a, b)


def test_odd_inputs_do_not_crash() -> None:
    d = compute_descriptors(["", "\ufffd\ufffd", "x" * 100_000, "\U0001f600" * 10, "\x00\x01"])
    assert d.values["chars"][2] == 100_000
    assert d.language[0] == "und"
    assert all(not math.isnan(x) for x in d.values["non_letter"])
