"""``pilotgate load``: load-test a target (one level, 1x/2x/3x, or a sweep); ``load merge``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pilotgate._cli._options import ensure_reachable, plan_scope, scope_options, store_options
from pilotgate.errors import ConfigError, InputError

__all__ = ["load"]


def _write_json(path: str, doc: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def _fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


_ROWS: tuple[tuple[str, str, str, str], ...] = (
    # label, block, key, sub-key
    ("requests sent", "requests", "sent", ""),
    ("ok / failed", "requests", "ok", "failed"),
    ("429 answers", "requests", "by_status", "429"),
    ("retries (wait s)", "requests", "retries", "retry_wait_s"),
    ("e2e p50 ms", "latency_ms", "e2e", "p50"),
    ("e2e p90 ms", "latency_ms", "e2e", "p90"),
    ("e2e p99 ms", "latency_ms", "e2e", "p99"),
    ("e2e p99.9 ms", "latency_ms", "e2e", "p999"),
    ("e2e max ms", "latency_ms", "e2e", "max"),
    ("service p50 ms", "latency_ms", "service", "p50"),
    ("service p99 ms", "latency_ms", "service", "p99"),
    ("ttft p50 / p99 ms", "latency_ms", "ttft", "p50"),
    ("itl p50 / p99 ms", "latency_ms", "itl", "p50"),
    ("ok requests/s", "throughput", "requests_per_s", ""),
    ("output tokens/s", "throughput", "output_tokens_per_s", ""),
    ("send rate target / achieved", "schedule", "target_rate", "achieved_rate"),
    ("scheduler lag max ms", "schedule", "max_lag_ms", ""),
    ("SLO attainment", "slo", "attainment", ""),
)


def _cell(lv: dict[str, Any], block: str, key: str, sub: str) -> str:
    b = lv[block]
    if block == "latency_ms":
        stats = b[key]
        if key in ("ttft", "itl"):
            return f"{_fmt(stats['p50'])} / {_fmt(stats['p99'])}"
        return _fmt(stats[sub])
    if key == "by_status":
        return _fmt(b[key].get(sub, 0))
    if key == "attainment":
        return (
            "–"
            if b[key] is None
            else f"{100 * b[key]:.2f} %"
            + ("" if b["met"] is None else (" met" if b["met"] else " missed"))
        )
    if sub:
        return f"{_fmt(b[key])} / {_fmt(b[sub])}"
    return _fmt(b[key])


def _render(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    levels = doc.get("levels") or [doc]
    table = Table(title=f"load · {doc['profile']} · {doc['target']}")
    table.add_column("")
    for lv in levels:
        load_txt = lv["load"]["rate"] or lv["load"]["concurrency"]
        unit = "req/s" if lv["load"]["rate"] else "users"
        name = f"{lv['label']} · " if lv.get("label") else ""
        table.add_column(f"{name}{_fmt(load_txt)} {unit}", justify="right")
    for label, block, key, sub in _ROWS:
        table.add_row(label, *(_cell(lv, block, key, sub) for lv in levels))
    console = Console()
    console.print(table)
    console.print("e2e counts from the intended send time (queueing, retries included)")
    knee = doc.get("knee")
    if "knee" in doc:
        console.print(
            f"knee (highest load meeting the SLO): {knee['label']} "
            f"({knee['load']:g} {knee['unit']})"
            if knee
            else "knee: no level met the SLO (or no SLO given)"
        )
    rl = doc.get("ratelimit", {}).get("last")
    if rl:
        console.print("rate-limit headers: " + ", ".join(f"{k}={v}" for k, v in rl.items()))


def _sweep_spec(text: str) -> tuple[float, float, int]:
    parts = text.split(":")
    try:
        start, stop = float(parts[0]), float(parts[1])
        steps = int(parts[2]) if len(parts) > 2 else 4
    except (ValueError, IndexError):
        raise ConfigError(
            f"bad --sweep {text!r}", fix="write START:STOP[:STEPS], e.g. 10:200:5"
        ) from None
    return start, stop, steps


@click.group(invoke_without_command=True, context_settings={"ignore_unknown_options": False})
@click.option(
    "--target",
    "-t",
    "target_spec",
    help="python:mod:fn, openai:URL, http:URL or a plan target name.",
)  # noqa: E501
@click.option("--model", help="Model for an openai: target.")
@click.option("--stream/--no-stream", default=None, help="openai: stream (measures TTFT and ITL).")
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False),
    help="pilotgate.toml (default: ./pilotgate.toml if present).",
)  # noqa: E501
@click.option(
    "--concurrency", "-c", type=click.IntRange(min=1), help="Closed loop: simulated users."
)  # noqa: E501
@click.option(
    "--rate",
    "-r",
    type=click.FloatRange(min=0, min_open=True),
    help="Open loop: requests per second.",
)  # noqa: E501
@click.option(
    "--arrival", type=click.Choice(["constant", "poisson"]), default="constant", show_default=True
)  # noqa: E501
@click.option(
    "--ramp-to",
    type=click.FloatRange(min=0, min_open=True),
    help="Ramp the rate/users linearly to this.",
)  # noqa: E501
@click.option(
    "--think-time",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Closed loop: seconds between a user's requests.",
)  # noqa: E501
@click.option(
    "--duration",
    "-d",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds of sending per level.",
)  # noqa: E501
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Hard cap on requests per level.",
)  # noqa: E501
@click.option(
    "--max-inflight", type=click.IntRange(min=1), help="Open loop: cap on requests in flight."
)  # noqa: E501
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Client retries (429/5xx/timeouts); 0 turns retrying off.",
)  # noqa: E501
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Per-attempt timeout, s (default: the target's).",
)  # noqa: E501
@click.option(
    "--inputs", type=click.Path(dir_okay=False), help="Cases or ingest JSONL to draw inputs from."
)  # noqa: E501
@click.option(
    "--expected",
    type=click.IntRange(min=1),
    help="Expected concurrent users: run 1x, 2x … multiplier x.",
)  # noqa: E501
@click.option(
    "--expected-rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Expected rate (req/s): run 1x … multiplier x open loop.",
)  # noqa: E501
@click.option(
    "--multiplier",
    type=click.FloatRange(min=1),
    help="Top multiple of the expected load (plan default 3).",
)  # noqa: E501
@click.option(
    "--sweep",
    "sweep_spec",
    help="START:STOP[:STEPS] loads; stops after the first level missing the SLO.",
)  # noqa: E501
@click.option(
    "--slo-ms",
    type=click.FloatRange(min=0, min_open=True),
    help="SLO: e2e latency a good request meets, ms.",
)  # noqa: E501
@click.option(
    "--slo-ttft-ms",
    type=click.FloatRange(min=0, min_open=True),
    help="SLO: time to first token, ms.",
)  # noqa: E501
@click.option(
    "--slo-target",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.99,
    show_default=True,
    help="Share of good requests a level needs.",
)  # noqa: E501
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--shard", "shard_spec", help="K/N: send shard K of N of the plan (merge with `load merge`)."
)  # noqa: E501
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes on this machine.",
)  # noqa: E501
@click.option(
    "--samples",
    "with_samples",
    is_flag=True,
    help="Put raw samples in --json (always with --shard).",
)  # noqa: E501
@click.option("--no-uvloop", is_flag=True, help="Use asyncio's default loop.")
@click.option("--yes", is_flag=True, help="Allow a target that is not on loopback.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Write the pilotgate.load/1 document.",
)  # noqa: E501
@click.option("--name", help="Name the stored run (e.g. 'pre-pilot 3x').")
@scope_options
@store_options
@click.pass_context
def load(ctx: click.Context, /, **opts: Any) -> None:
    """Load-test a target with honest tail latency; or `load merge SHARD.json...`.

    Closed loop with --concurrency N, open loop with --rate R (constant or Poisson
    arrivals, latency counted from each request's intended send time). --expected N
    runs 1x, 2x and 3x the expected users in one command; --sweep finds the knee.
    Every run is bounded by --duration and --max-requests.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not opts["target_spec"]:
        raise click.UsageError("give --target (or use `pilotgate load merge SHARD.json...`)")
    _run(opts)


def _run(o: dict[str, Any]) -> None:
    from pilotgate.load import (
        LoadConfig,
        RetryPolicy,
        Shard,
        Slo,
        Workload,
        estimate,
        expected_levels,
        is_loopback,
        run_levels,
        run_load,
        sweep_levels,
        to_target,
    )
    from pilotgate.load._workload import endpoint_url
    from pilotgate.plan import find_plan, load_plan
    from pilotgate.targets._base import safe_url

    plan_file = find_plan(o["plan_path"])
    plan = load_plan(plan_file) if plan_file is not None else None
    lsec = plan.load if plan is not None else None
    target = to_target(
        o["target_spec"],
        model=o["model"],
        plan_targets=plan.targets if plan is not None else None,
        stream=o["stream"],
    )
    if target.kind != "python" and (is_loopback(endpoint_url(target)) or o["yes"]):
        ensure_reachable(target)
    multi = o["expected"] or o["expected_rate"] or o["sweep_spec"]
    concurrency, rate = o["concurrency"], o["rate"]
    if o["expected"]:
        concurrency, rate = o["expected"], None
    elif o["expected_rate"]:
        concurrency, rate = None, o["expected_rate"]
    elif o["sweep_spec"]:
        start = _sweep_spec(o["sweep_spec"])[0]
        if rate is not None:
            rate = start
        else:
            concurrency = max(1, round(start))
    if (concurrency is None) == (rate is None):
        if concurrency is None and lsec is not None and not multi:
            concurrency = lsec.expected_concurrency
        else:
            raise ConfigError(
                "choose one profile",
                fix="give --concurrency N or --rate R (or --expected N / --expected-rate R)",
            )
    slo_ms = o["slo_ms"] or (lsec.slo_p99_ms if lsec is not None else None)
    try:
        shard = Shard.parse(o["shard_spec"]) if o["shard_spec"] else Shard()
        cfg = LoadConfig(
            concurrency=concurrency,
            rate=rate,
            arrival=o["arrival"],
            ramp_to=o["ramp_to"],
            think_time_s=o["think_time"],
            duration_s=o["duration"],
            max_requests=o["max_requests"],
            max_inflight=o["max_inflight"],
            timeout_s=o["timeout"],
            retry=RetryPolicy(max_retries=o["retries"]),
            slo=Slo(e2e_ms=slo_ms, ttft_ms=o["slo_ttft_ms"], target=o["slo_target"]),
            seed=o["seed"],
            shard=shard,
            workers=o["workers"],
            use_uvloop=not o["no_uvloop"],
            allow_remote=o["yes"] or bool(lsec and lsec.allow_remote),
        )
    except ValueError as exc:
        raise ConfigError(str(exc).splitlines()[-1], where="command line") from None
    workload = Workload.from_file(o["inputs"]) if o["inputs"] else Workload()

    levels: list[float] | None = None
    labels: list[str] | None = None
    if o["expected"] or o["expected_rate"]:
        mult = o["multiplier"] or (lsec.multiplier if lsec is not None else 3.0)
        levels, labels = expected_levels(o["expected"] or o["expected_rate"], mult)
    elif o["sweep_spec"]:
        levels = sweep_levels(*_sweep_spec(o["sweep_spec"]))
    n_levels = len(levels) if levels else 1
    est = estimate(cfg.with_load(max(levels)) if levels else cfg, target, workload, shard=shard)
    remote = target.kind != "python" and not is_loopback(endpoint_url(target))
    click.echo(
        f"estimate per level ({n_levels} level(s)): {est.describe()}"
        + (f" · shard {shard}" if shard.count > 1 else ""),
        err=True,
    )
    if remote and not cfg.allow_remote:
        raise ConfigError(
            "the target is not on loopback; a load test sends real traffic (and cost) there",
            where=safe_url(endpoint_url(target)),
            fix="check the estimate above and pass --yes",
        )
    samples = o["with_samples"] or shard.count > 1
    feature, version = plan_scope(o["run_feature"], o["run_version"], plan)
    record: dict[str, Any] = {
        # shards are stored once merged, not alone
        "store": None if o["no_store"] or shard.count > 1 else _store_url(o),
        "feature": feature,
        "version": version,
        "name": o["name"],
        "params": {
            "expected": o["expected"] or o["expected_rate"],
            "sweep": o["sweep_spec"],
            "inputs": o["inputs"],
        },
        "target_label": o["target_spec"],  # as typed; the runs layer strips secrets
    }
    res: Any
    if levels is not None:
        res = run_levels(
            cfg, target, levels, labels=labels, workload=workload,
            stop_when_slo_missed=bool(o["sweep_spec"]), **record,
        )  # fmt: skip
    else:
        res = run_load(cfg, target, workload, **record)
    doc = res.to_json(include_samples=samples)
    if o["json_path"]:
        _write_json(o["json_path"], doc)
    _render(doc)
    if res.run_id:
        click.echo(f"stored run {res.run_id} (feature {feature!r}, version {version!r})", err=True)


def _store_url(o: dict[str, Any]) -> str:
    from pilotgate.plan import resolve_settings

    return resolve_settings(store=o["store_url"], plan=o["plan_path"]).store


@load.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the merged document."
)  # noqa: E501
@click.option("--name", help="Name the stored run.")
@scope_options
@store_options
def merge(
    shards: tuple[str, ...],
    json_path: str | None,
    name: str | None,
    run_feature: str | None,
    run_version: str | None,
    store_url: str | None,
    no_store: bool,
) -> None:
    """Merge the --json documents of `load --shard K/N` runs into one exact result.

    The merged run is recorded in the store (the shards themselves are not).
    """
    from pilotgate.load import LevelsResult, LoadResult, merge_results

    docs = []
    for path in shards:
        try:
            docs.append((path, json.loads(Path(path).read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read a load document: {exc}", where=path) from None
    if all("levels" in d for _, d in docs):
        n = {len(d["levels"]) for _, d in docs}
        if len(n) != 1:
            raise InputError("shards have different numbers of levels", where=docs[0][0])
        merged_levels = []
        for i in range(n.pop()):
            parts = [LoadResult.from_json(d["levels"][i], where=p) for p, d in docs]
            merged_levels.append(merge_results(parts))
        merged: LevelsResult | LoadResult = LevelsResult(merged_levels)
    elif any("levels" in d for _, d in docs):
        raise InputError("cannot merge multi-level and single-level documents", where=shards[0])
    else:
        merged = merge_results([LoadResult.from_json(d, where=p) for p, d in docs])
    doc = merged.to_json(include_samples=True)
    doc["merged_from"] = list(shards)
    if json_path:
        _write_json(json_path, doc)
    _render(doc)
    if not no_store:
        from pilotgate.load import record_load
        from pilotgate.plan import resolve_settings

        feature, version = plan_scope(run_feature, run_version)
        run_id = record_load(
            merged,
            resolve_settings(store=store_url).store,
            feature=feature,
            version=version,
            name=name,
            params={"merged_from": list(shards), "config": doc.get("config")},
            extra={"merged_from": list(shards)},
        )
        click.echo(f"stored run {run_id} (feature {feature!r}, version {version!r})", err=True)
