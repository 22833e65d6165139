"""Text scorers: exact, normalised, contains, regex, numeric tolerance."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pilotgate.errors import ConfigError
from pilotgate.scoring._base import NO_REFERENCE, Score, scorer

_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_PUNCT_RE = re.compile(r"[^\w\s]")
_SPACE_RE = re.compile(r"\s+")


def normalise(text: Any) -> str:
    """NFKC, case-folded, invisible characters and punctuation dropped, spaces collapsed.

    What "the same answer" means for free text: formatting noise must not count.
    """
    s = unicodedata.normalize("NFKC", "" if text is None else str(text))
    s = _INVISIBLE_RE.sub("", s).casefold()
    s = _PUNCT_RE.sub(" ", s)
    return _SPACE_RE.sub(" ", s).strip()


def _short(s: Any, n: int = 60) -> str:
    r = repr(s)
    return r if len(r) <= n else r[: n - 1] + "…"


@scorer("exact")
def exact(
    output: str, reference: Any = None, *, input: str | None = None, strip: bool = True
) -> Score:
    """Output equals the reference exactly (surrounding whitespace ignored unless strip=False)."""
    if reference is None:
        return Score.not_applicable(NO_REFERENCE)
    ref = str(reference)
    a, b = (output.strip(), ref.strip()) if strip else (output, ref)
    return Score.of(a == b, "" if a == b else f"{_short(a)} != {_short(b)}")


@scorer("normalised_match")
def normalised_match(output: str, reference: Any = None, *, input: str | None = None) -> Score:
    """Output equals the reference after normalisation (case, punctuation, spaces, NFKC)."""
    if reference is None:
        return Score.not_applicable(NO_REFERENCE)
    a, b = normalise(output), normalise(reference)
    return Score.of(a == b, "" if a == b else f"{_short(a)} != {_short(b)}")


@scorer("contains")
def contains(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    case_sensitive: bool = False,
    require: str = "all",
) -> Score:
    """Output contains the reference string (or all/any of a list of strings).

    Value is the share of needles found; ``require`` is ``all`` or ``any``. A case
    without a reference is not scored.
    """
    if reference is None:
        return Score.not_applicable(NO_REFERENCE)
    # a scalar reference (an eval case's ``"expected": 42``) is one needle, not an iterable
    scalar = isinstance(reference, str | int | float)
    needles = [reference] if scalar else list(reference or [])
    if require not in ("all", "any"):
        raise ConfigError(f"contains: require must be 'all' or 'any' (got {require!r})")
    if not needles:
        return Score.of(True, "nothing to find")
    hay = output if case_sensitive else output.casefold()
    found = [n for n in needles if (str(n) if case_sensitive else str(n).casefold()) in hay]
    ok = len(found) == len(needles) if require == "all" else bool(found)
    missing = [n for n in needles if n not in found]
    return Score(len(found) / len(needles), ok, "" if ok else f"missing {missing!r}")


@scorer("regex")
def regex(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    pattern: str | None = None,
    fullmatch: bool = False,
    ignore_case: bool = False,
) -> Score:
    """Output matches ``pattern`` (or the reference as a pattern); search unless fullmatch."""
    pat = pattern if pattern is not None else reference
    if pat is None:
        return Score.not_applicable(NO_REFERENCE)
    if not isinstance(pat, str):
        raise ConfigError(
            "regex scorer needs a pattern", fix="pass pattern=... or a string reference"
        )
    try:
        rx = re.compile(pat, re.I if ignore_case else 0)
    except re.error as exc:
        raise ConfigError(f"invalid regex {pat!r}: {exc}") from None
    ok = (rx.fullmatch(output) if fullmatch else rx.search(output)) is not None
    return Score.of(ok, "" if ok else f"no match for /{pat}/")


_NUM_RE = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")


def parse_number(value: Any) -> float | None:
    """The first number in ``value`` ("about 1,234.5 EUR" -> 1234.5), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    m = _NUM_RE.search(str(value))
    return float(m.group().replace(",", "")) if m else None


@scorer("numeric")
def numeric(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    tolerance: float = 0.0,
    relative: float = 0.0,
) -> Score:
    """The first number in the output is within tolerance (absolute) or relative of the reference.

    Value decays from 1 with the error measured in allowed tolerances (0 past 10×).
    A case without a reference is not scored.
    """
    if reference is None or (isinstance(reference, str) and not reference.strip()):
        return Score.not_applicable(NO_REFERENCE)
    want, got = parse_number(reference), parse_number(output)
    if want is None:
        raise ConfigError(f"numeric scorer: reference {reference!r} is not a number")
    if got is None:
        return Score.of(False, "no number in output")
    allowed = max(tolerance, abs(want) * relative)
    err = abs(got - want)
    ok = err <= allowed or math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    value = 1.0 if ok else max(0.0, 1.0 - err / (10 * allowed)) if allowed > 0 else 0.0
    return Score(value, ok, "" if ok else f"{got:g} vs {want:g} (±{allowed:g})")


def as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)
