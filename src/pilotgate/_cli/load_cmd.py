"""``pilotgate load``: load-test a target (one level, 1x/2x/3x, or a sweep); ``load merge``."""

from __future__ import annotations

import sys
from typing import Any

import click

from pilotgate._cli._options import (
    FILE,
    json_option,
    plan_path_option,
    plan_scope,
    scope_options,
    store_options,
    write_json,
)

__all__ = ["load"]

_POS = click.FloatRange(min=0, min_open=True)
_opt = click.option


# fmt: off
@click.group(invoke_without_command=True, context_settings={"ignore_unknown_options": False})
@_opt("--target", "-t", "target_spec",
      help="python:mod:fn, openai:URL, anthropic:URL, http:URL or a plan target name.")
@_opt("--model", help="Model for an openai: or anthropic: target.")
@_opt("--stream/--no-stream", default=None,
      help="openai/anthropic: stream (measures TTFT and ITL).")
@plan_path_option
@_opt("--concurrency", "-c", type=click.IntRange(min=1), help="Closed loop: simulated users.")
@_opt("--rate", "-r", type=_POS, help="Open loop: requests per second.")
@_opt("--arrival", type=click.Choice(["constant", "poisson"]), default="constant",
      show_default=True)
@_opt("--ramp-to", type=_POS, help="Ramp the rate/users linearly to this.")
@_opt("--think-time", "think_time_s", type=click.FloatRange(min=0), default=0.0,
      help="Closed loop: seconds between a user's requests.")
@_opt("--duration", "-d", "duration_s", type=_POS, default=30.0, show_default=True,
      help="Seconds of sending per level.")
@_opt("--max-requests", type=click.IntRange(min=1), default=100_000, show_default=True,
      help="Hard cap on requests per level.")
@_opt("--max-inflight", type=click.IntRange(min=1), help="Open loop: cap on requests in flight.")
@_opt("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
      help="Client retries (429/5xx/timeouts); 0 turns retrying off.")
@_opt("--timeout", "timeout_s", type=_POS, help="Per-attempt timeout, s (default: the target's).")
@_opt("--inputs", type=FILE, help="Cases or ingest JSONL to draw inputs from.")
@_opt("--expected", type=click.IntRange(min=1),
      help="Expected concurrent users: run 1x, 2x … multiplier x.")
@_opt("--expected-rate", type=_POS, help="Expected rate (req/s): run 1x … multiplier x open loop.")
@_opt("--multiplier", type=click.FloatRange(min=1),
      help="Top multiple of the expected load (plan default 3).")
@_opt("--sweep", "sweep",
      help="START:STOP[:STEPS] loads; stops after the first level missing the SLO.")
@_opt("--slo-ms", type=_POS, help="SLO: e2e latency a good request meets, ms.")
@_opt("--slo-ttft-ms", type=_POS, help="SLO: time to first token, ms.")
@_opt("--slo-target", type=click.FloatRange(0, 1, min_open=True), default=0.99,
      show_default=True, help="Share of good requests a level needs.")
@_opt("--seed", type=int, default=0, show_default=True)
@_opt("--shard", "shard", help="K/N: send shard K of N of the plan (merge with `load merge`).")
@_opt("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
      help="Worker processes on this machine.")
@_opt("--samples", "with_samples", is_flag=True,
      help="Put raw samples in --json (always with --shard).")
@_opt("--python-workers", type=click.IntRange(1, 1024),
      help="python: targets: worker pool size (default: the level's users).")
@_opt("--python-pool", type=click.Choice(["threads", "processes"]), default="threads",
      show_default=True,
      help="python: targets: run a sync function in threads or worker processes.")
@_opt("--progress/--no-progress", default=None,
      help="Print a row a second while each level runs (default: when stderr is a terminal).")
@_opt("--no-uvloop", is_flag=True, help="Use asyncio's default loop.")
@_opt("--yes", is_flag=True, help="Allow a target that is not on loopback.")
@json_option("pilotgate.load/1")
@_opt("--name", help="Name the stored run (e.g. 'pre-pilot 3x').")
@scope_options
@store_options
@click.pass_context
# fmt: on
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


