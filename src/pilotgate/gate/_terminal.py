"""The terminal verdict of the gate: one row per criterion, changes since the start, why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pilotgate.gate._explain import explain_lines
from pilotgate.gate._render import definition_text, fmt_ci, fmt_num

if TYPE_CHECKING:
    from rich.console import Console

    from pilotgate.gate._gate import GateResult

__all__ = ["print_gate"]

_STYLE = {"pass": "green", "fail": "bold red", "insufficient_data": "yellow"}
_WORD = {"pass": "PASS", "fail": "FAIL", "insufficient_data": "INSUFFICIENT DATA"}


def print_gate(
    result: GateResult, console: Console | None = None, *, explain: bool = False
) -> None:
    """Print the criteria table, every criterion changed after the start, and the verdict.

    Args:
        result: what :func:`evaluate_gate` returned.
        console: a ``rich.console.Console`` (default: a 160-column one on standard output).
        explain: then list, per criterion, the runs considered and why each was taken or
            skipped (:func:`explain_lines`, lines not wrapped).
    """
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(width=160)
    console.print(_table(result))
    _print_changes(result, console)
    for r in result.criteria:
        if r.status != "pass":
            console.print(f"[{_STYLE[r.status]}]{escape(r.name)}[/]: {escape(r.reason)}")
    console.print(
        f"verdict: [{_STYLE[result.verdict]}]{_WORD[result.verdict]}[/]"
        + (f" (run {result.run_id})" if result.run_id else "")
    )
    if explain:
        for line in explain_lines(result):
            console.print(escape(line), highlight=False, soft_wrap=True)


def _table(result: GateResult) -> Any:
    from rich.markup import escape
    from rich.table import Table

    p = result.pilot
    lock = (
        "not locked (run `pilotgate pilot start`)"
        if p is None
        else f"locked {p.started_at:%Y-%m-%d}"
        + ("" if p.plan_hash == result.plan_hash else f", plan changed since ({p.plan_hash})")
    )
    table = Table(
        title=f"Pilot gate — {escape(result.feature)} — plan {result.plan_hash} — {lock}",
        title_justify="left",
    )
    for col in ("status", "criterion", "metric", "target", "value", "ci95", "n", "evidence"):
        table.add_column(col, overflow="fold")
    for r in result.criteria:
        c = r.criterion
        status = r.status.replace("_", " ")
        table.add_row(
            f"[{_STYLE[r.status]}]{status}[/]" + ("" if r.counted else " (not counted)"),
            escape(c.name) + (" [magenta]✎[/]" if r.change is not None else ""),
            escape(c.metric),
            f"{escape(c.op)} {fmt_num(c.threshold)}",
            fmt_num(r.value),
            fmt_ci(r.ci95),
            "—" if r.n is None else str(r.n),
            escape(_evidence(r.evidence or {})),
        )
    return table


def _evidence(ev: dict[str, object]) -> str:
    sel = ev.get("selection")
    version = sel.get("version") if isinstance(sel, dict) else None
    head = f"{ev.get('run_id') or ev.get('kind')}" + (f" ({version})" if version else "")
    return f"{head} · {ev.get('window')}"


def _print_changes(result: GateResult, console: Any) -> None:
    from rich.markup import escape

    for r in result.criteria:
        if r.change is None:
            continue
        ch, s = r.change, r.change.signoff
        console.print(
            f"[magenta]✎ {escape(r.name)}[/] changed after start ({ch.kind}): "
            f"original {escape(definition_text(ch.original))} → current "
            f"{escape(definition_text(ch.current))}"
        )
        if ch.signed_off and s is not None:
            console.print(
                f"    signed off by {escape(s.who)} on {s.ts:%Y-%m-%d}: {escape(s.reason)}"
                " — judged as changed"
            )
        elif ch.kind == "added":
            console.print("    not signed off — shown, not counted")
        else:
            console.print("    not signed off — judged on the original")
    for ch in result.removed_signed_off:
        s = ch.signoff
        console.print(
            f"[magenta]✎ {escape(ch.name)}[/] removed after start, signed off"
            + (f" by {escape(s.who)}: {escape(s.reason)}" if s else "")
        )
