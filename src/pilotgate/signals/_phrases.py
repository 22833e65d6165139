"""Escalation and negative wording: phrase lists and a linear-time matcher.

Why no regular expressions: the text is the user's, and hostile text must never make a
pattern backtrack. Text and phrases are normalised the same way in one pass (case
folded, accents dropped, every run of non-alphanumerics one space), and a phrase matches
when it occurs between word boundaries, found with ``str.__contains__``, whose cost is
linear in the text for a phrase of bounded length (phrases are capped at
:data:`MAX_PHRASE`). Several phrases cost one pass each: linear in the text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pilotgate.errors import ConfigError

__all__ = [
    "DEFAULT_ESCALATION",
    "DEFAULT_NEGATIVE",
    "MAX_PHRASE",
    "PhraseMatcher",
    "normalise",
]

MAX_PHRASE = 80

#: Asking for a person, a refund of the service, or to complain (en, es, fr, de, pt, it, nl).
#: Bare "refund" / "money back" are left out: in many products (a bank's) they are what
#: users ask the feature about, not a sign it failed; a plan can add them.
DEFAULT_ESCALATION: tuple[str, ...] = (
    "human",
    "real person",
    "a person",
    "live agent",
    "an agent",
    "speak to someone",
    "talk to someone",
    "customer service",
    "customer support",
    "operator",
    "representative",
    "refund for this",
    "refund of the subscription",
    "cancel my subscription",
    "complaint",
    "persona real",
    "un humano",
    "hablar con alguien",
    "agente humano",
    "reembolso del servicio",
    "queja",
    "un humain",
    "une personne",
    "parler a quelqu un",
    "conseiller",
    "remboursement du service",
    "reclamation",
    "einen menschen",
    "mitarbeiter",
    "echten menschen",
    "erstattung des abos",
    "beschwerde",
    "atendente",
    "pessoa real",
    "reclamacao",
    "operatore",
    "persona vera",
    "rimborso del servizio",
    "reclamo",
    "medewerker",
    "echt persoon",
    "geld terug voor deze dienst",
    "klacht",
)

#: Negative wording that turns a repeated request into an escalation.
DEFAULT_NEGATIVE: tuple[str, ...] = (
    "useless",
    "not what i asked",
    "wrong",
    "doesn t help",
    "does not help",
    "didn t help",
    "not helpful",
    "you don t understand",
    "that s not",
    "again",
    "still",
    "terrible",
    "stupid",
    "no sirve",
    "inutil",
    "no es lo que",
    "otra vez",
    "ca ne sert a rien",
    "pas ce que",
    "encore",
    "nutzlos",
    "nicht was ich",
    "schon wieder",
    "nao e isso",
    "de novo",
    "non e quello",
    "di nuovo",
    "nutteloos",
    "niet wat ik",
)


_CACHED_LEN = 2_000


def normalise(text: str) -> str:
    """Case-folded, accent-free words separated by single spaces (one linear pass).

    Short texts are cached: a refresh asks for the same request's form several times
    (rephrase and escalation rules, both sides of a pair). Long ones are not, so hostile
    megabyte inputs never pile up in memory."""
    if len(text) <= _CACHED_LEN:
        return _normalise_cached(text)
    return _normalise(text)


@lru_cache(maxsize=65_536)
def _normalise_cached(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    chars = [c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)]
    return " ".join("".join(chars).split())


@dataclass(frozen=True)
class PhraseMatcher:
    """Finds any of a list of phrases in text, on word boundaries, in linear time."""

    phrases: tuple[str, ...]

    @classmethod
    def of(cls, phrases: Iterable[str], *, where: str = "[signals]") -> PhraseMatcher:
        out: list[str] = []
        for p in phrases:
            n = normalise(p)
            if not n:
                continue
            if len(n) > MAX_PHRASE:
                raise ConfigError(
                    f"phrase longer than {MAX_PHRASE} characters: {p[:40]!r}…",
                    where=where,
                    fix="use shorter phrases (a few words each)",
                )
            out.append(f" {n} ")
        return cls(tuple(dict.fromkeys(out)))

    def find(self, text: str | None) -> str | None:
        """The first phrase found in ``text`` (normalised form), or None."""
        if not text or not self.phrases:
            return None
        hay = f" {normalise(text)} "
        for p in self.phrases:
            if p in hay:
                return p.strip()
        return None

    def matches(self, text: str | None) -> bool:
        return self.find(text) is not None


def matchers(
    escalation: Sequence[str] | None, negative: Sequence[str] | None
) -> tuple[PhraseMatcher, PhraseMatcher]:
    """The escalation and negative matchers (defaults where the plan sets none)."""
    esc = PhraseMatcher.of(DEFAULT_ESCALATION if escalation is None else escalation)
    neg = PhraseMatcher.of(DEFAULT_NEGATIVE if negative is None else negative)
    return esc, neg
