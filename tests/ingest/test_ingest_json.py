"""The fast JSON decoding reads exactly what ``json.loads`` reads, and fails the same way."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate import _json

LINES = [
    b'{"a": 1, "b": [true, null, "\\u00e9"]}\n',
    b'{"a": 1}\r\n',
    b'{"a": 1}',
    b'  {"a": 1}  \n',  # leading spaces: the standard library path
    b'{"a": 123456789012345678901234567890}\n',  # exact big int, never a float
    b'{"a": -9223372036854775809}\n',
    b'{"a": NaN, "b": Infinity, "c": 1e400}\n',
    b'{"a": "\\ud800"}\n',  # a lone surrogate escape
    b'{"a": 1, "a": 2}\n',  # the last duplicate wins
    b"[1, 2]\n",
    b'"text"\n',
    b"\xef\xbb\xbf{}\n",  # a UTF-8 BOM: refused, as json.loads refuses it
    b'{"a": 1} {"b": 2}\n',
    b'{"a": 1,}\n',
    b'{"a": "\xff"}\n',
    b"\n",
    b"{" * 5000 + b"}" * 5000 + b"\n",  # too deep
]


def reference(raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return "unicode", exc.start
    except json.JSONDecodeError as exc:
        return "json", (exc.msg, exc.lineno, exc.colno)
    except RecursionError:
        return "deep", None


def outcome(loads: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", loads(raw)
    except UnicodeDecodeError as exc:
        return "unicode", exc.start
    except json.JSONDecodeError as exc:
        return "json", (exc.msg, exc.lineno, exc.colno)
    except RecursionError:
        return "deep", None


def same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    # NaN != NaN: compare through the JSON text
    if a[0] == b[0] == "ok":
        return json.dumps(a[1]) == json.dumps(b[1]) and _types(a[1]) == _types(b[1])
    return a == b


def _types(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_types(x) for x in v]
    return type(v).__name__


@pytest.mark.parametrize("raw", LINES)
def test_lines_decode_like_json_loads(raw: bytes) -> None:
    assert same(outcome(_json.loads_line, raw), reference(raw))
    assert same(outcome(_json._std_line, raw), reference(raw))


def test_orjson_path_when_installed() -> None:
    pytest.importorskip("orjson")
    for raw in LINES:
        assert same(outcome(_json._orjson_line, raw), reference(raw)), raw
    big = b'{"records": [{"n": 123456789012345678901234567890}]}'
    assert _json._orjson_loads(big) == {"records": [{"n": 123456789012345678901234567890}]}
    assert math.isnan(_json._orjson_loads(b'{"a": NaN}')["a"])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=5), st.booleans())
def test_any_object_line_round_trips(obj: dict[str, Any], ascii_only: bool) -> None:
    raw = (json.dumps(obj, ensure_ascii=ascii_only) + "\n").encode("utf-8", "surrogatepass")
    assert same(outcome(_json.loads_line, raw), reference(raw))
    assert same(outcome(_json.loads, raw), outcome(json.loads, raw))
