"""The words Northwind's customers use: templates per intent and kind of request.

Kept apart from the generator so the vocabulary can grow without touching the logic.
Templates take ``{amount}``, ``{merchant}``, ``{acct}``, ``{card}``, ``{loan}`` and
``{day}`` slots. The production templates are deliberately *not* the exemplars the
router was tuned on: real customers phrase things their own way.
"""

from __future__ import annotations

__all__ = [
    "CLEAN",
    "DEMO",
    "HELD_OUT",
    "JARGON",
    "MIXED",
    "OUT_OF_SCOPE_REQUESTS",
    "SEEN",
    "SLOTS",
    "template_split",
]

SLOTS: dict[str, tuple[str, ...]] = {
    "amount": ("$25", "$40", "$89.99", "$120", "$250", "$500", "$1,200", "$3,000"),
    "merchant": (
        "Amazon",
        "a gas station",
        "Uber",
        "Netflix",
        "a hotel in Lisbon",
        "Walmart",
        "an online store",
        "a restaurant",
    ),
    "acct": ("checking", "savings", "joint", "business"),
    "card": ("debit card", "credit card", "Visa card", "card"),
    "loan": ("car loan", "personal loan", "mortgage", "home equity loan"),
    "day": ("yesterday", "last week", "on Monday", "two days ago", "this morning"),
}

# What a team hand-picks for a demo: short, well-formed, close to the exemplars.
DEMO: dict[str, tuple[str, ...]] = {
    "card_lost": (
        "I lost my {card}.",
        "My {card} was stolen {day}.",
        "I can't find my {card}, please block it.",
        "Can you freeze my {card}? I think I lost it.",
        "Someone stole my wallet and my {card}.",
        "Please cancel my lost {card}.",
    ),
    "balance": (
        "What is my {acct} balance?",
        "How much money is in my {acct} account?",
        "Can you tell me my account balance?",
        "What's the current balance of my {acct} account?",
        "Show me my balance, please.",
    ),
    "transfer": (
        "I want to transfer {amount} to my savings account.",
        "How do I send money to a friend?",
        "Please move {amount} from checking to savings.",
        "How can I transfer money to another bank?",
        "Can I send {amount} to my sister's account?",
    ),
    "dispute_charge": (
        "I don't recognize a charge from {merchant}.",
        "There is a transaction on my statement I didn't make.",
        "I want to dispute a charge of {amount}.",
        "I was charged twice by {merchant}.",
        "Can you help me dispute a payment to {merchant}?",
    ),
    "loan_rate": (
        "What is the interest rate on a {loan}?",
        "What are your current mortgage rates?",
        "How much interest would I pay on a {loan}?",
        "What rate can I get on a {loan}?",
    ),
    "fees": (
        "Why was I charged an overdraft fee?",
        "Is there a monthly fee on my checking account?",
        "What fees do you charge for ATM withdrawals?",
        "How much is the fee for using another bank's ATM?",
        "What are the fees on my {acct} account?",
    ),
}

# Production's well-formed requests: longer, chattier, phrased by customers.
CLEAN: dict[str, tuple[str, ...]] = {
    "card_lost": (
        "Hi, I think I left my {card} at a restaurant {day}. Can you lock it?",
        "My {card} is gone and I'm worried someone will use it.",
        "I need to report a stolen {card}.",
        "How do I get a replacement for a {card} I lost?",
        "My purse was stolen {day} with my {card} in it, what should I do?",
        "Can you stop my {card} from working? I misplaced it.",
        "I dropped my {card} somewhere downtown, please disable it.",
        "Lost my {card} while travelling, I need a new one.",
    ),
    "balance": (
        "Could you check how much I have left in {acct}?",
        "What's my available balance right now?",
        "Do I have enough in my {acct} account to cover a {amount} payment?",
        "How much did I have in savings at the end of last month?",
        "I'd like to know the balance on all my accounts.",
        "Can you tell me what's in my {acct} account today?",
        "What is the available amount on my {acct} account after pending transactions?",
    ),
    "transfer": (
        "I need to pay my landlord {amount} from my {acct} account.",
        "How long does a transfer to another bank take?",
        "Can I schedule a recurring transfer of {amount} every month?",
        "I want to send {amount} to my son who banks elsewhere.",
        "How do I move money between my {acct} and savings accounts?",
        "What do I need to send an international wire?",
        "Is there a limit on how much I can transfer per day?",
    ),
    "dispute_charge": (
        "There's a {amount} charge from {merchant} I never authorized.",
        "{merchant} charged me {amount} but I cancelled the order.",
        "I see a payment {day} that I definitely did not make.",
        "Someone used my card at {merchant}, I want my money back.",
        "I got billed twice for the same thing at {merchant}.",
        "A subscription I cancelled is still charging me {amount}.",
        "How do I contest a charge on my credit card statement?",
    ),
    "update_address": (
        "I just moved, how do I change my address on file?",
        "Please update my mailing address to my new apartment.",
        "My statements are going to my old address.",
        "I need to change the phone number linked to my account.",
        "Where can I update my home address and email?",
        "We relocated last month and need to update our details.",
    ),
    "loan_rate": (
        "I'm thinking about buying a car, what would a {loan} cost me?",
        "Are mortgage rates going down this month?",
        "What APR do you offer on a {loan}?",
        "How much would a {amount} personal loan cost in interest?",
        "Do you have better rates for existing customers on a {loan}?",
        "I'd like to refinance my mortgage, what rates do you have?",
    ),
    "close_account": (
        "I'm moving to another bank and want to close my {acct} account.",
        "How do I close the joint account I share with my ex?",
        "Please close my {acct} account and send me the remaining money.",
        "Can I close my account online or do I have to visit a branch?",
        "I don't use my {acct} account anymore, please close it.",
    ),
    "fees": (
        "Why did I get charged a {amount} fee {day}?",
        "How can I avoid the monthly maintenance fee?",
        "Do you charge for using my card abroad?",
        "I was hit with an overdraft fee, can you waive it?",
        "What does it cost to withdraw cash from another bank's ATM?",
        "Is there a fee for a wire transfer?",
        "Why is there a service charge on my {acct} statement?",
    ),
}

