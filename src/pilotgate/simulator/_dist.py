"""Sampled quantities: a small, typed distribution model.

Latencies and output lengths of real providers are not constants; a load test
against a constant server hides every tail. A :class:`Dist` names one of four
shapes and its parameters, validates them once, and samples with a caller-given
:class:`random.Random` so that every draw is reproducible from a seed.
"""

from __future__ import annotations

import math
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["Dist", "DistKind"]

DistKind = Literal["constant", "uniform", "normal", "lognormal"]

# Which parameters each kind needs; ``min``/``max`` (clamps) are allowed for every kind.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "normal": ("mean", "std"),
    "lognormal": ("median", "sigma"),
}
_PARAMS = ("value", "low", "high", "mean", "std", "median", "sigma")


class Dist(BaseModel):
    """A distribution of a non-negative quantity (milliseconds or tokens).

    Written in TOML as a bare number (a constant) or an inline table, e.g.
    ``{kind = "lognormal", median = 300, sigma = 0.5}``; on the command line as a
    number or ``kind:param=value,...`` (see :meth:`parse`). Samples are clamped to
    ``[min, max]`` and never fall below zero.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DistKind = "constant"
    """The shape: ``constant``, ``uniform``, ``normal`` or ``lognormal``."""
    value: float | None = None
    """constant: the value every sample takes."""
    low: float | None = None
    """uniform: the lower bound."""
    high: float | None = None
    """uniform: the upper bound (``>= low``)."""
    mean: float | None = None
    """normal: the mean."""
    std: float | None = None
    """normal: the standard deviation (``>= 0``)."""
    median: float | None = None
    """lognormal: the median (``> 0``), in the quantity's own unit, e.g. ms."""
    sigma: float | None = None
    """lognormal: standard deviation of the log (``>= 0``); 0.5 puts p99 near 3.2 × median."""
    min: float | None = None
    """Optional lower clamp applied to every sample (samples are always ``>= 0``)."""
    max: float | None = None
    """Optional upper clamp applied to every sample."""

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return data
        if isinstance(data, int | float):
            return {"kind": "constant", "value": data}
        return data

    @model_validator(mode="after")
    def _check(self) -> Dist:
        need = _REQUIRED[self.kind]
        for name in _PARAMS:
            given = getattr(self, name)
            if name in need and given is None:
                raise ValueError(f"{self.kind} needs {name!r} (it takes {', '.join(need)})")
            if name not in need and given is not None:
                raise ValueError(f"{self.kind} takes {', '.join(need)}, not {name!r}")
            if given is not None and not math.isfinite(given):
                raise ValueError(f"{name} must be a finite number")
        if self.kind == "uniform" and self.high < self.low:  # type: ignore[operator]
            raise ValueError("uniform needs high >= low")
        if self.kind == "normal" and self.std < 0:  # type: ignore[operator]
            raise ValueError("normal needs std >= 0")
        if self.kind == "lognormal" and (self.median <= 0 or self.sigma < 0):  # type: ignore[operator]
            raise ValueError("lognormal needs median > 0 and sigma >= 0")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("max must be >= min")
        return self

    # Constructors read better than keyword soup at call sites.
    @classmethod
    def constant(cls, value: float) -> Dist:
        """Always ``value``."""
        return cls(kind="constant", value=value)

    @classmethod
    def uniform(cls, low: float, high: float) -> Dist:
        """Uniform on ``[low, high]``."""
        return cls(kind="uniform", low=low, high=high)

    @classmethod
    def normal(cls, mean: float, std: float, *, min: float | None = None) -> Dist:
        """Normal, clamped at ``min`` (and at 0)."""
        return cls(kind="normal", mean=mean, std=std, min=min)

    @classmethod
    def lognormal(cls, median: float, sigma: float, *, max: float | None = None) -> Dist:
        """Log-normal by median and log-space sigma: the long right tail real latencies have."""
        return cls(kind="lognormal", median=median, sigma=sigma, max=max)

    @classmethod
    def parse(cls, text: str) -> Dist:
        """Parse ``"300"`` or ``"lognormal:median=300,sigma=0.5"`` (the command-line form).

        Raises:
            ValueError: the text is not a number nor ``kind:name=value,...``.
        """
        text = text.strip()
        try:
            return cls.constant(float(text))
        except ValueError:
            pass
        kind, sep, rest = text.partition(":")
        if not sep:
            raise ValueError(f"expected a number or kind:name=value,..., got {text!r}")
        data: dict[str, Any] = {"kind": kind.strip()}
        for item in filter(None, (p.strip() for p in rest.split(","))):
            name, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"expected name=value, got {item!r}")
            data[name.strip()] = float(value)
        return cls.model_validate(data)

    def sample(self, rng: random.Random) -> float:
        """Draw one value with ``rng`` (one draw from the generator per call, except constant)."""
        kind = self.kind
        if kind == "constant":
            x: float = self.value  # type: ignore[assignment]
        elif kind == "uniform":
            x = rng.uniform(self.low, self.high)  # type: ignore[arg-type]
        elif kind == "normal":
            x = rng.gauss(self.mean, self.std)  # type: ignore[arg-type]
        else:
            x = self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0))  # type: ignore[operator]
        if self.min is not None and x < self.min:
            x = self.min
        if self.max is not None and x > self.max:
            x = self.max
        return x if x > 0.0 else 0.0

    @property
    def is_zero(self) -> bool:
        """True when every sample is 0 (lets the server skip timers entirely)."""
        return self.kind == "constant" and not self.value

    def describe(self) -> str:
        """A short human form, e.g. ``lognormal(median=300, sigma=0.5)``."""
        if self.kind == "constant":
            return f"{self.value:g}"
        names = (*_REQUIRED[self.kind], "min", "max")
        parts = [f"{n}={getattr(self, n):g}" for n in names if getattr(self, n) is not None]
        return f"{self.kind}({', '.join(parts)})"
