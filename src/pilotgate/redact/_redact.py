"""Applying detectors to text, chat messages and whole ingest records."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from pilotgate.errors import ConfigError
from pilotgate.redact._classes import DIGITS, LETTERS
from pilotgate.redact._detect import BUILTIN_KINDS, SEPARATORS, Detector, builtin_detectors
from pilotgate.redact._pseudonym import Pseudonymiser

__all__ = ["Redaction", "Redactor", "redact_text"]

_ANY_DIGIT = re.compile(r"\d")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Redaction:
    """The redacted text and how many spans of each kind were replaced."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Redactor:
    """Replaces personal data with ``[KIND]`` placeholders before anything is stored.

    Args:
        kinds: built-in kinds to detect (default all: secret, email, iban, card, phone).
        patterns: extra ``name -> regular expression`` pairs; matches become ``[NAME]``.
            They run under the ``regex`` module with a time limit (``timeout_s`` per
            text), because a user's pattern may backtrack catastrophically: a text whose
            redaction times out is replaced whole by ``[NAME TIMED OUT]`` (it may hold what
            the pattern was meant to remove) and counted as ``NAME:timeout``.
        timeout_s: the time limit of each user pattern on one text.
        pseudonymiser: also replace records' user and session ids with keyed hashes
            (:class:`~pilotgate.redact.Pseudonymiser`, keyed by the store's secret).

    Raises:
        ConfigError: an unknown kind, a bad pattern name or a regex that does not compile.
    """

    def __init__(
        self,
        kinds: Iterable[str] = BUILTIN_KINDS,
        patterns: Mapping[str, str] | None = None,
        *,
        timeout_s: float = 0.1,
        pseudonymiser: Pseudonymiser | None = None,
    ) -> None:
        import regex

        self.pseudonymiser = pseudonymiser
        builtin = builtin_detectors()
        kinds = list(kinds)  # read twice below: a generator would leave nothing the 2nd time
        for kind in kinds:
            if kind not in builtin:
                raise ConfigError(
                    f"unknown redaction kind {kind!r}", fix=f"use one of {', '.join(builtin)}"
                )
        # keep the built-in order whatever order the caller listed them in
        wanted = set(kinds)
        self.detectors: list[Detector] = [d for k, d in builtin.items() if k in wanted]
        for name, source in (patterns or {}).items():
            if not _NAME.match(name):
                raise ConfigError(
                    f"bad redaction pattern name {name!r}",
                    fix="use lower-case letters, digits and _ (e.g. employee_id)",
                )
            try:
                compiled = regex.compile(source)
            except regex.error as exc:
                raise ConfigError(
                    f"redaction pattern {name!r} does not compile: {exc}",
                    fix="check the regular expression (Python re syntax)",
                ) from None
            self.detectors.append(Detector(name, compiled, timeout_s=timeout_s))
        self._gated = all(d.needs or d.needs_digit for d in self.detectors)
        """Every detector has a pre-check, so a text failing all of them is left as is."""
        self._needs = tuple(s for d in self.detectors for s in (d.hint or d.needs))
        self._plan = [
            (
                d,
                d.hint or d.needs,
                d.needs,
                max(d.min_digits, 1) if d.needs_digit else 0,
                d.shape,
                d.digit_run,
            )
            for d in self.detectors
        ]
        """The detectors' pre-checks as tuples: the per-text loop reads no attributes."""
        digit_dets = [max(d.min_digits, 1) for d in self.detectors if d.needs_digit]
        self._digit_gate = min(digit_dets, default=0)
        """Fewest digits any digit detector needs (0: none of them is on)."""
        self._quick = quick_gate(self._needs, self._digit_gate) if self._gated else None
        """The one-pass pre-check of ASCII text (:func:`quick_gate`); None: not gated."""

    @property
    def kinds(self) -> list[str]:
        return [d.kind for d in self.detectors]

    def redact(self, text: str) -> Redaction:
        """Redact one string."""
        counts: dict[str, int] = {}
        return Redaction(self._text(text, counts), counts)

    def _text(self, text: str, counts: dict[str, int]) -> str:
        # Most texts hold nothing to redact. For ASCII text one pass that keeps only the
        # digits and the marks (:func:`quick_gate`) usually proves it; otherwise one digit
        # count (from a letters/digits map) and a few substring tests answer that before
        # any regex runs.
        quick = self._quick
        if quick is not None and quick_skip(quick, self._digit_gate, text):
            return text
        shape = None
        if not self._digit_gate:
            digits = 0
        elif text.isascii():
            shape = text.encode("ascii").translate(_SHAPES)
            digits = shape.count(48)  # b"0"
        else:
            digits = len(_ANY_DIGIT.findall(text))
        if self._gated and digits < self._digit_gate and not _has_any(text, self._needs):
            return text
        dense = None
        for det, hint, needs, min_digits, det_shape, run in self._plan:
            if min_digits:
                if digits < min_digits:
                    continue
                if shape is not None:
                    if det_shape is not None and det_shape not in shape:
                        continue
                    if run:
                        if dense is None:
                            dense = shape.translate(None, SEPARATORS)
                        if _RUNS[run] not in dense:
                            continue
            elif needs and not (_has_any(text, hint) and _has_any(text, needs)):
                continue
            try:
                text, n = _sub(det, text)
            except TimeoutError:
                key = f"{det.kind}:timeout"
                counts[key] = counts.get(key, 0) + 1
                return f"[{det.kind.upper()} TIMED OUT]"
            if n:
                counts[det.kind] = counts.get(det.kind, 0) + n
        return text

    def value(self, value: Any, counts: dict[str, int]) -> Any:
        """Redact every string inside ``value`` (strings, lists, dicts), adding to ``counts``."""
        t = type(value)
        if t is str:
            return self._text(value, counts)
        if t is dict:
            text = self._text
            return {
                k: text(v, counts) if type(v) is str else self.value(v, counts)
                for k, v in value.items()
            }
        if t is list:
            return [self.value(v, counts) for v in value]
        if isinstance(value, str):
            return self._text(value, counts)
        if isinstance(value, list):
            return [self.value(v, counts) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v, counts) for k, v in value.items()}
        return value

    def record(self, rec: MutableMapping[str, Any]) -> dict[str, int]:
        """Redact a validated ingest record (a dict with ``kind``) in place; returns the counts.

        Interactions: input (text or every message), output, error and metadata values;
        with a pseudonymiser, user and session ids (of steps too) become keyed hashes.
        Feedback: edited output and comment. Steps: metadata values. Where the record has
        metadata, non-zero counts are kept in ``metadata["redactions"]``.
        """
        counts: dict[str, int] = {}
        kind = rec.get("kind", "interaction")
        fields = _FIELDS.get(kind, ())
        text = self._text
        for name in fields:
            v = rec.get(name)
            if v is not None:
                rec[name] = text(v, counts) if type(v) is str else self.value(v, counts)
        if counts and kind != "feedback":
            rec["metadata"] = {**(rec.get("metadata") or {}), "redactions": counts}
        if self.pseudonymiser is not None:
            self.pseudonymiser.record(rec)
        return counts