# Banking shorthand: lower case, abbreviations, no grammar.
JARGON: dict[str, tuple[str, ...]] = {
    "card_lost": (
        "cc lost pls freeze asap",
        "lost debit crd need block + new one asap",
        "visa stolen, lock it pls",
        "lost card, need replacement asap thx",
    ),
    "balance": (
        "acct bal?",
        "chk bal pls",
        "avail bal on savings acct",
        "bal on joint acct asap",
    ),
    "transfer": (
        "need to send ACH to landlord asap",
        "wire {amount} to ext acct",
        "xfer {amount} chk -> sav pls",
        "ACH pull from ext acct how",
        "intl wire swift code?",
    ),
    "dispute_charge": (
        "unauth txn on CC from {merchant}",
        "dbl charged {amount} pls reverse",
        "chargeback on {merchant} txn",
        "fraud txn on acct pls fix asap",
    ),
    "update_address": (
        "new addr pls update acct",
        "chg addr + phone on acct",
        "update mailing addr asap",
    ),
    "loan_rate": (
        "apr on auto loan?",
        "30yr fixed rate?",
        "HELOC rate pls",
        "refi rates asap",
    ),
    "close_account": (
        "close acct asap pls",
        "close chk acct, moving banks",
        "pls close sav acct + send bal",
    ),
    "fees": (
        "OD fee again?? pls waive",
        "why {amount} fee on acct",
        "ATM fee refund pls",
        "FX fee on CC?",
    ),
}

# Mixed-language requests: (language tag, text). "es" is whole-request Spanish; the
# rest code-switch between English and another language.
MIXED: dict[str, tuple[tuple[str, str], ...]] = {
    "card_lost": (
        ("es", "Perdí mi tarjeta de débito ayer, ¿pueden bloquearla?"),
        ("es-en", "Hola, perdí mi {card}, can you block it please?"),
        ("fr-en", "J'ai perdu ma carte, please freeze it"),
        ("de-en", "Meine Karte ist weg, I need to block it"),
        ("hi-en", "Mera {card} kho gaya hai, please block kar do"),
    ),
    "balance": (
        ("es", "¿Cuál es el saldo de mi cuenta de ahorros?"),
        ("es-en", "Quiero saber my balance en la cuenta checking"),
        ("fr-en", "Quel est mon solde, on my savings account?"),
        ("de-en", "Wie viel Geld habe ich, what is my balance?"),
        ("hi-en", "Mere account mein kitna balance hai?"),
    ),
    "transfer": (
        ("es", "Quiero transferir {amount} a la cuenta de mi hermana."),
        ("es-en", "Necesito mandar dinero to my mom's account"),
        ("fr-en", "Je voudrais faire un virement of {amount} to my savings"),
        ("de-en", "Ich möchte {amount} überweisen to another bank"),
        ("hi-en", "Mujhe apne bhai ko {amount} transfer karna hai"),
    ),
    "dispute_charge": (
        ("es", "Hay un cargo de {merchant} que no reconozco."),
        ("es-en", "Tengo un cargo de {amount} que I never made"),
        ("fr-en", "Il y a un paiement I don't recognize from {merchant}"),
        ("de-en", "Eine Abbuchung von {merchant}, I did not authorize this"),
        ("hi-en", "Mere card pe {merchant} ka galat charge laga hai"),
    ),
    "update_address": (
        ("es", "Me mudé y necesito cambiar mi dirección."),
        ("es-en", "Necesito cambiar mi address, I moved last month"),
        ("fr-en", "J'ai déménagé, how do I change my address?"),
        ("hi-en", "Maine ghar shift kiya hai, address update karna hai"),
    ),
    "loan_rate": (
        ("es", "¿Qué tasa de interés tienen para un préstamo de auto?"),
        ("es-en", "Cuál es el interest rate for a {loan}?"),
        ("de-en", "Was kostet ein Kredit, what's the rate on a {loan}?"),
        ("hi-en", "{loan} ka interest rate kitna hai?"),
    ),
    "close_account": (
        ("es", "Quiero cerrar mi cuenta corriente."),
        ("es-en", "Quiero cerrar my {acct} account please"),
        ("fr-en", "Je veux fermer mon compte, how do I do it?"),
        ("hi-en", "Mujhe apna {acct} account band karna hai"),
    ),
    "fees": (
        ("es", "¿Por qué me cobraron una comisión de {amount}?"),
        ("es-en", "Por qué me cobraron un overdraft fee?"),
        ("fr-en", "Pourquoi ces frais, why was I charged a fee?"),
        ("de-en", "Warum diese Gebühr, why the {amount} fee?"),
        ("hi-en", "Mere account se fee kyun kata?"),
    ),
}

