"""Catalogue-wide properties: determinism, change rate, robustness to odd inputs."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.perturb._corpus import CORPUS, paragraphs

from pilotgate.perturb import FAMILIES, list_perturbations
from pilotgate.perturb._base import derive_rng

CATALOGUE = list_perturbations()
NAMES = [p.name for p in CATALOGUE]


def run(name: str, text: str, severity: float | None = None, seed: int = 7) -> str:
    info = next(p for p in CATALOGUE if p.name == name)
    assert info.fn is not None
    sev = info.default_severity if severity is None else severity
    return info.fn(text, severity=sev, rng=random.Random(seed))


def test_catalogue_covers_every_family_of_the_issue() -> None:
    families = {p.family for p in CATALOGUE}
    assert families == set(FAMILIES)
    required = {
        "typo_keyboard", "char_delete", "char_transpose", "char_double", "ocr_confusion",
        "missing_space", "all_caps", "all_lower", "strip_punctuation", "repeat_punctuation",
        "unusual_punctuation", "emoji", "truncate_words", "truncate_midword",
        "truncate_keep_question", "truncate_drop_question", "markdown", "html", "bullet_list",
        "stray_whitespace", "email_thread", "long_preamble", "texting_slang", "contractions",
        "filler_words", "jargon", "paraphrase", "multi_request", "numbered_requests",
        "code_switch_es", "code_switch_fr", "code_switch_de", "code_switch_hi", "translate_es",
        "translate_fr", "translate_de", "translate_hi", "out_of_scope_task",
        "injection_suffix", "instruction_override", "roleplay_jailbreak", "zero_width",
        "homoglyph",
    }  # fmt: skip
    assert required <= set(NAMES)
    for p in CATALOGUE:
        assert p.description and "\n" not in p.description
        assert 0 < p.default_severity <= 1
        assert p.fn is not None and p.fn.__doc__, f"{p.name} must document its severity"
        if p.family == "adversarial":
            assert p.tags, f"{p.name} needs technique tags"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=paragraphs(), seed=st.integers(0, 2**32), sev=st.floats(0.01, 1.0))
def test_every_perturbation_is_deterministic_for_a_seed(text: str, seed: int, sev: float) -> None:
    for name in NAMES:
        assert run(name, text, sev, seed) == run(name, text, sev, seed), name


# Rewrites that are a function of the text alone at their default severity.
DETERMINISTIC = {
    "all_caps", "all_lower", "strip_punctuation", "contractions", "jargon",
    "truncate_drop_question", "truncate_keep_question", "truncate_midword", "truncate_words",
    "translate_de", "translate_es", "translate_fr", "translate_hi",
}  # fmt: skip


def test_seeds_give_different_samples() -> None:
    text = CORPUS[0]
    for name in NAMES:
        outs = {run(name, text, seed=s) for s in range(8)}
        if name in DETERMINISTIC:
            assert len(outs) == 1, name
        else:
            assert len(outs) > 1, f"{name} ignores its rng"


def test_derive_rng_depends_on_each_part_and_is_stable() -> None:
    base = derive_rng(0, "c1", "typo", 0).random()
    assert derive_rng(0, "c1", "typo", 0).random() == base
    others = [
        derive_rng(1, "c1", "typo", 0),
        derive_rng(0, "c2", "typo", 0),
        derive_rng(0, "c1", "emoji", 0),
        derive_rng(0, "c1", "typo", 1),
    ]
    assert all(r.random() != base for r in others)
    # the documented derivation: random.Random(int(blake2b-64 of the key)), same stream
    key = b"0\x1fc1\x1ftypo\x1f0"
    seed = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    fast, slow = derive_rng(0, "c1", "typo", 0), random.Random(seed)
    assert [fast.random() for _ in range(5)] == [slow.random() for _ in range(5)]
    assert fast.sample(range(100), 10) == slow.sample(range(100), 10)
    assert fast.gauss(0, 1) == slow.gauss(0, 1)
    # a pinned value: the derivation must not change between releases
    assert derive_rng(0, "c1", "typo", 0).getrandbits(32) == 1074178905


# Perturbations that are a no-op on text already in their target form declare it in
# the catalogue (applies_when / applies); every other one applies to every text.
EXEMPT = {"all_caps", "all_lower", "strip_punctuation"}


def test_only_the_target_form_perturbations_declare_an_exemption() -> None:
    declared = {p.name for p in CATALOGUE if p.applies_when is not None}
    assert declared == EXEMPT
    for p in CATALOGUE:
        assert p.applies_to("x y z") or p.name in EXEMPT
        assert not p.applies_to("")


@pytest.mark.parametrize("name", NAMES)
def test_changes_at_least_95_percent_of_the_fixed_corpus(name: str) -> None:
    info = next(p for p in CATALOGUE if p.name == name)
    texts = [t for t in CORPUS if info.applies_to(t)]
    assert len(texts) >= 25  # an exemption covers a few texts, not a share of the traffic
    changed = sum(run(name, t, seed=i) != t for i, t in enumerate(texts))
    assert changed / len(texts) >= 0.95, f"{name}: {changed}/{len(texts)}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet="abcXYZ éÉ,.!?'-\n我", max_size=40),
    sev=st.floats(0.01, 1.0),
    seed=st.integers(0, 10**6),
)
def test_exemptions_are_exact(text: str, sev: float, seed: int) -> None:
    """An exempt perturbation changes a text at any severity > 0 exactly when it applies."""
    for name in EXEMPT:
        info = next(p for p in CATALOGUE if p.name == name)
        assert (run(name, text, sev, seed) != text) == info.applies_to(text), (name, text)


def test_no_op_perturbations_leave_text_already_in_form() -> None:
    assert run("all_lower", "already lower case text") == "already lower case text"
    assert run("strip_punctuation", "no punctuation here") == "no punctuation here"
    assert run("all_caps", "ALREADY SHOUTING") == "ALREADY SHOUTING"
    # at a low severity the capitals are what gets lowered, so the text still changes
    assert run("all_lower", "Please help, I lost my card in Paris", 0.1) != (
        "Please help, I lost my card in Paris"
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(paragraphs(), min_size=20, max_size=20), seed=st.integers(0, 10**6))
def test_changes_at_least_95_percent_of_generated_requests(texts: list[str], seed: int) -> None:
    for name in NAMES:
        changed = sum(run(name, t, seed=seed + i) != t for i, t in enumerate(texts))
        assert changed >= 19, f"{name} left {20 - changed}/20 unchanged"


@settings(max_examples=40, deadline=None)
@given(text=paragraphs())
def test_severity_zero_is_the_identity(text: str) -> None:
    for name in NAMES:
        assert run(name, text, 0.0) == text


ODD_INPUTS = [
    "",
    "a",
    "?",
    " ",
    "\n",
    "我的信用卡被偷了，请帮我冻结。",
    "لقد سُرقت بطاقتي، الرجاء إيقافها",
    "मेरा कार्ड चोरी हो गया है, कृपया इसे ब्लॉक करें",
    "Моя карта украдена, заблокируйте её.",
    "카드를 잃어버렸어요",
    "🙂🙂🙂",
    "e\u0301\u0301\u0301",
    "\x00\x01\x7f",
    "a" * 3,
    "   leading and trailing   ",
]


@pytest.mark.parametrize("text", ODD_INPUTS, ids=range(len(ODD_INPUTS)))
def test_odd_inputs_return_a_string(text: str) -> None:
    for name in NAMES:
        for sev in (0.05, 0.5, 1.0):
            out = run(name, text, sev)
            assert isinstance(out, str), name


def test_50kb_inputs_return_a_string() -> None:
    big = (" ".join(CORPUS) + " ") * 30
    big = big[:50_000]
    latin_free = ("我的信用卡被偷了，请帮我冻结。" * 1200)[:17_000]  # ~50 kB of UTF-8
    for text in (big, latin_free):
        for name in NAMES:
            out = run(name, text, 0.3)
            assert isinstance(out, str) and out, name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=300), sev=st.floats(-1.0, 2.0) | st.just(float("nan")), seed=st.integers()
)
def test_arbitrary_text_and_severity_never_raise(text: str, sev: float, seed: int) -> None:
    for name in NAMES:
        assert isinstance(run(name, text, sev, seed), str), name
