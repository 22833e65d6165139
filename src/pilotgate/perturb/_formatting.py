"""Formatting: text pasted from somewhere else, with its markup, whitespace and baggage."""

from __future__ import annotations

import html
import random
import re

from pilotgate.perturb._base import count_for, edit_words, perturbation

_WORD_RE = re.compile(r"[^\W\d_]{3,}")
_SENT_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=\S)|,\s+|;\s+|\s+(?:and|but|then)\s+")
_GAP_RE = re.compile(r" +")


@perturbation(
    "markdown",
    family="formatting",
    description="Pasted markdown: a heading, **bold**/_italic_/`code` words, a rule.",
    default_severity=0.2,
)
def markdown(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of words (3+ letters) wrapped in bold, italic or code marks.

    A ``### Question`` heading is added above and a ``---`` rule below when severity is
    at least 0.3.
    """
    marks = ("**", "_", "`", "*")

    def wrap(tok: str, r: random.Random) -> str:
        m = _WORD_RE.search(tok)
        if m is None:
            return tok
        mark = r.choice(marks)
        return tok[: m.start()] + mark + m.group() + mark + tok[m.end() :]

    out = edit_words(text, severity, rng, wrap, _WORD_RE.search)
    if out == text or severity >= 0.3:
        out = f"### {rng.choice(['Question', 'Issue', 'Request', 'Help needed'])}\n\n{out}"
        if severity >= 0.3:
            out += "\n\n---\n"
    return out


@perturbation(
    "html",
    family="formatting",
    description="An HTML fragment: tags, <br>, &nbsp; and escaped entities around the text.",
    default_severity=0.2,
)
def html_fragment(text: str, *, severity: float, rng: random.Random) -> str:
    """The text HTML-escaped inside ``<div><p>…</p></div>``; severity = share of spaces
    turned into ``&nbsp;`` or ``<br>`` (round half up, at least one when there is a space).
    """
    body = html.escape(text, quote=False)
    spots = [m.start() for m in _GAP_RE.finditer(body)]
    chosen = set(rng.sample(spots, count_for(severity, len(spots))))
    if chosen:
        body = "".join(
            (rng.choice(["&nbsp;", "<br>", "<br/>\n"]) if i in chosen else c)
            for i, c in enumerate(body)
        )
    style = rng.choice(["", ' class="msg"', ' style="font-family:Arial"', ' dir="auto"'])
    return f"<div{style}><p>{body}</p></div>"


@perturbation(
    "bullet_list",
    family="formatting",
    description="The request broken into a bulleted or numbered list.",
    default_severity=0.5,
)
def bullet_list(text: str, *, severity: float, rng: random.Random) -> str:
    """Sentences and clauses become list items; severity = share of split points used.

    Split points are sentence ends, commas, semicolons and and/but/then. With none, the
    words are split into ``max(2, 1 + round(3 × severity))`` roughly equal items.
    """
    cuts = [m.span() for m in _SENT_SPLIT_RE.finditer(text)]
    if cuts:
        chosen = sorted(rng.sample(cuts, count_for(severity, len(cuts))))
        items, prev = [], 0
        for a, b in chosen:
            items.append(text[prev:a])
            prev = b
        items.append(text[prev:])
    else:
        words = text.split()
        parts = min(len(words), max(2, 1 + int(3 * severity + 0.5)))
        size = -(-len(words) // parts) if words else 1
        items = [" ".join(words[i : i + size]) for i in range(0, len(words), size)] or [text]
    style = rng.choice(["- ", "* ", "• ", "num"])
    lines = [
        (f"{i}. " if style == "num" else style) + item.strip()
        for i, item in enumerate(items, start=1)
    ]
    return "\n".join(lines)


@perturbation(
    "stray_whitespace",
    family="formatting",
    description="Stray newlines, tabs and runs of spaces between words.",
    default_severity=0.2,
)
def stray_whitespace(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of the n spaces replaced by a newline, tab or run of spaces.

    Text with no spaces gets leading and trailing whitespace instead.
    """
    spots = [i for i, c in enumerate(text) if c == " "]
    if not spots:
        return "\n\t" + text + "  \n"
    chosen = set(rng.sample(spots, count_for(severity, len(spots))))
    junk = ["\n", "\n\n", "\t", "   ", " \t ", "\r\n", "\n   "]
    return "".join(rng.choice(junk) if i in chosen else c for i, c in enumerate(text))


_NAMES = ["Alex Chen", "Maria Lopez", "Sam Patel", "Jordan Smith", "Priya Nair", "Tom Becker"]
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
_EARLIER = [
    "Thanks for getting back to me.",
    "Following up on my earlier message, see below.",
    "Any update on this? I'm still waiting.",
    "Forwarding this as discussed on the phone.",
    "Please see the thread below and advise.",
]


@perturbation(
    "email_thread",
    family="formatting",
    description="The request inside a quoted email thread with headers and a signature.",
    default_severity=0.3,
)
def email_thread(text: str, *, severity: float, rng: random.Random) -> str:
    """The request at the top of a reply, above ``1 + round(3 × severity)`` quoted
    earlier messages (each one more ``>`` deep), with Subject/From headers and a signature.
    """
    depth = 1 + int(3 * severity + 0.5)
    me, other = rng.sample(_NAMES, 2)
    lines = [f"Subject: RE: {' '.join(text.split()[:6])[:60]}", f"From: {me}", "", text, "", me]
    quote = ""
    for level in range(1, depth + 1):
        quote = ">" * level + " "
        day = rng.choice(_DAYS)
        who = other if level % 2 else me
        lines += ["", f"{quote}On {day}, {rng.randint(1, 28)} May at {rng.randint(8, 18)}:"]
        lines[-1] += f"{rng.randint(10, 59)}, {who} wrote:"
        lines.append(quote + rng.choice(_EARLIER))
    lines.append(quote + "Sent from my phone")
    return "\n".join(lines)


_PREAMBLE = [
    "Hi there, I hope you're doing well today.",
    "I've been a customer for many years and usually everything works fine.",
    "I tried to look this up on the website first but couldn't find a clear answer.",
    "My colleague said I should just ask here, so here I am.",
    "Sorry if this has been asked before, I'm not very good with these things.",
    "I'm writing this from my phone so please excuse any mistakes.",
    "Some background: I moved house recently and a lot of my details changed.",
    "Last week I spent almost an hour on hold and then the call dropped.",
    "I'm not sure if this is the right place for this question.",
    "It's been a long week and I'm honestly a bit frustrated.",
    "I read the FAQ twice and it didn't cover my situation.",
    "My partner usually handles this kind of thing but they're away.",
]


@perturbation(
    "long_preamble",
    family="formatting",
    description="A long, irrelevant preamble before the actual request.",
    default_severity=0.25,
)
def long_preamble(text: str, *, severity: float, rng: random.Random) -> str:
    """``max(1, round(40 × severity))`` preamble sentences (drawn with replacement from
    a pool of twelve) come before the request, which starts a new paragraph.
    """
    n = max(1, int(40 * severity + 0.5))
    pre = " ".join(rng.choice(_PREAMBLE) for _ in range(n))
    return f"{pre}\n\nAnyway, {text}"
