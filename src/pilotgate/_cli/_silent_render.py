"""Terminal tables of the silent-user figures (``pilotgate usage``)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from pilotgate._term import term_text, visible

__all__ = ["render_silent"]


def _pct(rate: dict[str, Any]) -> str:
    if rate.get("value") is None:
        return "–"
    lo, hi = rate["ci95"]
    return f"{rate['value']:.1%} [{lo:.0%}–{hi:.0%}] n={rate['n']}"


def render_silent(doc: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table(title="silent users — implicit signals ([signals] rules)")
    cols = ("slice", "n", "implicit bad", "rephrased", "escalated", "abandoned", "explicit fb")
    for col in cols:
        table.add_column(col, justify="left" if col == "slice" else "right")
    rows = [("all", doc["overall"])] + [(f"version {k}", v) for k, v in doc["by_version"].items()]
    for name, s in rows:
        table.add_row(
            term_text(name),
            str(s["n"]),
            _pct(s["implicit_bad_rate"]),
            _pct(s["rephrase_rate"]),
            _pct(s["escalation_rate"]),
            _pct(s["abandonment_rate"]),
            _pct(s["explicit_feedback_share"]),
        )
    console.print(table)
    _render_freshness(doc, console)
    churn = doc["churn"]
    t2 = Table(title=f"silent churn — never back within {churn['return_days']} days")
    for col in ("first experience", "users", "judged", "never returned"):
        t2.add_column(col, justify="left" if col == "first experience" else "right")
    for outcome, c in churn["overall"].items():
        t2.add_row(outcome, str(c["users"]), str(c["judged"]), _pct(c["never_returned"]))
    console.print(t2)
    off = doc["off_purpose"]
    if off["scope"]:
        console.print(f"off-purpose requests: {_pct(off['rate'])}")
        for cl in off["clusters"]:
            console.print(f"  {cl['size']:>5}  {escape(visible(cl['label']))}")
    for ex in doc["rephrase_examples"][:3]:
        first, then = (escape(visible(ex[k][:70])) for k in ("first", "then"))
        console.print(f"  rephrased: {first!r} → {then!r}")


def _render_freshness(doc: dict[str, Any], console: Any) -> None:
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
