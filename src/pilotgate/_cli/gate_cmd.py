"""``pilotgate gate``: judge the plan's criteria; exit 0 pass, 1 fail, 3 insufficient data."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate._cli._options import FILE, json_option, plan_option, store_option, write_json

__all__ = ["gate"]


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


# fmt: off
@click.command("gate")
@plan_option
@store_option
@json_option("pilotgate.gate/1")
@click.option("--junit", "junit_path", type=FILE, help="JUnit XML for CI.")
@click.option("--markdown", "md_path", type=FILE, help="Markdown (PR / job summary).")
@click.option("--now", "now_text", default=None, help="Judge as of this ISO time (replay).")
@click.option("--no-store", is_flag=True, help="Do not record this evaluation as a run.")
@click.option("--explain", is_flag=True,
              help="List, per criterion, the runs considered and why each was taken or skipped.")
# fmt: on
def gate(
    plan_path: str | None, store_url: str | None, json_path: str | None, junit_path: str | None,
    md_path: str | None, now_text: str | None, no_store: bool, explain: bool,
) -> None:  # fmt: skip
    """Judge every criterion of the pilot plan from the latest stored results.

    Each criterion is pass, fail or insufficient data (too few samples, or no data),
    judged on its estimate or on its 95 % interval's conservative bound. After `pilotgate
    pilot start`, changed criteria are judged on their original definition until signed
    off. Exit 0 pass, 1 fail, 3 insufficient data, 2 bad plan or usage.
    """
    from pilotgate._dates import parse_time
    from pilotgate.gate import check_plan_metrics, evaluate_gate, print_gate, to_junit, to_markdown
    from pilotgate.plan import resolve_settings
    from pilotgate.store import Store, require_existing

    settings = resolve_settings(store=store_url, plan=plan_path)
    plan = settings.require_plan()
    check_plan_metrics(plan, where=str(settings.plan_path or "plan"))
    now = parse_time(now_text, where="--now")
    require_existing(settings.store)
    with Store(settings.store) as store:
        result = evaluate_gate(plan, store, now=now, save=not no_store)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        write_json(json_path, result.to_json())
    if junit_path:
        _write(junit_path, to_junit(result))
    if md_path:
        _write(md_path, to_markdown(result))
    print_gate(result, explain=explain)
    if result.exit_code:
        # SystemExit, not ctx.exit: `python -m pilotgate` ignores main()'s return value
        raise SystemExit(result.exit_code)
