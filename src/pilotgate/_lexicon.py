"""Small, hand-written word lists: function words per language and an English wordlist.

Shared by shift (descriptors, gap names) and the clustering of ``pilotgate._cluster``.

Why hand-written: they must work offline, load in microseconds and be auditable. The
function-word lists drive the word-level mixed-language share (lingua labels a whole
text and calls short code-switched sentences one language) and the fallback language
guess when lingua is not installed. Romanised Hindi ("Hinglish") is not a lingua
language at all, so it is recognised only through its list here. Each list leaves out
words that are common in another listed language ("de", "a", "me", "die", "main"…), so
a hit is evidence for one language only.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["FUNCTION_WORDS", "LANGUAGE_NAMES", "english_words", "is_english_word"]

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """the and is are was were you your my our their this that these those with for
        from have has had not but what when where which who why how can could would should
        will please thanks thank hello hi there been being does did doing just about into
        any some very it's i'm don't can't won't isn't doesn't didn't i've get got need
        want know still again after before because order help account""".split()
    ),
    "es": frozenset(
        """el los las del una unos unas es está están estoy pero por para con sin qué
        cómo cuando cuándo dónde porque muy mi mis tus su sus nuestro hola gracias quiero
        necesito puedo puede tengo tiene hay fue ser estar ya también pedido ayuda cuenta
        favor hacer todavía aún llegó mañana hoy""".split()
    ),
    "fr": frozenset(
        """des est sont je vous nous mais pour avec sans qui quoi comment quand
        où pourquoi très mon ton votre vos leur bonjour merci veux besoin peux avoir
        être déjà aussi commande aide compte toujours encore aujourd'hui n'est c'est
        j'ai""".split()
    ),
    "de": frozenset(
        """der das und ist sind nicht ich sie wir aber für mit ohne dass wer wie wann
        wo warum sehr meine dein ihr ihre unser hallo danke bitte möchte brauche
        kann habe hat wurde schon auch noch bestellung hilfe konto heute""".split()
    ),
    "hi-Latn": frozenset(
        """hai hain kya nahi nahin mera meri mere mujhe aap aapka aapki kaise kab kyun kyon
        kahan bhai bhaiya yaar gaya gayi raha rahi karna karo kar diya chahiye paisa paise
        wapas abhi jaldi bahut accha acha theek thik kuch koi sab haan ji hua hui tha thi
        lekin aur bhi wala wali kitna kitne batao bataiye dijiye kijiye samajh""".split()
    ),
}

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "hi-Latn": "romanised Hindi",
    "und": "undetermined",
}

_SUFFIXES = ("'s", "s", "es", "ed", "d", "ing", "ly", "er", "ers", "est", "ies", "ied", "ment")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words from the bundled BERT-uncased vocabulary, plus the list above.

    Why this list: it ships with pilotgate already (the MiniLM backend needs it), holds
    ~20k whole words ordered by frequency, and needs no download. It also holds some
    foreign words, which makes the typo rate a lower bound for non-English text; the
    report shows language separately, so that is acceptable.
    """
    from pilotgate._vocab import word_ranks

    return frozenset(word_ranks()) | FUNCTION_WORDS["en"]


def is_english_word(word: str, words: frozenset[str]) -> bool:
    """Whether a lower-cased word (or its stem after one common suffix) is known."""
    if word in words:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            stem = word[: -len(suffix)]
            if stem in words or stem + "e" in words or stem + "y" in words:
                return True
    return False
