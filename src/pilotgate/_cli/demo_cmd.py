"""``pilotgate demo``: the whole flow on the bundled feature."""

from __future__ import annotations

import time
from pathlib import Path

import click

__all__ = ["demo"]


@click.command()
@click.option(
    "--dir", "out_dir", default="pilotgate-demo", show_default=True, help="Output directory."
)
@click.option("--seed", default=0, show_default=True, help="Seed for every random process.")
@click.option(
    "--requests", "n_requests", default=5000, show_default=True, help="Production stream size."
)
def demo(out_dir: str, seed: int, n_requests: int) -> None:
    """Run the whole flow on the bundled Northwind support assistant (offline, < 3 min)."""
    from rich.console import Console
    from rich.table import Table

    from pilotgate.demo import DemoConfig, DemoStep, capability_steps, run_demo

    console = Console()
    cfg = DemoConfig(out_dir=Path(out_dir), seed=seed, n_requests=n_requests)
    console.print(f"[bold]pilotgate demo[/] → {cfg.out_dir}/ (seed {seed})")
    t0 = time.perf_counter()

    def show(step: DemoStep) -> None:
        mark = "[green]✓[/]" if step.status == "ok" else "[red]✗[/]"
        console.print(f" {mark} {step.name:<28} {step.seconds:6.1f}s  {step.summary or step.error}")

    ctx, log = run_demo(cfg, on_step=show, extra_steps=capability_steps())
    table = Table(title="What the demo measured")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in ctx.results.get("summary", {}).items():
        table.add_row(key, str(value))
    if table.row_count:
        console.print(table)
    failed = [s for s in log if s.status != "ok"]
    console.print(f"done in {time.perf_counter() - t0:.0f}s")
    report = ctx.files.get("report")
    if report is not None:
        console.print(f"report: [bold]{report.resolve()}[/]")
    console.print(
        f"dashboard: [bold]pilotgate serve --store sqlite:///{cfg.out_dir / 'pilotgate.db'}[/]"
    )
    if failed:
        raise SystemExit(1)
