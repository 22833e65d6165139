"""The simulator's behaviour as one typed value: latencies, capacity, limits, faults.

A profile is what a team writes down about the provider it will pilot against
("p50 TTFT 400 ms, 30 tokens/s, 8 concurrent, 500 RPM") so that tests, the demo and
load rehearsals all run against the same, reproducible stand-in.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from pilotgate.errors import ConfigError
from pilotgate.simulator._dist import Dist

__all__ = ["SimulatorProfile", "load_profile", "profile_from_mapping"]


class SimulatorProfile(BaseModel):
    """How the simulated provider behaves. Every field has a default that works out of the box."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ttft_ms: Dist = Dist.constant(300)
    """Time to first token (ms), counted from when the request gets a capacity slot."""
    token_ms: Dist = Dist.constant(20)
    """Time between consecutive output tokens (ms), sampled per token."""
    output_tokens: Dist = Dist.constant(60)
    """Reply length in tokens (rounded, at least 1), capped by the request's ``max_tokens``."""
    capacity: int | None = Field(default=None, ge=1)
    """Requests served at once; the rest wait in a FIFO queue. ``None``: unlimited."""
    max_queue: int | None = Field(default=None, ge=0)
    """Longest allowed queue; a request arriving to a full queue gets 503. ``None``: unbounded."""
    rpm: float | None = Field(default=None, gt=0)
    """Requests per minute (token bucket of that size, refilled continuously); over it: 429."""
    tpm: float | None = Field(default=None, gt=0)
    """Tokens per minute (prompt + completion tokens of each request); over it: 429."""
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability that a request gets an immediate 500 (drawn from the request's seeded RNG)."""
    stall_at_s: float | None = Field(default=None, ge=0)
    """Seconds after start when a stall begins: no response bytes are sent during it."""
    stall_ms: float = Field(default=0.0, ge=0)
    """Length of the stall (ms); responses due inside it are held until it ends."""
    api_key: str | None = None
    """If set, requests must send ``Authorization: Bearer <api_key>`` or get 401."""
    models: list[str] = Field(default_factory=lambda: ["pilotgate-sim"], min_length=1)
    """Model ids listed by ``GET /v1/models``; the first answers requests that name none."""

    @field_validator("stall_ms")
    @classmethod
    def _stall_pair(cls, value: float, info: ValidationInfo) -> float:
        if value > 0 and info.data.get("stall_at_s") is None:
            raise ValueError("stall_ms needs stall_at_s (when the stall starts)")
        return value

    def describe(self) -> dict[str, str]:
        """A one-word-per-field summary for the CLI banner."""
        out = {
            "ttft_ms": self.ttft_ms.describe(),
            "token_ms": self.token_ms.describe(),
            "output_tokens": self.output_tokens.describe(),
            "capacity": str(self.capacity or "unlimited"),
        }
        for name in ("max_queue", "rpm", "tpm", "stall_at_s"):
            if getattr(self, name) is not None:
                out[name] = f"{getattr(self, name):g}"
        if self.stall_ms:
            out["stall_ms"] = f"{self.stall_ms:g}"
        if self.error_rate:
            out["error_rate"] = f"{self.error_rate:g}"
        if self.api_key:
            out["api_key"] = "required"
        return out


_FIELDS = tuple(SimulatorProfile.model_fields)


def _key_path(loc: tuple[int | str, ...]) -> str:
    # pydantic reports union/validator branches in loc; keep only the real keys.
    return ".".join(str(p) for p in loc if not str(p).startswith(("function-", "constrained")))


def profile_from_mapping(data: Mapping[str, Any], *, where: str = "profile") -> SimulatorProfile:
    """Validate a plain mapping (parsed TOML, CLI overrides) into a profile.

    Raises:
        ConfigError: an unknown key (with a "did you mean") or a bad value, naming the key.
    """
    for key in data:
        if key not in _FIELDS:
            close = difflib.get_close_matches(str(key), _FIELDS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(_FIELDS)}"
            raise ConfigError(f"unknown key {key!r}", where=where, fix=hint)
    try:
        return SimulatorProfile.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _key_path(err["loc"]) or "(profile)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"bad value for {key!r}: {msg}",
            where=where,
            fix="see docs/simulator.md for the profile keys and their allowed values",
        ) from exc


def load_profile(path: str | Path) -> SimulatorProfile:
    """Read a TOML profile. Keys are the :class:`SimulatorProfile` fields, at top level
    or under a ``[simulator]`` table.

    Raises:
        ConfigError: the file is missing, is not TOML, or has a bad key or value.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("profile file not found", where=str(p), fix="check the path") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(p), fix="fix the syntax") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read profile: {exc}", where=str(p)) from exc
    if set(data) == {"simulator"} and isinstance(data["simulator"], dict):
        data = data["simulator"]
    return profile_from_mapping(data, where=str(p))
