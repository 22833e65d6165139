"""The near-matches ``benchmarks/redaction.py`` times each built-in pattern on.

Also read by the differential tests of the regex-free passes
(``tests/redact/test_redact_emailscan.py``, ``tests/redact/test_redact_phonescan.py``),
which add their own cases: a near-miss that makes a pattern slow is one a scanner must get
right too.
"""

from __future__ import annotations

__all__ = ["NEAR"]

NEAR: dict[str, list[str]] = {
    "email": [
        "ann.example@",
        "a@b",
        "a@b.c1 ",
        "user@host.",
        "a.b.c.d@e.f.g.h.1 ",
        "@",
        "a@a@",
        "x.",
        "a@" + "b." * 40 + "1 ",
        "first.last+tag%",
        # the scanner's own: addresses back to back, a dot and 2 letters without a chain
        # from "@", a top-level domain cut by a digit
        "a@b.cc ",
        "a@b.cc",
        "@a.aa",
        "_.aa@a@",
        "a@b.cc1 ",
    ],
    "secret": [
        "sk-" + "a" * 19 + " ",
        "sk-",
        "sk-" + "-" * 30,
        "pg_0123456789ab_",
        "pg_0123456789ab_" + "a" * 19 + " ",
        "AKIA123",
        "ghp_" + "a" * 29 + " ",
        "xoxb-abc ",
        "eyJ" + "a" * 9 + ".eyJ" + "a" * 9 + ". ",
        "eyJabc.eyJ",
        "eyJ",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KE",
        "-----BEGIN " + "A " * 30,
        "http://user:pass",
        "a://",
        "ftp://" + "u" * 50 + ":",
        "aws_secret_access_key=",
        "aws_secret_access_key = " + "A" * 39 + " ",
        "SecretAccessKey: ",
        "AIza" + "a" * 34 + "-",
        "hf_" + "a" * 29 + " ",
        "glpat-abc ",
        "sk_live_abc ",
        "rk_test_" + "a" * 19 + " ",
        "secret ",
    ],
    "iban": ["GB82WEST", "GB82 WEST 1234 5698 7654 32", "DE00 ", "aa00", "GB82 WEST 1234 5"],
    "card": ["4111 1111 1111 111", "1-2-3-4-", "4111111111111111111111 ", "1 " * 12 + "x"],
    "phone": [
        "+1 (555) 123-45",
        "12 34 56 78 90 12 34 ",
        "(12)(12)",
        "+12345",
        "1.2.3.4.5.6 ",
        # the scanner's own: dense valid phones, runs cut into chunks every way (the regex
        # tries each way to end a body in a run of 25+ digits, or of 12+ before a letter:
        # 1-3 s per MB), runs of one or two digits
        "+1 (555) 123-4567 ",
        "4" * 25 + " ",
        "4" * 20 + "x ",
        "44444 ",
        "1 2",
        "+1 2",
        # text outside ASCII (the scanner's stand-in): digits of another script, a letter
        "١٢ ٣٤ ٥٦ ٧٨ ٩٠ ١٢ ٣٤ ",
        "(١٢)(١٢)",
        "é12 34 56 78 90 12 34 ",
    ],
}
"""Near-matches per pattern: each is repeated to fill the input."""
