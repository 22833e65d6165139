"""Shared test inputs: a fixed corpus of varied requests and a hypothesis sentence strategy."""

from __future__ import annotations

from hypothesis import strategies as st

CORPUS = [
    "How do I transfer money from my savings account to my credit card?",
    "My card was stolen yesterday, please block it right now.",
    "Why was I charged a fee twice this month? I never agreed to that.",
    "Can you tell me what the interest rate on a personal loan is?",
    "I want to close my account. What happens to the money still in it?",
    "the app keeps logging me out when i try to check my balance",
    "Is it possible to increase my credit limit before my trip to Spain next week?",
    "Where can I find my IBAN and the BIC code for an international payment?",
    "I moved house. How do I change my address, and will I get a new card?",
    "refund for the double payment to the electricity company please",
    "What's the difference between a current account and a savings account?",
    "URGENT: someone used my card in another country!!!",
    "hi, i cant log in, it says my password is wrong but i just reset it",
    "Could you explain the overdraft fees? They seem very high compared to last year.",
    "Please send me my statements for March and April as a PDF.",
    "Do you offer student accounts with no monthly fee?",
    "I'd like to dispute a transaction from Amazon on 3 May for $49.99.",
    "Thanks for your help earlier. One more thing: can I add my partner to the account?",
    "Is the branch on Main Street open on Saturdays?",
    "my salary didn't arrive today, is there a problem with transfers?",
    "Explain in simple terms how a fixed-rate mortgage works.",
    "Can I pay my credit card bill with cash at an ATM?",
    "The website shows an error 503 when I open the payments page.",
    "How long does an international transfer to India usually take?",
    "I lost my wallet with two cards inside, what should I do first?",
    "Set up a standing order of 200 euros to my landlord every month, please.",
    "Why is my available balance lower than my actual balance?",
    "Can you increase my daily withdrawal limit to 1000?",
    "Are there any fees for using my debit card abroad in Japan?",
    "I think I've been scammed by a phone call pretending to be the bank.",
]

VOCAB = (
    "account balance card money transfer payment loan fee refund bank help please thanks "
    "today tomorrow why how what where when my your is not yes and or with without for from "
    "can need want pay send open close change cancel block lost stolen new old problem question "
    "phone address name number month week day time again still only very urgent quickly wrong "
    "right working received charged order delivery price friend family house the an app login "
    "password statement interest credit debit limit branch online mobile error page support "
    "agent call email transaction dispute overdraft savings current mortgage rate salary cash "
    "do did does was were have has had will would should could it this that they we you me "
    "hello hi ok sure maybe just really about into over under between after before during"
).split()


@st.composite
def sentences(draw: st.DrawFn, min_words: int = 3, max_words: int = 25) -> str:
    """A request-like sentence: capitalised vocabulary words ending in . ? or !."""
    words = draw(st.lists(st.sampled_from(VOCAB), min_size=min_words, max_size=max_words))
    words[0] = words[0].capitalize()
    comma = draw(st.integers(0, len(words)))
    if 0 < comma < len(words) - 1:
        words[comma] += ","
    return " ".join(words) + draw(st.sampled_from([".", "?", "!"]))


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    """One to three sentences."""
    return " ".join(draw(st.lists(sentences(), min_size=1, max_size=3)))
