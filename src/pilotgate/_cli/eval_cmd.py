"""``pilotgate eval run`` and ``pilotgate eval compare``: score a target, compare versions."""

from __future__ import annotations

from typing import Any

import click

from pilotgate._cli._options import (
    FILE,
    json_option,
    plan_scope,
    progress_bar,
    store_option,
    write_json,
)
from pilotgate.errors import ConfigError

__all__ = ["eval_group"]

_opt = click.option


@click.group("eval")
def eval_group() -> None:
    """Evaluate a target on an eval set, and compare two runs (e.g. v1 vs v2)."""


# fmt: off
@eval_group.command("run")
@_opt("--target", "-t", required=True,
      help="python:pkg.mod:fn, openai:URL, anthropic:URL, http:URL.")
@_opt("--model", default=None, help="Model name for an openai: or anthropic: target.")
@_opt("--cases", type=FILE, help="Cases JSONL (or ingest JSONL).")
@_opt("--eval-set", help="A stored eval set: NAME or NAME@VERSION.")
@_opt("--scorer", "-s", "scorers", multiple=True,
      help="NAME or NAME:key=value,... (repeatable), e.g. label, "
      "judge:target=openai:URL,repeats=3.")
@_opt("--concurrency", type=click.IntRange(min=1), default=8, show_default=True)
@_opt("--name", default=None, help="A name for the run.")
@_opt("--feature", default=None,
      help="Feature name recorded with the run (default: the plan's [feature] name).")
@_opt("--version", "version", default=None,
      help="Feature version (default: the plan's [feature] version; labels compare verdicts; "
      "part of the response-cache key).")
@_opt("--resume", default=None, help="Continue an interrupted run: its RUN_ID.")
@_opt("--no-cache", is_flag=True, help="Call the target even for cached inputs.")
@_opt("--retries", type=click.IntRange(0, 10), default=3, show_default=True, help="On 429/503.")
@_opt("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@_opt("--clusters", type=click.IntRange(min=1), default=None,
      help="Cluster inputs that carry no cluster into K groups (k-means on embeddings).")
@_opt("--embedder", default="minilm", show_default=True, help="Embedding backend for --clusters.")
@store_option
@_opt("--no-store", is_flag=True,
      help="Record nothing: a scratch store holds the run while it lasts (no cache, no resume).")
@json_option("pilotgate.eval/1")
@_opt("--rows", "rows_path", type=FILE, help="Per-case JSONL.")
# fmt: on
def run_cmd(
    target: str, model: str | None, scorers: tuple[str, ...], feature: str | None,
    version: str | None, retries: int, no_cache: bool, store_url: str | None, no_store: bool,
    json_path: str | None, rows_path: str | None, **opts: Any,
) -> None:  # fmt: skip
    """Call the target on every case, score the outputs and store the run.

    Finished cases are stored as they complete (--resume RUN_ID continues a killed
    run); responses are cached by target and input, so an unchanged re-run makes
    no target calls.
    """
    if not scorers:
        raise ConfigError("no --scorer given", fix="e.g. --scorer label or --scorer exact")
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    from pilotgate.evaluate import render_eval, run_eval
    from pilotgate.plan import resolve_settings
    from pilotgate.targets import ensure_reachable, resolve_target

    plan = resolve_settings(store=store_url).plan
    if plan is not None:
        feature, version = plan_scope(feature, version, plan)
    tgt = resolve_target(target, model=model, retries=retries,
                         plan_targets=plan.targets if plan is not None else None)  # fmt: skip
    ensure_reachable(tgt.config)
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with progress_bar("evaluating", *columns) as progress:
        result = run_eval(
            tgt, opts.pop("cases"), list(scorers), store=store_url, use_cache=not no_cache,
            feature=feature, version=version, model=model, retries=retries, scratch=no_store,
            progress=progress, on_start=_announce, **opts,
        )  # fmt: skip
    render_eval(result.document)
    if json_path:
        write_json(json_path, result.document)
    if rows_path:
        result.write_rows(rows_path)


def _announce(run_id: str) -> None:
    click.echo(f"run {run_id} (resume with --resume {run_id})", err=True)


# fmt: off
@eval_group.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@_opt("--scorer", "-s", "scorers", multiple=True, help="Scorer key(s) to compare.")
@_opt("--seed", type=int, default=0, show_default=True, help="Seed of the resampling.")
@_opt("--min-agreement", type=click.FloatRange(0, 1), default=0.8, show_default=True,
      help="A judge agreeing with itself less often than this cannot make B better.")
@_opt("--name", default=None, help="A name for the stored comparison.")
@_opt("--fail-on-regression", is_flag=True, help="Exit 1 when B is significantly worse.")
@store_option
@json_option("pilotgate.compare/1")
# fmt: on
def compare_cmd(
    run_a: str, run_b: str, scorers: tuple[str, ...], fail_on_regression: bool,
    store_url: str | None, json_path: str | None, **opts: Any,
) -> None:  # fmt: skip
    """Compare eval run RUN_B against RUN_A on their shared cases (paired)."""
    from pilotgate.evaluate import compare_runs, render_eval

    result = compare_runs(run_a, run_b, store=store_url, scorers=list(scorers) or None, **opts)
    render_eval(result.document)
    if json_path:
        write_json(json_path, result.document)
    if fail_on_regression and result.document["outcome"] == "worse":
        raise SystemExit(1)
