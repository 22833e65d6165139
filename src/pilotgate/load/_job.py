"""A load test as a person states it, resolved into the levels to run, priced and recorded.

People state a load three ways: a fixed profile (``concurrency`` users or ``rate``
requests a second), the expected load with a multiplier (1x, 2x … 3x), or a sweep
``START:STOP[:STEPS]`` that looks for the knee. The plan's ``[load]`` section fills what
is not given (expected users, multiplier, the p99 SLO, consent to a remote target).
:func:`prepare_load` turns a statement into a :class:`LoadJob`, so the command line, the
demo and a script resolve it the same way; the job estimates, runs, prices and records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pilotgate.errors import ConfigError
from pilotgate.load._api import expected_levels, run_levels, run_load, sweep_levels, to_target
from pilotgate.load._config import LoadConfig, RetryPolicy, Shard, Slo
from pilotgate.load._cost import add_cost, target_price
from pilotgate.load._record import record_load
from pilotgate.load._result import LevelsResult, LoadResult
from pilotgate.load._safety import Estimate, estimate, is_loopback, require_consent
from pilotgate.load._workload import Workload, endpoint_url
from pilotgate.targets import TargetConfig

if TYPE_CHECKING:
    from pilotgate.plan import LoadSection, ModelPrice, Plan
    from pilotgate.store import Store

__all__ = ["LoadJob", "parse_sweep", "prepare_load"]

Progress = Callable[[str], Callable[[dict[str, Any]], None]]


def parse_sweep(text: str) -> tuple[float, float, int]:
    """``START:STOP[:STEPS]`` (4 steps when not given) as numbers."""
    parts = text.split(":")
    try:
        start, stop = float(parts[0]), float(parts[1])
        steps = int(parts[2]) if len(parts) > 2 else 4
    except (ValueError, IndexError):
        raise ConfigError(
            f"bad --sweep {text!r}", fix="write START:STOP[:STEPS], e.g. 10:200:5"
        ) from None
    return start, stop, steps


@dataclass(frozen=True)
class LoadJob:
    """A resolved load test: one level (``levels`` None) or several, and what they send.

    ``expected``, ``sweep`` and ``inputs`` are kept as stated, for the stored run's params.
    """

    config: LoadConfig
    target: TargetConfig
    workload: Workload
    levels: list[float] | None = None
    labels: list[str] | None = None
    expected: float | None = None
    sweep: str | None = None
    inputs: str | None = None
    price: ModelPrice | None = None

    @property
    def remote(self) -> bool:
        """True when the target is an endpoint off this machine (real traffic, real cost)."""
        return _remote(self.target)

    def estimate(self) -> Estimate:
        """The most one level sends (the highest level of several)."""
        cfg = self.config.with_load(max(self.levels)) if self.levels else self.config
        return estimate(cfg, self.target, self.workload, shard=self.config.shard)

    def check_remote(self) -> None:
        """Refuse a remote target without consent (``allow_remote``), after the estimate."""
        require_consent(self.target, self.config, fix="check the estimate above and pass --yes")

    def run(self, progress: Progress | None = None) -> LoadResult | LevelsResult:
        """Run the level(s); ``progress(label)`` gives each level's per-second callback.

        Nothing is recorded here: :meth:`record` does, once the document is priced.
        """
        if self.levels is None:
            cb = progress(self.config.label or "run") if progress is not None else None
            return run_load(self.config, self.target, self.workload, progress=cb)
        return run_levels(
            self.config, self.target, self.levels, labels=self.labels, workload=self.workload,
            stop_when_slo_missed=self.sweep is not None, progress=progress,
        )  # fmt: skip

    def document(
        self, result: LoadResult | LevelsResult, *, include_samples: bool = False
    ) -> dict[str, Any]:
        """The ``pilotgate.load/1`` document, with ``cost`` when a price is known."""
        doc = result.to_json(include_samples=include_samples)
        add_cost(doc, self.price, self.workload)
        return doc

    def record(
        self,
        result: LoadResult | LevelsResult,
        store: Store | str,
        *,
        doc: dict[str, Any] | None = None,
        feature: str | None = None,
        version: str | None = None,
        name: str | None = None,
        target_label: str | None = None,
    ) -> str:
        """Record the run (kind ``load``) with the job's params and ``doc``'s cost block."""
        params = {
            "levels": self.levels,
            "labels": self.labels,
            "expected": self.expected,
            "sweep": self.sweep,
            "config": self.config.model_dump(mode="json"),
            "inputs": self.inputs,
        }
        return record_load(
            result, store, feature=feature, version=version, name=name, params=params,
            target=target_label, extra={"cost": doc["cost"]} if doc and "cost" in doc else None,
            status="interrupted" if _interrupted(result) else "ok",
        )  # fmt: skip


def _remote(target: TargetConfig) -> bool:
    return target.kind != "python" and not is_loopback(endpoint_url(target))


def _interrupted(result: LoadResult | LevelsResult) -> bool:
    if isinstance(result, LevelsResult):
        return any(r.interrupted for r in result.levels)
    return result.interrupted


def _profile(
    *,
    concurrency: int | None,
    rate: float | None,
    expected: int | None,
    expected_rate: float | None,
    sweep: str | None,
    section: LoadSection | None,
) -> tuple[int | None, float | None]:
    """The first level's users or rate: expected load, a sweep's start, else as given."""
    if expected:
        concurrency, rate = expected, None
    elif expected_rate:
        concurrency, rate = None, expected_rate
    elif sweep:
        start = parse_sweep(sweep)[0]
        if rate is not None:
            rate = start
        else:
            concurrency = max(1, round(start))
    if (concurrency is None) == (rate is None):
        multi = expected or expected_rate or sweep
        if concurrency is None and section is not None and not multi:
            return section.expected_concurrency, None
        raise ConfigError(
            "choose one profile",
            fix="give --concurrency N or --rate R (or --expected N / --expected-rate R)",
        )
    return concurrency, rate


def _levels(
    expected: float | None, multiplier: float | None, sweep: str | None, section: Any
) -> tuple[list[float] | None, list[str] | None]:
    if expected:
        mult = multiplier or (section.multiplier if section is not None else 3.0)
        return expected_levels(expected, mult)
    if sweep:
        return sweep_levels(*parse_sweep(sweep)), None
    return None, None


def prepare_load(
    target: str | TargetConfig,
    *,
    plan: Plan | None = None,
    model: str | None = None,
    stream: bool | None = None,
    concurrency: int | None = None,
    rate: float | None = None,
    expected: int | None = None,
    expected_rate: float | None = None,
    multiplier: float | None = None,
    sweep: str | None = None,
    slo_ms: float | None = None,
    slo_ttft_ms: float | None = None,
    slo_target: float = 0.99,
    retries: int = 2,
    shard: str | None = None,
    inputs: str | None = None,
    allow_remote: bool = False,
    check: Callable[[TargetConfig], None] | None = None,
    **config: Any,
) -> LoadJob:
    """Resolve a load statement (and the plan's ``[load]``) into a :class:`LoadJob`.

    Args:
        target: a ``--target`` string, a plan target's name, or a :class:`TargetConfig`.
        plan: the plan in force: its targets, ``[load]`` defaults and ``[prices]``.
        concurrency, rate: a fixed profile (exactly one, unless the plan's expected
            users apply or another form is given).
        expected, expected_rate: run 1x, 2x … ``multiplier`` x this load (plan: 3).
        sweep: ``START:STOP[:STEPS]`` loads, stopping after the first that misses the SLO.
        slo_ms: the e2e latency SLO (plan: ``load.slo_p99_ms``).
        shard: ``K/N``, this process's shard of the plan.
        inputs: a cases or ingest JSONL file to draw the inputs from.
        allow_remote: consent to a target off this machine (or the plan's).
        check: called with the target before the profile is resolved, unless it is off
            this machine without ``allow_remote`` (e.g. to fail fast when it does not answer).
        **config: the other :class:`LoadConfig` fields (``duration_s``, ``arrival`` …).

    Raises:
        ConfigError: no profile or two, a bad sweep or shard, or a field out of range.
    """
    section = plan.load if plan is not None else None
    tcfg = to_target(
        target, model=model, stream=stream, plan_targets=plan.targets if plan else None
    )
    if check is not None and (not _remote(tcfg) or allow_remote):
        check(tcfg)
    users, per_s = _profile(
        concurrency=concurrency, rate=rate, expected=expected, expected_rate=expected_rate,
        sweep=sweep, section=section,
    )  # fmt: skip
    e2e_ms = slo_ms or (section.slo_p99_ms if section is not None else None)
    try:
        cfg = LoadConfig(
            concurrency=users, rate=per_s, retry=RetryPolicy(max_retries=retries),
            slo=Slo(e2e_ms=e2e_ms, ttft_ms=slo_ttft_ms, target=slo_target),
            shard=Shard.parse(shard) if shard else Shard(),
            allow_remote=allow_remote or bool(section and section.allow_remote), **config,
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc).splitlines()[-1], where="command line") from None
    levels, labels = _levels(expected or expected_rate, multiplier, sweep, section)
    return LoadJob(
        config=cfg, target=tcfg, workload=Workload.from_file(inputs) if inputs else Workload(),
        levels=levels, labels=labels, expected=expected or expected_rate, sweep=sweep,
        inputs=inputs, price=target_price(tcfg, plan.prices if plan is not None else {}),
    )  # fmt: skip
