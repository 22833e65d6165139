"""What production does to a request: typos, truncation, shouting, pasted formatting, PII.

Every function takes a ``random.Random`` so the stream is reproducible by seed.
"""

from __future__ import annotations

import random
import re

__all__ = [
    "fill",
    "luhn_card_number",
    "no_punctuation",
    "paste_formatting",
    "plant_pii",
    "shout",
    "truncate",
    "typos",
]

_SLOT = re.compile(r"\{(\w+)\}")
_NEIGHBOURS = {
    "a": "qsz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "y": "tu",
}
_NAMES = ("jane.doe", "m.garcia", "raj.patel88", "chris_w", "anna.k", "tom.baker")
_DOMAINS = ("example.com", "mail.example.org", "example.net")


def fill(template: str, rng: random.Random, slots: dict[str, tuple[str, ...]]) -> str:
    """Fill ``{slot}`` placeholders with seeded choices."""
    return _SLOT.sub(lambda m: rng.choice(slots[m.group(1)]), template)


def typos(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Misspell about ``rate`` of the words: swaps, drops, doubles and fat fingers."""
    words = text.split(" ")
    out = []
    for w in words:
        if len(w) >= 3 and rng.random() < rate:
            i = rng.randrange(1, len(w) - 1)
            op = rng.randrange(4)
            if op == 0:
                w = w[: i - 1] + w[i] + w[i - 1] + w[i + 1 :]
            elif op == 1:
                w = w[:i] + w[i + 1 :]
            elif op == 2:
                w = w[:i] + w[i] + w[i:]
            else:
                c = w[i].lower()
                w = w[:i] + rng.choice(_NEIGHBOURS.get(c, c)) + w[i + 1 :]
        out.append(w)
    return " ".join(out)


def truncate(text: str, rng: random.Random) -> str:
    """Cut the request off mid-way, as a user who hit enter too early."""
    if len(text) < 12:
        return text
    return text[: max(6, int(len(text) * rng.uniform(0.4, 0.7)))].rstrip()


def shout(text: str, rng: random.Random) -> str:
    """All caps and a burst of punctuation."""
    end = rng.choice(("!!!", "!!!!", "???", "?!?!", "!!"))
    return text.upper().rstrip(".!?") + end


def no_punctuation(text: str, rng: random.Random) -> str:
    """Lower case, no punctuation, no apostrophes: typed fast on a phone."""
    del rng
    return re.sub(r"[^\w\s$]", "", text).lower()


def paste_formatting(text: str, rng: random.Random) -> str:
    """Wrap the request in what people paste: markdown, e-mail quotes, signatures."""
    style = rng.randrange(3)
    if style == 0:
        return f"**Subject:** help needed\n\n- {text}\n- thanks in advance"
    if style == 1:
        return (
            f"Hi,\n\n{text}\n\nThanks,\nSam\nSent from my iPhone\n\n"
            "> On Mon, Mar 3, 2025 at 9:14 AM Northwind Bank <support@northwind.example> wrote:\n"
            "> Thank you for contacting Northwind Bank. How can we help?"
        )
    return f"### Question\n\n`{text}`\n\n<br>\n---\nSent from Northwind Mobile"


def luhn_card_number(rng: random.Random) -> str:
    """A 16-digit, Luhn-valid Visa-style test number, grouped by four."""
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def plant_pii(text: str, rng: random.Random) -> tuple[str, str]:
    """Append an e-mail, phone or card number; returns the text and the PII kind."""
    kind = rng.choice(("email", "phone", "card_number"))
    if kind == "email":
        value = f"{rng.choice(_NAMES)}@{rng.choice(_DOMAINS)}"
        extra = rng.choice((f"You can reach me at {value}.", f"my email is {value}"))
    elif kind == "phone":
        value = f"(555) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
        extra = rng.choice((f"Call me back at {value}.", f"my number is {value}"))
    else:
        value = luhn_card_number(rng)
        extra = rng.choice((f"The card number is {value}.", f"card {value}"))
    return f"{text} {extra}", kind