# options the command keeps; every other one is a LoadJob's (prepare_load's keyword)
_OWN = ("target_spec", "plan_path", "yes", "no_uvloop", "with_samples", "progress", "json_path",
        "name", "run_feature", "run_version", "store_url", "no_store")  # fmt: skip


def _run(opts: dict[str, Any]) -> None:
    from pilotgate.load import prepare_load, render_load
    from pilotgate.plan import find_plan, load_plan, resolve_settings
    from pilotgate.targets import ensure_reachable

    o = {k: opts.pop(k) for k in _OWN}
    plan_file = find_plan(o["plan_path"])
    plan = load_plan(plan_file) if plan_file is not None else None
    job = prepare_load(
        o["target_spec"], plan=plan, allow_remote=o["yes"], use_uvloop=not o["no_uvloop"],
        check=ensure_reachable, **opts,
    )  # fmt: skip
    shard = job.config.shard
    click.echo(
        f"estimate per level ({len(job.levels or [0])} level(s)): {job.estimate().describe()}"
        + (f" · shard {shard}" if shard.count > 1 else ""),
        err=True,
    )
    job.check_remote()
    res = job.run(progress=_printer(o["progress"], job.config.workers))
    doc = job.document(res, include_samples=o["with_samples"] or shard.count > 1)
    if o["json_path"]:
        write_json(o["json_path"], doc)
    render_load(doc)
    if doc.get("interrupted"):
        click.echo(
            "interrupted (Ctrl-C): finished levels are complete, the last one is partial",
            err=True,
        )
    if not o["no_store"] and shard.count == 1:  # shards are stored once merged, not alone
        feature, version = plan_scope(o["run_feature"], o["run_version"], plan)
        store = resolve_settings(store=o["store_url"], plan=o["plan_path"]).store
        run_id = job.record(
            res, store, doc=doc, feature=feature, version=version, name=o["name"],
            target_label=o["target_spec"],  # as typed; the runs layer strips secrets
        )  # fmt: skip
        click.echo(f"stored run {run_id} (feature {feature!r}, version {version!r})", err=True)
    if doc.get("interrupted"):
        raise SystemExit(130)


def _printer(wanted: bool | None, workers: int) -> Any:
    """The live progress table's per-level callbacks on stderr, or None (off, or workers)."""
    from pilotgate.load import ProgressPrinter

    on = sys.stderr.isatty() if wanted is None else wanted
    if not on or workers > 1:
        return None
    return ProgressPrinter(lambda line: click.echo(line, err=True)).level


@load.command("merge")
@click.argument("shards", nargs=-1, required=True, type=FILE)
@json_option("merged pilotgate.load/1")
@_opt("--name", help="Name the stored run.")
@scope_options
@store_options
def merge(
    shards: tuple[str, ...], json_path: str | None, name: str | None, run_feature: str | None,
    run_version: str | None, store_url: str | None, no_store: bool,
) -> None:  # fmt: skip
    """Merge the --json documents of `load --shard K/N` runs into one exact result.

    The merged run is recorded in the store (the shards themselves are not).
    """
    from pilotgate.load import merge_files, record_load, render_load
    from pilotgate.plan import resolve_settings

    merged = merge_files(shards)
    doc = merged.to_json(include_samples=True)
    doc["merged_from"] = list(shards)
    if json_path:
        write_json(json_path, doc)
    render_load(doc)
    if not no_store:
        feature, version = plan_scope(run_feature, run_version)
        run_id = record_load(
            merged, resolve_settings(store=store_url).store, feature=feature, version=version,
            name=name, params={"merged_from": list(shards), "config": doc.get("config")},
            extra={"merged_from": list(shards)},
        )  # fmt: skip
        click.echo(f"stored run {run_id} (feature {feature!r}, version {version!r})", err=True)
