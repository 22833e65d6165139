"""Reading a verdict out of a judge's reply, so that what it quotes cannot decide.

A judge may quote the output it grades, and the output is untrusted text: it can hold
``VERDICT: PASS`` lines or ``{"verdict": "pass"}`` objects of its own. So the verdict is
the *last* labelled ``VERDICT:``/``SCORE:`` line (judges reason first and conclude at
the end, after any quotation), or a final line that is nothing but PASS/FAIL or a number.
JSON is read only when the judge was asked for JSON. Every pattern here runs in linear
time on any reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

__all__ = ["parse_verdict"]

_PASS = r"pass(?:ed|es)?|yes|correct|acceptable|good|true"
_FAIL = r"fail(?:ed|s)?|no|incorrect|unacceptable|bad|false"
_VERDICT_RE = re.compile(rf"\bverdict\b[^\w\n]{{0,6}}({_PASS}|{_FAIL})\b", re.I)
_SCORE_RE = re.compile(
    r"\b(?:score|rating)\b[^\w\n]{0,6}(-?\d+(?:\.\d+)?)"
    r"(?:[ \t]*(?:/|out of)[ \t]*(\d+(?:\.\d+)?))?",
    re.I,
)
_LAST_WORD_RE = re.compile(r"^\W*(pass(?:ed)?|fail(?:ed)?)\W*$", re.I)
_LAST_NUMBER_RE = re.compile(r"^\W*(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?\W*$")
_JSON_RE = re.compile(r"\{[^{}]*\}", re.S)


def _word_value(word: str) -> float:
    return 0.0 if re.fullmatch(_FAIL, word, re.I) else 1.0


def _scaled(raw: float, out_of: str | None, lo: float, hi: float) -> float:
    if out_of is not None and float(out_of) > 0:
        return min(1.0, max(0.0, raw / float(out_of)))
    if hi == lo:
        return 1.0 if raw >= hi else 0.0
    return min(1.0, max(0.0, (raw - lo) / (hi - lo)))


def _from_json(text: str, lo: float, hi: float) -> float | None:
    for blob in reversed(_JSON_RE.findall(text)):
        try:
            obj = json.loads(blob)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        low = {str(k).lower(): v for k, v in obj.items()}
        for key in ("verdict", "pass", "passed", "result", "decision"):
            v = low.get(key)
            if isinstance(v, bool):
                return 1.0 if v else 0.0
            if isinstance(v, str) and re.fullmatch(f"{_PASS}|{_FAIL}", v.strip(), re.I):
                return _word_value(v.strip())
        for key in ("score", "rating", "grade"):
            v = low.get(key)
            if isinstance(v, int | float) and not isinstance(v, bool):
                return _scaled(float(v), None, lo, hi)
    return None


def _last_line(text: str, mode: str, lo: float, hi: float) -> float | None:
    last = text.strip().splitlines()[-1]
    word = _LAST_WORD_RE.match(last)
    if word and mode != "score":
        return _word_value(word.group(1))
    number = _LAST_NUMBER_RE.match(last)
    if number and mode == "score":
        return _scaled(float(number.group(1)), number.group(2), lo, hi)
    return None


def _labelled(text: str, mode: str, lo: float, hi: float) -> float | None:
    """The last VERDICT:/SCORE: label in the reply, by position."""
    verdict = list(_VERDICT_RE.finditer(text))
    score = list(_SCORE_RE.finditer(text))
    v = verdict[-1] if verdict else None
    s = score[-1] if score else None
    if s is not None and (v is None or (mode == "score" or s.start() > v.start())):
        value = _scaled(float(s.group(1)), s.group(2), lo, hi)
        return value if mode == "score" else (1.0 if value >= 0.5 else 0.0)
    if v is not None:
        return _word_value(v.group(1))
    return None


def parse_verdict(
    text: str,
    *,
    mode: str = "pass_fail",
    scale: Sequence[float] = (1, 5),
    allow_json: bool = False,
) -> float | None:
    """A judge reply's verdict as a value in [0, 1], or None when there is none.

    The last ``VERDICT: PASS|FAIL`` (markdown and "final verdict" tolerated) or
    ``SCORE: n`` (``Rating: 8/10``) wins; failing that, a last line that is only a
    PASS/FAIL word (pass/fail mode) or a number (score mode). A JSON object
    (``{"verdict": "pass"}``, ``{"score": 4}``) counts only with ``allow_json``, i.e.
    when the judge's template asked for JSON. In ``score`` mode a score is mapped from
    ``scale`` (or its own "x/10") onto [0, 1]; in ``pass_fail`` mode a score counts as a
    pass at or above the middle of the scale.
    """
    if not text or not text.strip():
        return None
    lo, hi = float(scale[0]), float(scale[1])
    if allow_json:
        value = _from_json(text, lo, hi)
        if value is not None:
            return value
    value = _labelled(text, mode, lo, hi)
    return value if value is not None else _last_line(text, mode, lo, hi)
