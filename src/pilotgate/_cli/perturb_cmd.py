"""``pilotgate perturb``: list the catalogue, or write perturbed cases to a file."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pilotgate._cli._options import FILE, json_option, plan_option, write_json
from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.plan import Settings

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["perturb", "plan_options", "resolve_plan_options"]


def plan_options(fn: F) -> F:
    """``--plan``, ``--feature-description`` and ``--glossary``: shared with robustness."""
    fn = click.option(
        "--glossary", type=FILE, default=None,
        help="JSON file {plain: jargon} for the jargon perturbation (default: the plan's).",
    )(fn)  # fmt: skip
    fn = click.option(
        "--feature-description", default=None,
        help="For out-of-scope templates (default: the plan's [feature] description).",
    )(fn)  # fmt: skip
    return plan_option(fn)


def resolve_plan_options(
    plan_path: str | None, feature_description: str | None, glossary: str | None,
    store_url: str | None = None,
) -> tuple[Settings, dict[str, Any]]:  # fmt: skip
    """The settings in use (plan from ``--plan``, ``PILOTGATE_PLAN`` or ./pilotgate.toml)
    and the perturbation options the plan and the command line give."""
    from pilotgate.perturb import perturb_options, read_glossary
    from pilotgate.plan import resolve_settings

    settings = resolve_settings(store=store_url, plan=plan_path)
    table = read_glossary(glossary) if glossary else None
    return settings, perturb_options(
        settings.plan, glossary=table, feature_description=feature_description
    )


# fmt: off
@click.command("perturb")
@click.option("--list", "list_", is_flag=True, help="Print the perturbation catalogue.")
@click.option("--cases", type=FILE, help="Input cases JSONL.")
@click.option("--perturbation", "-p", "names", multiple=True,
              help="Perturbation name, comma list, 'all' or 'family:NAME' (repeatable).")
@click.option("--severity", type=float, default=None, help="0..1; default: each one's own.")
@click.option("--samples", type=int, default=1, show_default=True, help="Samples per case.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every sample.")
@click.option("--out", type=FILE, help="Where to write perturbed cases.")
@json_option("pilotgate.perturb/1")
@plan_options
# fmt: on
def perturb(
    list_: bool, cases: str | None, names: tuple[str, ...], severity: float | None, samples: int,
    seed: int, out: str | None, json_path: str | None, plan_path: str | None,
    feature_description: str | None, glossary: str | None,
) -> None:  # fmt: skip
    """Perturb cases with the seeded catalogue (typos, truncation, mixed language…).

    With --list, print the catalogue. Otherwise read --cases, apply each selected
    perturbation --samples times and write the perturbed cases, with their origin, to
    --out. `pilotgate robustness` with the same --seed (and plan) sends exactly these
    inputs. The jargon and out-of-scope perturbations use the plan's [feature] glossary
    and description unless --glossary / --feature-description say otherwise.
    """
    from pilotgate.perturb import list_perturbations, perturb_file, print_catalogue

    if list_:
        catalogue = list_perturbations()
        print_catalogue(catalogue)
        if json_path:
            perturbations = [p.to_json() for p in catalogue]
            write_json(json_path, {"schema": "pilotgate.perturb/1", "perturbations": perturbations})
        return
    if not cases or not names or not out:
        raise ConfigError(
            "perturb needs --cases, --perturbation and --out (or --list)",
            fix="e.g. pilotgate perturb --cases cases.jsonl --perturbation typo --out p.jsonl",
        )
    _, options = resolve_plan_options(plan_path, feature_description, glossary)
    done = perturb_file(
        cases, out, names, severity=severity, samples=samples, seed=seed, options=options
    )
    click.echo(
        f"wrote {done.n_written} perturbed cases ({done.n_cases} cases"
        f" × {len(done.perturbations)} perturbations × {samples} samples, seed {seed}) to {out}"
    )
    if done.n_unchanged:
        listed = ", ".join(f"{k} {v}" for k, v in done.n_unchanged.items())
        click.echo(
            f"{sum(done.n_unchanged.values())} left as they were (empty, or already in the target"
            f" form; robustness does not count them): {listed}"
        )
    if json_path:
        write_json(json_path, done.to_json())
