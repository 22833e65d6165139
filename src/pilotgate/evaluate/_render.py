"""Eval and compare documents as terminal tables: scores with intervals, flips, the verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_eval"]


def render_eval(doc: dict[str, Any], console: Console | None = None) -> None:
    """Print a ``pilotgate.eval/1`` or ``pilotgate.compare/1`` document (by its ``schema``).

    Scorers that left cases unscored say how many and why, so a mean over fewer cases
    is never read as a mean over all of them.
    """
    from rich.console import Console

    con = console or Console(width=140)
    if doc.get("schema") == "pilotgate.compare/1":
        _compare(con, doc)
    else:
        _eval_run(con, doc)


def _ci(doc: dict[str, Any]) -> str:
    lo, hi = doc.get("ci95") or [None, None]
    if lo is None or hi is None:
        return "—"
    return f"{100 * lo:.1f}–{100 * hi:.1f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def _print_scored(console: Console, scorers: dict[str, Any]) -> None:
    """One line per scorer that left cases unscored: "280 of 300 scored (20 have no reference)"."""
    from rich.markup import escape

    from pilotgate.scoring import scored_phrase

    for key, s in scorers.items():
        if s.get("n_unscored"):
            line = scored_phrase(int(s["n_scored"]), s.get("unscored_reasons") or {})
            console.print(f"{escape(key)}: {escape(line)}", highlight=False)


def _eval_run(console: Console, doc: dict[str, Any]) -> None:
    from rich.table import Table

    title = (
        f"eval run {doc['run_id']} — {doc['target']} on {doc['cases']['ref']}: "
        f"{doc['n_cases']} cases, {doc['calls']} target calls, {doc['cache_hits']} cached, "
        f"{doc['resumed_skipped']} resumed, {doc['n_errors']} errors"
    )
    table = Table(title=title)
    for col in ("scorer", "n", "mean %", "95% CI", "pass %", "judge agreement"):
        table.add_column(col)
    for key, s in doc["scorers"].items():
        judge = s.get("judge")
        agree = "—"
        if judge:
            if judge.get("agreement") is not None:
                agree = f"{_pct(judge['agreement'])} % over {judge['repeats']} repeats"
            elif judge["repeats"] > 1:
                agree = "no verdicts to compare"
            else:
                agree = "not measured (repeats=1)"
            if judge.get("unparsed"):
                agree += f"; {judge['unparsed']} cases without a verdict"
        table.add_row(key, str(s["n"]), _pct(s["mean"]), _ci(s), _pct(s["pass_rate"]), agree)
    console.print(table)
    _print_scored(console, doc["scorers"])
    keys = list(doc["scorers"])
    for section in ("by_tag", "by_cluster"):
        groups = doc.get(section) or {}
        if not groups or not keys:
            continue
        t = Table(title=f"{section.replace('_', ' ')} ({keys[0]})")
        for col in ("group", "n", "mean %", "95% CI"):
            t.add_column(col)
        for g, stats in list(groups.items())[:15]:
            s = stats[keys[0]]
            t.add_row(g, str(stats["n"]), _pct(s["mean"]), _ci(s))
        console.print(t)
    if doc["status"] != "ok":
        console.print(f"[yellow]run {doc['status']}: resume with --resume {doc['run_id']}[/]")


def _fmt_p(p: float | None) -> str:
    """A p-value as the verdict states it: "< 0.001" rather than a bare "0"."""
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


def _compare(console: Console, doc: dict[str, Any]) -> None:
    from rich.table import Table

    a, b = doc["labels"]["a"], doc["labels"]["b"]
    table = Table(title=f"{b} vs {a} on {doc['n_shared']} shared cases")
    for col in ("scorer", a, b, "diff (pt)", "95% CI (pt)", "test", "p", "+", "−", "outcome"):
        table.add_column(col)
    for key, s in doc["scorers"].items():
        lo, hi = s["ci95"]
        table.add_row(
            key,
            _pct(s["mean_a"]),
            _pct(s["mean_b"]),
            f"{100 * s['diff']:+.1f}",
            f"[{100 * lo:+.1f}, {100 * hi:+.1f}]",
            s["test"],
            _fmt_p(s["p_value"]),
            str(s["improved"]),
            str(s["regressed"]),
            s["outcome"],
        )
    console.print(table)
    if doc.get("scope"):
        from rich.markup import escape

        console.print(f"measured on: {escape(str(doc['scope']))}", highlight=False)
    _print_scored(console, doc["scorers"])
    head = doc["scorers"][doc["primary"]]
    for direction in ("regressed", "improved"):
        flips = head["flipped"][direction][:5]
        if not flips:
            continue
        t = Table(title=f"{direction} ({head[direction]} cases, first {len(flips)})")
        for col in ("case", "input", f"output {a}", f"output {b}"):
            t.add_column(col, overflow="fold", max_width=45)
        for f in flips:
            t.add_row(
                f["case_id"],
                str(f["input"])[:120],
                str(f["output_a"])[:120],
                str(f["output_b"])[:120],
            )
        console.print(t)
    console.print(f"[bold]{doc['verdict']}[/]")
