"""``pilotgate init`` and ``pilotgate validate``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from pilotgate.errors import ConfigError
from pilotgate.plan import PLAN_TEMPLATE, load_plan, plan_hash

__all__ = ["init", "validate"]


@click.command()
@click.option("--path", default="pilotgate.toml", show_default=True, help="Where to write.")
@click.option("--feature", default="support-assistant", show_default=True, help="Feature name.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, feature: str, force: bool) -> None:
    """Write a commented pilotgate.toml to start from."""
    p = Path(path)
    if p.exists() and not force:
        raise ConfigError(
            "file already exists", where=str(p), fix="pass --force to overwrite, or --path"
        )
    today = datetime.now(UTC).date()
    text = PLAN_TEMPLATE.format(
        name=feature, start=today.isoformat(), end=(today + timedelta(days=21)).isoformat()
    )
    p.write_text(text, encoding="utf-8")
    plan = load_plan(p)
    click.echo(f"wrote {p} (feature {plan.feature.name!r}, {len(plan.criteria)} criteria)")


@click.command()
@click.option("--plan", "plan_path", default="pilotgate.toml", show_default=True)
def validate(plan_path: str) -> None:
    """Check a pilot plan and its metrics; exit 2 with the key path when it is wrong."""
    from pilotgate.gate import check_plan_metrics

    plan = load_plan(plan_path)
    check_plan_metrics(plan, where=plan_path)
    click.echo(
        f"{plan_path}: ok — feature {plan.feature.name}@{plan.feature.version}, "
        f"{len(plan.targets)} target(s), {len(plan.criteria)} criteria, hash {plan_hash(plan)}"
    )