_FIELDS = {
    "interaction": ("input", "output", "error", "metadata"),
    "feedback": ("edited_output", "comment"),
    "step": ("metadata",),
}


_RARE = frozenset(b"QZJXKqzjx")
"""Letters rare enough in prose to stand for a need that holds one."""


def quick_gate(needs: Iterable[str], digit_gate: int) -> tuple[bytes, tuple[str, ...]] | None:
    """The one-pass pre-check of a gated redactor, for ASCII text.

    Each need is stood for by one of its bytes, its *mark*: a byte that is no letter,
    digit, space or common punctuation, else a letter rare in prose (``AKIA`` by ``K``).
    A need without one (``ecret``, ``ECRET``) is tested as a substring. Returns the bytes
    to delete from a text so that only its marks and (with a ``digit_gate``: the fewest
    digits any digit detector needs) its ASCII digits are left, and the needs tested as
    substrings. A text whose remains are no mark and fewer digits than the gate, and which
    holds none of those needs, holds no need at all (each need holds its mark) and too
    few digits for any digit detector: the full pre-check would skip it too. None when a
    need is not ASCII (the full pre-check is then the only one).
    """
    marks: set[int] = set()
    direct: list[str] = []
    for need in needs:
        if not need.isascii():
            return None
        mark = min(need.encode("ascii"), key=_mark_rank, default=None)
        if mark is None or _mark_rank(mark) > 1:
            direct.append(need)
        else:
            marks.add(mark)
    keep = marks | set(DIGITS) if digit_gate else marks
    return bytes(b for b in range(256) if b not in keep), tuple(dict.fromkeys(direct))


def quick_skip(quick: tuple[bytes, tuple[str, ...]], digit_gate: int, text: str) -> bool:
    """True when :func:`quick_gate`'s pre-check proves ``text`` holds nothing to redact.

    False says nothing either way (the full pre-check decides): text outside ASCII, a
    mark, or enough digits.
    """
    if not text.isascii():
        return False
    kept = text.encode("ascii").translate(None, quick[0])
    if kept and not (len(kept) < digit_gate and kept.isdigit()):
        return False
    return not _has_any(text, quick[1])


