"""The terminal summary of a shift document: coverage, the largest gaps, flagged drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_shift"]


def print_shift(doc: Mapping[str, Any], console: Console | None = None) -> None:
    """Print a ``pilotgate.shift/1`` document (a result's ``to_json()``, or a saved file).

    Args:
        doc: the document.
        console: a ``rich.console.Console`` (default: a new one on standard output).
    """
    from rich.console import Console

    console = console or Console()
    cov = doc["coverage_detail"]
    lo, hi = cov["ci95"]
    console.print(
        f"[bold]coverage[/bold] {cov['value']:.1%} (95 % CI {lo:.1%}–{hi:.1%}) of "
        f"{doc['n_production_analyzed']} production inputs by {doc['n_eval']} eval cases "
        f"[dim](embedder {doc['embedder']}, level {cov['calibration']['level']})[/dim]"
    )
    if doc["gaps"]:
        console.print(_gaps(doc["gaps"]))
    else:
        console.print("no gaps: uncovered inputs do not form clusters")
    console.print(_drift(doc["drift"]))
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


def _gaps(gaps: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="gaps (uncovered production, largest first)")
    for col in ("gap", "size", "share", "label", "what sets it apart", "example"):
        table.add_column(col, overflow="fold")
    for g in gaps[:10]:
        table.add_row(
            g["id"],
            str(g["size"]),
            f"{g['share']:.1%}",
            g["label"],
            "; ".join(d["text"] for d in g["descriptors"][:3]),
            g["examples"][0]["text"][:80] if g["examples"] else "",
        )
    return table


def _drift(drift: Mapping[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title="drift")
    for col in ("test", "statistic", "p / q", "effect / window", "flagged"):
        table.add_column(col)
    for d in drift["embedding"]:
        table.add_row(
            d["name"],
            f"AUC {d['auc']:.3f}",
            f"p={d['p_value']:.3g}",
            d["note"],
            _flag(d["flagged"]),
        )
    for t in drift["descriptors"]:
        if t["flagged"] or (t["q_value"] is not None and t["q_value"] < 0.05):
            table.add_row(
                t["descriptor"],
                f"{t['test']}",
                f"q={t['q_value']:.3g}",
                f"PSI {t['psi']:.3f}",
                _flag(t["flagged"]),
            )
    return table


def _flag(flag: bool) -> str:
    return "[red]yes[/red]" if flag else "no"
