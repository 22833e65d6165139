"""The fast paths behind the catalogue find exactly what their reference forms find."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.perturb._glossaries import CODE_SWITCH, GLOSSARIES
from pilotgate.perturb._wording import _CONTRACT, _EXPAND, _SLANG, _compile_phrases


def reference(keys: tuple[str, ...]) -> re.Pattern[str]:
    """The plain longest-first alternation the trie pattern replaces."""
    alts = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(r"(?<![\w'])(" + alts + r")(?![\w'])", re.I)


def spans(p: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in p.finditer(text)]


TABLES = [_SLANG, _CONTRACT, _EXPAND, *CODE_SWITCH.values(), *GLOSSARIES.values()]
keys_st = st.lists(
    st.text(alphabet="abcs' -k", min_size=1, max_size=6).map(str.lower),
    min_size=1,
    max_size=12,
    unique=True,
)
text_st = st.text(alphabet="abcsABCS' -kK\u212a\u017fé\n", max_size=60)


@settings(max_examples=300, deadline=None)
@given(keys=keys_st, text=text_st)
def test_trie_pattern_matches_like_the_alternation(keys: list[str], text: str) -> None:
    fast, ref = _compile_phrases(tuple(keys)), reference(tuple(keys))
    assert spans(fast, text) == spans(ref, text)


@settings(max_examples=150, deadline=None)
@given(table=st.sampled_from(TABLES), words=st.lists(st.sampled_from(sorted(_SLANG)), max_size=8))
def test_builtin_tables_match_like_the_alternation(table: dict[str, str], words: list[str]) -> None:
    keys = tuple(table)
    sample = sorted(keys)[:: max(1, len(keys) // 8)]
    text = " ".join(words + [k.upper() for k in sample] + [k + "s" for k in sample] + sample)
    assert spans(_compile_phrases(keys), text) == spans(reference(keys), text)


def test_non_ascii_keys_keep_the_reference_form() -> None:
    keys = ("café", "caf")
    assert _compile_phrases(keys).pattern == reference(keys).pattern
    assert spans(_compile_phrases(keys), "CAFÉ caf cafe") == [(0, 4), (5, 8)]
