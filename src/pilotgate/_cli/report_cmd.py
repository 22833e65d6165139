"""``pilotgate report``: the self-contained offline HTML report of the pilot."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate._cli._options import FILE, json_option, plan_option, store_option, write_json

__all__ = ["report"]


# fmt: off
@click.command("report")
@click.option("--out", "out_path", default="report.html", show_default=True, type=FILE,
              help="The HTML file to write.")
@store_option
@plan_option
@click.option("--title", default=None, help="Page title (default: 'Pilot report: FEATURE').")
@click.option("--feature", default=None, help="Feature whose usage is shown (default: plan's).")
@click.option("--demo", "demo_name", default="demo", show_default=True,
              help="Name of the eval run (or eval set) measured on the demo set.")
@click.option("--production", "production_name", default="production", show_default=True,
              help="Name of the eval run (or eval set) built from production data.")
@json_option("pilotgate.report/1")
# fmt: on
def report(
    out_path: str, store_url: str | None, plan_path: str | None, title: str | None,
    feature: str | None, demo_name: str, production_name: str, json_path: str | None,
) -> None:  # fmt: skip
    """Write one HTML file (charts embedded, opens offline): the verdict first, then demo
    vs production, usage, coverage, robustness, load and version comparison, each with
    the commands that reproduce its numbers. Sections without data say what to run.
    """
    from pilotgate.plan import resolve_settings
    from pilotgate.report import build_report, render_report, report_sections, report_summary
    from pilotgate.store import Store, require_existing

    settings = resolve_settings(store=store_url, plan=plan_path)
    require_existing(settings.store)
    with Store(settings.store) as store:
        ctx = build_report(store, settings.plan, title=title, demo=demo_name,
                           production=production_name, feature=feature)  # fmt: skip
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(ctx), encoding="utf-8")
    if json_path:
        write_json(json_path, report_summary(ctx, out))
    _render(out, report_sections(ctx))


def _render(out: Path, sections: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"report written: {out}", title_justify="left")
    table.add_column("section")
    table.add_column("data")
    table.add_column("charts", justify="right")
    for s in sections:
        charts = s.get("charts")
        n = len(charts) if isinstance(charts, list) else 0
        table.add_row(str(s["title"]), "yes" if s["available"] else "missing", str(n))
    Console().print(table)
    click.echo(str(out.resolve()))
