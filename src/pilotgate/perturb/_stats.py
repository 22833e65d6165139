"""Pass-rate statistics: Wilson intervals and the aggregates a robustness run reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pilotgate._stats import Z95, wilson_interval

__all__ = ["Rate", "wilson"]


def wilson(passed: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for ``passed`` successes out of ``n`` (95 % by default).

    Chosen over the normal approximation because robustness samples are small and pass
    rates sit near 1, where the normal interval overshoots [0, 1] and is too narrow.
    ``n == 0`` gives None (no data). The shared
    :func:`pilotgate._stats.wilson_interval`, exact at the edges.
    """
    return wilson_interval(passed, n, z, exact_edges=True)


@dataclass(frozen=True)
class Rate:
    """A pass rate with its Wilson 95 % interval.

    Attributes:
        n: judged pairs.
        passed: pairs that passed.
    """

    n: int
    passed: int

    @property
    def pass_rate(self) -> float | None:
        """passed / n, None when nothing was judged."""
        return self.passed / self.n if self.n else None

    @property
    def ci95(self) -> tuple[float, float] | None:
        return wilson(self.passed, self.n)

    @classmethod
    def of(cls, verdicts: Iterable[bool]) -> Rate:
        vs = list(verdicts)
        return cls(len(vs), sum(vs))

    def to_json(self) -> dict[str, object]:
        ci = self.ci95
        rate = self.pass_rate
        return {
            "n": self.n,
            "passed": self.passed,
            "pass_rate": None if rate is None else round(rate, 6),
            "ci95": None if ci is None else [round(ci[0], 6), round(ci[1], 6)],
        }
