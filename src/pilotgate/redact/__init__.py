"""PII redaction before anything is stored: e-mails, phones, cards, IBANs, secrets, your regexes.

Card numbers must pass the Luhn check and IBANs the mod-97 check, so ids and amounts
that merely look like them stay. :class:`Pseudonymiser` replaces user and session ids
with keyed hashes (the key kept in the store). :func:`redact_text` is the one-call entry point;
:class:`Redactor` holds a configuration and redacts whole ingest records.
"""

from pilotgate.redact._detect import BUILTIN_KINDS, iban_valid, luhn_valid
from pilotgate.redact._pseudonym import Pseudonymiser, is_pseudonym
from pilotgate.redact._redact import Redaction, Redactor, redact_text

__all__ = [
    "BUILTIN_KINDS",
    "Pseudonymiser",
    "Redaction",
    "Redactor",
    "iban_valid",
    "is_pseudonym",
    "luhn_valid",
    "redact_text",
]
