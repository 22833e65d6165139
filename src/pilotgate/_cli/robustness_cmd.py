"""``pilotgate robustness``: stress a target with perturbed inputs and report pass rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pilotgate._cli._options import ensure_reachable, plan_scope, scope_options, store_options
from pilotgate._cli.perturb_cmd import plan_options, resolve_plan_options
from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.perturb import GroupStat, RobustnessResult

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


def _floats(text: str | None) -> list[float]:
    if not text:
        return []
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(
            f"--severities {text!r} is not a comma list of numbers", fix="e.g. 0.05,0.1,0.2,0.4"
        ) from None


@click.command("robustness")
@click.option(
    "--target",
    "-t",
    required=True,
    help="python:pkg.mod:fn, openai:URL, http:URL, or a [targets.NAME] of the plan.",
)
@click.option("--model", default=None, help="Model name for an openai: target.")
@click.option("--cases", required=True, type=click.Path(dir_okay=False), help="Cases JSONL.")
@click.option(
    "--perturbations",
    "-p",
    default="all",
    show_default=True,
    help="all, a name, a comma list, or family:NAME.",
)
@click.option("--samples", type=int, default=1, show_default=True, help="Samples per case.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same as pilotgate perturb.")
@click.option("--severity", type=float, default=None, help="One severity for all (0..1).")
@click.option("--severities", default=None, help="Severity curve, e.g. 0.05,0.1,0.2,0.4.")
@click.option(
    "--mode",
    type=click.Choice(["consistency", "correctness"]),
    default="consistency",
    show_default=True,
    help="Match the original's answer, or the case's expected output.",
)
@click.option("--scorer", default="auto", show_default=True, help="Scorer for the pairs.")
@click.option("--scorer-arg", multiple=True, help="Scorer option KEY=VALUE (repeatable).")
@click.option("--refusal-scorer", default=None, help="Scorer for out-of-scope inputs.")
@click.option("--injection-scorer", default=None, help="Scorer for injection inputs.")
@click.option("--concurrency", type=int, default=8, show_default=True, help="Calls in flight.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the result.")
@click.option("--rows", "rows_path", type=click.Path(dir_okay=False), help="Per-pair JSONL.")
@plan_options
@scope_options
@store_options
def robustness(
    target: str,
    model: str | None,
    cases: str,
    perturbations: str,
    samples: int,
    seed: int,
    severity: float | None,
    severities: str | None,
    mode: str,
    scorer: str,
    scorer_arg: tuple[str, ...],
    refusal_scorer: str | None,
    injection_scorer: str | None,
    concurrency: int,
    json_path: str | None,
    rows_path: str | None,
    plan_path: str | None,
    feature_description: str | None,
    glossary: str | None,
    run_feature: str | None,
    run_version: str | None,
    store_url: str | None,
    no_store: bool,
) -> None:
    """Send each case and its perturbations to the target and judge every pair.

    Families whose pass rate's 95 % interval sits low break the feature; the same
    --seed (and plan) makes exactly the inputs `pilotgate perturb` writes. --target may
    name a [targets.NAME] table of the plan; the jargon and out-of-scope perturbations
    use the plan's [feature] glossary and description unless told otherwise.
    """
    from pilotgate.perturb import run_robustness
    from pilotgate.scoring import get_scorer
    from pilotgate.targets import resolve_target

    kwargs = _parse_kv(scorer_arg, "--scorer-arg")
    main = None if scorer == "auto" and not kwargs else get_scorer(scorer, **kwargs)
    exp = {}
    if refusal_scorer:
        exp["refusal"] = get_scorer(refusal_scorer)
    if injection_scorer:
        exp["not_injected"] = get_scorer(injection_scorer)
    settings, options = resolve_plan_options(plan_path, feature_description, glossary, store_url)
    plan = settings.plan
    tgt = resolve_target(
        target, model=model, plan_targets=plan.targets if plan is not None else None
    )
    ensure_reachable(tgt.config)
    feature, version = plan_scope(run_feature, run_version, plan)
    result = _run_with_progress(
        run_robustness,
        tgt,
        cases,
        perturbations=perturbations,
        samples=samples,
        seed=seed,
        severity=severity,
        severities=_floats(severities),
        mode=mode,
        scorer=main,
        expectation_scorers=exp,
        concurrency=concurrency,
        options=options,
        store=settings.store,
        save=not no_store,
        feature=feature,
        version=version,
        target_label=target,  # the spec as typed; the runs layer strips secrets
    )
    _render(result)
    if json_path:
        Path(json_path).write_text(
            json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    if rows_path:
        with Path(rows_path).open("w", encoding="utf-8") as fh:
            for row in result.rows():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    if result.run_id:
        click.echo(f"stored run {result.run_id} (feature {feature!r}, version {version!r})")


def _run_with_progress(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("calling target", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return fn(*args, progress=progress, **kwargs)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _row(g: GroupStat) -> list[str]:
    lo, hi = g.rate.ci95
    drop = g.drop
    return [
        g.name,
        g.expectation,
        str(g.rate.n),
        _pct(g.rate.pass_rate),
        f"{100 * lo:.0f}–{100 * hi:.0f}%",
        "—" if drop is None else f"{100 * drop:+.1f} pt",
    ]


def _render(result: RobustnessResult) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(width=140)
    head = f"Robustness ({result.mode}) — {result.n_cases} cases, {result.calls} target calls"
    if result.clean is not None:
        head += f", clean pass rate {_pct(result.clean.pass_rate)}"
    cols = ("", "expects", "n", "pass", "95% CI", "drop")
    fam = Table(title=head + " — by family")
    for c in cols:
        fam.add_column(c)
    for g in sorted(result.families.values(), key=lambda g: g.rate.pass_rate or 0.0):
        fam.add_row(*_row(g))
    console.print(fam)
    per = Table(title="by perturbation (worst first)")
    for c in cols:
        per.add_column(c)
    for g in sorted(result.perturbations.values(), key=lambda g: (g.rate.pass_rate or 0.0, g.name)):
        per.add_row(*_row(g))
    console.print(per)
    worst = result.worst(limit=6)
    if worst:
        w = Table(title="worst examples", show_lines=True)
        for c in ("perturbation", "perturbed input", "answer (original → perturbed)"):
            w.add_column(c, overflow="fold", max_width=60)
        for p in worst:
            answers = f"{p.output_original[:120]}\n→ {p.output_perturbed[:120]}"
            # Text, not markup: outputs like "[intent=x]" must print as they are
            w.add_row(p.perturbation, Text(p.perturbed[:200]), Text(answers))
        console.print(w)
