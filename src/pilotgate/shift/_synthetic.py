"""A seeded generator of varied customer-support requests, for tests and benchmarks.

Why here and not in tests/: the null and planted-gap tests, ``benchmarks/shift.py`` and
the docs example all need the same pool, and a benchmark cannot import test modules. It
is private (not in ``__all__``) and makes no claim to realism beyond "many intents, many
phrasings, slot values, greetings, typos and casing noise", which is what a coverage
test needs: a pool wide enough that no eval set is a copy of production.
"""

from __future__ import annotations

import random

__all__ = ["support_requests"]

_PRODUCTS = (
    "headphones", "laptop bag", "coffee grinder", "running shoes", "phone case", "desk lamp",
    "blender", "winter jacket", "gift card", "yoga mat", "smart watch", "printer ink",
    "backpack", "kettle", "monitor stand", "keyboard", "sofa cover", "water bottle",
)  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "last week", "yesterday")
_INTENTS: dict[str, tuple[str, ...]] = {
    "refund": (
        "I want a refund for the {p} I bought {d}",
        "how do I get my money back for order {n}",
        "the {p} arrived broken, can I get a refund?",
        "please refund order {n}, the {p} is not what I ordered",
        "is it too late to return the {p}? bought it {d}",
    ),
    "delivery": (
        "where is my order {n}? it was supposed to arrive {d}",
        "my {p} still hasn't been delivered",
        "tracking for order {n} hasn't updated since {d}",
        "can you tell me when the {p} will ship",
        "the courier says delivered but I never got the {p}",
    ),
    "account": (
        "I can't log in to my account, the password reset email never comes",
        "how do I change the email address on my account",
        "my account got locked after too many attempts",
        "please delete my account and all my data",
        "two-factor code isn't arriving on my phone",
    ),
    "billing": (
        "I was charged twice for order {n}",
        "why is there a charge of ${m} on my card from {d}",
        "can I get an invoice for order {n} with my company name",
        "my discount code didn't apply to the {p}",
        "how do I update the credit card on my subscription",
    ),
    "subscription": (
        "how do I cancel my subscription before the next renewal",
        "can I pause my plan for a month",
        "what is the difference between the basic and premium plan",
        "I want to upgrade to the yearly plan, will I be charged ${m}?",
        "my subscription renewed {d} even though I cancelled it",
    ),
    "product": (
        "does the {p} come with a warranty",
        "is the {p} available in blue",
        "what size {p} should I get, I'm usually a medium",
        "how do I clean the {p}",
        "the {p} stopped working after two weeks, what should I do",
    ),
    "address": (
        "can I change the delivery address for order {n}",
        "I moved, please send the {p} to my new address",
        "do you ship to Canada and how much does it cost",
        "can I pick up the {p} in a store instead",
    ),
}
_GREETINGS = ("", "", "", "hi, ", "Hello! ", "hey there, ", "Good morning, ")
_CLOSINGS = ("", "", "", " thanks", " Thank you!", " thx", " please help", " asap")
_SPANISH = (
    "hola, quiero un reembolso del {p} que compré {d}",
    "¿dónde está mi pedido {n}? todavía no llegó",
    "necesito cambiar la dirección de envío del pedido {n}",
    "me cobraron dos veces el pedido {n}, por favor ayuda",
    "¿cómo cancelo mi suscripción antes de la renovación?",
    "el {p} llegó roto, ¿me pueden devolver el dinero?",
    "no puedo entrar a mi cuenta, el correo para cambiar la contraseña no llega",
    "mi {p} no funciona, ¿tiene garantía?",
    "hola, my order {n} no ha llegado todavía, ¿qué pasa?",
    "quiero devolver el {p} pero perdí el ticket, ¿es posible?",
)
_SPANISH_DAYS = ("el lunes", "el martes", "ayer", "la semana pasada", "el viernes")


def support_requests(n: int, seed: int, *, kind: str = "en") -> list[str]:
    """``n`` seeded support requests: ``kind`` "en" (varied English) or "es" (Spanish).

    The same ``(n, seed, kind)`` always gives the same list.
    """
    rng = random.Random(f"{seed}:{kind}")
    out: list[str] = []
    for _ in range(n):
        if kind == "es":
            text = rng.choice(_SPANISH).format(
                p=rng.choice(_PRODUCTS), d=rng.choice(_SPANISH_DAYS), n=_order(rng), m=0
            )
            out.append(text if rng.random() < 0.7 else text.capitalize())
            continue
        if kind != "en":
            raise ValueError(f"kind must be 'en' or 'es', got {kind!r}")
        intent = rng.choice(sorted(_INTENTS))
        body = rng.choice(_INTENTS[intent]).format(
            p=rng.choice(_PRODUCTS), d=rng.choice(_DAYS), n=_order(rng), m=rng.randint(5, 300)
        )
        if rng.random() < 0.25:  # a second, related question
            other = rng.choice(_INTENTS[intent]).format(
                p=rng.choice(_PRODUCTS), d=rng.choice(_DAYS), n=_order(rng), m=rng.randint(5, 300)
            )
            body = f"{body}. Also, {other}"
        text = rng.choice(_GREETINGS) + body + rng.choice(_CLOSINGS)
        out.append(_noise(rng, text))
    return out


def _order(rng: random.Random) -> str:
    return rng.choice(("#", "", "no. ")) + str(rng.randint(10_000, 999_999))


def _noise(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.1:
        text = text.lower()
    elif r < 0.13:
        text = text.upper()
    elif r < 0.5:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.15:  # one typo: swap two adjacent letters
        i = rng.randrange(1, max(2, len(text) - 2))
        if text[i].isalpha() and text[i + 1].isalpha():
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text
