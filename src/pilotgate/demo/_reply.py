"""The demo feature's output contract, shared by the assistant, the server and the data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FEATURE_NAME", "AssistantReply", "format_output"]

#: The feature name every demo interaction is recorded under.
FEATURE_NAME = "northwind-support"


def format_output(intent: str, text: str) -> str:
    """The plain-text form others score against: ``[intent=<label>] <reply text>``."""
    return f"[intent={intent}] {text}"


@dataclass(frozen=True)
class AssistantReply:
    """What the assistant answered.

    Attributes:
        intent: the routed intent label (``out_of_scope`` when declined).
        confidence: the best exemplar cosine similarity, in [-1, 1].
        text: the reply text written through the LLM.
        version: the feature version that answered (``v1``/``v2``).
        tokens_in: prompt tokens the LLM reported, if any.
        tokens_out: completion tokens the LLM reported, if any.
    """

    intent: str
    confidence: float
    text: str
    version: str
    tokens_in: int | None = None
    tokens_out: int | None = None

    @property
    def output(self) -> str:
        """The reply as plain text, prefixed with its intent."""
        return format_output(self.intent, self.text)

    def __str__(self) -> str:
        return self.output
