"""What a build is asked to do (:class:`BuildSpec`) and what it did (:class:`BuildResult`).

Why a value object: the spec is recorded with the eval set version and in every case's
``origin.build``, so a set can be rebuilt from its own record. Everything that changes
which cases come out (filters, strategies, weights, thresholds, embedder, seed) is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from pilotgate.cases._registry import CASE_STRATEGIES
from pilotgate.errors import ConfigError
from pilotgate.records import Case

__all__ = [
    "BUILD_SCHEMA",
    "FAILURE_KINDS",
    "STRATEGIES",
    "BuildResult",
    "BuildSpec",
    "parse_strategies",
]

BUILD_SCHEMA = "pilotgate.cases.build/1"
#: Sampling strategies, in the order they are described in docs/cases.md.
STRATEGIES = ("uniform", "stratified", "failures", "novelty")
#: Failure signals joined from feedback, steps, the interaction itself, and the implicit
#: outcome (``pilotgate.signals``: rephrased or escalated with no explicit feedback).
FAILURE_KINDS = ("rejected", "edited", "errored", "slow", "abandoned", "implicit_bad")
#: Weights a plan does not set: an implicit bad outcome is the strongest silent signal.
DEFAULT_FAILURE_WEIGHTS = {"implicit_bad": 3.0}
#: The default mix: kinds of request first, then what went wrong, then plain traffic.
DEFAULT_WEIGHTS = {"stratified": 0.5, "failures": 0.3, "uniform": 0.2}
DEFAULT_STRATEGY = ",".join(DEFAULT_WEIGHTS)

References = Literal["auto", "accepted", "edited", "none"]


@dataclass(frozen=True, kw_only=True)
class BuildSpec:
    """How to turn stored interactions into an eval set version.

    Attributes:
        feature: only interactions of this feature.
        version: only this feature version (prompt/model version).
        since: only interactions at or after this time.
        until: only interactions before this time.
        size: how many cases to keep (fewer when the pool runs out).
        weights: strategy -> share of ``size``; shares are normalised, so
            ``{"uniform": 1, "failures": 1}`` is half and half.
        dedup_threshold: cosine similarity at or above which two inputs are one case.
        dedup_embedder: what the similarity is measured on: ``chars`` (character
            n-grams of the normalised text: retyped copies) or an embedder name
            (``minilm`` also merges paraphrases).
        embedder: embedding backend for clusters and novelty.
        seed: seeds every random choice; same seed, same store, same cases.
        redact: replace e-mails, phones, cards, IBANs and secrets before storing.
        references: where ``expected`` comes from: ``auto`` (the user's edit, else an
            accepted output), ``accepted``, ``edited`` or ``none``.
        clusters: number of input clusters for ``stratified`` (default from ``size``).
        against: eval set (``name`` or ``name@3``) whose coverage ``novelty`` improves;
            default the newest version of the set being built.
        slow_quantile: latency quantile above which an interaction counts as slow.
        failure_weights: weight of each failure kind in the ``failures`` strategy.
    """

    feature: str | None = None
    version: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    size: int = 200
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dedup_threshold: float = 0.92
    dedup_embedder: str = "chars"
    embedder: str = "lexical"
    seed: int = 0
    redact: bool = True
    references: References = "auto"
    clusters: int | None = None
    against: str | None = None
    slow_quantile: float = 0.9
    failure_weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ConfigError(f"size must be >= 1, got {self.size}", fix="use --size 200")
        if not 0.0 < self.dedup_threshold <= 1.0:
            raise ConfigError(
                f"dedup threshold must be in (0, 1], got {self.dedup_threshold}",
                fix="use --dedup-threshold 0.92 (1.0 removes only identical inputs)",
            )
        if not self.weights:
            raise ConfigError("no strategy given", fix=f"use one of {', '.join(STRATEGIES)}")
        for name, w in self.weights.items():
            _known(name)
            if not w >= 0:
                raise ConfigError(f"weight of {name} must be >= 0, got {w}")
        if sum(self.weights.values()) <= 0:
            raise ConfigError("strategy weights sum to 0", fix="give at least one weight > 0")
        for kind in self.failure_weights:
            if kind not in FAILURE_KINDS:
                raise ConfigError(
                    f"unknown failure kind {kind!r}", fix=f"use {', '.join(FAILURE_KINDS)}"
                )
        if self.references not in ("auto", "accepted", "edited", "none"):
            raise ConfigError(
                f"bad references {self.references!r}", fix="use auto, accepted, edited or none"
            )
        if not 0.5 <= self.slow_quantile < 1.0:
            raise ConfigError(f"slow quantile must be in [0.5, 1), got {self.slow_quantile}")
        if self.clusters is not None and self.clusters < 1:
            raise ConfigError(f"clusters must be >= 1, got {self.clusters}")

    @classmethod
    def from_options(
        cls, *, strategy: str = DEFAULT_STRATEGY, weights: str | None = None, **fields: Any
    ) -> BuildSpec:
        """A spec from ``--strategy`` and ``--weights`` text (see :func:`parse_strategies`).

        The default strategies without weights keep their default shares (5,3,2), not equal
        ones; ``fields`` are the other attributes.
        """
        if strategy == DEFAULT_STRATEGY and not weights:
            return cls(weights=dict(DEFAULT_WEIGHTS), **fields)
        return cls(weights=parse_strategies(strategy, weights), **fields)

    def to_json(self) -> dict[str, Any]:
        """The spec as recorded with the eval set (dates as RFC 3339)."""
        return {
            "feature": self.feature,
            "version": self.version,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "size": self.size,
            "weights": dict(self.weights),
            "dedup_threshold": self.dedup_threshold,
            "dedup_embedder": self.dedup_embedder,
            "embedder": self.embedder,
            "seed": self.seed,
            "redact": self.redact,
            "references": self.references,
            "clusters": self.clusters,
            "against": self.against,
            "slow_quantile": self.slow_quantile,
            "failure_weights": dict(self.failure_weights),
        }


def parse_strategies(
    strategies: str | Sequence[str], weights: str | None = None
) -> dict[str, float]:
    """``"uniform,failures"`` and ``"3,1"`` (or ``"uniform=3,failures=1"``) -> weights.

    Without weights every named strategy gets an equal share.
    """
    names = (
        [s.strip() for s in strategies.split(",") if s.strip()]
        if isinstance(strategies, str)
        else [s.strip() for s in strategies]
    )
    for n in names:
        _known(n)
    if len(set(names)) != len(names):
        raise ConfigError(f"a strategy is named twice in {strategies!r}")
    if not weights:
        return {n: 1.0 for n in names}
    parts = [p.strip() for p in weights.split(",") if p.strip()]
    out: dict[str, float] = {}
    try:
        if all("=" in p for p in parts):
            for p in parts:
                k, _, v = p.partition("=")
                out[k.strip()] = float(v)
            unknown = set(out) - set(names)
            if unknown:
                raise ConfigError(
                    f"weights name strategies not in --strategy: {', '.join(sorted(unknown))}",
                    fix="weight only the strategies you ask for",
                )
            return {n: out.get(n, 0.0) for n in names}
        values = [float(p) for p in parts]
    except ValueError:
        raise ConfigError(
            f"bad weights {weights!r}",
            fix="use numbers like 3,1 or names like uniform=3,failures=1",
        ) from None
    if len(values) != len(names):
        raise ConfigError(
            f"{len(values)} weights for {len(names)} strategies",
            fix="give one weight per strategy, in the same order",
        )
    return dict(zip(names, values, strict=True))


@dataclass
class BuildResult:
    """The cases a build kept and the account of how it got them."""

    SCHEMA: ClassVar[str] = BUILD_SCHEMA

    name: str
    version: int | None
    cases: list[Case]
    spec: BuildSpec
    pool: int
    by_strategy: dict[str, int]
    failures_in_pool: dict[str, int]
    removed: dict[str, int]
    redactions: dict[str, int]
    clusters: int
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: The stored run (kind ``cases``) when the build was saved.
    run_id: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}" if self.version is not None else self.name

    def to_json(self) -> dict[str, Any]:
        """The ``pilotgate.cases.build/1`` document."""
        return {
            "schema": self.SCHEMA,
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "n_cases": len(self.cases),
            "pool": self.pool,
            "spec": self.spec.to_json(),
            "by_strategy": dict(self.by_strategy),
            "failures_in_pool": dict(self.failures_in_pool),
            "removed": dict(self.removed),
            "redactions": dict(self.redactions),
            "clusters": self.clusters,
            "references": _count_refs(self.cases),
            "notes": list(self.notes),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _count_refs(cases: Sequence[Case]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in cases:
        src = str((c.origin or {}).get("reference_source", "none"))
        out[src] = out.get(src, 0) + 1
    return out


def _known(name: str) -> None:
    """Raise unless ``name`` is a built-in strategy or one a plug-in registered."""
    if name not in STRATEGIES and name not in CASE_STRATEGIES:
        names = [*STRATEGIES, *(n for n in CASE_STRATEGIES.names() if n not in STRATEGIES)]
        raise ConfigError(f"unknown strategy {name!r}", fix=f"use one of {', '.join(names)}")
