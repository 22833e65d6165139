"""Pydantic models of the pilot plan. Every field carries a description (a test checks)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pilotgate.targets import TargetConfig

__all__ = [
    "Criterion",
    "FeatureSection",
    "LoadSection",
    "PilotSection",
    "Plan",
    "SignalsSection",
    "StoreSection",
]

Op = Literal["<", "<=", ">", ">=", "==", "!="]
BadSignal = Literal["rephrased", "escalated", "abandoned"]
GoodSignal = Literal["copied", "followed_up"]
_METRIC_RE = re.compile(
    r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_\-]+)+(@[0-9.]+x)?(\[[A-Za-z0-9_\-]+=[^\[\]\n]{1,200}\])?$"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class FeatureSection(_Strict):
    """The AI feature being piloted."""

    name: str = Field(min_length=1, description="Feature name as recorded by the SDK.")
    version: str = Field(default="v1", description="Prompt/model version under test.")
    description: str = Field(
        default="", description="What the feature is for; templates out-of-scope probes."
    )
    glossary: dict[str, str] = Field(
        default_factory=dict,
        description="Domain jargon -> plain wording, used by the jargon perturbation.",
    )


class PilotSection(_Strict):
    """When the pilot runs and which workflow steps form its funnel."""

    start: date | None = Field(default=None, description="First day of the pilot (YYYY-MM-DD).")
    end: date | None = Field(default=None, description="Last day of the pilot (YYYY-MM-DD).")
    steps: list[str] = Field(
        default_factory=list,
        description="Ordered workflow step names that form the funnel (opened, asked, …).",
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> PilotSection:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class LoadSection(_Strict):
    """Expected load and the latency objective the load test checks."""

    expected_concurrency: int = Field(
        default=10, ge=1, description="Concurrent users expected during the pilot."
    )
    multiplier: float = Field(
        default=3.0, gt=0, description="Load-test at this multiple of expected concurrency."
    )
    slo_p99_ms: float | None = Field(
        default=None, gt=0, description="Latency objective: p99 end-to-end latency, ms."
    )
    allow_remote: bool = Field(
        default=False, description="Allow load tests against non-loopback targets without --yes."
    )


class ModelPrice(_Strict):
    """What one model costs, per 1,000 tokens, in the currency of your bill."""

    input_per_1k: float = Field(default=0.0, ge=0, description="Price of 1,000 input tokens.")
    output_per_1k: float = Field(default=0.0, ge=0, description="Price of 1,000 output tokens.")

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return tokens_in / 1000.0 * self.input_per_1k + tokens_out / 1000.0 * self.output_per_1k


class StoreSection(_Strict):
    """Where results are kept."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///.pilotgate/pilotgate.db (PILOTGATE_STORE).",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Keep raw interactions, feedback and steps of the plan's feature this many days; "
            "`pilotgate serve` prunes older ones daily (hourly rollups, runs and eval sets "
            "stay). None: keep everything."
        ),
    )


