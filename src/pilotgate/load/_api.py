"""The library entry points: one run, several levels (1x/2x/3x, sweeps), and the knee."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pilotgate.errors import ConfigError
from pilotgate.load._config import LoadConfig
from pilotgate.load._record import record_load
from pilotgate.load._result import LevelsResult, LoadResult
from pilotgate.load._safety import check_target
from pilotgate.load._workers import run_process
from pilotgate.load._workload import Workload
from pilotgate.targets import TargetConfig

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["expected_levels", "run_levels", "run_load", "sweep_levels", "to_target"]


def to_target(
    target: TargetConfig | str,
    *,
    model: str | None = None,
    plan_targets: Mapping[str, TargetConfig] | None = None,
    **overrides: Any,
) -> TargetConfig:
    """A validated :class:`TargetConfig` from a config or a ``--target`` string.

    Parsing and validation are the targets package's (``parse_target`` / ``build_target``),
    so ``load`` accepts exactly the targets every other command accepts.
    """
    from pilotgate.targets import build_target, parse_target

    cfg = (
        target
        if isinstance(target, TargetConfig)
        else parse_target(target, plan_targets=plan_targets)
    )
    updates = {k: v for k, v in overrides.items() if v is not None}
    if model is not None:
        updates["model"] = model
    if updates:
        cfg = TargetConfig.model_validate({**cfg.model_dump(), **updates})
    build_target(cfg)  # raises TargetError for a target that cannot be called
    return cfg


def run_load(
    config: LoadConfig,
    target: TargetConfig | str,
    workload: Workload | None = None,
    *,
    store: Store | str | None = None,
    save: bool = True,
    feature: str | None = None,
    version: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    target_label: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> LoadResult:
    """Run one bounded load level against ``target`` and return every request's sample.

    Ctrl-C (SIGINT) stops sending and returns what was measured, marked ``interrupted``
    (and stored with status ``interrupted``: the gate does not judge it).

    Args:
        config: the load profile, duration and limits.
        target: a :class:`TargetConfig` or a ``--target`` string.
        workload: the inputs to send (default: a fixed short prompt).
        store: a Store or URL to record the run in (kind ``load``, summary without raw
            samples); None records nothing.
        save: with ``store``, False skips recording.
        feature, version: what the target serves (the gate selects load runs by them).
        name: the stored run's label.
        params: extra parameters to keep with the run (e.g. the command's inputs file).
        target_label: the target as the stored run names it (default: the spec given, or
            the endpoint); secrets are stripped.
        progress: called once a second with the last second's figures (one process only).

    Raises:
        ConfigError: the target is not on loopback and ``config.allow_remote`` is False.
    """
    result = _run_one(config, target, workload, progress)
    if store is not None and save:
        result.run_id = record_load(
            result, store, feature=feature, version=version, name=name,
            params={"config": config.model_dump(mode="json"), **(params or {})},
            target=target_label or (target if isinstance(target, str) else None),
            status="interrupted" if result.interrupted else "ok",
        )  # fmt: skip
    return result


def _run_one(
    config: LoadConfig,
    target: TargetConfig | str,
    workload: Workload | None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> LoadResult:
    tcfg = to_target(target)
    where = check_target(tcfg, config)
    run = run_process(config, tcfg, workload or Workload(), progress)
    return LoadResult(
        config=config, target=where, samples=run.samples, elapsed_s=run.elapsed_s,
        client=run.client, harness=run.harness, interrupted=run.interrupted,
    )  # fmt: skip


def run_levels(
    config: LoadConfig,
    target: TargetConfig | str,
    levels: Sequence[float],
    *,
    labels: Sequence[str] | None = None,
    workload: Workload | None = None,
    stop_when_slo_missed: bool = False,
    store: Store | str | None = None,
    save: bool = True,
    feature: str | None = None,
    version: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    target_label: str | None = None,
    progress: Callable[[str], Callable[[dict[str, Any]], None]] | None = None,
) -> LevelsResult:
    """Run ``config`` at each load in ``levels`` (rates or user counts), lowest first.

    ``progress(label)`` gives the per-second callback of each level. Ctrl-C ends the run
    after the level it interrupts: finished levels are complete, that one is partial.

    With ``stop_when_slo_missed`` (a sweep) the run stops after the first level that
    misses the SLO: higher loads only pile more traffic onto a target already past its knee.
    ``store``, ``save``, ``feature``, ``version``, ``name``, ``params``, ``target_label`` record the
    levels as one run (kind ``load``, ``levels[]`` labelled ``1x``…), as :func:`run_load`.
    """
    if not levels:
        raise ConfigError("no load levels given")
    if labels is not None and len(labels) != len(levels):
        raise ConfigError("one label per level is needed")
    if stop_when_slo_missed and not config.slo.defined:
        raise ConfigError(
            "a sweep needs a latency SLO", fix="pass --slo-ms (or plan load.slo_p99_ms)"
        )
    tcfg = to_target(target)
    check_target(tcfg, config)
    results = []
    for i, value in enumerate(levels):
        level = config.with_load(value)
        label = labels[i] if labels is not None else f"{level.load_value:g}"
        res = _run_one(
            level.model_copy(update={"label": label}), tcfg, workload,
            progress(label) if progress is not None else None,
        )  # fmt: skip
        results.append(res)
        if res.interrupted:
            break
        met = res.level_json()["slo"]["met"]
        if stop_when_slo_missed and met is False:
            break
    out = LevelsResult(results)
    if store is not None and save:
        extra = {"levels": list(levels), "labels": list(labels) if labels else None}
        out.run_id = record_load(
            out, store, feature=feature, version=version, name=name,
            params={"config": config.model_dump(mode="json"), **extra, **(params or {})},
            target=target_label or (target if isinstance(target, str) else None),
            status="interrupted" if any(r.interrupted for r in results) else "ok",
        )  # fmt: skip
    return out


def expected_levels(expected: float, multiplier: float = 3.0) -> tuple[list[float], list[str]]:
    """1x, 2x, … up to ``multiplier`` × expected (a fractional top step is kept)."""
    if expected <= 0 or multiplier <= 0:
        raise ConfigError("expected load and multiplier must be positive")
    steps = [float(k) for k in range(1, math.floor(multiplier) + 1)]
    if not steps or steps[-1] < multiplier:
        steps.append(float(multiplier))
    return [expected * k for k in steps], [f"{k:g}x" for k in steps]


def sweep_levels(start: float, stop: float, steps: int) -> list[float]:
    """``steps`` loads from ``start`` to ``stop``, geometrically spaced (knees are relative)."""
    if start <= 0 or stop < start or steps < 1:
        raise ConfigError("a sweep needs 0 < start <= stop and at least one step")
    if steps == 1:
        return [float(start)]
    ratio = (stop / start) ** (1.0 / (steps - 1))
    return [start * ratio**i for i in range(steps)]
