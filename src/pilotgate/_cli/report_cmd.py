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
    from pilotgate import report as rp
    from pilotgate.plan import resolve_settings
    from pilotgate.store import Store, require_existing

    settings = resolve_settings(store=store_url, plan=plan_path)
    require_existing(settings.store)
    with Store(settings.store) as store:
        ctx = rp.build_report(store, settings.plan, title=title, demo=demo_name,
                              production=production_name, feature=feature)  # fmt: skip
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rp.render_report(ctx), encoding="utf-8")
    if json_path:
        write_json(json_path, rp.report_summary(ctx, out))
    rp.print_report(out, rp.report_sections(ctx))
    click.echo(str(out.resolve()))
