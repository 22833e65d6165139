"""The perturbation registry, the shared word-editing helpers, and per-case seeding.

Every perturbation is a pure function ``(text, *, severity, rng, **options) -> str``:
the same text, severity and RNG state give the same output, and nothing else is read.
Severity is a float in ``[0, 1]`` whose exact meaning each perturbation states in its
docstring; severity 0 always returns the text unchanged (a clean control).
"""

from __future__ import annotations

import _random
import functools
import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pilotgate._registry import Registry
from pilotgate.errors import ConfigError

__all__ = [
    "FAMILIES",
    "PERTURBATIONS",
    "PerturbFn",
    "PerturbationInfo",
    "count_for",
    "derive_rng",
    "edit_words",
    "perturbation",
]


class PerturbFn(Protocol):
    """The call signature every registered perturbation has."""

    def __call__(
        self, text: str, *, severity: float, rng: random.Random, **options: Any
    ) -> str: ...


#: Families in catalogue order, with the expectation a robustness run applies by default.
FAMILIES: dict[str, str] = {
    "character": "consistency",
    "casing": "consistency",
    "truncation": "consistency",
    "formatting": "consistency",
    "wording": "consistency",
    "multipart": "consistency",
    "mixed_language": "consistency",
    "out_of_scope": "refusal",
    "adversarial": "not_injected",
}

PERTURBATIONS: Registry[PerturbFn] = Registry("perturbation")


@dataclass(frozen=True)
class PerturbationInfo:
    """What the catalogue says about one perturbation (``pilotgate perturb --list``).

    Attributes:
        name: registry name, e.g. ``typo``.
        family: one of :data:`FAMILIES`.
        description: one line for humans.
        default_severity: the severity used when none is given.
        expectation: how a robustness run judges it by default: ``consistency`` (same
            answer as on the original), ``refusal`` (refuse or redirect) or
            ``not_injected`` (must not follow the injected instruction).
        tags: technique tags (adversarial ones) and other labels.
        fn: the perturbation function itself.
        applies_when: for the few perturbations that leave some texts as they are by
            design (``all_lower`` on text without capitals: it is already in the target
            form), which texts they change; None for all the others, which change every
            non-empty text.
        applies: the predicate behind ``applies_when`` (see :meth:`applies_to`).
    """

    name: str
    family: str
    description: str
    default_severity: float
    expectation: str
    tags: tuple[str, ...] = ()
    fn: PerturbFn | None = field(default=None, repr=False, compare=False)
    applies_when: str | None = None
    applies: Callable[[str], bool] | None = field(default=None, repr=False, compare=False)

    def applies_to(self, text: str) -> bool:
        """Whether the perturbation changes ``text`` at any severity > 0.

        True for every non-empty text except where ``applies_when`` says otherwise;
        the robustness suite does not count pairs the perturbation left unchanged.
        """
        if not text:
            return False
        return True if self.applies is None else self.applies(text)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "default_severity": self.default_severity,
            "expectation": self.expectation,
            "tags": list(self.tags),
            "applies_when": self.applies_when,
        }


def perturbation(
    name: str,
    *,
    family: str,
    description: str,
    default_severity: float = 0.1,
    tags: Sequence[str] = (),
    expectation: str | None = None,
    applies_when: str | None = None,
    applies: Callable[[str], bool] | None = None,
) -> Callable[[Callable[..., str]], PerturbFn]:
    """Register a perturbation.

    The wrapper clamps severity to ``[0, 1]`` and returns the text unchanged at severity
    0 or for empty text, so individual functions only handle the interesting case.
    ``applies_when``/``applies`` declare, for a perturbation that is a no-op on text
    already in its target form, which texts it changes (see :class:`PerturbationInfo`).
    """
    if (applies_when is None) != (applies is None):
        raise ConfigError(
            f"perturbation {name!r}: applies_when and applies go together",
            fix="pass both (a human description and its predicate) or neither",
        )
    if family not in FAMILIES:
        raise ConfigError(f"unknown perturbation family {family!r}", fix=f"use {list(FAMILIES)}")

    def deco(fn: Callable[..., str]) -> PerturbFn:
        @functools.wraps(fn)
        def wrapper(text: str, *, severity: float, rng: random.Random, **options: Any) -> str:
            sev = 0.0 if severity != severity else min(1.0, max(0.0, float(severity)))
            if sev == 0.0 or not text:
                return text
            return fn(text, severity=sev, rng=rng, **options)

        PERTURBATIONS.add(
            name,
            wrapper,
            family=family,
            description=description,
            default_severity=default_severity,
            tags=tuple(tags),
            expectation=expectation or FAMILIES[family],
            applies_when=applies_when,
            applies=applies,
        )
        return wrapper

    return deco


def derive_rng(seed: int, case_id: str, name: str, k: int) -> random.Random:
    """The RNG for one perturbed sample, stable across processes and Python versions.

    Derived from a hash of (seed, case id, perturbation, k) rather than drawn from a
    shared stream, so a sample does not depend on which other cases or perturbations
    were generated before it: ``perturb`` and ``robustness`` produce the same inputs.
    """
    key = f"{seed}\x1f{case_id}\x1f{name}\x1f{k}".encode()
    rng = _NEW(random.Random)
    # The C seeding of random.Random(int) without its Python wrapper: the same state
    # (a test compares streams), about a microsecond less per sample.
    _SEED(rng, int.from_bytes(_BLAKE2B(key, digest_size=8).digest(), "big"))
    rng.gauss_next = None  # type: ignore[attr-defined]  # as random.Random.__init__ does
    return rng


_NEW = random.Random.__new__
_SEED = _random.Random.seed
_BLAKE2B = hashlib.blake2b


def count_for(severity: float, n: int) -> int:
    """How many of ``n`` units to edit at ``severity``: round half up, at least one, at most n."""
    if n <= 0 or severity <= 0:
        return 0
    return min(n, max(1, int(severity * n + 0.5)))


_SPLIT_RE = re.compile(r"(\s+)")


def edit_words(
    text: str,
    severity: float,
    rng: random.Random,
    edit: Callable[[str, random.Random], str],
    eligible: Callable[[str], object],
    *,
    order_free: bool = False,
) -> str:
    """Apply ``edit`` to ``count_for(severity, n)`` distinct eligible whitespace tokens.

    Tokens are the maximal non-whitespace runs; whitespace is kept byte for byte, so the
    number of changed tokens is exactly the number of edits (tests rely on it).
    ``eligible`` may be a compiled pattern's ``search`` (any truthy result counts), which
    saves a Python call per token. ``order_free`` says that ``edit`` ignores its RNG and
    that the caller draws nothing after this call: when every eligible token is edited,
    the order does not matter and the sampling is skipped (same output, less work).
    """
    tokens = _SPLIT_RE.split(text)
    idx = [i for i in range(0, len(tokens), 2) if tokens[i] and eligible(tokens[i])]
    n = count_for(severity, len(idx))
    if n == 0:
        return text
    for i in idx if order_free and n == len(idx) else rng.sample(idx, n):
        tokens[i] = edit(tokens[i], rng)
    return "".join(tokens)
