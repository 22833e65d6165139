"""Typed configuration of one load run: the profile, its bounds, retries and the SLO.

A load test that can run forever or hammer an unintended host is a liability, so the
bounds (duration, request count) are mandatory fields with conservative defaults, and
the configuration is a frozen value object that a result can echo back verbatim.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["LoadConfig", "RetryPolicy", "Shard", "Slo"]


class RetryPolicy(BaseModel):
    """How the load client retries, mirroring production SDKs (the OpenAI SDK's defaults).

    Waits between attempts are real waits: they count in the user-facing ``e2e`` latency.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries per request after the first attempt."
    )
    initial_backoff_s: float = Field(
        default=0.5, ge=0, description="Backoff before the first retry when no Retry-After."
    )
    max_backoff_s: float = Field(default=8.0, ge=0, description="Cap on one computed backoff.")
    jitter: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Backoff is multiplied by a uniform draw in [1 - jitter, 1].",
    )
    max_retry_after_s: float = Field(
        default=60.0,
        ge=0,
        description="Honour Retry-After / retry-after-ms up to this many seconds (as SDKs do).",
    )
    budget_ratio: float | None = Field(
        default=0.5,
        ge=0,
        description="Retry budget: retries may not exceed budget_min + ratio × requests "
        "started (None: unlimited).",
    )
    budget_min: int = Field(default=10, ge=0, description="Retries always allowed by the budget.")
    retry_statuses: tuple[int, ...] = Field(
        default=(408, 409, 429, 500, 502, 503, 504),
        description="HTTP statuses that are retried (timeouts and connection errors are too).",
    )


class Slo(BaseModel):
    """The latency objective a request must meet to count as good (goodput)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    e2e_ms: float | None = Field(
        default=None, gt=0, description="A good request ends within this many ms of intent."
    )
    ttft_ms: float | None = Field(
        default=None, gt=0, description="A good streamed request's first token within this, ms."
    )
    target: float = Field(
        default=0.99,
        gt=0,
        le=1,
        description="A load level meets the SLO when this share of its requests are good.",
    )

    @property
    def defined(self) -> bool:
        return self.e2e_ms is not None or self.ttft_ms is not None


class Shard(BaseModel):
    """Shard ``index`` of ``count``: this process sends every ``count``-th request of the plan.

    The union of all shards' schedules is exactly the unsharded schedule, so merged results
    describe one run of the whole load.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(default=0, ge=0, description="This shard's number, 0-based.")
    count: int = Field(default=1, ge=1, description="How many shards share the load.")

    @model_validator(mode="after")
    def _in_range(self) -> Shard:
        if self.index >= self.count:
            raise ValueError(f"shard index {self.index} must be below count {self.count}")
        return self

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse the command-line form ``K/N`` with K counted from 1 (``1/4`` … ``4/4``)."""
        k, sep, n = text.partition("/")
        if not sep or not k.strip().isdigit() or not n.strip().isdigit():
            raise ValueError(f"expected K/N such as 1/4, got {text!r}")
        return cls(index=int(k) - 1, count=int(n))

    def compose(self, inner: Shard) -> Shard:
        """The shard of ``inner`` within this shard (worker processes inside a CLI shard)."""
        return Shard(index=self.index + self.count * inner.index, count=self.count * inner.count)

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"


class LoadConfig(BaseModel):
    """One load run. Closed loop (``concurrency``) or open loop (``rate``), always bounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int | None = Field(
        default=None, ge=1, description="Closed loop: simulated users, each one request at a time."
    )
    rate: float | None = Field(
        default=None, gt=0, description="Open loop: requests per second, on a fixed schedule."
    )
    arrival: Literal["constant", "poisson"] = Field(
        default="constant", description="Open loop: evenly spaced or Poisson arrivals."
    )
    ramp_to: float | None = Field(
        default=None,
        gt=0,
        description="Ramp linearly from rate/concurrency to this value over the duration.",
    )
    think_time_s: float = Field(
        default=0.0, ge=0, description="Closed loop: pause between a user's requests, seconds."
    )
    think: Literal["constant", "exponential"] = Field(
        default="constant", description="Closed loop: think time fixed or exponential around it."
    )
    duration_s: float = Field(
        default=30.0, gt=0, le=86400, description="Send for this long, then drain and stop."
    )
    max_requests: int = Field(
        default=100_000, ge=1, description="Never start more requests than this (all shards)."
    )
    max_inflight: int | None = Field(
        default=None,
        ge=1,
        description="Open loop: cap on requests in flight; slot waits count in e2e, not service.",
    )
    timeout_s: float | None = Field(
        default=None, gt=0, description="Per-attempt timeout; default: the target's timeout_s."
    )
    drain_s: float | None = Field(
        default=None,
        ge=0,
        description="After the duration, wait this long for in-flight requests "
        "(default: the timeout); the rest are cancelled and counted as failed.",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Client retry policy.")
    slo: Slo = Field(default_factory=Slo, description="Latency objective for goodput.")
    seed: int = Field(default=0, description="Seeds arrivals, input choice, think time, jitter.")
    shard: Shard = Field(default_factory=Shard, description="Which share of the load to send.")
    workers: int = Field(
        default=1, ge=1, le=64, description="Worker processes on this machine, merged exactly."
    )
    use_uvloop: bool = Field(default=True, description="Use uvloop when it is installed.")
    client: Literal["auto", "aiohttp"] = Field(
        default="auto",
        description="HTTP client: 'auto' uses the lean raw client for plain http:// targets "
        "and aiohttp for the rest; 'aiohttp' always uses aiohttp.",
    )
    allow_remote: bool = Field(
        default=False, description="Permit a target that is not on loopback (--yes)."
    )
    label: str | None = Field(default=None, description="Name of this load level, e.g. '3x'.")
    python_pool: Literal["threads", "processes"] = Field(
        default="threads",
        description="python: targets: run a sync function in threads, or in worker processes "
        "(for CPU-bound features; the function is imported in each process).",
    )
    python_workers: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="python: targets: size of the worker pool per load process (default: the "
        "level's users, or --max-inflight, else 256).",
    )

    @model_validator(mode="after")
    def _one_profile(self) -> LoadConfig:
        if (self.concurrency is None) == (self.rate is None):
            raise ValueError("give exactly one of concurrency (closed loop) or rate (open loop)")
        if self.max_inflight is not None and self.rate is None:
            raise ValueError("max_inflight applies to open-loop (rate) runs only")
        return self

    @property
    def open_loop(self) -> bool:
        return self.rate is not None

    @property
    def profile_name(self) -> str:
        if self.rate is not None:
            return "ramp" if self.ramp_to is not None else self.arrival
        return "ramp_users" if self.ramp_to is not None else "concurrency"

    def with_load(self, value: float, label: str | None = None) -> LoadConfig:
        """The same run at another load (rate or concurrency, whichever this run uses)."""
        upd: dict[str, object] = {"label": label}
        if self.rate is not None:
            upd["rate"] = float(value)
        else:
            upd["concurrency"] = max(1, round(value))
        return self.model_copy(update=upd)

    @property
    def load_value(self) -> float:
        return float(self.rate if self.rate is not None else self.concurrency or 0)
