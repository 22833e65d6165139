"""Silent users: what simulated people do after an answer, beyond a thumbs up or down.

Real users rarely give explicit feedback (``feedback_share``, ≈ 5 %). A user whose
answer was wrong mostly asks again in other words, asks for a human, or leaves; one whose
answer was right may copy it and moves on to their next question. A user whose *first*
answer was wrong comes back on later days less often. :func:`journey` is a generator per
user (it yields requests and is sent the feature's answers), so the same behaviour drives
the live demo (answers from the assistant) and offline simulations (:func:`simulate`,
answers from a seeded quality model). The simulation keeps its ground truth
(``Exchange.right``) for checking the implicit signals against.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pilotgate.demo import _noise as noise
from pilotgate.demo._intents import OUT_OF_SCOPE
from pilotgate.demo._phrases import CLEAN, SLOTS
from pilotgate.demo._reaction import Reaction, react
from pilotgate.demo._reply import AssistantReply
from pilotgate.demo._request import ProdRequest

__all__ = ["Behaviour", "Exchange", "journey", "quality_answer", "simulate", "user_sessions"]


@dataclass(frozen=True)
class Behaviour:
    """How simulated users act (the simulation's parameters, not the detector's).

    Attributes:
        feedback_share: share of answers that get explicit feedback.
        on_wrong: (rephrase, escalate, leave) probabilities after a wrong answer; the
            rest move on to their next question.
        on_partial: the same after a partial answer (one part of several answered).
        on_right: the same after a right answer (people re-ask now and then anyway).
        max_rephrases: rephrases of one question before the user escalates or leaves.
        return_after_good: chance a user whose first answer was right comes back later.
        return_after_bad: the same for a user whose first answer was wrong.
    """

    feedback_share: float = 0.05
    on_wrong: tuple[float, float, float] = (0.6, 0.15, 0.17)
    on_partial: tuple[float, float, float] = (0.45, 0.10, 0.15)
    on_right: tuple[float, float, float] = (0.02, 0.005, 0.05)
    max_rephrases: int = 2
    return_after_good: float = 0.85
    return_after_bad: float = 0.35


@dataclass(frozen=True)
class Exchange:
    """One request, the answer it got, and what the user did (with the ground truth)."""

    request: ProdRequest
    reply: AssistantReply | None
    latency_ms: float
    reaction: Reaction | None
    action: str  # next | rephrase | escalate | leave

    @property
    def right(self) -> bool:
        return self.reaction is not None and self.reaction.correctness == "right"


Answer = tuple[AssistantReply | None, float]

_REPHRASE_PREFIX = ("No, ", "I mean ", "I said: ", "Again: ", "Let me rephrase: ", "")
_ESCALATIONS = (
    "I want to talk to a human",
    "Can I speak to a real person please?",
    "This is useless, get me a live agent",
    "That's not what I asked. Put me through to customer service",
    "Useless. I want a refund for this and a complaint filed",
    "Quiero hablar con una persona real",
    "Je veux parler à un conseiller",
    "Ich möchte mit einem Mitarbeiter sprechen",
    "Quero falar com um atendente",
    "Voglio parlare con un operatore",
)


def rephrase(req: ProdRequest, k: int, rng: random.Random) -> ProdRequest:
    """The same question asked again in other words, a short while later."""
    text = req.text
    u = rng.random()
    if u < 0.25 and req.true_intent in CLEAN:
        text = noise.fill(rng.choice(CLEAN[req.true_intent]), rng, SLOTS)
    elif u < 0.6:
        words = text.split()
        if len(words) > 4:
            cut = rng.randrange(len(words))
            words = words[:cut] + words[cut + 1 :]
        text = " ".join(words)
    prefix = rng.choice(_REPHRASE_PREFIX)
    text = prefix + (text[0].lower() + text[1:] if prefix and text else text)
    return dataclasses.replace(
        req, id=f"{req.id}~r{k}", text=text, tags=(*req.tags, "rephrase"), kinds=("clean",)
    )


def escalation(req: ProdRequest, rng: random.Random) -> ProdRequest:
    return dataclasses.replace(
        req,
        id=f"{req.id}~esc",
        text=rng.choice(_ESCALATIONS),
        true_intent=OUT_OF_SCOPE,
        intents=(OUT_OF_SCOPE,),
        tags=("escalation",),
        kinds=("escalation",),
    )


def _action(b: Behaviour, correctness: str, rng: random.Random) -> str:
    probs = {"wrong": b.on_wrong, "partial": b.on_partial}.get(correctness, b.on_right)
    u = rng.random()
    for name, p in zip(("rephrase", "escalate", "leave"), probs, strict=True):
        if u < p:
            return name
        u -= p
    return "next"


def journey(
    sessions: Sequence[Sequence[ProdRequest]], rng: random.Random, b: Behaviour
) -> Generator[ProdRequest, Answer, list[Exchange]]:
    """One user's visits. Yields each request (with its send time); is sent the answer
    and its latency; returns the exchanges."""
    out: list[Exchange] = []
    first_right: bool | None = None
    for si, planned in enumerate(sessions):
        if si == 1 and first_right is not None:
            if rng.random() >= (b.return_after_good if first_right else b.return_after_bad):
                break  # after their first visit, they never come back
        queue = list(planned)
        ready = None
        chain = 0
        while queue:
            req = queue.pop(0)
            if ready is not None and req.ts < ready:
                req = dataclasses.replace(req, ts=ready + timedelta(seconds=rng.uniform(20, 90)))
            reply, latency_ms = yield req
            answered = req.ts + timedelta(milliseconds=latency_ms)
            if reply is None:
                out.append(Exchange(req, None, latency_ms, None, "rephrase"))
                if first_right is None:
                    first_right = False
                queue.insert(0, rephrase(req, chain + 1, rng))
                ready = answered
                chain += 1
                if chain > b.max_rephrases:
                    break
                continue
            reaction = react(req, reply, rng)
            explicit = rng.random() < b.feedback_share
            action = _action(b, reaction.correctness, rng)
            if req.kinds == ("escalation",) and reaction.correctness == "right":
                action = "leave"  # told how to reach a person: they go
            if action == "rephrase" and chain >= b.max_rephrases:
                action = rng.choice(("escalate", "leave"))
            reaction = dataclasses.replace(
                reaction,
                explicit=explicit,
                abandoned=action == "leave",
                steps=tuple(
                    s
                    for s in reaction.steps
                    if explicit or s.name not in ("accepted", "rejected", "edited", "abandoned")
                ),
            )
            if first_right is None:
                first_right = reaction.correctness == "right"
            out.append(Exchange(req, reply, latency_ms, reaction, action))
            ready = answered + timedelta(milliseconds=reaction.dwell_ms)
            gap = timedelta(seconds=rng.uniform(5, 45))
            if action == "rephrase":
                chain += 1
                queue.insert(0, dataclasses.replace(rephrase(req, chain, rng), ts=ready + gap))
                ready = None
            elif action == "escalate":
                queue = [dataclasses.replace(escalation(req, rng), ts=ready + gap)]
                ready = None
            elif action == "leave":
                break
            else:
                chain = 0
    return out


def user_sessions(stream: Sequence[ProdRequest]) -> dict[str, list[list[ProdRequest]]]:
    """The stream as each user's sessions, in time order."""
    by_session: dict[str, list[ProdRequest]] = {}
    for r in stream:
        by_session.setdefault(r.session_id, []).append(r)
    users: dict[str, list[list[ProdRequest]]] = {}
    for reqs in sorted(by_session.values(), key=lambda s: (s[0].ts, s[0].session_id)):
        users.setdefault(reqs[0].user_id, []).append(reqs)
    return users


