"""``pilotgate robustness``: stress a target with perturbed inputs and report pass rates."""

from __future__ import annotations

import json
from typing import Any

import click

from pilotgate._cli._options import (
    FILE,
    json_option,
    plan_scope,
    progress_bar,
    scope_options,
    store_options,
    write_json,
)
from pilotgate._cli.perturb_cmd import plan_options, resolve_plan_options
from pilotgate.errors import ConfigError

__all__ = ["robustness"]


def _parse_kv(items: tuple[str, ...], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{what} {item!r} is not KEY=VALUE", fix=f"e.g. {what} threshold=0.8")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _floats(ctx: click.Context, param: click.Parameter, text: str | None) -> list[float]:
    """``--severities 0.05,0.1`` as numbers, checked while the command line is read."""
    if not text:
        return []
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(
            f"--severities {text!r} is not a comma list of numbers", fix="e.g. 0.05,0.1,0.2,0.4"
        ) from None


# fmt: off
@click.command("robustness")
@click.option("--target", "-t", required=True, help="python:pkg.mod:fn, openai:URL, "
              "anthropic:URL, http:URL, or a [targets.NAME] of the plan.")
@click.option("--model", default=None, help="Model name for an openai: or anthropic: target.")
@click.option("--cases", type=FILE, help="Cases JSONL.")
@click.option("--eval-set", help="A stored eval set instead of --cases: NAME or NAME@VERSION.")
@click.option("--perturbations", "-p", default="all", show_default=True,
              help="all, a name, a comma list, or family:NAME.")
@click.option("--samples", type=int, default=1, show_default=True, help="Samples per case.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same as pilotgate perturb.")
@click.option("--severity", type=float, default=None, help="One severity for all (0..1).")
@click.option("--severities", callback=_floats, help="Severity curve, e.g. 0.05,0.1,0.2,0.4.")
@click.option("--mode", type=click.Choice(["consistency", "correctness"]), default="consistency",
              show_default=True, help="Match the original's answer, or the case's expected output.")
@click.option("--scorer", default="auto", show_default=True, help="Scorer for the pairs.")
@click.option("--scorer-arg", multiple=True, help="Scorer option KEY=VALUE (repeatable).")
@click.option("--refusal-scorer", default=None, help="Scorer for out-of-scope inputs.")
@click.option("--injection-scorer", default=None, help="Scorer for injection inputs.")
@click.option("--concurrency", type=int, default=8, show_default=True, help="Calls in flight.")
@json_option("pilotgate.robustness/1")
@click.option("--rows", "rows_path", type=FILE, help="Per-pair JSONL.")
@plan_options
@scope_options
@store_options
# fmt: on
def robustness(
    target: str, model: str | None, cases: str | None, eval_set: str | None, scorer: str,
    scorer_arg: tuple[str, ...], refusal_scorer: str | None, injection_scorer: str | None,
    json_path: str | None, rows_path: str | None, plan_path: str | None,
    feature_description: str | None, glossary: str | None, run_feature: str | None,
    run_version: str | None, store_url: str | None, no_store: bool,
    **run_args: Any,  # --perturbations, --samples, --seed, --severity/--severities, --mode…
) -> None:  # fmt: skip
    """Send each case and its perturbations to the target and judge every pair.

    Families whose pass rate's 95 % interval sits low break the feature; the same
    --seed (and plan) makes exactly the inputs `pilotgate perturb` writes. --target may
    name a [targets.NAME] table of the plan; the jargon and out-of-scope perturbations
    use the plan's [feature] glossary and description unless told otherwise.
    """
    from pilotgate.perturb import print_robustness, run_robustness

    main, expectation_scorers = _scorers(scorer, scorer_arg, refusal_scorer, injection_scorer)
    settings, options = resolve_plan_options(plan_path, feature_description, glossary, store_url)
    tgt = _target(target, model, settings.plan)
    feature, version = plan_scope(run_feature, run_version, settings.plan)
    inputs, eval_ref = _inputs(cases, eval_set, settings.store)
    with progress_bar("calling target") as progress:
        result = run_robustness(
            tgt, inputs, scorer=main, expectation_scorers=expectation_scorers, options=options,
            store=settings.store, save=not no_store, feature=feature, version=version,
            eval_set=eval_ref, progress=progress,
            target_label=target,  # the spec as typed; the runs layer strips secrets
            **run_args,
        )  # fmt: skip
    print_robustness(result)
    if json_path:
        write_json(json_path, result.to_json())
    if rows_path:
        result.write_rows(rows_path)
    if result.run_id:
        click.echo(f"stored run {result.run_id} (feature {feature!r}, version {version!r})")


def _target(spec: str, model: str | None, plan: Any) -> Any:
    """The target ``--target`` names (maybe a [targets.NAME] of the plan), checked reachable."""
    from pilotgate.targets import ensure_reachable, resolve_target

    tgt = resolve_target(spec, model=model, plan_targets=plan.targets if plan is not None else None)
    ensure_reachable(tgt.config)
    return tgt


def _scorers(
    scorer: str, scorer_arg: tuple[str, ...], refusal: str | None, injection: str | None
) -> tuple[Any, dict[str, Any]]:
    """The pairs' scorer (None: ``auto`` picks one) and the expectations' scorers."""
    from pilotgate.scoring import get_scorer

    kwargs = _parse_kv(scorer_arg, "--scorer-arg")
    main = None if scorer == "auto" and not kwargs else get_scorer(scorer, **kwargs)
    named = {"refusal": refusal, "not_injected": injection}
    return main, {key: get_scorer(name) for key, name in named.items() if name}


def _inputs(cases: str | None, eval_set: str | None, store_url: str) -> tuple[Any, str | None]:
    """The cases (a file path, or an eval set's cases) and the eval set's NAME@VERSION."""
    from pilotgate.evaluate import load_cases

    if cases is not None and eval_set is None:
        return cases, None
    from pilotgate.store import open_store

    with open_store(store_url, create=False) as store:
        loaded, source = load_cases(cases, eval_set=eval_set, store=store)
    return loaded, source.ref if source.kind == "eval_set" else None