def _mark_rank(b: int) -> int:
    if b in _RARE:
        return 1
    if b in LETTERS or b in DIGITS or b in b" \t\n\r.,;!?'\"":
        return 2
    return 0


def _has_any(text: str, needs: tuple[str, ...]) -> bool:
    for s in needs:
        if s in text:
            return True
    return False


_SHAPES = bytes.maketrans(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", b"0" * 10 + b"a" * 52
)
"""ASCII digits to ``0``, letters to ``a``, every other byte to itself."""
_RUNS = [b"0" * k for k in range(40)]


def _sub(det: Detector, text: str) -> tuple[str, int]:
    """Replace ``det``'s validated matches in ``text``; returns the text and the count.

    Raises:
        TimeoutError: a user pattern ran past its time limit.
    """
    if det.timeout_s is not None:
        return _sub_limited(det, text, det.timeout_s)
    validate = det.validate
    placeholder = det.placeholder
    if validate is None:
        if det.scan is not None:  # the pass without the regex (e-mail), where it applies
            scanned = det.scan(text, placeholder)
            if scanned is not None:
                return scanned
        out: tuple[str, int] = det.pattern.subn(placeholder, text)  # the C loop
        return out
    if det.validate_many is not None:
        return _sub_many(det, text)
    # split() with the whole pattern as a group hands back every match as a string at C
    # speed (no match object, no callback per match): only the validator runs in Python
    parts = _grouped(det.pattern).split(text)
    if len(parts) == 1:
        return text, 0
    n = 0
    for i in range(1, len(parts), 2):
        if validate(parts[i]):
            parts[i] = placeholder
            n += 1
    return ("".join(parts) if n else text), n


def _sub_many(det: Detector, text: str) -> tuple[str, int]:
    """:func:`_sub` for a detector that validates its matches as a batch and may say
    where they can be (``det.regions``): the pattern runs on those spans only, each with
    one character of context either side (all its look-arounds read). A detector with a
    ``scan`` runs that instead of the pattern where it applies."""
    regions = det.regions(text) if det.regions is not None else None
    if regions is None:
        return _scan_or_split(det, text)
    out: list[str] = []
    total = 0
    done = 0
    for start, end in regions:
        a, b = max(start - 1, 0), min(end + 1, len(text))
        new, n = _scan_or_split(det, text[a:b])
        if n:
            out.append(text[done:start])
            out.append(new[start - a : len(new) - (b - end)])
            done = end
            total += n
    if not total:
        return text, 0
    out.append(text[done:])
    return "".join(out), total


def _scan_or_split(det: Detector, text: str) -> tuple[str, int]:
    if det.scan is not None:
        scanned = det.scan(text, det.placeholder)
        if scanned is not None:
            return scanned
    return _split_validate(det, text)


def _split_validate(det: Detector, text: str) -> tuple[str, int]:
    parts = _grouped(det.pattern).split(text)
    if len(parts) == 1:
        return text, 0
    found = parts[1::2]
    assert det.validate_many is not None
    oks = det.validate_many(found)
    n = oks.count(True)
    if not n:
        return text, 0
    placeholder = det.placeholder
    parts[1::2] = [placeholder if ok else m for m, ok in zip(found, oks, strict=True)]
    return "".join(parts), n


_GROUPED: dict[str, re.Pattern[str]] = {}


def _grouped(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` as one capturing group (built-in validated patterns have no groups)."""
    g = _GROUPED.get(pattern.pattern)
    if g is None:
        g = _GROUPED[pattern.pattern] = re.compile(f"({pattern.pattern})", pattern.flags)
    return g


def _sub_limited(det: Detector, text: str, timeout_s: float) -> tuple[str, int]:
    """:func:`_sub` for a user pattern: one ``regex`` pass under one time limit."""
    n = 0
    placeholder = det.placeholder

    def repl(m: Any) -> str:
        nonlocal n
        n += 1
        return placeholder

    out: str = det.pattern.sub(repl, text, timeout=timeout_s)
    return out, n


_DEFAULT: Redactor | None = None


def redact_text(
    text: str,
    *,
    kinds: Iterable[str] | None = None,
    patterns: Mapping[str, str] | None = None,
) -> Redaction:
    """Redact personal data from ``text`` (all built-in kinds unless ``kinds`` says otherwise).

    Example:
        >>> redact_text("mail ann@example.com").text
        'mail [EMAIL]'
    """
    global _DEFAULT
    if kinds is None and not patterns:
        if _DEFAULT is None:
            _DEFAULT = Redactor()
        return _DEFAULT.redact(text)
    return Redactor(BUILTIN_KINDS if kinds is None else kinds, patterns).redact(text)
