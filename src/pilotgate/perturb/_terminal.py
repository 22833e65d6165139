"""Terminal tables of the perturbation catalogue and of a robustness result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pilotgate._term import percent
from pilotgate.perturb._base import PerturbationInfo
from pilotgate.perturb._report import GroupStat, PairResult, RobustnessResult

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_catalogue", "print_robustness"]

_COLUMNS = ("", "expects", "n", "pass", "95% CI", "drop")


def print_catalogue(catalogue: Sequence[PerturbationInfo], console: Console | None = None) -> None:
    """Print :func:`list_perturbations` as a table (``console``: default a 160-column one)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Perturbation catalogue ({len(catalogue)})")
    for col in ("name", "family", "severity", "expects", "description"):
        table.add_column(col)
    for p in catalogue:
        desc = p.description + (f" [{', '.join(p.tags)}]" if p.tags else "")
        if p.applies_when:
            desc += f" Changes only {p.applies_when}."
        table.add_row(p.name, p.family, f"{p.default_severity:g}", p.expectation, desc)
    (console or Console(width=160)).print(table)


def print_robustness(result: RobustnessResult, console: Console | None = None) -> None:
    """Print pass rates by family and by perturbation (worst first), and the worst pairs.

    Args:
        result: what :func:`run_robustness` returned.
        console: a ``rich.console.Console`` (default: a 140-column one on standard output).
    """
    from rich.console import Console

    console = console or Console(width=140)
    head = f"Robustness ({result.mode}) — {result.n_cases} cases, {result.calls} target calls"
    if result.clean is not None:
        head += f", clean pass rate {percent(result.clean.pass_rate)}"
    families = sorted(result.families.values(), key=lambda g: g.rate.pass_rate or 0.0)
    console.print(_groups(head + " — by family", families))
    worst_first = sorted(
        result.perturbations.values(), key=lambda g: (g.rate.pass_rate or 0.0, g.name)
    )
    console.print(_groups("by perturbation (worst first)", worst_first))
    worst = result.worst(limit=6)
    if worst:
        console.print(_worst(worst))


def _groups(title: str, groups: Sequence[GroupStat]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for c in _COLUMNS:
        table.add_column(c)
    for g in groups:
        table.add_row(*_row(g))
    return table


def _row(g: GroupStat) -> list[str]:
    ci = g.rate.ci95
    drop = g.drop
    n_unscored = sum(g.unscored.values())
    return [
        g.name,
        g.expectation,
        str(g.rate.n) + (f" (+{n_unscored} not scored)" if n_unscored else ""),
        percent(g.rate.pass_rate),
        "—" if ci is None else f"{100 * ci[0]:.0f}–{100 * ci[1]:.0f}%",
        "—" if drop is None else f"{100 * drop:+.1f} pt",
    ]


def _worst(worst: Sequence[PairResult]) -> Any:
    from rich.table import Table
    from rich.text import Text

    from pilotgate._textdiff import diff_excerpts

    table = Table(title="worst examples", show_lines=True)
    for c in ("perturbation", "perturbed input", "answer (original → perturbed)"):
        table.add_column(c, overflow="fold", max_width=60)
    for p in worst:
        before, after = diff_excerpts(p.output_original, p.output_perturbed, 120)
        # Text, not markup: outputs like "[intent=x]" must print as they are
        table.add_row(p.perturbation, Text(p.perturbed[:200]), Text(f"{before}\n→ {after}"))
    return table
