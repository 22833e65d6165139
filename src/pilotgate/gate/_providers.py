"""The built-in metric providers: usage, load, eval, robustness, shift and compare.

Each reads the ``--json`` document (docs/formats.md) its command stored as the run summary, or
the live usage data, and never raises for missing data: it says what is missing.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from typing import Any

from pilotgate._reproduce import eval_command, load_command, recorded_command
from pilotgate.gate._catalogue import Evidence, MetricValue, NoData, metric_provider
from pilotgate.gate._context import MetricContext

__all__: list[str] = []

Result = MetricValue | NoData


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _ci(x: Any) -> tuple[float, float] | None:
    if isinstance(x, list | tuple) and len(x) == 2:
        lo, hi = _num(x[0]), _num(x[1])
        if lo is not None and hi is not None:
            return (lo, hi)
    return None


def _int(x: Any) -> int:
    v = _num(x)
    return int(v) if v is not None else 0


def _select(
    ctx: MetricContext, kind: str, cmd: str, *, name: str | None = None, eval_set: bool = False
) -> tuple[dict[str, Any], dict[str, Any]] | NoData:
    """The run this criterion judges and its selection, or why there is none.

    Only runs of the plan's feature and the version judged (and, with ``eval_set``, the
    criterion's eval set) are candidates; another feature's run is never read.
    """
    sel = ctx.selection(kind, name=name, eval_set=eval_set)
    picked = ctx.pick(sel)
    if picked.run is None:
        ev = Evidence(kind, ctx.window().describe(), cmd, selection=sel.to_json())
        return NoData(picked.why_none(sel), ev)
    return picked.run, sel.to_json()


def _run_ev(
    ctx: MetricContext,
    kind: str,
    run: Mapping[str, Any],
    cmd: str,
    selection: Mapping[str, Any],
    note: str = "",
) -> Evidence:
    return Evidence(kind, ctx.run_window_text(dict(run)), cmd, run["id"], note, selection)


# ------------------------------------------------------------------ usage
USAGE_RATES = {
    "acceptance_rate": "Share of judged answers users accepted (Wilson 95 % interval).",
    "rejection_rate": "Share of judged answers users rejected (Wilson 95 % interval).",
    "edit_rate": "Share of feedback where the user edited the answer.",
    "error_rate": "Share of interactions that ended in an error.",
    "abandonment_rate": "Share of sessions abandoned after a rejected answer.",
    "volume": "Number of interactions in the window (no interval).",
}


#: the usage metrics that are headline figures (``usage_figures``): the usage report's
#: values for them are its ``figures``, so they are read without the report's slices
HEADLINE = frozenset(
    {"acceptance_rate", "error_rate", "dwell.p50", "latency.p50", "latency.p95", "latency.p99"}
)


def _usage(ctx: MetricContext, key: str) -> Result:
    from pilotgate.usage import describe_selector, split_metric

    win = ctx.window()
    feature = ctx.plan.feature.name
    version = ctx.criterion.version  # live usage spans the feature's versions unless named
    selector = split_metric(ctx.criterion.metric)[1]
    cmd = ["pilotgate", "usage", "--feature", feature]
    if version is not None:
        cmd += ["--version", version]
    for k, v in selector:
        cmd += ["--where", f"metadata.{k}={v}"]
    if win.since is not None:
        cmd += ["--since", win.since.isoformat(timespec="seconds")]
    if win.until is not None:
        cmd += ["--until", win.until.isoformat(timespec="seconds")]
    ev = Evidence(
        kind="usage",
        window=win.describe() if win.name != "latest" else "all stored interactions",
        command=shlex.join(cmd),
        note=f"feature {feature!r}"
        + (f" version {version!r}" if version else ", all versions")
        + (f", slice {describe_selector(selector)}" if selector else ""),
        selection={"kind": "usage", "feature": feature, "version": version, "eval_set": None},
    )
    scope = f"feature {feature!r}" + (f" version {version!r}" if version else "")
    scope += f" with {describe_selector(selector)}" if selector else ""
    if not selector and key in HEADLINE:  # the report's figures, without its slices
        figures = ctx.usage_figures()
        if figures.n == 0:
            return NoData(f"no interactions of {scope} in the window", ev)
        m = figures.metrics()[key]
    else:
        report = ctx.usage(selector)
        if report.overall.n == 0:
            return NoData(f"no interactions of {scope} in the window", ev)
        try:
            m = report.metric(key)
        except Exception as exc:  # an unknown step or quantile: the data can't answer it
            return NoData(str(exc), ev)
    if m.value is None:
        return NoData(f"usage.{key}: no samples in the window", ev)
    return MetricValue(float(m.value), m.ci95, int(m.n), ev)


def _usage_rate(key: str) -> None:
    @metric_provider(
        f"usage.{key}",
        description=USAGE_RATES[key],
        source="live interactions/feedback (SDK, collector, `pilotgate ingest`)",
        unit="count" if key == "volume" else "share",
    )
    def provider(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
        return _usage(ctx, key)


for _key in USAGE_RATES:
    _usage_rate(_key)


@metric_provider(
    "usage.cost_per_call",
    description="Mean cost of a call with token counts, priced by model from the plan's "
    "[prices] (no interval).",
    source="live interactions (tokens_in/tokens_out, metadata.model) and [prices]",
    unit="currency",
)
def _usage_cost(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    from pilotgate.usage import split_metric, usage_cost

    win = ctx.window()
    feature = ctx.plan.feature.name
    selector = split_metric(ctx.criterion.metric)[1]
    cmd = ["pilotgate", "usage", "--feature", feature]
    ev = Evidence("usage", win.describe(), shlex.join(cmd), note=f"feature {feature!r}")
    if not ctx.plan.prices:
        return NoData("the plan has no [prices.MODEL] tables", ev)
    rep = usage_cost(
        ctx.store, ctx.plan.prices, feature=feature, since=win.since, until=win.until,
        metadata=selector,
    )  # fmt: skip
    if rep.per_call is None:
        why = "no priced interactions with token counts in the window"
        if rep.unpriced_models:
            why += f" (no price for {', '.join(rep.unpriced_models)})"
        return NoData(why, ev)
    return MetricValue(rep.per_call, None, rep.calls_with_tokens, ev)


@metric_provider(
    "usage.dropoff.<step>",
    description="Share of sessions that reached the previous funnel step but not <step> "
    "(steps from [pilot] steps).",
    source="live steps (pilotgate.step)",
    example="usage.dropoff.copied_answer",
    unit="share",
)
def _usage_dropoff(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _usage(ctx, f"dropoff.{parts['step']}")


@metric_provider(
    "usage.latency.<q:p50|p95|p99>",
    description="Latency quantile of live interactions, ms (order-statistic 95 % interval).",
    source="live interactions",
    example="usage.latency.p99",
    unit="ms",
)
def _usage_latency(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _usage(ctx, f"latency.{parts['q']}")


@metric_provider(
    "usage.dwell.p50",
    description="Median time users spent on an answer before giving feedback, ms.",
    source="live feedback",
    unit="ms",
)
def _usage_dwell(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _usage(ctx, "dwell.p50")


# ------------------------------------------------------------------- load
def _k_label(k: float) -> str:
    return f"{k:g}x"


def _load_level(doc: Mapping[str, Any], k: float, expected: int) -> tuple[Any, str] | None:
    """The level of a load document run at ``k`` x the expected load, and how it was found."""
    levels = doc.get("levels") if isinstance(doc.get("levels"), list) else None
    candidates: list[Mapping[str, Any]] = list(levels) if levels else [doc]
    for lvl in candidates:
        if lvl.get("label") == _k_label(k):
            return lvl, f"level {_k_label(k)}"
    want = expected * k
    for lvl in candidates:
        load = lvl.get("load") or {}
        conc = _num(load.get("concurrency"))
        if conc is not None and abs(conc - want) < 1e-9:
            return lvl, f"level at concurrency {conc:g} = {k:g} x {expected}"
    return None


@metric_provider(
    "latency.<kind:e2e|service|ttft|itl>.<q:p50|p90|p95|p99|p999|max|mean>@<k>x",
    description="Latency from the latest load run's level at k x [load] expected_concurrency, "
    "ms (e2e counted from the intended send time).",
    source="pilotgate load --expected N (stored run, kind load)",
    example="latency.e2e.p99@3x",
    unit="ms",
)
def _load_latency_at(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _load_latency(ctx, parts, float(parts["k"]))


@metric_provider(
    "latency.<kind:e2e|service|ttft|itl>.<q:p50|p90|p95|p99|p999|max|mean>",
    description="Latency from the latest load run (its highest level), ms.",
    source="pilotgate load (stored run, kind load)",
    example="latency.e2e.p99",
    unit="ms",
)
def _load_latency_top(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _load_latency(ctx, parts, None)


def _load_latency(ctx: MetricContext, parts: Mapping[str, str], k: float | None) -> Result:
    expected = ctx.plan.load.expected_concurrency
    mult = k if k is not None else ctx.plan.load.multiplier
    found_run = _select(ctx, "load", load_command(None, expected, mult))
    if isinstance(found_run, NoData):
        return found_run
    run, selection = found_run
    cmd = load_command(run, expected, mult)
    doc = run.get("summary") or {}
    ev_args: dict[str, Any] = {
        "kind": "load",
        "window": ctx.run_window_text(run),
        "command": cmd,
        "run_id": run["id"],
        "selection": selection,
    }
    if k is None:
        level: Any = doc
        where = "highest level"
    else:
        found = _load_level(doc, k, expected)
        if found is None:
            labels = [str(lv.get("label")) for lv in doc.get("levels") or []] or ["(single)"]
            return NoData(
                f"the latest load run has no {_k_label(k)} level (levels: {', '.join(labels)})",
                Evidence(**ev_args),
            )
        level, where = found
    block = ((level.get("latency_ms") or {}).get(parts["kind"])) or {}
    value = _num(block.get(parts["q"]))
    n = _int(block.get("n"))
    failed = _int((level.get("requests") or {}).get("failed"))
    note = f"{where}; {n} successful requests" + (f", {failed} failed" if failed else "")
    ev = Evidence(**ev_args, note=note)
    if value is None:
        return NoData(f"no {parts['kind']} latency in the load run", ev)
    return MetricValue(value, _ci(block.get(f"{parts['q']}_ci95")), n, ev)


# ------------------------------------------------------------------- eval
def _eval(ctx: MetricContext, scorer: str, stat: str) -> Result:
    ref = ctx.criterion.eval_set
    found = _select(ctx, "eval", eval_command(None, scorer, ref), eval_set=True)
    if isinstance(found, NoData):
        return found
    run, selection = found
    cmd = eval_command(run, scorer, ref)
    doc = run.get("summary") or {}
    cases = doc.get("cases") or {}
    note = f"cases: {cases.get('kind', '?')} {cases.get('ref', '')}".strip()
    ev = _run_ev(ctx, "eval", run, cmd, selection, note)
    sc = (doc.get("scorers") or {}).get(scorer)
    if not isinstance(sc, Mapping):
        known = ", ".join(sorted(doc.get("scorers") or {})) or "none"
        return NoData(f"the eval run has no scorer {scorer!r} (it has: {known})", ev)
    if stat == "mean":
        value, ci = _num(sc.get("mean")), _ci(sc.get("ci95"))
    else:
        value, ci = _num(sc.get("pass_rate")), _ci(sc.get("pass_ci95"))
    if value is None:
        return NoData(f"scorer {scorer!r} scored no case", ev)
    return MetricValue(value, ci, _int(sc.get("n")), ev)


@metric_provider(
    "eval.<scorer>.mean",
    description="Mean score of <scorer> in the latest eval run on the criterion's eval_set "
    "(95 % interval: Wilson or bootstrap).",
    source="pilotgate eval run (stored run, kind eval)",
    example="eval.exact.mean",
    unit="score",
)
def _eval_mean(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _eval(ctx, parts["scorer"], "mean")


@metric_provider(
    "eval.<scorer>.pass_rate",
    description="Share of cases <scorer> passed in the latest eval run on the eval_set.",
    source="pilotgate eval run (stored run, kind eval)",
    example="eval.exact.pass_rate",
    unit="share",
)
def _eval_pass(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _eval(ctx, parts["scorer"], "pass_rate")


# ------------------------------------------------------------- robustness
@metric_provider(
    "robustness.<name>.pass_rate",
    description="Pass rate of a perturbation family or a single perturbation in the latest "
    "robustness run (Wilson 95 % interval).",
    source="pilotgate robustness (stored run, kind robustness)",
    example="robustness.character.pass_rate",
    unit="share",
)
def _robustness(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    name = parts["name"]
    cmd = "pilotgate robustness --target TARGET --cases CASES.jsonl --perturbations all --seed 0"
    found = _select(ctx, "robustness", cmd, eval_set=True)
    if isinstance(found, NoData):
        return found
    run, selection = found
    cmd = recorded_command(run) or cmd
    doc = run.get("summary") or {}
    fam = (doc.get("families") or {}).get(name)
    per = (doc.get("perturbations") or {}).get(name)
    block, what = (fam, "family") if isinstance(fam, Mapping) else (per, "perturbation")
    ev = _run_ev(ctx, "robustness", run, cmd, selection, f"{what} {name!r}")
    if not isinstance(block, Mapping):
        fams = ", ".join(sorted(doc.get("families") or {})) or "none"
        return NoData(
            f"the robustness run has no family or perturbation {name!r} (families: {fams})", ev
        )
    value = _num(block.get("pass_rate"))
    if value is None:
        return NoData(f"{what} {name!r} has no counted pairs", ev)
    return MetricValue(value, _ci(block.get("ci95")), _int(block.get("n")), ev)


# ------------------------------------------------------------------ shift
@metric_provider(
    "shift.coverage",
    description="Share of production inputs the eval set covers (calibrated nearest "
    "neighbour; bootstrap 95 % interval over eval and production), from the latest shift run.",
    source="pilotgate shift (stored run, kind shift)",
    unit="share",
)
def _shift_coverage(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    ref = ctx.criterion.eval_set
    cmd = "pilotgate shift " + (
        f"--eval-set {ref} --feature {ctx.plan.feature.name}"
        if ref
        else "--eval CASES.jsonl --production PROD.jsonl"
    )
    found = _select(ctx, "shift", cmd, eval_set=True)
    if isinstance(found, NoData):
        return found
    run, selection = found
    cmd = recorded_command(run) or cmd
    doc = run.get("summary") or {}
    cov = doc.get("coverage")
    note = f"{_int(doc.get('n_eval'))} eval x {_int(doc.get('n_production'))} production inputs"
    ev = _run_ev(ctx, "shift", run, cmd, selection, note)
    if isinstance(cov, Mapping):
        value, ci, n = _num(cov.get("value")), _ci(cov.get("ci95")), _int(cov.get("n"))
    else:
        value, ci, n = _num(cov), _ci(doc.get("coverage_ci95")), _int(doc.get("n_production"))
    if value is None:
        return NoData("the shift run has no coverage", ev)
    return MetricValue(value, ci, n or _int(doc.get("n_production")), ev)


# ---------------------------------------------------------------- compare
def _compare(ctx: MetricContext, name: str, scorer: str | None) -> Result:
    cmd = f"pilotgate eval compare RUN_A RUN_B --name {name}"
    found = _select(ctx, "compare", cmd, name=name)
    if isinstance(found, NoData):
        return found
    run, selection = found
    doc = run.get("summary") or {}
    key = scorer or str(doc.get("primary") or "")
    ev = _run_ev(ctx, "compare", run, cmd, selection, f"scorer {key!r}")
    sc = (doc.get("scorers") or {}).get(key)
    if not isinstance(sc, Mapping):
        return NoData(f"comparison {name!r} has no scorer {key!r}", ev)
    value = _num(sc.get("diff", sc.get("delta")))
    if value is None:
        return NoData(f"comparison {name!r} has no difference for {key!r}", ev)
    p = _num(sc.get("p_value"))
    if p is not None:
        ev = Evidence(
            ev.kind, ev.window, ev.command, ev.run_id, f"{ev.note}; p = {p:.3g}", ev.selection
        )
    return MetricValue(value, _ci(sc.get("ci95")), _int(sc.get("n")), ev)


@metric_provider(
    "compare.<name>.delta",
    description="Paired difference (B - A) of the primary scorer in the latest comparison "
    "stored under <name> (bootstrap 95 % interval).",
    source="pilotgate eval compare --name NAME (stored run, kind compare)",
    example="compare.v2-vs-v1.delta",
    unit="score",
)
def _compare_primary(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _compare(ctx, parts["name"], None)


@metric_provider(
    "compare.<name>.<scorer>.delta",
    description="Paired difference (B - A) of one scorer in the comparison named <name>.",
    source="pilotgate eval compare --name NAME (stored run, kind compare)",
    example="compare.v2-vs-v1.exact.delta",
    unit="score",
)
def _compare_scorer(ctx: MetricContext, parts: Mapping[str, str]) -> Result:
    return _compare(ctx, parts["name"], parts["scorer"])
