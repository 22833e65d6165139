"""Each perturbation keeps the severity its docstring promises."""

from __future__ import annotations

import html
import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.perturb._corpus import CORPUS, paragraphs

from pilotgate.perturb import count_for, get_perturbation
from pilotgate.perturb._adversarial import CANARY_RE, HOMOGLYPHS
from pilotgate.perturb._character import _OCR_RE
from pilotgate.perturb._glossaries import CODE_SWITCH
from pilotgate.perturb._wording import _phrase_re

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
severities = st.floats(0.01, 1.0)


def run(name: str, text: str, severity: float, seed: int = 0) -> str:
    fn = get_perturbation(name).fn
    assert fn is not None
    return fn(text, severity=severity, rng=random.Random(seed))


def tokens(text: str) -> list[str]:
    return re.split(r"(\s+)", text)


def one_edit(a: str, b: str) -> bool:
    """True when b is a with one substitution, deletion, insertion or adjacent swap."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def eligible(tok: str) -> bool:
    return re.search(r"[^\W\d_][^\s]*?[^\W\d_]", tok) is not None


@SETTINGS
@given(text=paragraphs(), sev=severities, seed=st.integers(0, 10**6))
def test_character_noise_edits_one_char_in_the_promised_share_of_words(
    text: str, sev: float, seed: int
) -> None:
    before = tokens(text)
    n_eligible = sum(1 for t in before[::2] if t and eligible(t))
    for name in ("typo", "typo_keyboard", "char_delete", "char_transpose", "char_double"):
        after = tokens(run(name, text, sev, seed))
        assert len(after) == len(before), name
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(changed) == count_for(sev, n_eligible), name
        assert all(one_edit(a, b) for a, b in changed), (name, changed)


def test_typo_rate_of_ten_percent_is_one_edit_in_ten_words() -> None:
    text = " ".join(["word"] * 100)
    out = run("typo", text, 0.1, seed=3)
    assert sum(a != b for a, b in zip(text.split(), out.split(), strict=True)) == 10
    assert run("typo", "only three words", 0.1) != "only three words"  # at least one


@SETTINGS
@given(text=paragraphs(), sev=severities, seed=st.integers(0, 10**6))
def test_ocr_and_missing_space_counts(text: str, sev: float, seed: int) -> None:
    before = tokens(text)
    n_ocr = sum(1 for t in before[::2] if t and _OCR_RE.search(t))
    after = tokens(run("ocr_confusion", text, sev, seed))
    assert sum(a != b for a, b in zip(before, after, strict=True)) == count_for(sev, n_ocr)
    gaps = text.count(" ")
    glued = run("missing_space", text, sev, seed)
    assert glued.count(" ") == gaps - count_for(sev, gaps)
    assert glued.replace(" ", "") == text.replace(" ", "")


@SETTINGS
@given(text=paragraphs(), sev=severities, seed=st.integers(0, 10**6))
def test_casing_and_punctuation_severity(text: str, sev: float, seed: int) -> None:
    assert run("all_caps", text, 1.0) == text.upper()
    assert run("all_lower", text, 1.0) == text.lower()
    words = text.split(" ")
    upper = run("all_caps", text, sev, seed).split(" ")
    assert sum(a != b for a, b in zip(words, upper, strict=True)) <= count_for(sev, len(words))
    assert upper[0] != words[0] or any(a != b for a, b in zip(words, upper, strict=True))
    n_punct = len(re.findall(r"[.,?!]", text))
    stripped = run("strip_punctuation", text, sev, seed)
    assert len(text) - len(stripped) == count_for(sev, n_punct)
    runs = re.findall(r"[.?!]{2,}", run("repeat_punctuation", text, sev, seed))
    assert runs and all(len(r) == 2 + int(8 * sev + 0.5) for r in runs)
    emoji_out = run("emoji", text, sev, seed)
    assert len(emoji_out.split()) - len(text.split()) == count_for(sev, len(text.split()))


@SETTINGS
@given(text=paragraphs(), sev=severities)
def test_truncation_keeps_its_share(text: str, sev: float) -> None:
    n = len(text.split())
    cut = run("truncate_words", text, sev)
    assert text.startswith(cut)
    assert len(cut.split()) == n - min(n - 1, count_for(sev, n))
    mid = run("truncate_midword", text, sev)
    assert text.startswith(mid) and len(mid) <= max(1, len(text) - count_for(sev, len(text)))
    assert not mid[-1].isspace() and not text[len(mid)].isspace()  # cut inside a word
    kept = run("truncate_keep_question", text, sev)
    last = re.split(r"(?<=[.!?])\s+", text)[-1]
    if last != text:
        assert kept.endswith(last)
    dropped = run("truncate_drop_question", text, sev)
    assert text.startswith(dropped) and len(dropped) < len(text)


@SETTINGS
@given(text=paragraphs(), sev=severities, seed=st.integers(0, 10**6))
def test_formatting_adds_markup_but_keeps_the_words(text: str, sev: float, seed: int) -> None:
    def norm(s: str) -> str:
        return " ".join(s.split())

    ws = run("stray_whitespace", text, sev, seed)
    assert norm(ws) == norm(text) and ws != text
    frag = run("html", text, sev, seed)
    plain = html.unescape(re.sub(r"<[^>]+>", " ", frag)).replace("\xa0", " ")
    assert norm(plain) == norm(text)
    spaces = text.count(" ")
    assert len(re.findall(r"&nbsp;|<br/?>", frag)) == count_for(sev, spaces)
    md = run("markdown", text, sev, seed)
    md_plain = re.sub(r"^### .*\n\n|\n\n---\n$", "", md)
    assert norm(re.sub(r"\*\*|[_`*]", "", md_plain)) == norm(text)
    pre = run("long_preamble", text, sev, seed)
    assert pre.endswith(text)
    assert len(re.findall(r"[.!?](?= |\n)", pre[: -len(text)])) == max(1, int(40 * sev + 0.5))
    thread = run("email_thread", text, sev, seed)
    assert max(len(m) for m in re.findall(r"^>+", thread, re.M)) == 1 + int(3 * sev + 0.5)
    items = run("bullet_list", text, sev, seed).splitlines()
    assert len(items) >= 2 or len(text.split()) < 2


@SETTINGS
@given(text=paragraphs(), sev=severities, seed=st.integers(0, 10**6))
def test_wording_and_language_replace_the_promised_share(text: str, sev: float, seed: int) -> None:
    for lang in ("es", "fr", "de", "hi"):
        n = len(_phrase_re(CODE_SWITCH[lang]).findall(text))
        out = run(f"code_switch_{lang}", text, sev, seed)
        if n:
            remaining = len(_phrase_re(CODE_SWITCH[lang]).findall(out))
            assert n - count_for(sev, n) <= remaining <= n  # translations may be keys too
            assert out != text
    filler = run("filler_words", text, sev, seed)
    assert filler.count(",") - text.count(",") == count_for(sev, len(text.split()))


def test_code_switch_swaps_content_words_only() -> None:
    text = "I lost my card and my money today"
    assert run("code_switch_es", text, 1.0) == "I perdido my tarjeta and my dinero hoy"
    assert run("code_switch_de", text, 0.25) != text
    switched = run("code_switch_de", text, 0.25)
    assert sum(a != b for a, b in zip(text.split(), switched.split(), strict=True)) == 1


def test_jargon_uses_the_glossary_passed_in() -> None:
    fn = get_perturbation("jargon").fn
    assert fn is not None
    out = fn(
        "Please reset my router today",
        severity=1.0,
        rng=random.Random(0),
        glossary={"Router": "CPE gateway"},
    )
    assert out == "Please reset my CPE gateway today"
    default = fn("I lost my card and my money", severity=1.0, rng=random.Random(0))
    assert "debit card" in default and "funds" in default
    half = fn("card money fee loan", severity=0.5, rng=random.Random(0))
    assert sum(w in half for w in ("debit card", "funds", "service charge", "credit facility")) == 2


def test_multipart_and_out_of_scope() -> None:
    text = "How do I block my card?"
    one = run("multi_request", text, 0.2)
    two = run("multi_request", text, 0.8)
    assert "block my card" in one and "block my card" in two
    assert one.count("?") == 2 and two.count("?") == 3
    listed = run("numbered_requests", text, 0.8)
    assert listed.count("\n") == 3 and "3) " in listed
    task = get_perturbation("out_of_scope_task").fn
    assert task is not None
    near = task(text, severity=0.1, rng=random.Random(2), feature_description="a travel bot")
    assert "block my card" not in near
    far = run("out_of_scope_task", text, 0.9)
    assert far != near


def test_adversarial_canaries_and_invisible_characters() -> None:
    for name in ("injection_suffix", "instruction_override", "roleplay_jailbreak"):
        for i, text in enumerate(CORPUS[:5]):
            out = run(name, text, 0.5, seed=i)
            assert text in out and CANARY_RE.search(out), name
    text = CORPUS[0]
    n_words = len(text.split())
    zw = run("zero_width", text, 0.4)
    hidden = sum(zw.count(c) for c in "\u200b\u200c\u200d\u2060\ufeff")
    assert hidden == count_for(0.4, n_words)
    assert re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", zw) == text
    hg = run("homoglyph", text, 0.4)
    swapped = [(a, b) for a, b in zip(text, hg, strict=True) if a != b]
    eligible_words = [w for w in text.split() if any(c in HOMOGLYPHS for c in w)]
    assert len(swapped) == count_for(0.4, len(eligible_words))
    assert all(HOMOGLYPHS[a] == b for a, b in swapped)


def test_translations_use_the_target_language_frames() -> None:
    text = "How do I block my card?"
    assert run("translate_es", text, 1.0) == "¿Cómo puedo bloquear mi tarjeta?"
    assert run("translate_de", text, 1.0) == "Wie kann ich sperren mein Karte?"
    assert run("translate_fr", text, 1.0).startswith("Comment puis-je bloquer")
    assert run("translate_hi", text, 1.0).endswith("kaise karun?")
    assert run("translate_es", "Hello there", 1.0).startswith("Tengo una pregunta:")
    assert all(run(f"translate_{x}", c, 1.0) != c for x in "es fr de hi".split() for c in CORPUS)


@SETTINGS
@given(text=paragraphs(), sev=severities, seed=st.integers(0, 10**6))
def test_casing_edits_the_promised_share_of_the_words_it_can_change(
    text: str, sev: float, seed: int
) -> None:
    words = text.split(" ")
    for name, convert in (("all_caps", str.upper), ("all_lower", str.lower)):
        can = sum(w != convert(w) for w in words)
        out = run(name, text, sev, seed).split(" ")
        changed = [(a, b) for a, b in zip(words, out, strict=True) if a != b]
        assert len(changed) == count_for(sev, can), name
        assert all(b == convert(a) for a, b in changed), name
