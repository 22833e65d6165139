"""Reply text: seeded plausible words, one word per token, and the ``REPLY:`` hook.

The simulator does not understand the prompt; it produces text whose *shape*
(length, token cadence, usage numbers) is what a client has to cope with. A system
line ``REPLY: <text>`` lets a demo feature make the simulator start with a
meaningful, deterministic answer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

__all__ = ["WORDS", "make_tokens", "prompt_tokens", "reply_prefix"]

WORDS: tuple[str, ...] = tuple(
    """
    the a to of and in for your you we our this that with on it is are can will be
    account card payment transfer balance statement branch support team request
    please thank help check update review confirm note details information process
    time today within days business usually next steps security verify identity
    online app mobile settings option available new existing customer service
    fee charge refund limit daily monthly rate interest savings loan mortgage
    application approval document form address phone email message contact
    secure access password reset login device notification alert change cancel
    order status pending completed received sent processed amount date reference
    number code help centre guide question answer issue problem solution simply
    also then after before once while if when where how what which more most
    some any each every all other another same different important quickly easily
    here there now soon again still already just only usually typically generally
    open close start finish continue select choose enter provide follow visit
    call write ask find see make take give keep use need want know let
    """.split()
)


def prompt_tokens(messages: Sequence[Any]) -> int:
    """Approximate prompt tokens as characters / 4 (at least 1), like a rough tokenizer."""
    chars = 0
    for m in messages:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    chars += len(part["text"])
    return max(1, (chars + 3) // 4)


def reply_prefix(messages: Sequence[Any]) -> str | None:
    """The text after ``REPLY:`` on a line of a system (or developer) message, if any."""
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer"):
            continue
        content = m.get("content")
        if isinstance(content, list):
            content = "\n".join(
                p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
            )
        if not isinstance(content, str) or "REPLY:" not in content:
            continue
        for line in content.splitlines():
            line = line.strip()
            if line.startswith("REPLY:"):
                return line[len("REPLY:") :].strip()
    return None


def make_tokens(rng: random.Random, n: int, prefix: str | None = None) -> list[str]:
    """``n`` token pieces whose concatenation is the reply (every piece after the first
    starts with a space, as BPE pieces do).

    The ``prefix`` words come first; the rest are seeded words formed into sentences.
    """
    pieces: list[str] = []
    if prefix:
        words = prefix.split()[:n]
        pieces.extend(w if i == 0 else " " + w for i, w in enumerate(words))
    choice = rng.choice
    sentence_left = 0
    while len(pieces) < n:
        word = choice(WORDS)
        if sentence_left <= 0:
            word = word.capitalize()
            sentence_left = rng.randint(6, 14)
        sentence_left -= 1
        if sentence_left == 0 or len(pieces) == n - 1:
            word += "."
        pieces.append(word if not pieces else " " + word)
    return pieces
