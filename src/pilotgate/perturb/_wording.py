"""Wording: the same request in texting slang, with fillers, contractions, jargon, rephrased."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pilotgate.perturb._base import count_for, edit_words, perturbation

_SLANG = {
    "you": "u",
    "your": "ur",
    "you're": "ur",
    "are": "r",
    "please": "pls",
    "thanks": "thx",
    "thank": "ty",
    "because": "bc",
    "before": "b4",
    "for": "4",
    "to": "2",
    "tomorrow": "tmrw",
    "today": "2day",
    "message": "msg",
    "people": "ppl",
    "really": "rly",
    "though": "tho",
    "okay": "ok",
    "know": "kno",
    "don't": "dont",
    "can't": "cant",
    "what": "wat",
    "with": "w/",
    "without": "w/o",
    "about": "abt",
    "account": "acct",
    "information": "info",
    "number": "no.",
    "minutes": "mins",
    "as soon as possible": "asap",
    "by the way": "btw",
    "i don't know": "idk",
    "to be honest": "tbh",
    "right now": "rn",
    "be right back": "brb",
    "see you": "cya",
    "great": "gr8",
    "why": "y",
    "need": "ned",
    "question": "q",
}
_SLANG_TAGS = [" pls", " thx", " asap", " tbh", " lol", " rn", " ty"]

_CONTRACT = {
    "do not": "don't",
    "does not": "doesn't",
    "did not": "didn't",
    "is not": "isn't",
    "are not": "aren't",
    "was not": "wasn't",
    "can not": "can't",
    "cannot": "can't",
    "will not": "won't",
    "would not": "wouldn't",
    "should not": "shouldn't",
    "have not": "haven't",
    "i am": "I'm",
    "i have": "I've",
    "i will": "I'll",
    "i would": "I'd",
    "you are": "you're",
    "it is": "it's",
    "that is": "that's",
    "what is": "what's",
    "where is": "where's",
    "how is": "how's",
    "there is": "there's",
    "we are": "we're",
    "they are": "they're",
    "let us": "let's",
}
_EXPAND = {v.lower(): k for k, v in _CONTRACT.items() if k != "cannot"}


@functools.lru_cache(maxsize=64)
def _compile_phrases(keys: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive whole-phrase pattern; where several keys match, the longest.

    The reference form is an alternation of the keys, longest first. For lower-case
    ASCII keys (all built-in tables) the same alternatives are arranged as a trie
    (``card(?:s)?|c(?:ash|heck)``…): the regex engine then follows one path per
    position instead of trying every key, 2-4x faster, and finds the same matches. Two
    distinct lower-case ASCII characters are never case-equivalent, so along the trie at
    most one child matches a character, and a greedy optional suffix tries the longer
    key first, backtracking to the shorter one when the boundary check fails, as the
    longest-first alternation does. Other keys (non-ASCII, empty) keep the reference form.
    """
    if keys and all(k and k.isascii() and k == k.lower() for k in keys):
        body = _trie_regex(keys)
    else:
        body = "|".join(re.escape(a) for a in sorted(keys, key=len, reverse=True))
    return re.compile(r"(?<![\w'])(" + body + r")(?![\w'])", re.I)


def _trie_regex(keys: Sequence[str]) -> str:
    trie: dict[str, Any] = {}
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}  # end of a key

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:  # a key ends here: the longer ones are optional, tried first
            return body + "?" if len(alts) == 1 and len(alts[0]) == 1 else f"(?:{body})?"
        return body

    return emit(trie)


_BY_ID: dict[int, tuple[Mapping[str, str], re.Pattern[str]]] = {}


def _phrase_re(table: Mapping[str, str]) -> re.Pattern[str]:
    # Fast path by identity (the entry keeps the table alive, so ids are not reused).
    hit = _BY_ID.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    pat = _compile_phrases(tuple(table))
    if len(_BY_ID) >= 64:
        _BY_ID.clear()
    _BY_ID[id(table)] = (table, pat)
    return pat


def _match_case(src: str, repl: str) -> str:
    if src.isupper() and len(src) > 1:
        return repl.upper()
    if src[:1].isupper() and repl[:1].islower():
        return repl[:1].upper() + repl[1:]
    return repl


def replace_phrases(
    text: str, table: Mapping[str, str], severity: float, rng: random.Random
) -> tuple[str, int]:
    """Replace ``count_for(severity, n)`` of the n case-insensitive whole-phrase matches.

    Keys must be lower case. Returns the new text and the number of replacements.
    At severity 1 every match is replaced and nothing is drawn from ``rng`` (which
    matches would be replaced is not a question): callers draw nothing after a call
    that replaced something, so skipping the draw leaves every output as it was.
    """
    matches = list(_phrase_re(table).finditer(text))
    n = count_for(severity, len(matches))
    if n == 0:
        return text, 0
    chosen = (
        matches
        if severity >= 1.0
        else [matches[j] for j in sorted(rng.sample(range(len(matches)), n))]
    )
    parts: list[str] = []
    prev = 0
    for m in chosen:
        src = m.group()
        parts.append(text[prev : m.start()])
        parts.append(_match_case(src, table[src.lower()]))
        prev = m.end()
    parts.append(text[prev:])
    return "".join(parts), n


