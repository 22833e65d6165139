"""The terminal tables of a ``pilotgate usage`` document: slices, cost and the funnel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pilotgate._term import rate_cell, term_text

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_usage"]

_COLUMNS = (
    "slice",
    "n",
    "errors",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "accepted",
    "edited",
    "dwell p50 ms",
    "abandoned after reject",
)


def print_usage(doc: Mapping[str, Any], console: Console | None = None) -> None:
    """Print a :func:`~pilotgate.usage.usage_summary` document.

    Args:
        doc: the document (or the same read back from ``--json``).
        console: a ``rich.console.Console`` (default: a new one on standard output).
    """
    from rich.console import Console

    console = console or Console()
    console.print(_figures(doc))
    _print_cost(doc.get("cost"), console)
    if doc["steps"]:
        console.print(_funnel(doc["overall"]["funnel"]))


def _figures(doc: Mapping[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"usage — {doc['filters']['feature'] or 'all features'}")
    for col in _COLUMNS:
        table.add_column(col, justify="left" if col == "slice" else "right")
    rows = [("all", doc["overall"])]
    key = str(doc.get("by", "")).removeprefix("metadata.")
    rows += [
        (f"{key}={'(none)' if s['value'] is None else s['value']}", s["overall"])
        for s in doc.get("slices") or []
    ]
    rows += [(f"version {k}", v) for k, v in doc["by_version"].items()]
    rows += [(f"day {k}", v) for k, v in doc["by_day"].items()]
    for name, s in rows:
        lat = s["latency_ms"]
        table.add_row(
            term_text(name),
            str(s["n"]),
            rate_cell(s["error_rate"]),
            *(_ms(lat[q]) for q in ("p50", "p95", "p99")),
            rate_cell(s["feedback"]["acceptance"]),
            rate_cell(s["feedback"]["edit"]),
            _ms(s["dwell_ms"]["p50"]),
            rate_cell(s["abandonment_after_rejection"]),
        )
    return table


def _print_cost(cost: Mapping[str, Any] | None, console: Any) -> None:
    if not cost or not cost["calls"]:
        return
    line = f"tokens: {cost['tokens_in']:,} in, {cost['tokens_out']:,} out"
    if cost["cost"] is None:
        line += " · cost: no [prices] in the plan"
    else:
        per = cost["cost_per_call"]
        line += f" · cost {cost['cost']:,.4f}" + ("" if per is None else f", {per:,.6f} per call")
        days = [f"{d} {r['cost']:,.4f}" for d, r in cost["by_day"].items() if r["cost"] is not None]
        if days:
            line += " · per day: " + ", ".join(days[-7:])
        if cost["unpriced_models"]:
            line += f" · no price for: {', '.join(cost['unpriced_models'])}"
    console.print(line, markup=False, highlight=False)


def _funnel(steps: list[Mapping[str, Any]]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    funnel = Table(title=escape("funnel (plan [pilot] steps)"))
    for col in ("step", "sessions", "conversion", "drop-off"):
        funnel.add_column(col, justify="left" if col == "step" else "right")
    for st in steps:
        drop = st["dropoff"]["value"]
        funnel.add_row(
            term_text(st["step"]),
            str(st["sessions"]),
            rate_cell(st["conversion"]),
            "–" if drop is None else f"{drop:.1%}",
        )
    return funnel


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"
