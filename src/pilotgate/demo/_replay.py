"""The demo's live replay: simulated users (:mod:`pilotgate.demo._users`) talk to the real
assistant through the SDK, the way a team's app would record them.

Each user's visits run in order (a user who had a bad first answer may never come back,
so their later visits depend on the earlier ones); users run concurrently. The app side
is what a team would write: ``track`` around each answer, ``step`` for what the UI sees
(asked, answered, copied), and ``feedback`` only for the few users who press a button.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from typing import Any

from pilotgate.demo._request import ProdRequest
from pilotgate.demo._users import Behaviour, Exchange, journey, user_sessions

__all__ = ["replay_users"]


async def replay_users(
    stream: Sequence[ProdRequest],
    assistants: dict[str, Any],
    *,
    seed: int,
    switch_day: int,
    concurrency: int,
    feature: str,
    behaviour: Behaviour | None = None,
) -> list[ProdRequest]:
    """Replay every user's journey; returns the requests actually sent, in time order."""
    b = behaviour or Behaviour()
    t0 = stream[0].ts if stream else None
    sem = asyncio.Semaphore(concurrency)
    sent: list[ProdRequest] = []

    async def run_user(uid: str, sessions: list[list[ProdRequest]]) -> None:
        gen = journey(sessions, random.Random(f"{seed}:{uid}"), b)
        ids: dict[str, tuple[str, float]] = {}
        async with sem:
            try:
                req = next(gen)
                while True:
                    day = (req.ts - t0).days if t0 is not None else 0
                    version = "v1" if day < switch_day else "v2"
                    reply, latency_ms, tid = await _ask(assistants[version], req, version, feature)
                    ids[req.id] = (tid, req.ts.timestamp() + latency_ms / 1000)
                    sent.append(req)
                    req = gen.send((reply, latency_ms))
            except StopIteration as stop:
                exchanges: list[Exchange] = stop.value
        for ex in exchanges:
            _record(ex, *ids[ex.request.id])

    await asyncio.gather(*(run_user(u, s) for u, s in user_sessions(stream).items()))
    sent.sort(key=lambda r: (r.ts, r.id))
    return sent


async def _ask(
    assistant: Any, req: ProdRequest, version: str, feature: str
) -> tuple[Any, float, str]:
    from pilotgate import instrument as pg

    reply = None
    start = req.ts.timestamp()
    t_call = time.perf_counter()
    with pg.track(feature=feature, version=version) as t:
        t.at = start
        t.input = req.text
        t.session_id, t.user_id = req.session_id, req.user_id
        t.metadata = {
            "request_id": req.id,
            "tags": list(req.tags),
            "truth": {"intent": req.true_intent, "intents": list(req.intents)},
        }
        try:
            reply = await assistant.answer(req.text)
            t.output = reply.output
            t.tokens_in, t.tokens_out = reply.tokens_in, reply.tokens_out
            t.metadata |= {"intent": reply.intent, "confidence": reply.confidence}
            right = reply.intent == req.true_intent
        except Exception as exc:  # the app records the failure and moves on
            t.error = type(exc).__name__
            right = False
        t.metadata["truth"]["right"] = right
    return reply, (time.perf_counter() - t_call) * 1000, t.id


def _record(ex: Exchange, tid: str, answered: float) -> None:
    from pilotgate import instrument as pg

    start = ex.request.ts.timestamp()
    reaction = ex.reaction
    if reaction is None:
        pg.step(ex.request.session_id, "asked", at=start, interaction_id=tid)
        return
    for ev in reaction.steps:
        base = start if ev.anchor == "request" else answered
        pg.step(ex.request.session_id, ev.name, at=base + ev.offset_ms / 1000, interaction_id=tid)
    if reaction.explicit:
        pg.feedback(
            tid,
            accepted=reaction.accepted,
            score=reaction.score,
            edited_output=reaction.edited_output,
            dwell_ms=reaction.dwell_ms,
            at=answered + reaction.dwell_ms / 1000,
        )
