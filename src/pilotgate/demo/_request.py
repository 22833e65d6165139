"""A production request and the ground truth the simulation knows about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ProdRequest"]


@dataclass(frozen=True)
class ProdRequest:
    """One production request, with the ground truth the simulation knows.

    Attributes:
        id: stable id (``prod-00001`` in time order).
        ts: when it was sent (UTC, tz-aware).
        session_id: the session it belongs to; ``seq`` is its position in it.
        user_id: the user who sent it.
        text: what the user typed.
        true_intent: the intent a correct feature routes it to (the first part of a
            multi-part request; ``out_of_scope`` for tasks the bank does not offer).
        intents: every intent the request asks about, ``true_intent`` first.
        tags: its kinds (``clean``, ``typo``…), ``pii``/``pii:<kind>`` and ``lang:<code>``.
    """

    id: str
    ts: datetime
    session_id: str
    user_id: str
    text: str
    true_intent: str
    intents: tuple[str, ...]
    tags: tuple[str, ...]
    seq: int = 0
    kinds: tuple[str, ...] = field(default=())

    def to_case(self) -> dict[str, Any]:
        """This request as an eval case (docs/formats.md cases format)."""
        return {
            "id": self.id,
            "input": self.text,
            "expected": self.true_intent,
            "tags": list(self.tags),
            "source": "production",
        }
