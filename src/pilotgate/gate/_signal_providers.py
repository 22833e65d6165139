"""Silent-user metrics for the gate: implicit outcome, rephrases, churn, off-purpose.

Read through :func:`pilotgate.signals.silent_users` (which refreshes the materialised
signals incrementally first), over the criterion's window, for the plan's feature.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pilotgate.gate._catalogue import Evidence, MetricValue, NoData, metric_provider
from pilotgate.gate._context import MetricContext
from pilotgate.signals import SIGNAL_METRICS

if TYPE_CHECKING:
    from pilotgate.signals import SilentUsers

__all__: list[str] = []

Result = MetricValue | NoData


def _report(ctx: MetricContext) -> SilentUsers:
    from pilotgate.signals import silent_users

    win = ctx.window()
    key = ("signals", win.since, win.until)
    if key not in ctx.cache:
        ctx.cache[key] = silent_users(
            ctx.store,
            ctx.plan.feature.name,
            ctx.plan.signals,
            since=win.since,
            until=win.until,
            examples=0,
            clusters=False,
        )
    report: SilentUsers = ctx.cache[key]
    return report


def _signal(ctx: MetricContext, key: str) -> Result:
    win = ctx.window()
    feature = ctx.plan.feature.name
    cmd = ["pilotgate", "usage", "--feature", feature]
    if win.since is not None:
        cmd += ["--since", win.since.isoformat(timespec="seconds")]
    if win.until is not None:
        cmd += ["--until", win.until.isoformat(timespec="seconds")]
    note = f"feature {feature!r}; implicit signals ([signals] settings)"
    if key in ("silent_churn", "return_rate"):
        note += f"; users seen at least {ctx.plan.signals.return_days} days"
    ev = Evidence(
        kind="usage",
        window=win.describe() if win.name != "latest" else "all stored interactions",
        command=shlex.join(cmd),
        note=note,
        selection={"kind": "usage", "feature": feature, "version": None, "eval_set": None},
    )
    report = _report(ctx)
    if report.overall.n == 0:
        return NoData(f"no interactions of feature {feature!r} in the window", ev)
    if key == "off_purpose_rate" and not ctx.plan.signals.scope:
        return NoData("usage.off_purpose_rate needs [signals] scope in the plan", ev)
    m = report.metrics()[key]
    if m.value is None:
        return NoData(f"usage.{key}: no samples in the window", ev)
    return MetricValue(float(m.value), m.ci95, int(m.n), ev)


def _register(key: str) -> None:
    @metric_provider(
        f"usage.{key}",
        description=SIGNAL_METRICS[key],
        source="implicit signals of live interactions, feedback and steps",
        unit="share",
    )
    def provider(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
        return _signal(ctx, key)


for _key in SIGNAL_METRICS:
    _register(_key)
