"""JSON decoding for ingest and the collector: fast where it can be, the standard library else.

``json.loads`` spends more time on its Python wrapper (encoding detection, whitespace
regexes) than on a short ingest line itself: ~6 µs per record line against ~3 µs for the
C scanner alone. :func:`loads_line` calls the scanner directly for the common case (one
object per line) and hands anything else to ``json.loads``, so what is accepted and every
error message stay the standard library's. With ``orjson`` installed (optional, ~1.5 µs a
record) it goes first, and the standard library decides whatever orjson refuses (NaN,
1e400, lone surrogates, ...). orjson reads integers past 64 bits as floats where the
standard library keeps them exact, so text with a run of 19 or more digits skips orjson.
Either way orjson only changes the speed, never what is accepted or the values read.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

__all__ = ["HAVE_ORJSON", "loads", "loads_line"]

_DECODER = json.JSONDecoder()
_SCAN: Callable[[str, int], tuple[Any, int]] | None
try:
    from json.scanner import c_make_scanner as _c_make_scanner  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython has it
    _SCAN = None
else:
    _SCAN = _c_make_scanner(_DECODER) if _c_make_scanner is not None else None

_orjson: Any
try:  # optional: imported by name so type checking works with or without it
    _orjson = importlib.import_module("orjson")
except ImportError:
    _orjson = None

HAVE_ORJSON = _orjson is not None
"""Whether the optional ``orjson`` package is there (``pip install orjson``)."""


def _std_line(raw: bytes) -> Any:
    """A JSONL line as the standard library reads it: UTF-8, then ``json.loads``."""
    text = raw.decode("utf-8")
    scan = _SCAN
    if scan is not None and text[:1] == "{":
        try:
            obj, end = scan(text, 0)
        except (StopIteration, ValueError):
            pass  # json.loads below raises the error users know
        else:
            rest = text[end:]
            if not rest or rest == "\n" or rest == "\r\n":
                return obj
    return json.loads(text)


_DIGITS_TO_0 = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN = b"0" * 19


def _orjson_safe(data: bytes) -> bool:
    """No 19-digit run anywhere, so no integer orjson would turn into a float."""
    return _LONG_RUN not in data.translate(_DIGITS_TO_0)


def _orjson_line(raw: bytes) -> Any:
    if _orjson_safe(raw):
        try:
            return _orjson.loads(raw)
        except ValueError:  # orjson.JSONDecodeError; the standard library decides
            pass
    return _std_line(raw)


loads_line: Callable[[bytes], Any] = _orjson_line if HAVE_ORJSON else _std_line
"""Decode one JSONL line (bytes, newline included).

Raises:
    UnicodeDecodeError: the line is not UTF-8.
    json.JSONDecodeError: it is not one JSON value (the standard library's message).
    RecursionError: it nests too deeply.
"""


def _std_loads(data: bytes | str) -> Any:
    return json.loads(data)


def _orjson_loads(data: bytes | str) -> Any:
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if _orjson_safe(raw):
        try:
            return _orjson.loads(data)
        except ValueError:
            pass
    return json.loads(data)


loads: Callable[[bytes | str], Any] = _orjson_loads if HAVE_ORJSON else _std_loads
"""``json.loads`` (bytes in any UTF encoding, or str), through orjson first when installed."""
