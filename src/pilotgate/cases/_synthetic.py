"""Synthetic production traffic with known structure, for tests, benchmarks and docs.

Why it lives in the package: the dedup, redaction and speed claims of ``cases build``
are measured on it (tests and ``benchmarks/cases_build.py``), and anyone can re-run them.
Everything planted is known: which inputs are near-copies of which, which carry
personal data, which interactions failed and how, which requests are the rare kind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Synthetic", "distinct_texts", "near_copy", "planted_duplicates", "synthetic_production"]

PRODUCTS = """laptop phone tablet router printer monitor keyboard headset camera speaker
charger smartwatch console projector scanner modem drone blender vacuum thermostat
doorbell treadmill microwave dishwasher fridge kettle toaster heater fan lamp""".split()
PROBLEMS = [
    "will not turn on",
    "keeps restarting",
    "arrived with a cracked screen",
    "was charged twice on my card",
    "has not been delivered yet",
    "makes a loud buzzing noise",
    "lost its warranty registration",
    "cannot connect to wifi",
    "shows an error code at startup",
    "was sent in the wrong colour",
    "needs a replacement part",
    "stopped charging overnight",
    "is missing from my order history",
    "overheats after ten minutes",
    "has a refund that never arrived",
    "is stuck on a firmware update",
    "came without the manual",
    "was cancelled without notice",
    "drains the battery quickly",
    "has a discount code that fails",
]
ASKS = [
    "what should I do",
    "can you help",
    "how do I fix it",
    "I want a refund",
    "please send a technician",
    "can I return it",
    "who do I contact",
    "is this covered",
    "how long will it take",
    "I need an answer today",
    "can you escalate this",
    "what are my options",
]
WHEN = [
    "I bought it last week",
    "it was a birthday present",
    "I ordered it in March",
    "it is two years old",
    "it came in yesterday",
    "I got it on sale",
    "my company ordered it",
    "it is a refurbished unit",
    "I use it every day",
    "it was delivered to my office",
    "it replaced an older model",
    "I registered it online",
    "it came from your outlet store",
    "I paid with a gift card",
    "it is still under warranty",
]
FILLERS = ["please", "thanks", "hi", "hello", "urgent", "again"]
#: The rare kind: Spanish-language requests, 1 % of traffic by default.
RARE = [
    "Mi {p} no enciende desde ayer, ¿qué hago?",
    "Quiero devolver el {p}, llegó roto",
    "¿Dónde está mi pedido del {p}?",
    "Me cobraron dos veces el {p}",
    "El {p} no se conecta al wifi",
]


def distinct_texts(n: int, seed: int) -> list[str]:
    """``n`` requests, any two differing in at least two of their four parts.

    Parts: product, when it was bought, the problem, the ask. Two requests sharing
    three of the four differ in one phrase only, as a retyped copy can; distinct
    requests here differ in more than that.
    """
    rng = random.Random(seed)
    seen: set[tuple[int, tuple[str, ...]]] = set()
    out: list[str] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 200 * n:
            raise ValueError(f"cannot draw {n} distinct texts")
        parts = (rng.choice(PRODUCTS), rng.choice(WHEN), rng.choice(PROBLEMS), rng.choice(ASKS))
        keys = [(i, parts[:i] + parts[i + 1 :]) for i in range(4)]
        if any(k in seen for k in keys):
            continue
        seen.update(keys)
        p, w, q, a = parts
        out.append(f"My {p} {q} ({w}), {a}?")
    return out


def near_copy(text: str, rng: random.Random) -> str:
    """``text`` as a user might retype it: case and punctuation, a typo, or a filler word."""
    kind = rng.randrange(5)
    if kind == 0:
        return "  " + text.upper().replace(",", "") + "!!"
    if kind == 1:  # one adjacent-letter swap inside a long word
        words = text.split()
        idx = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        if not idx:
            return text.lower()
        i = rng.choice(idx)
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return " ".join(words)
    if kind == 2:
        return f"{rng.choice(FILLERS).capitalize()}, {text[0].lower()}{text[1:]}"
    if kind == 3:
        return text.rstrip("?") + f" {rng.choice(FILLERS)}?"
    return text.replace("My ", "my  ", 1).lower()


def planted_duplicates(n_distinct: int, n_copies: int, seed: int) -> tuple[list[str], list[int]]:
    """Distinct texts with near-copies planted after their originals.

    Returns the texts and, per text, the index of the text it copies (itself for
    originals), so recall and false merges of a dedup can be counted exactly.
    """
    rng = random.Random(seed)
    base = distinct_texts(n_distinct, seed)
    texts = list(base)
    origin = list(range(n_distinct))
    for _ in range(n_copies):
        src = rng.randrange(n_distinct)
        pos = rng.randrange(texts.index(base[src]) + 1, len(texts) + 1)
        texts.insert(pos, near_copy(base[src], rng))
        origin.insert(pos, src)
    first: dict[int, int] = {}
    out = []
    for i, o in enumerate(origin):
        first.setdefault(o, i)
        out.append(first[o])
    return texts, out


def _pii(rng: random.Random, k: int) -> tuple[str, str]:
    """A sentence with one planted personal datum, and the datum itself."""
    kind = rng.randrange(3)
    if kind == 0:
        v = f"user{k}.{rng.choice(['lee', 'ng', 'diaz'])}@example{k % 7}.com"
        return f"email me at {v}", v
    if kind == 1:
        v = f"+44 20 7946 {k % 10000:04d}"
        return f"call me on {v}", v
    cards = ["4111 1111 1111 1111", "4539 1488 0343 6467", "5555-5555-5555-4444"]
    v = cards[k % 3]
    return f"my card is {v}", v


@dataclass
class Synthetic:
    """A generated production stream and what was planted in it."""

    interactions: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    pii: list[str] = field(default_factory=list)
    rare_ids: set[str] = field(default_factory=set)


def synthetic_production(
    n: int,
    *,
    seed: int = 0,
    feature: str = "support",
    n_distinct: int = 2_000,
    rare_share: float = 0.01,
    pii_share: float = 0.05,
    copy_share: float = 0.1,
    start: datetime | None = None,
) -> Synthetic:
    """``n`` interactions with feedback and steps (see :class:`Synthetic`).

    Failures: about 8 % rejected, 4 % edited, 2 % errored, latencies log-normal (so
    the slowest 10 % are "slow"), and 3 % of sessions abandoned after their last call.
    """
    rng = random.Random(seed)
    base = distinct_texts(min(n_distinct, max(1, n)), seed)
    t0 = start or datetime(2026, 5, 1, tzinfo=UTC)
    out = Synthetic([], [], [])
    session = 0
    for k in range(n):
        if k % 4 == 0:
            session += 1
        iid = f"i{k:06d}"
        if rng.random() < rare_share:
            text = rng.choice(RARE).format(p=rng.choice(PRODUCTS))
            out.rare_ids.add(iid)
        else:
            text = rng.choice(base)
            if rng.random() < copy_share:
                text = near_copy(text, rng)
        if rng.random() < pii_share:
            sentence, value = _pii(rng, k)
            text = f"{text} {sentence}"
            out.pii.append(value)
        ts = t0 + timedelta(seconds=30 * k)
        err = rng.random() < 0.02
        output = None if err else f"Thanks for reaching out about your request #{k % 97}."
        out.interactions.append(
            {
                "id": iid,
                "ts": ts,
                "feature": feature,
                "version": "v1" if k % 2 else "v2",
                "session_id": f"s{session:06d}",
                "user_id": f"u{session % 500}",
                "input": text,
                "output": output,
                "latency_ms": round(rng.lognormvariate(6.5, 0.5), 1),
                "error": "TimeoutError" if err else None,
            }
        )
        r = rng.random()
        if output is not None and r < 0.30:
            fb: dict[str, Any] = {"interaction_id": iid, "ts": ts + timedelta(seconds=5)}
            if r < 0.08:
                fb["accepted"] = False
            elif r < 0.12:
                fb["accepted"] = True
                fb["edited_output"] = output + " (edited by the agent)"
            else:
                fb["accepted"] = True
            out.feedback.append(fb)
        if k % 4 == 3 and rng.random() < 0.03:
            out.steps.append(
                {
                    "session_id": f"s{session:06d}",
                    "ts": ts + timedelta(seconds=9),
                    "name": "abandoned",
                }
            )
    return out
