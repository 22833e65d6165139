"""Byte class tables: what the regex-free passes and the region pre-check map a text to.

Each pass translates ASCII text (``bytes.translate``) through a 256-entry table that gives
every byte its class for that pattern, then works on the classes. Kept apart from
``_detect.py`` because the scanners it imports build their tables from it too.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DIGITS", "LETTERS", "class_table"]

DIGITS = b"0123456789"
LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def class_table(classes: Mapping[int, bytes], default: int = 0) -> bytes:
    """A ``bytes.translate`` table: each byte of ``classes[c]`` to ``c``, the rest to
    ``default``. No byte may be in two classes."""
    table = bytearray([default]) * 256
    seen: set[int] = set()
    for cls, members in classes.items():
        if not seen.isdisjoint(members):
            raise ValueError(f"class {cls}: bytes {bytes(seen & set(members))!r} already taken")
        seen.update(members)
        for ch in members:
            table[ch] = cls
    return bytes(table)
