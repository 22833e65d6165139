"""Seeded demo data: the hand-picked demo set and a production stream that is wide.

The demo set is what a team shows in a demo: ~50 short, well-formed requests over six
intents. The production stream is what the pilot then meets: ~5,000 requests over two
weeks from ~400 users, of which roughly 40 % are not clean (typos, truncation, shouting,
no punctuation, multi-part questions, out-of-scope tasks, mixed languages, jargon,
pasted formatting), with some planted PII and more mixed-language traffic in week two.
Simulated users then react to each answer depending on whether it was right
(:func:`react`), and :func:`to_ingest_records` writes it all in the ingest format.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pilotgate.demo import _noise as noise
from pilotgate.demo._intents import OUT_OF_SCOPE
from pilotgate.demo._phrases import (
    CLEAN,
    DEMO,
    JARGON,
    MIXED,
    OUT_OF_SCOPE_REQUESTS,
    SLOTS,
    template_split,
)
from pilotgate.demo._reaction import Reaction, StepEvent, react, to_ingest_records
from pilotgate.demo._request import ProdRequest
from pilotgate.errors import ConfigError

__all__ = [
    "DEFAULT_START",
    "KINDS",
    "ProdRequest",
    "Reaction",
    "StepEvent",
    "demo_set",
    "kind_shares",
    "production_stream",
    "react",
    "to_ingest_records",
]

#: First day of the simulated pilot (a Monday).
DEFAULT_START = datetime(2025, 3, 3, tzinfo=UTC)

#: Request kinds and their week-one shares; ``mixed_language`` grows over the pilot.
KINDS: dict[str, float] = {
    "clean": 0.61,
    "typo": 0.07,
    "truncated": 0.035,
    "shouting": 0.035,
    "no_punctuation": 0.04,
    "multi_part": 0.04,
    "out_of_scope": 0.05,
    "mixed_language": 0.04,
    "jargon": 0.05,
    "formatting": 0.03,
}
_MIXED_DRIFT = 0.07  # extra mixed-language share by the last day, taken from "clean"
_PII_SHARE = 0.04
_SURFACE = {
    "typo": noise.typos,
    "truncated": noise.truncate,
    "shouting": noise.shout,
    "no_punctuation": noise.no_punctuation,
}
_INTENT_MIX = {
    "card_lost": 0.16,
    "balance": 0.18,
    "transfer": 0.16,
    "dispute_charge": 0.12,
    "update_address": 0.08,
    "loan_rate": 0.09,
    "close_account": 0.07,
    "fees": 0.14,
}
_DEMO_COUNTS = {
    "card_lost": 9,
    "balance": 8,
    "transfer": 9,
    "dispute_charge": 8,
    "loan_rate": 8,
    "fees": 8,
}


def demo_set(seed: int = 0) -> list[dict[str, Any]]:
    """~50 clean, well-formed requests over six intents, as docs/formats.md cases."""
    rng = random.Random(f"demo-set:{seed}")
    cases: list[dict[str, Any]] = []
    for label, count in _DEMO_COUNTS.items():
        templates = DEMO[label]
        seen: set[str] = set()
        k = 0
        while len(seen) < count and k < count * 20:
            text = noise.fill(templates[k % len(templates)], rng, SLOTS)
            k += 1
            if text in seen:
                continue
            seen.add(text)
            cases.append({"input": text, "expected": label, "tags": ["clean", label]})
    rng.shuffle(cases)
    return [{"id": f"demo-{i + 1:03d}", **c, "source": "demo"} for i, c in enumerate(cases)]


def kind_shares(day: int, days: int) -> dict[str, float]:
    """The kind mix on ``day`` (0-based) of a ``days``-long pilot."""
    drift = _MIXED_DRIFT * (day / max(days - 1, 1))
    shares = dict(KINDS)
    shares["mixed_language"] += drift
    shares["clean"] -= drift
    return shares


def production_stream(
    seed: int = 0,
    n: int = 5000,
    days: int = 14,
    start: date | datetime | None = None,
    users: int = 400,
) -> list[ProdRequest]:
    """``n`` production requests over ``days`` days from about ``users`` users, in time order."""
    if n < 0 or days < 1 or users < 1:
        raise ConfigError(
            f"production_stream needs n >= 0, days >= 1, users >= 1 (got {n}, {days}, {users})"
        )
    t0 = _start_of(start)
    rng = random.Random(f"production:{seed}")
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(users)]
    user_ids = [f"u-{i + 1:04d}" for i in range(users)]
    day_weights = [0.6 if (t0 + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)]
    rows: list[tuple[datetime, str, str, int, _Draft]] = []
    n_sessions = 0
    while len(rows) < n:
        n_sessions += 1
        session_id = f"s-{n_sessions:05d}"
        user = rng.choices(user_ids, weights)[0]
        day = rng.choices(range(days), day_weights)[0]
        ts = t0 + timedelta(days=day, seconds=_second_of_day(rng))
        size = rng.choices((1, 2, 3, 4), (0.45, 0.30, 0.15, 0.10))[0]
        for seq in range(min(size, n - len(rows))):
            rows.append((ts, session_id, user, seq, _draft(rng, kind_shares(day, days))))
            ts += timedelta(seconds=rng.uniform(25, 240))
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    return [
        ProdRequest(
            id=f"prod-{i + 1:05d}",
            ts=ts,
            session_id=sid,
            user_id=user,
            text=d.text,
            true_intent=d.intents[0],
            intents=d.intents,
            tags=d.tags,
            seq=seq,
            kinds=d.kinds,
        )
        for i, (ts, sid, user, seq, d) in enumerate(rows)
    ]


@dataclass(frozen=True)
class _Draft:
    text: str
    intents: tuple[str, ...]
    kinds: tuple[str, ...]
    tags: tuple[str, ...]


def _start_of(start: date | datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if isinstance(start, datetime):
        return start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    return datetime(start.year, start.month, start.day, tzinfo=UTC)


def _second_of_day(rng: random.Random) -> float:
    """Office hours and evenings are busy, nights are quiet."""
    hour = rng.choices(range(24), _HOURLY)[0]
    return hour * 3600 + rng.uniform(0, 3600)


_HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 8, 8, 7, 7, 7, 8, 9, 9, 7, 4, 2]


def _draft(rng: random.Random, shares: dict[str, float]) -> _Draft:
    kind = rng.choices(list(shares), list(shares.values()))[0]
    intent = rng.choices(list(_INTENT_MIX), list(_INTENT_MIX.values()))[0]
    kinds = [kind]
    extra_tags: list[str] = []
    used: list[str] = []  # the templates the text was built from (the fix's split)
    intents: tuple[str, ...] = (intent,)
    if kind == "out_of_scope":
        intents = (OUT_OF_SCOPE,)
        text = rng.choice(OUT_OF_SCOPE_REQUESTS)
        used.append(text)
    elif kind == "jargon":
        used.append(rng.choice(JARGON[intent]))
        text = noise.fill(used[-1], rng, SLOTS)
    elif kind == "mixed_language":
        lang, template = rng.choice(MIXED[intent])
        used.append(template)
        text = noise.fill(template, rng, SLOTS)
        extra_tags.append(f"lang:{lang}")
    elif kind == "multi_part":
        others = [x for x in _INTENT_MIX if x != intent]
        intents = (intent, *rng.sample(others, rng.choice((1, 1, 1, 2))))
        parts = [_clean_text(rng, x, used) for x in intents]
        text = parts[0]
        for p in parts[1:]:
            glue = rng.choice((" Also, ", " And ", " Plus, ", " Oh and "))
            text += glue + p[0].lower() + p[1:]
    else:
        text = _clean_text(rng, intent, used)
    extra_tags.append(f"template:{template_split(used)}")
    if kind in _SURFACE:
        text = _SURFACE[kind](text, rng)
    elif kind == "formatting":
        text = noise.paste_formatting(text, rng)
    if kind in ("jargon", "mixed_language", "formatting") and rng.random() < 0.2:
        second = rng.choice(("typo", "no_punctuation", "shouting"))
        text = _SURFACE[second](text, rng)
        kinds.append(second)
    if intents[0] != OUT_OF_SCOPE and rng.random() < _PII_SHARE / (1 - KINDS["out_of_scope"]):
        text, pii_kind = noise.plant_pii(text, rng)
        extra_tags += ["pii", f"pii:{pii_kind}"]
    return _Draft(text, intents, tuple(kinds), (*kinds, *extra_tags))


def _clean_text(rng: random.Random, intent: str, used: list[str]) -> str:
    pool = CLEAN[intent] if rng.random() < 0.75 or intent not in DEMO else DEMO[intent]
    used.append(rng.choice(pool))
    text = noise.fill(used[-1], rng, SLOTS)
    if rng.random() < 0.35:
        text = rng.choice(_OPENERS) + text[0].lower() + text[1:]
    if rng.random() < 0.25:
        text += rng.choice(_CLOSERS)
    return text


_OPENERS = ("Hi, ", "Hello, ", "Hey, ", "Good morning, ", "Quick question: ", "Hi there, ")
_CLOSERS = (" Thanks.", " Thank you!", " Thanks in advance.", " Please help.", " Cheers.")
