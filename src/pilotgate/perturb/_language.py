"""Mixed language: code-switching with our glossaries, and whole requests in another language."""

from __future__ import annotations

import random
import re

from pilotgate.perturb._base import perturbation
from pilotgate.perturb._glossaries import (
    CODE_SWITCH,
    FALLBACK_FRAMES,
    GLOSSARIES,
    LANGUAGE_NAMES,
    SWITCH_TAGS,
    TEMPLATES,
)
from pilotgate.perturb._wording import replace_phrases

_TEMPLATE_RES = [
    (re.compile(r"^\s*" + pat + r"\b[\s,:]*", re.I), frames) for pat, frames in TEMPLATES
]
_TRAILING_RE = re.compile(r"[\s.?!]+$")
_SENT_END_RE = re.compile(r"[.!?]+\s+(?=\S)")
_SPACES_RE = re.compile(r"\s{2,}")


def code_switch(text: str, lang: str, severity: float, rng: random.Random) -> str:
    """Swap ``count_for(severity, n)`` of the n glossary words for the ``lang`` ones."""
    out, n = replace_phrases(text, CODE_SWITCH[lang], severity, rng)
    return out if n else text.rstrip() + rng.choice(SWITCH_TAGS[lang])


def translate(text: str, lang: str, severity: float, rng: random.Random) -> str:
    """Translate the first sentence's opening by template, the rest word by word."""
    stripped = text.strip()
    m = _SENT_END_RE.search(stripped)
    first, tail = (stripped[: m.end()], stripped[m.end() :]) if m else (stripped, "")
    frame = FALLBACK_FRAMES[lang]
    rest = first
    for pat, frames in _TEMPLATE_RES:
        hit = pat.match(first)
        if hit and hit.end() < len(_TRAILING_RE.sub("", first)):
            frame, rest = frames[lang], _TRAILING_RE.sub("", first[hit.end() :])
            break
    if frame is FALLBACK_FRAMES[lang]:
        rest, tail = stripped, ""
    body, _ = replace_phrases(rest, GLOSSARIES[lang], severity, rng)
    out = frame.format(x=_SPACES_RE.sub(" ", body).strip())
    if tail:
        more, _ = replace_phrases(tail, GLOSSARIES[lang], severity, rng)
        out += " " + more.strip()
    return out


def _register(lang: str) -> None:
    name = LANGUAGE_NAMES[lang]

    @perturbation(
        f"code_switch_{lang}",
        family="mixed_language",
        description=f"Code-switching: everyday words swapped for {name} ones mid-sentence.",
        default_severity=0.3,
    )
    def _switch(text: str, *, severity: float, rng: random.Random) -> str:
        """Severity = share of glossary words in the text swapped for the other language;
        a text with none gets a tag phrase in that language appended.
        """
        return code_switch(text, lang, severity, rng)

    @perturbation(
        f"translate_{lang}",
        family="mixed_language",
        description=f"The whole request in {name}: phrasing template plus glossary words.",
        default_severity=1.0,
    )
    def _translate(text: str, *, severity: float, rng: random.Random) -> str:
        """The opening ("How do I", "Can you", "What is"…) becomes the language's frame
        (a generic "I have a question:" frame when none matches); severity = share of
        glossary words in the rest translated. Words outside the glossary stay English.
        """
        return translate(text, lang, severity, rng)


for _lang in LANGUAGE_NAMES:
    _register(_lang)
