"""The terminal tables of the silent-user figures (``pilotgate usage``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pilotgate._term import rate_cell, term_text, visible

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_silent_users"]

_RATES = (
    "implicit_bad_rate",
    "rephrase_rate",
    "escalation_rate",
    "abandonment_rate",
    "explicit_feedback_share",
)


def print_silent_users(doc: Mapping[str, Any], console: Console | None = None) -> None:
    """Print a :class:`~pilotgate.signals.SilentUsers` document: signals, churn, off-purpose.

    Args:
        doc: ``SilentUsers.to_json()`` (or the ``silent_users`` part of a usage document).
        console: a ``rich.console.Console`` (default: a new one on standard output).
    """
    from rich.console import Console
    from rich.markup import escape

    console = console or Console()
    console.print(_signals(doc))
    _freshness(doc, console)
    console.print(_churn(doc["churn"]))
    off = doc["off_purpose"]
    if off["scope"]:
        console.print(f"off-purpose requests: {rate_cell(off['rate'])}")
        for cl in off["clusters"]:
            console.print(f"  {cl['size']:>5}  {escape(visible(cl['label']))}")
    for ex in doc["rephrase_examples"][:3]:
        first, then = (escape(visible(ex[k][:70])) for k in ("first", "then"))
        console.print(f"  rephrased: {first!r} → {then!r}")


def _signals(doc: Mapping[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title="silent users — implicit signals ([signals] rules)")
    cols = ("slice", "n", "implicit bad", "rephrased", "escalated", "abandoned", "explicit fb")
    for col in cols:
        table.add_column(col, justify="left" if col == "slice" else "right")
    rows = [("all", doc["overall"])] + [(f"version {k}", v) for k, v in doc["by_version"].items()]
    for name, s in rows:
        table.add_row(term_text(name), str(s["n"]), *(rate_cell(s[r]) for r in _RATES))
    return table


def _churn(churn: Mapping[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"silent churn — never back within {churn['return_days']} days")
    for col in ("first experience", "users", "judged", "never returned"):
        table.add_column(col, justify="left" if col == "first experience" else "right")
    for outcome, c in churn["overall"].items():
        table.add_row(outcome, str(c["users"]), str(c["judged"]), rate_cell(c["never_returned"]))
    return table


def _freshness(doc: Mapping[str, Any], console: Console) -> None:
    """One line saying how current the signals are: never silently stale."""
    fresh, ran = doc.get("freshness"), doc.get("refresh")
    if not fresh:
        return
    if fresh["up_to"] is None:
        console.print("signals: none built yet (run without --no-signals-refresh)")
        return
    line = f"signals: every interaction stored up to {fresh['up_to'][:19]}Z"
    if ran is not None:
        line += f", refreshed now ({ran['rows']:,} rows recomputed in {ran['seconds']:.2f} s)"
    else:
        line += f", as built at {fresh['refreshed_at'][:19]}Z"
    behind = fresh["behind"]
    if behind:
        more = "+" if fresh["behind_at_least"] else ""
        line += f"; {behind:,}{more} interactions stored since are not in them"
        line += " (refresh: drop --no-signals-refresh)" if ran is None else ""
    console.print(line, markup=False, highlight=False, soft_wrap=True)
