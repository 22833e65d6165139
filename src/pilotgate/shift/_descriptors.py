"""Cheap, interpretable descriptors of each input: the "what changed" behind a drift.

An embedding test says *that* production differs from the eval set; descriptors say *how*
in words a reviewer can check ("31 % Spanish", "2.4 questions per message"). Each is a
plain function of the text, computed with precompiled regular expressions (tens of
thousands of texts per second), except the language, which comes from lingua when it is
installed (restricted to a handful of languages, in parallel) and from function-word
lists otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pilotgate._lexicon import FUNCTION_WORDS, english_words, is_english_word

__all__ = ["DESCRIPTORS", "DescriptorSpec", "Descriptors", "compute_descriptors"]

Kind = Literal["continuous", "count", "binary", "categorical"]


@dataclass(frozen=True)
class DescriptorSpec:
    """One descriptor: its kind (which picks the two-sample test) and how to phrase it."""

    name: str
    kind: Kind
    description: str
    #: Phrase for a gap summary; ``{v}`` is the gap's value (a mean or a share in %).
    phrase: str = ""
    #: Smallest difference of means worth mentioning in a gap summary (numeric kinds).
    min_diff: float = 0.0


_D = DescriptorSpec
DESCRIPTORS: tuple[DescriptorSpec, ...] = (
    _D("chars", "continuous", "length in characters", "{v:.0f} characters", 15.0),
    _D("words", "continuous", "number of words", "{v:.1f} words", 3.0),
    _D("questions", "count", "runs of question marks", "{v:.1f} questions per message", 0.3),
    _D("language", "categorical", "main language (lingua, or function words)"),
    _D(
        "mixed_language",
        "continuous",
        "share of language-marked words from a second language",
        "{v:.0%} of words in a second language",
        0.1,
    ),
    _D(
        "typo_rate",
        "continuous",
        "share of English words one edit from a known word (English inputs only)",
        "{v:.1%} misspelt words",
        0.03,
    ),
    _D(
        "punctuation_anomalies",
        "continuous",
        "repeated !?, a space before or none after punctuation, per word",
        "{v:.2f} punctuation anomalies per word",
        0.05,
    ),
    _D(
        "shouting", "continuous", "share of words in capitals", "{v:.0%} of words in capitals", 0.15
    ),
    _D("no_capitals", "binary", "letters but no capital", "{v:.0%} written without capitals"),
    _D("markdown", "binary", "markdown (headers, bold, tables, code)", "{v:.0%} use markdown"),
    _D("code", "binary", "code blocks or code-like lines", "{v:.0%} contain code"),
    _D("list", "binary", "bulleted or numbered list", "{v:.0%} contain a list"),
    _D("url", "binary", "contains a URL", "{v:.0%} contain a URL"),
    _D(
        "non_letter",
        "continuous",
        "share of non-space characters that are not letters",
        "{v:.0%} non-letter characters",
        0.05,
    ),
)


@dataclass
class Descriptors:
    """Descriptor values for a list of texts: numeric arrays and the language labels."""

    values: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    language: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.language)

    def take(self, idx: npt.NDArray[np.intp] | Sequence[int]) -> Descriptors:
        ix = np.asarray(idx, dtype=np.intp)
        return Descriptors(
            {k: v[ix] for k, v in self.values.items()}, [self.language[i] for i in ix]
        )

    @staticmethod
    def concat(parts: Sequence[Descriptors]) -> Descriptors:
        if not parts:
            return Descriptors({s.name: np.zeros(0) for s in DESCRIPTORS if s.name != "language"})
        keys = parts[0].values.keys()
        return Descriptors(
            {k: np.concatenate([p.values[k] for p in parts]) for k in keys},
            [lang for p in parts for lang in p.language],
        )


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_QUESTION = re.compile(r"\?+")
_PUNCT_ANOM = re.compile(r"[!?]{2,}|\s[,.;:!?](?!\S)|[,;:!?](?=[^\W\d_])|\.{4,}")
_MARKDOWN = re.compile(r"(?m)^#{1,6}\s|\*\*[^*\n]+\*\*|__[^_\n]+__|`[^`\n]+`|^\s*\|.*\|\s*$")
_CODE = re.compile(
    r"```|^\s{4,}\S.*[;{}()]\s*$|^\s*(def|class|import|from|function|const|let|var|"
    r"SELECT|public|#include)\b.*[(=:;{]|[{};]\s*$|=>|\)\s*\{",
    re.MULTILINE,
)
_LIST = re.compile(r"(?m)^\s*(?:[-*•]|\d{1,2}[.)])\s+\S")
_URL = re.compile(r"https?://\S+|www\.\S+\.\S+", re.IGNORECASE)
_SCRIPT_SAMPLE = 400


def compute_descriptors(
    texts: Sequence[str], *, languages: Sequence[str] = ("en", "es", "fr", "de", "pt", "it")
) -> Descriptors:
    """Compute every descriptor in :data:`DESCRIPTORS` for ``texts``.

    Texts are truncated to 20,000 characters for the regular expressions, which keeps a
    100 kB input from dominating the run while leaving every ordinary input intact
    (``chars`` still reports the full length).
    """
    first: dict[str, int] = {}
    inverse = [first.setdefault(t, len(first)) for t in texts]
    if len(first) < len(texts):  # compute once per distinct text
        return _compute(list(first), languages).take(inverse)
    return _compute(texts, languages)


def _compute(texts: Sequence[str], languages: Sequence[str]) -> Descriptors:
    n = len(texts)
    vals = {s.name: np.zeros(n, dtype=np.float64) for s in DESCRIPTORS if s.name != "language"}
    words_en = english_words()
    typo_index = _typo_index()
    scripts: list[str] = []
    mixed_lang: list[str | None] = []
    for i, full in enumerate(texts):
        text = full[:20_000]
        words = _WORD.findall(text)
        lower = [w.lower() for w in words]
        nw = len(words)
        vals["chars"][i] = len(full)
        vals["words"][i] = nw
        vals["questions"][i] = len(_QUESTION.findall(text))
        vals["punctuation_anomalies"][i] = len(_PUNCT_ANOM.findall(text)) / max(nw, 1)
        caps = sum(1 for w in words if len(w) >= 2 and w.isupper())
        vals["shouting"][i] = caps / nw if nw else 0.0
        has_letters = nw > 0
        vals["no_capitals"][i] = float(has_letters and not any(c.isupper() for c in text))
        vals["markdown"][i] = float(_MARKDOWN.search(text) is not None)
        vals["code"][i] = float(_CODE.search(text) is not None)
        vals["list"][i] = float(_LIST.search(text) is not None)
        vals["url"][i] = float(_URL.search(text) is not None)
        vals["non_letter"][i] = _non_letter_share(text)
        script = _script(text)
        scripts.append(script)
        share, main_fw = _mixed_share(lower, words_en)
        vals["mixed_language"][i] = share
        mixed_lang.append(main_fw)
        vals["typo_rate"][i] = _typo_rate(lower, words_en, typo_index)
    language = _languages(texts, scripts, mixed_lang, languages, vals["words"])
    for i, lang in enumerate(language):
        if lang != "en":  # typo rate is only defined against the English wordlist
            vals["typo_rate"][i] = np.nan
    return Descriptors(vals, language)


def _non_letter_share(text: str) -> float:
    visible = [c for c in text[:5_000] if not c.isspace()]
    if not visible:
        return 0.0
    return sum(1 for c in visible if not c.isalpha()) / len(visible)


def _script(text: str) -> str:
    """The dominant script of the letters ("Latin", "Cyrillic", "Devanagari", "CJK"…)."""
    counts: dict[str, int] = {}
    for c in text[:_SCRIPT_SAMPLE]:
        if c.isalpha():
            if c < "\u0250":
                key = "Latin"
            else:
                try:
                    key = unicodedata.name(c).split(" ")[0]
                except ValueError:
                    key = "other"
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return "none"
    key = max(counts, key=lambda k: counts[k])
    return {"HIRAGANA": "CJK", "KATAKANA": "CJK"}.get(
        key, key.capitalize() if key != "CJK" else key
    )


def _mixed_share(lower: list[str], known: frozenset[str]) -> tuple[float, str | None]:
    """Share of language-marked words not in the dominant language, and that language.

    A word marks a language when it is one of that language's function words; failing
    that, an English word of four or more letters from the wordlist marks English (so
    "my parcel hasnt arrived pero necesito el reembolso" counts as mixed).
    """
    hits: dict[str, int] = {}
    for w in lower:
        for lang, fw in FUNCTION_WORDS.items():
            if w in fw:
                hits[lang] = hits.get(lang, 0) + 1
                break
        else:
            if len(w) >= 4 and w in known:
                hits["en"] = hits.get("en", 0) + 1
    total = sum(hits.values())
    if total == 0:
        return 0.0, None
    main = max(sorted(hits), key=lambda k: hits[k])
    other = total - hits[main]
    # One stray foreign word ("gracias!") is not code-switching; two or more are.
    return (other / total if other >= 2 else 0.0), main


@lru_cache(maxsize=1)
def _typo_index() -> frozenset[str]:
    """Single-deletion variants of known words of length >= 4 (a SymSpell-style index)."""
    out: set[str] = set()
    for w in english_words():
        if len(w) >= 4:
            out.update(w[:k] + w[k + 1 :] for k in range(len(w)))
    return frozenset(out)


def _typo_rate(lower: list[str], known: frozenset[str], deletes: frozenset[str]) -> float:
    """Share of words (3+ letters) that are unknown but one edit away from a known word."""
    n = typos = 0
    for w in lower:
        if len(w) < 3:
            continue
        n += 1
        if is_english_word(w, known):
            continue
        if w in deletes or any(w[:k] + w[k + 1 :] in known for k in range(len(w))):
            typos += 1  # a letter dropped or inserted, or a substitution/transposition
        elif any(w[:k] + w[k + 1 :] in deletes for k in range(len(w))):
            typos += 1
    return typos / n if n else 0.0


def _languages(
    texts: Sequence[str],
    scripts: list[str],
    function_word_lang: list[str | None],
    languages: Sequence[str],
    n_words: npt.NDArray[np.float64],
) -> list[str]:
    """Language label per text: non-Latin script name, romanised Hindi, lingua, fallback."""
    out: list[str] = ["und"] * len(texts)
    todo: list[int] = []
    for i, script in enumerate(scripts):
        if script == "none":
            continue
        if script != "Latin":
            out[i] = f"script:{script}"
        elif function_word_lang[i] == "hi-Latn":
            out[i] = "hi-Latn"
        else:
            todo.append(i)
    detector = _lingua(tuple(languages))
    if detector is None:
        for i in todo:
            out[i] = function_word_lang[i] or "und"
        return out
    batch = [texts[i][:2_000].encode("utf-8", "replace").decode("utf-8") for i in todo]
    detected = detector.detect_languages_in_parallel_of(batch)
    for i, lang in zip(todo, detected, strict=True):
        code = _iso(lang) if lang is not None else None
        # Short texts without one function word of the detected language are guesses
        # ("chk bal pls" reads as German): fall back to the function-word verdict.
        if code is None or (code != "en" and n_words[i] < 4 and function_word_lang[i] != code):
            code = function_word_lang[i] or "und"
        out[i] = code
    return out


@lru_cache(maxsize=4)
def _lingua(languages: tuple[str, ...]) -> Any:
    """A lingua detector restricted to ``languages``, or None when lingua is absent."""
    try:
        import lingua
    except ImportError:
        return None
    wanted = []
    for code in languages:
        try:
            iso = lingua.IsoCode639_1.from_str(code)
        except (ValueError, AttributeError):
            continue
        wanted.append(lingua.Language.from_iso_code_639_1(iso))
    if len(wanted) < 2:
        return None
    return lingua.LanguageDetectorBuilder.from_languages(*wanted).build()


def _iso(language: Any) -> str:
    code = str(language.iso_code_639_1.name).lower()
    return code