#: P(right) by request kind for :func:`quality_answer` (about the demo router's rates).
_P_RIGHT = {
    "clean": 0.93,
    "typo": 0.8,
    "truncated": 0.6,
    "shouting": 0.85,
    "no_punctuation": 0.9,
    "multi_part": 0.9,
    "out_of_scope": 0.55,
    "mixed_language": 0.5,
    "jargon": 0.6,
    "formatting": 0.85,
    "escalation": 0.7,
}
_LABELS = ("card_lost", "balance", "transfer", "dispute_charge", "update_address", "loan_rate")


def quality_answer(seed: int, error_rate: float = 0.01) -> Callable[[ProdRequest], Answer]:
    """A seeded stand-in for the feature: right with a probability by request kind."""

    def answer(req: ProdRequest) -> Answer:
        rng = random.Random(f"quality:{seed}:{req.id}")
        latency = rng.lognormvariate(6.6, 0.4)
        if rng.random() < error_rate:
            return None, latency
        p = min(_P_RIGHT.get(k, 0.8) for k in req.kinds) if req.kinds else 0.85
        intent = req.true_intent
        if rng.random() >= p:
            others = [x for x in (*_LABELS, OUT_OF_SCOPE) if x not in req.intents]
            intent = rng.choice(others)
        return AssistantReply(intent, 0.5, "…", "v1", 20, 30), latency

    return answer


def simulate(
    stream: Sequence[ProdRequest],
    answer: Callable[[ProdRequest], Answer],
    *,
    seed: int = 0,
    behaviour: Behaviour | None = None,
) -> list[Exchange]:
    """Every user's journey through ``stream``, answered by ``answer`` (offline)."""
    b = behaviour or Behaviour()
    out: list[Exchange] = []
    for uid, sessions in user_sessions(stream).items():
        gen = journey(sessions, random.Random(f"users:{seed}:{uid}"), b)
        try:
            req = next(gen)
            while True:
                req = gen.send(answer(req))
        except StopIteration as stop:
            out += stop.value
    out.sort(key=lambda e: (e.request.ts, e.request.id))
    return out


def exchange_records(ex: Exchange, version: str, **kwargs: Any) -> list[dict[str, Any]]:
    """The ingest records of one exchange (feedback only when the user gave it)."""
    from pilotgate.demo._reaction import to_ingest_records

    recs = to_ingest_records(
        ex.request,
        ex.reply,
        ex.reaction,
        latency_ms=ex.latency_ms,
        error=None if ex.reply is not None else "LLMError",
        version=version,
        **kwargs,
    )
    for r in recs:
        if r["kind"] == "interaction":
            r["metadata"].setdefault("truth", {})["right"] = ex.right
    return recs