@perturbation(
    "texting_slang",
    family="wording",
    description="Texting abbreviations and slang (u, pls, thx, bc, asap…).",
    default_severity=0.5,
)
def texting_slang(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of words/phrases found in the slang table that are abbreviated.

    A text with none of them gets a slang tag (' pls', ' thx', ' asap'…) appended.
    """
    out, n = replace_phrases(text, _SLANG, severity, rng)
    return out if n else text.rstrip() + rng.choice(_SLANG_TAGS)


@perturbation(
    "contractions",
    family="wording",
    description="Contractions toggled: 'do not' ↔ \"don't\", 'I am' ↔ \"I'm\".",
    default_severity=1.0,
)
def contractions(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of contractible phrases contracted, or, when the text has none,
    of contractions expanded. A text with neither gets "I'm wondering, " in front.
    """
    out, n = replace_phrases(text, _CONTRACT, severity, rng)
    if n:
        return out
    out, n = replace_phrases(text, _EXPAND, severity, rng)
    if n:
        return out
    return "I'm wondering, " + text[:1].lower() + text[1:]


_FILLERS = [
    "um",
    "uh",
    "like",
    "basically",
    "you know",
    "so",
    "actually",
    "I mean",
    "kinda",
    "well",
]


@perturbation(
    "filler_words",
    family="wording",
    description="Spoken-style fillers inserted (um, like, basically, you know…).",
    default_severity=0.2,
)
def filler_words(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of whitespace tokens followed by a filler word (at least one)."""
    return edit_words(text, severity, rng, lambda t, r: f"{t} {r.choice(_FILLERS)},", bool)


#: Plain word -> the jargon a banking customer or agent might use instead.
DEFAULT_BANKING_GLOSSARY: dict[str, str] = {
    "money": "funds",
    "send money": "initiate a wire",
    "transfer": "ACH transfer",
    "card": "debit card",
    "credit card": "revolving credit line",
    "account": "DDA",
    "balance": "available balance",
    "fee": "service charge",
    "charge": "debit",
    "refund": "chargeback",
    "loan": "credit facility",
    "mortgage": "home loan (HELOC)",
    "interest": "APR",
    "overdraft": "NSF event",
    "statement": "e-statement",
    "payment": "remittance",
    "pay": "remit",
    "cash": "liquidity",
    "savings": "high-yield savings (HYSA)",
    "bank number": "routing number",
    "pin": "PIN",
    "stolen": "compromised",
    "fraud": "unauthorized activity",
    "limit": "credit limit",
    "check": "cheque",
    "deposit": "ACH credit",
    "withdraw": "debit out",
    "close": "terminate",
    "open": "originate",
    "blocked": "frozen",
}


@perturbation(
    "jargon",
    family="wording",
    description="Plain terms replaced by domain jargon from the feature's glossary.",
    default_severity=1.0,
)
def jargon(
    text: str,
    *,
    severity: float,
    rng: random.Random,
    glossary: Mapping[str, str] | None = None,
) -> str:
    """Severity = share of glossary terms found in the text that are replaced.

    ``glossary`` maps plain words/phrases to jargon (option, default
    :data:`DEFAULT_BANKING_GLOSSARY`). A text with no glossary term gets a jargon
    aside appended ("(re: my DDA)").
    """
    table = DEFAULT_BANKING_GLOSSARY if glossary is None else glossary
    if table is not DEFAULT_BANKING_GLOSSARY:
        table = {k.lower(): v for k, v in table.items()}
    if not table:
        return text
    out, n = replace_phrases(text, table, severity, rng)
    if n:
        return out
    return text.rstrip() + f" (re: my {rng.choice(sorted(table.values()))})"


_REWRITES: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"^how (?:do|can) i\b", re.I), ["What's the way to", "How would I go about it to"]),
    (re.compile(r"^can you\b", re.I), ["Would it be possible to", "Could you please"]),
    (re.compile(r"^could you\b", re.I), ["Can you", "Would you mind if you could"]),
    (re.compile(r"^i want to\b", re.I), ["I'd like to", "I'm looking to"]),
    (re.compile(r"^i need to\b", re.I), ["I have to", "I've got to"]),
    (re.compile(r"^what is\b", re.I), ["Tell me what is", "Explain what is"]),
    (re.compile(r"^why\b", re.I), ["For what reason", "How come"]),
    (re.compile(r"^where\b", re.I), ["In which place", "Whereabouts"]),
    (re.compile(r"^is it possible to\b", re.I), ["Can I", "Am I able to"]),
    (re.compile(r"^please\b", re.I), ["Kindly", "Would you"]),
]
_WRAPS = [
    "Quick question: {t}",
    "{t} Thanks in advance.",
    "Hi, {l}",
    "Hello! {t}",
    "I was wondering: {l}",
    "{t} Can you help?",
]


@perturbation(
    "paraphrase",
    family="wording",
    description="Template paraphrase: reworded opening and/or a polite wrapper.",
    default_severity=0.5,
)
def paraphrase(text: str, *, severity: float, rng: random.Random) -> str:
    """The opening phrase rewritten by a template when one matches ("How do I" → "What's
    the way to"); a polite wrapper is added when none matches or when severity ≥ 0.5.
    """
    stripped = text.lstrip()
    out = text
    for pat, repls in _REWRITES:
        m = pat.match(stripped)
        if m:
            out = rng.choice(repls) + stripped[m.end() :]
            break
    if out == text or severity >= 0.5:
        wrap = rng.choice(_WRAPS)
        out = wrap.format(t=out, l=out[:1].lower() + out[1:])
    return out
