"""Simulated users: how they react to an answer, and the ingest records that follow.

A user who got what they asked for mostly accepts and sometimes copies the answer; a
user who got the wrong intent mostly rejects or edits, reads longer, and may leave the
session. Declining an out-of-scope request counts as the right answer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pilotgate.demo._intents import INTENTS, OUT_OF_SCOPE, OUT_OF_SCOPE_ANSWER
from pilotgate.demo._reply import FEATURE_NAME, AssistantReply, format_output
from pilotgate.demo._request import ProdRequest

__all__ = ["Reaction", "StepEvent", "react", "to_ingest_records"]

Outcome = Literal["accepted", "rejected", "edited"]
_ANSWERS = {i.label: i.answer for i in INTENTS} | {OUT_OF_SCOPE: OUT_OF_SCOPE_ANSWER}
# (accept, edit, reject) by how right the answer was.
_OUTCOME_P = {
    "right": (0.86, 0.09, 0.05),
    "partial": (0.35, 0.45, 0.20),
    "wrong": (0.07, 0.23, 0.70),
}
_DWELL = {"right": (4000.0, 0.6), "partial": (7000.0, 0.6), "wrong": (9500.0, 0.7)}
_ABANDON_P = {"rejected": 0.4, "edited": 0.15, "accepted": 0.0}


@dataclass(frozen=True)
class StepEvent:
    """A workflow step, timed relative to the request (``asked``) or to the answer."""

    name: str
    anchor: Literal["request", "answer"]
    offset_ms: float


@dataclass(frozen=True)
class Reaction:
    """What a simulated user did with an answer.

    Attributes:
        outcome: accepted, rejected or edited.
        correctness: ``right``, ``partial`` (answered another part of a multi-part
            request) or ``wrong``.
        score: 1 accepted, 0.5 edited, 0 rejected.
        dwell_ms: time spent reading the answer before reacting.
        edited_output: what the user changed the answer to, when edited.
        copied: whether they copied the answer.
        abandoned: whether they left the session after this answer; the rest of the
            session's requests are then never sent.
        steps: the workflow steps this exchange produced.
        explicit: whether the user told the app (thumbs up/down, an edit); most real
            users do not (:mod:`pilotgate.demo._users`), and then no feedback is sent.
    """

    outcome: Outcome
    correctness: Literal["right", "partial", "wrong"]
    score: float
    dwell_ms: float
    edited_output: str | None
    copied: bool
    abandoned: bool
    steps: tuple[StepEvent, ...]
    explicit: bool = True

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


def react(request: ProdRequest, reply: AssistantReply | str, rng: random.Random) -> Reaction:
    """Simulate the user's reaction to ``reply`` (an :class:`AssistantReply` or its text)."""
    intent = reply.intent if isinstance(reply, AssistantReply) else _intent_of(reply)
    if intent == request.true_intent:
        correctness: Literal["right", "partial", "wrong"] = "right"
    elif intent in request.intents:
        correctness = "partial"
    else:
        correctness = "wrong"
    p_acc, p_edit, _ = _OUTCOME_P[correctness]
    u = rng.random()
    outcome: Outcome = "accepted" if u < p_acc else "edited" if u < p_acc + p_edit else "rejected"
    median, sigma = _DWELL[correctness]
    dwell = round(rng.lognormvariate(math.log(median), sigma), 1)
    copied = outcome == "accepted" and rng.random() < 0.45
    abandoned = correctness != "right" and rng.random() < _ABANDON_P[outcome]
    edited = (
        format_output(request.true_intent, _ANSWERS[request.true_intent])
        if outcome == "edited"
        else None
    )
    steps: list[StepEvent] = []
    if request.seq == 0:
        steps.append(StepEvent("opened_assistant", "request", -round(rng.uniform(1500, 9000), 1)))
    steps += [StepEvent("asked", "request", 0.0), StepEvent("answered", "answer", 0.0)]
    steps.append(StepEvent(outcome, "answer", dwell))
    if copied:
        steps.append(StepEvent("copied_answer", "answer", dwell + round(rng.uniform(300, 2500), 1)))
    if abandoned:
        steps.append(StepEvent("abandoned", "answer", dwell + round(rng.uniform(500, 5000), 1)))
    score = {"accepted": 1.0, "edited": 0.5, "rejected": 0.0}[outcome]
    return Reaction(outcome, correctness, score, dwell, edited, copied, abandoned, tuple(steps))


def _intent_of(output: str) -> str:
    if output.startswith("[intent=") and "]" in output:
        return output[len("[intent=") : output.index("]")]
    return ""


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds")


def to_ingest_records(
    request: ProdRequest,
    reply: AssistantReply | None,
    reaction: Reaction | None,
    *,
    latency_ms: float,
    ttft_ms: float | None = None,
    error: str | None = None,
    version: str | None = None,
    feature: str = FEATURE_NAME,
    truth: bool = True,
) -> list[dict[str, Any]]:
    """The docs/formats.md ingest records of one exchange: interaction, feedback and steps.

    Args:
        request: the production request that was sent.
        reply: the feature's answer, or ``None`` when the call failed (then pass ``error``).
        reaction: the simulated user's reaction (``None`` when there was no answer).
        latency_ms: end-to-end latency measured by the caller.
        ttft_ms: time to first token, if known.
        error: the error class when the call failed.
        version: version label; defaults to the reply's.
        feature: feature name to record under.
        truth: put the simulation's ground truth in ``metadata.truth`` (true intent and
            kinds) so demos can show what a labelled eval set would have known.
    """
    answered_at = request.ts + timedelta(milliseconds=latency_ms)
    metadata: dict[str, Any] = {"tags": list(request.tags)}
    if reply is not None:
        metadata |= {"intent": reply.intent, "confidence": reply.confidence}
    if truth:
        metadata["truth"] = {"intent": request.true_intent, "intents": list(request.intents)}
    records: list[dict[str, Any]] = [
        {
            "kind": "interaction",
            "id": request.id,
            "ts": _iso(request.ts),
            "feature": feature,
            "version": version or (reply.version if reply else ""),
            "session_id": request.session_id,
            "user_id": request.user_id,
            "input": request.text,
            "output": reply.output if reply else None,
            "latency_ms": round(latency_ms, 3),
            "ttft_ms": None if ttft_ms is None else round(ttft_ms, 3),
            "tokens_in": reply.tokens_in if reply else None,
            "tokens_out": reply.tokens_out if reply else None,
            "error": error,
            "metadata": metadata,
        }
    ]
    if reaction is None:
        steps = [StepEvent("asked", "request", 0.0)]
        if request.seq == 0:
            steps.insert(0, StepEvent("opened_assistant", "request", -2000.0))
    else:
        steps = list(reaction.steps)
    if reaction is not None and reaction.explicit:
        records.append(
            {
                "kind": "feedback",
                "id": f"{request.id}:feedback",
                "interaction_id": request.id,
                "ts": _iso(answered_at + timedelta(milliseconds=reaction.dwell_ms)),
                "accepted": reaction.accepted,
                "score": reaction.score,
                "edited_output": reaction.edited_output,
                "dwell_ms": reaction.dwell_ms,
                "comment": None,
            }
        )
    for step in steps:
        base = request.ts if step.anchor == "request" else answered_at
        records.append(
            {
                "kind": "step",
                "id": f"{request.id}:{step.name}",
                "session_id": request.session_id,
                "ts": _iso(base + timedelta(milliseconds=step.offset_ms)),
                "name": step.name,
                "metadata": {"interaction_id": request.id},
            }
        )
    return records
