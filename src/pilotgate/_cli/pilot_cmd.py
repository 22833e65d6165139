"""``pilotgate pilot start|status|signoff``: lock the plan and sign off later changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pilotgate._cli._options import plan_option, store_option

if TYPE_CHECKING:
    from pilotgate.plan import Plan

__all__ = ["pilot"]


def _settings(plan_path: str | None, store_url: str | None) -> tuple[str, Plan]:
    """The store URL and the plan in force (an error when there is no plan)."""
    from pilotgate.plan import resolve_settings

    settings = resolve_settings(store=store_url, plan=plan_path)
    return settings.store, settings.require_plan()


@click.group("pilot")
def pilot() -> None:
    """Lock the pilot plan at the start; sign off changes made after it."""


@pilot.command("start")
@plan_option
@store_option
@click.option("--restart", is_flag=True, help="Start a new pilot even if one was started.")
def start(plan_path: str | None, store_url: str | None, restart: bool) -> None:
    """Record the plan, its hash and today's date: from now on criteria are locked."""
    from pilotgate.gate import start_pilot
    from pilotgate.store import Store

    url, plan = _settings(plan_path, store_url)
    with Store(url) as store:
        p = start_pilot(store, plan, restart=restart)
    click.echo(
        f"pilot of {p.feature!r} started {p.started_at:%Y-%m-%d %H:%M} UTC; plan {p.plan_hash} "
        f"locked with {len(plan.criteria)} criteria"
    )


@pilot.command("status")
@plan_option
@store_option
def status(plan_path: str | None, store_url: str | None) -> None:
    """Show the locked plan's hash and every criterion changed since the start."""
    from pilotgate.gate import current_pilot, pilot_status_lines
    from pilotgate.store import Store, require_existing

    url, plan = _settings(plan_path, store_url)
    require_existing(url)
    with Store(url) as store:
        p = current_pilot(store, plan.feature.name)
    if p is None:
        click.echo(f"no pilot of {plan.feature.name!r} started: the plan is not locked")
        return
    for line in pilot_status_lines(p, plan):
        click.echo(line)


@pilot.command("signoff")
@click.argument("criterion")
@click.option("--reason", required=True, help="Why the change is legitimate (kept in the store).")
@click.option("--who", default=None, help="Who signs off (default: $PILOTGATE_USER / $USER).")
@plan_option
@store_option
def signoff(criterion: str, reason: str, who: str | None, plan_path: str | None,
            store_url: str | None) -> None:  # fmt: skip
    """Approve the current definition of CRITERION, changed after the pilot started."""
    from pilotgate.gate import definition_text, sign_off
    from pilotgate.store import Store

    url, plan = _settings(plan_path, store_url)
    with Store(url) as store:
        so = sign_off(store, plan, criterion, reason=reason, who=who)
    click.echo(
        f"signed off {criterion!r} by {so.who}: now judged as {definition_text(so.new_definition)}"
    )
