"""Multi-part: two or three requests in one message, as users really write them."""

from __future__ import annotations

import random
from collections.abc import Sequence

from pilotgate.perturb._base import perturbation

#: Generic second requests, plausible in most customer-facing assistants.
DEFAULT_EXTRA_REQUESTS: tuple[str, ...] = (
    "what are your opening hours?",
    "can I change the email address on my profile?",
    "how do I reset my password?",
    "is there a fee for this?",
    "how long does it usually take?",
    "can you send me a confirmation by email?",
    "who do I contact if this doesn't work?",
    "do you have an app for this?",
    "can I do this from abroad?",
    "will this affect anything else on my account?",
)
_JOINERS = [" Also, ", " And ", " Oh and ", " Plus, ", " Another thing: ", "\n\nAlso "]


def _extras(rng: random.Random, severity: float, pool: Sequence[str] | None) -> list[str]:
    choices = list(pool) if pool else list(DEFAULT_EXTRA_REQUESTS)
    n = 1 if severity < 0.5 else 2
    return [rng.choice(choices) for _ in range(n)]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


@perturbation(
    "multi_request",
    family="multipart",
    description="One or two unrelated requests joined to the original in one message.",
    default_severity=0.3,
)
def multi_request(
    text: str, *, severity: float, rng: random.Random, pool: Sequence[str] | None = None
) -> str:
    """Severity < 0.5 adds one extra request, ≥ 0.5 two; the original keeps first place
    half of the time and goes last otherwise. ``pool`` (option) supplies the extra
    requests, e.g. other cases' inputs; the default is a generic list.
    """
    extras = _extras(rng, severity, pool)
    if rng.random() < 0.5:
        out = text.rstrip()
        for e in extras:
            out += rng.choice(_JOINERS) + e
        return out
    lead = _cap(extras[0])
    for e in extras[1:]:
        lead += rng.choice(_JOINERS) + e
    return lead + rng.choice(_JOINERS) + text[:1].lower() + text[1:]


@perturbation(
    "numbered_requests",
    family="multipart",
    description="The original and one or two more requests as a numbered list of asks.",
    default_severity=0.3,
)
def numbered_requests(
    text: str, *, severity: float, rng: random.Random, pool: Sequence[str] | None = None
) -> str:
    """Severity < 0.5 gives two numbered asks, ≥ 0.5 three; the original is at a random
    position. ``pool`` as in ``multi_request``.
    """
    items = [_cap(e) for e in _extras(rng, severity, pool)]
    items.insert(rng.randrange(len(items) + 1), text.strip())
    head = rng.choice(["I have a few questions:", "Couple of things:", "Questions:"])
    return head + "\n" + "\n".join(f"{i}) {it}" for i, it in enumerate(items, start=1))