# Things customers ask a bank's assistant that it was not built for.
OUT_OF_SCOPE_REQUESTS: tuple[str, ...] = (
    "Can you write a birthday poem for my wife?",
    "What's the weather going to be like this weekend?",
    "Help me debug this SQL query, it returns duplicate rows.",
    "What's a good recipe for chicken curry?",
    "Plan a 3 day trip to Rome for me.",
    "Who won the Champions League final?",
    "Summarize this article about climate change for me.",
    "Write a cover letter for a marketing job.",
    "What is the capital of Australia?",
    "How do I reset my Netflix password?",
    "Tell me a joke about accountants.",
    "Can you translate 'good morning' into Japanese?",
    "What's the best phone to buy under $500?",
    "My dog is throwing up, what should I do?",
    "How many calories are in a banana?",
    "Explain quantum computing like I'm five.",
    "Which crypto coin will go up next week?",
    "Can you order me a pizza?",
    "Set a reminder for my dentist appointment.",
    "What time does the Apple store close?",
    "Is it better to lease or buy a Tesla?",
    "Write a python script that renames files.",
    "Help me with my kid's math homework.",
    "What movies are playing tonight?",
)


# ------------------------------------------------------------------ the fix's sample
# The demo's iteration cycle reads week one's failures, writes v2 from them, and then
# measures v2. Measured on the phrasings the fix was written from, the gain is in
# sample. So production's templates are split, by template and not by sentence: every
# second template of each pool (per intent and kind) is held out. v2's extra exemplars
# may only come from the "seen" templates (see ``_intents.py``), and the demo compares
# v1 and v2 on production cases drawn from held-out templates. DEMO's phrasings are the
# demo set itself, seen by everyone.
def _every_second(pool: tuple[str, ...]) -> set[str]:
    return {t for i, t in enumerate(pool) if i % 2 == 1}


def _held_out() -> frozenset[str]:
    out: set[str] = set()
    for pools in (CLEAN, JARGON):
        for templates in pools.values():
            out |= _every_second(templates)
    for mixed in MIXED.values():
        out |= _every_second(tuple(text for _, text in mixed))
    out |= _every_second(OUT_OF_SCOPE_REQUESTS)
    return frozenset(out)


HELD_OUT: frozenset[str] = _held_out()
"""Production templates the fix (v2) never sees."""

SEEN: frozenset[str] = (
    frozenset(
        {t for pools in (CLEAN, JARGON, DEMO) for ts in pools.values() for t in ts}
        | {text for mixed in MIXED.values() for _, text in mixed}
        | set(OUT_OF_SCOPE_REQUESTS)
    )
    - HELD_OUT
)
"""Production templates week one's failures may show the fix."""


def template_split(templates: tuple[str, ...] | list[str]) -> str:
    """``held_out`` when every template a request was built from is held out, ``seen``
    when none is, ``mixed`` otherwise (a multi-part request over both)."""
    held = [t in HELD_OUT for t in templates]
    if held and all(held):
        return "held_out"
    return "seen" if not any(held) else "mixed"
