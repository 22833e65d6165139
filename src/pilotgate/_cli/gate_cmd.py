"""``pilotgate gate``: judge the plan's criteria; exit 0 pass, 1 fail, 3 insufficient data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.gate import GateResult

__all__ = ["gate"]

_STYLE = {"pass": "green", "fail": "bold red", "insufficient_data": "yellow"}


def _parse_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--now {text!r} is not an ISO date/time", fix="e.g. --now 2026-06-01T00:00:00Z"
        ) from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


@click.command("gate")
@click.option("--plan", "plan_path", default=None, help="Pilot plan (default ./pilotgate.toml).")
@click.option(
    "--store", "store_url", default=None, help="Store URL (default: PILOTGATE_STORE, the plan's)."
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the verdict.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="JUnit XML for CI.")
@click.option(
    "--markdown", "md_path", type=click.Path(dir_okay=False), help="Markdown (PR / job summary)."
)
@click.option("--now", "now_text", default=None, help="Judge as of this ISO time (replay).")
@click.option("--no-store", is_flag=True, help="Do not record this evaluation as a run.")
@click.option(
    "--explain",
    is_flag=True,
    help="List, per criterion, the runs considered and why each was taken or skipped.",
)
def gate(
    plan_path: str | None,
    store_url: str | None,
    json_path: str | None,
    junit_path: str | None,
    md_path: str | None,
    now_text: str | None,
    no_store: bool,
    explain: bool,
) -> None:
    """Judge every criterion of the pilot plan from the latest stored results.

    Each criterion is pass, fail or insufficient data (too few samples, or no data),
    judged on its estimate or on its 95 % interval's conservative bound. After `pilotgate
    pilot start`, changed criteria are judged on their original definition until signed
    off. Exit 0 pass, 1 fail, 3 insufficient data, 2 bad plan or usage.
    """
    from pilotgate.gate import evaluate_gate, to_junit, to_markdown
    from pilotgate.plan import resolve_settings
    from pilotgate.store import Store

    settings = resolve_settings(store=store_url, plan=plan_path)
    if settings.plan is None:
        raise ConfigError(
            "no pilot plan", where="./pilotgate.toml", fix="run `pilotgate init` or pass --plan"
        )
    with Store(settings.store) as store:
        result = evaluate_gate(settings.plan, store, now=_parse_now(now_text), save=not no_store)
    if json_path:
        _write(json_path, json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    if junit_path:
        _write(junit_path, to_junit(result))
    if md_path:
        _write(md_path, to_markdown(result))
    _render(result)
    if explain:
        from rich.console import Console
        from rich.markup import escape

        from pilotgate.gate._explain import explain_lines

        console = Console(width=160, soft_wrap=True)
        for line in explain_lines(result):
            console.print(escape(line), highlight=False)
    if result.exit_code:
        # SystemExit, not ctx.exit: `python -m pilotgate` ignores main()'s return value
        raise SystemExit(result.exit_code)


def _evidence(ev: dict[str, object]) -> str:
    sel = ev.get("selection")
    version = sel.get("version") if isinstance(sel, dict) else None
    head = f"{ev.get('run_id') or ev.get('kind')}" + (f" ({version})" if version else "")
    return f"{head} · {ev.get('window')}"


def _render(result: GateResult) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from pilotgate.gate._render import definition_text, fmt_ci, fmt_num

    console = Console(width=160)
    word = {"pass": "PASS", "fail": "FAIL", "insufficient_data": "INSUFFICIENT DATA"}
    style = _STYLE[result.verdict]
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
        ev = r.evidence or {}
        status = r.status.replace("_", " ")
        status_txt = f"[{_STYLE[r.status]}]{status}[/]" + ("" if r.counted else " (not counted)")
        table.add_row(
            status_txt,
            escape(c.name) + (" [magenta]✎[/]" if r.change is not None else ""),
            escape(c.metric),
            f"{escape(c.op)} {fmt_num(c.threshold)}",
            fmt_num(r.value),
            fmt_ci(r.ci95),
            "—" if r.n is None else str(r.n),
            escape(_evidence(ev)),
        )
    console.print(table)
    for r in result.criteria:
        if r.change is None:
            continue
        ch = r.change
        s = ch.signoff
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
    for r in result.criteria:
        if r.status != "pass":
            console.print(f"[{_STYLE[r.status]}]{escape(r.name)}[/]: {escape(r.reason)}")
    console.print(
        f"verdict: [{style}]{word[result.verdict]}[/]"
        + (f" (run {result.run_id})" if result.run_id else "")
    )
