"""``pilotgate perturb``: list the catalogue, or write perturbed cases to a file."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.plan import Settings
    from pilotgate.records import Case

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["perturb", "plan_options", "resolve_plan_options"]


def plan_options(fn: F) -> F:
    """``--plan``, ``--feature-description`` and ``--glossary``: shared with robustness."""
    fn = click.option(
        "--glossary",
        type=click.Path(dir_okay=False),
        default=None,
        help="JSON file {plain: jargon} for the jargon perturbation (default: the plan's).",
    )(fn)
    fn = click.option(
        "--feature-description",
        default=None,
        help="For out-of-scope templates (default: the plan's [feature] description).",
    )(fn)
    fn = click.option(
        "--plan", "plan_path", default=None, help="Pilot plan (default ./pilotgate.toml)."
    )(fn)
    return fn


def resolve_plan_options(
    plan_path: str | None,
    feature_description: str | None,
    glossary: str | None,
    store_url: str | None = None,
) -> tuple[Settings, dict[str, Any]]:
    """The settings in use (plan from ``--plan``, ``PILOTGATE_PLAN`` or ./pilotgate.toml)
    and the perturbation options the plan and the command line give."""
    from pilotgate.perturb import perturb_options
    from pilotgate.plan import resolve_settings

    settings = resolve_settings(store=store_url, plan=plan_path)
    plan = settings.plan
    table = None
    if glossary:
        try:
            table = json.loads(Path(glossary).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read glossary: {exc}", where=glossary) from None
        if not isinstance(table, dict):
            raise ConfigError(
                "the glossary is not a JSON object",
                where=glossary,
                fix='write {"plain word": "jargon", ...}',
            )
    return settings, perturb_options(plan, glossary=table, feature_description=feature_description)


@click.command("perturb")
@click.option("--list", "list_", is_flag=True, help="Print the perturbation catalogue.")
@click.option("--cases", type=click.Path(dir_okay=False), help="Input cases JSONL.")
@click.option(
    "--perturbation",
    "-p",
    "names",
    multiple=True,
    help="Perturbation name, comma list, 'all' or 'family:NAME' (repeatable).",
)
@click.option("--severity", type=float, default=None, help="0..1; default: each one's own.")
@click.option("--samples", type=int, default=1, show_default=True, help="Samples per case.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every sample.")
@click.option("--out", type=click.Path(dir_okay=False), help="Where to write perturbed cases.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write a JSON doc.")
@plan_options
def perturb(
    list_: bool,
    cases: str | None,
    names: tuple[str, ...],
    severity: float | None,
    samples: int,
    seed: int,
    out: str | None,
    json_path: str | None,
    plan_path: str | None,
    feature_description: str | None,
    glossary: str | None,
) -> None:
    """Perturb cases with the seeded catalogue (typos, truncation, mixed language…).

    With --list, print the catalogue. Otherwise read --cases, apply each selected
    perturbation --samples times and write the perturbed cases, with their origin, to
    --out. `pilotgate robustness` with the same --seed (and plan) sends exactly these
    inputs. The jargon and out-of-scope perturbations use the plan's [feature] glossary
    and description unless --glossary / --feature-description say otherwise.
    """
    from pilotgate.perturb import list_perturbations

    if list_:
        catalogue = list_perturbations()
        _render_catalogue(catalogue)
        if json_path:
            doc = {
                "schema": "pilotgate.perturb/1",
                "perturbations": [p.to_json() for p in catalogue],
            }
            _write_json(json_path, doc)
        return
    if not cases or not names or not out:
        raise ConfigError(
            "perturb needs --cases, --perturbation and --out (or --list)",
            fix="e.g. pilotgate perturb --cases cases.jsonl --perturbation typo --out p.jsonl",
        )
    from pilotgate.perturb import perturb_cases, resolve_names
    from pilotgate.records import read_cases, write_cases

    selected = resolve_names(list(names))
    _, options = resolve_plan_options(plan_path, feature_description, glossary)
    originals, _ = read_cases(cases)
    perturbed = perturb_cases(
        originals, selected, severity=severity, samples=samples, seed=seed, options=options
    )
    n = write_cases(out, perturbed)
    click.echo(
        f"wrote {n} perturbed cases ({len(originals)} cases × {len(selected)} perturbations"
        f" × {samples} samples, seed {seed}) to {out}"
    )
    unchanged = _unchanged(originals, perturbed)
    if unchanged:
        listed = ", ".join(f"{k} {v}" for k, v in unchanged.items())
        click.echo(
            f"{sum(unchanged.values())} left as they were (empty, or already in the target"
            f" form; robustness does not count them): {listed}"
        )
    if json_path:
        _write_json(
            json_path,
            {
                "schema": "pilotgate.perturb/1",
                "n_cases": len(originals),
                "perturbations": selected,
                "samples": samples,
                "seed": seed,
                "severity": severity,
                "n_written": n,
                "n_unchanged": unchanged,
                "options": sorted(options),
                "out": str(out),
            },
        )


def _unchanged(originals: Sequence[Case], perturbed: Sequence[Case]) -> dict[str, int]:
    """Per perturbation, how many perturbed inputs equal their original."""
    by_id = {c.id: c.input for c in originals}
    out: dict[str, int] = {}
    for p in perturbed:
        origin = p.origin or {}
        if by_id.get(origin.get("case_id", "")) == p.input:
            name = str(origin.get("perturbation"))
            out[name] = out.get(name, 0) + 1
    return out


def _write_json(path: str, doc: object) -> None:
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _render_catalogue(catalogue: Sequence[object]) -> None:
    from rich.console import Console
    from rich.table import Table

    from pilotgate.perturb import PerturbationInfo

    table = Table(title=f"Perturbation catalogue ({len(catalogue)})")
    for col in ("name", "family", "severity", "expects", "description"):
        table.add_column(col)
    for p in catalogue:
        assert isinstance(p, PerturbationInfo)
        desc = p.description + (f" [{', '.join(p.tags)}]" if p.tags else "")
        if p.applies_when:
            desc += f" Changes only {p.applies_when}."
        table.add_row(p.name, p.family, f"{p.default_severity:g}", p.expectation, desc)
    Console(width=160).print(table)