class SignalsSection(_Strict):
    """Implicit feedback: how silent users' behaviour is read (docs/signals.md)."""

    rephrase_window_s: float = Field(
        default=180.0,
        gt=0,
        description="A next request this many seconds after the answer may be a rephrase.",
    )
    similarity: str = Field(
        default="lexical",
        description="Embedder for rephrase similarity (lexical, minilm, or 'none' for "
        "normalised-text match only).",
    )
    similarity_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Cosine similarity above which two requests are one rephrased; "
        "unset: calibrated on the data (see similarity_level).",
    )
    similarity_level: float = Field(
        default=0.99,
        ge=0.5,
        lt=1,
        description="Calibration: the threshold is this quantile of similarities between "
        "requests of different users (a false-rephrase rate of about 1 - level).",
    )
    min_similarity: float = Field(
        default=0.5, ge=0, le=1, description="Floor for the calibrated similarity threshold."
    )
    abandon_window_s: float = Field(
        default=600.0,
        gt=0,
        description="A session with no interaction or step this long after an answer ended.",
    )
    escalate_window_s: float = Field(
        default=900.0,
        gt=0,
        description="A next request this many seconds after the answer may be an escalation.",
    )
    followup_window_s: float = Field(
        default=1800.0, gt=0, description="A different next request within this is a follow-up."
    )
    clock_skew_s: float = Field(
        default=5.0,
        ge=0,
        description="Steps and interactions may disagree by this much (different clocks).",
    )
    escalation_phrases: list[str] | None = Field(
        default=None,
        description="Phrases that ask for a human or a refund (unset: built-in defaults in "
        "English, Spanish, French, German, Portuguese, Italian, Dutch).",
    )
    negative_phrases: list[str] | None = Field(
        default=None,
        description="Negative wording that makes a repeated request an escalation "
        "(unset: built-in defaults in the same languages).",
    )
    copy_steps: list[str] = Field(
        default_factory=lambda: ["copied_answer", "copied", "copy"],
        description="Step names that mean the user copied the answer.",
    )
    bad_signals: list[BadSignal] = Field(
        default_factory=lambda: list[BadSignal](["rephrased", "escalated"]),
        description="Signals that make an implicit outcome bad (explicit feedback wins).",
    )
    good_signals: list[GoodSignal] = Field(
        default_factory=lambda: list[GoodSignal](["copied", "followed_up"]),
        description="Signals that make an implicit outcome good, when no bad signal fired.",
    )
    edited_is_bad: bool = Field(
        default=True, description="An answer the user edited counts as a bad outcome."
    )
    return_days: int = Field(
        default=7, ge=1, le=365, description="A user returned when back within this many days."
    )
    scope: str | None = Field(
        default=None,
        description="In-scope examples for off-purpose requests: an eval set (name or "
        "name@version) or a JSONL/text file of examples.",
    )
    scope_embedder: str = Field(
        default="minilm", description="Embedder for the off-purpose coverage test."
    )
    scope_level: float = Field(
        default=0.95,
        ge=0.5,
        lt=1,
        description="Coverage calibration level (shift's conformal quantile) for scope.",
    )

    def params_hash(self) -> str:
        """The hash of the settings that change signals (``return_days`` only changes reads):
        stored with computed signals, so a change of settings recomputes them."""
        data = self.model_dump(mode="json", exclude={"return_days"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


class Criterion(_Strict):
    """One success criterion, declared before the pilot starts."""

    name: str = Field(min_length=1, description="Short human name shown in the verdict.")
    metric: str = Field(
        description="Metric from the catalogue, e.g. usage.acceptance_rate or latency.e2e.p99@3x; "
        "a usage metric may name a metadata slice: usage.acceptance_rate[category=refund]."
    )
    op: Op = Field(description="Comparison: one of <, <=, >, >=, ==, !=.")
    threshold: float = Field(description="The value the metric is compared with.")
    min_samples: int = Field(
        default=30, ge=1, description="Below this many samples the verdict is insufficient_data."
    )
    window: str = Field(
        default="latest",
        description="Judged on: 'latest' run, 'pilot' (start..end), or a trailing span like '7d'.",
    )
    judge_on: Literal["estimate", "bound"] = Field(
        default="estimate",
        description="'bound' judges the conservative end of the 95 % interval, not the estimate.",
    )
    eval_set: str | None = Field(
        default=None,
        description="For eval.*, shift.coverage and robustness.* metrics: only runs on this "
        "eval set (name or name@version) are judged.",
    )
    version: str | None = Field(
        default=None,
        description="Judge runs of this feature version instead of [feature] version "
        "(e.g. the baseline).",
    )
    description: str = Field(default="", description="Why this criterion matters.")

    @field_validator("metric")
    @classmethod
    def _metric_shape(cls, v: str) -> str:
        if not _METRIC_RE.match(v):
            raise ValueError(
                "metric must look like family.name[.sub][@Nx], e.g. usage.acceptance_rate, "
                "latency.e2e.p99@3x, robustness.typo.pass_rate"
            )
        return v

    @field_validator("window")
    @classmethod
    def _window_shape(cls, v: str) -> str:
        if v in ("latest", "pilot") or re.fullmatch(r"[0-9]+[dh]", v):
            return v
        raise ValueError("window must be 'latest', 'pilot', or a span like '7d' or '12h'")


class Plan(_Strict):
    """The whole pilot plan, as read from ``pilotgate.toml``."""

    feature: FeatureSection = Field(description="The feature under test.")
    pilot: PilotSection = Field(default_factory=PilotSection, description="Pilot dates and funnel.")
    load: LoadSection = Field(default_factory=LoadSection, description="Expected load and SLO.")
    store: StoreSection = Field(default_factory=StoreSection, description="Result store.")
    signals: SignalsSection = Field(
        default_factory=SignalsSection, description="Implicit feedback and silent churn."
    )
    targets: dict[str, TargetConfig] = Field(
        default_factory=dict, description="Named ways to call the feature: [targets.NAME]."
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="[prices.MODEL]: price per 1,000 tokens of each model (the interactions' "
        "metadata.model, or a load target's model); [prices.default] for the rest.",
    )
    criteria: list[Criterion] = Field(
        default_factory=list, description="Success criteria: [[criteria]] tables."
    )

    @model_validator(mode="after")
    def _unique_criteria(self) -> Plan:
        seen: set[str] = set()
        for c in self.criteria:
            if c.name in seen:
                raise ValueError(f"criteria: duplicate name {c.name!r}")
            seen.add(c.name)
        return self

    def criteria_dict(self) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in self.criteria]
