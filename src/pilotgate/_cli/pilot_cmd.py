"""``pilotgate pilot start|status|signoff``: lock the plan and sign off later changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.plan import Settings

__all__ = ["pilot"]

_PLAN_HELP = "Pilot plan (default ./pilotgate.toml)."
_STORE_HELP = "Store URL (default: PILOTGATE_STORE, the plan's)."


def _settings(plan_path: str | None, store_url: str | None) -> Settings:
    from pilotgate.plan import resolve_settings

    settings = resolve_settings(store=store_url, plan=plan_path)
    if settings.plan is None:
        raise ConfigError(
            "no pilot plan", where="./pilotgate.toml", fix="run `pilotgate init` or pass --plan"
        )
    return settings


@click.group("pilot")
def pilot() -> None:
    """Lock the pilot plan at the start; sign off changes made after it."""


@pilot.command("start")
@click.option("--plan", "plan_path", default=None, help=_PLAN_HELP)
@click.option("--store", "store_url", default=None, help=_STORE_HELP)
@click.option("--restart", is_flag=True, help="Start a new pilot even if one was started.")
def start(plan_path: str | None, store_url: str | None, restart: bool) -> None:
    """Record the plan, its hash and today's date: from now on criteria are locked."""
    from pilotgate.gate import start_pilot
    from pilotgate.store import Store

    s = _settings(plan_path, store_url)
    assert s.plan is not None
    with Store(s.store) as store:
        p = start_pilot(store, s.plan, restart=restart)
    click.echo(
        f"pilot of {p.feature!r} started {p.started_at:%Y-%m-%d %H:%M} UTC; plan {p.plan_hash} "
        f"locked with {len(s.plan.criteria)} criteria"
    )


@pilot.command("status")
@click.option("--plan", "plan_path", default=None, help=_PLAN_HELP)
@click.option("--store", "store_url", default=None, help=_STORE_HELP)
def status(plan_path: str | None, store_url: str | None) -> None:
    """Show the locked plan's hash and every criterion changed since the start."""
    from pilotgate.gate import criteria_changes, current_pilot
    from pilotgate.gate._render import definition_text
    from pilotgate.plan import plan_hash
    from pilotgate.store import Store, require_existing

    s = _settings(plan_path, store_url)
    assert s.plan is not None
    require_existing(s.store)
    with Store(s.store) as store:
        p = current_pilot(store, s.plan.feature.name)
    if p is None:
        click.echo(f"no pilot of {s.plan.feature.name!r} started: the plan is not locked")
        return
    now_hash = plan_hash(s.plan)
    click.echo(
        f"pilot of {p.feature!r} started {p.started_at:%Y-%m-%d %H:%M} UTC; locked plan "
        f"{p.plan_hash}, current plan {now_hash}"
        + (" (unchanged)" if now_hash == p.plan_hash else " (changed)")
    )
    changes = criteria_changes(p, s.plan)
    for ch in changes.values():
        state = "signed off" if ch.signed_off else "NOT signed off"
        click.echo(f"  {ch.name} ({ch.kind}, {state})")
        click.echo(f"    original: {definition_text(ch.original)}")
        click.echo(f"    current:  {definition_text(ch.current)}")
        if ch.signoff is not None:
            so = ch.signoff
            click.echo(f"    sign-off: {so.who} {so.ts:%Y-%m-%d %H:%M}: {so.reason}")
    if not changes:
        click.echo("  no criterion changed since the start")


@pilot.command("signoff")
@click.argument("criterion")
@click.option("--reason", required=True, help="Why the change is legitimate (kept in the store).")
@click.option("--who", default=None, help="Who signs off (default: $PILOTGATE_USER / $USER).")
@click.option("--plan", "plan_path", default=None, help=_PLAN_HELP)
@click.option("--store", "store_url", default=None, help=_STORE_HELP)
def signoff(
    criterion: str, reason: str, who: str | None, plan_path: str | None, store_url: str | None
) -> None:
    """Approve the current definition of CRITERION, changed after the pilot started."""
    from pilotgate.gate import sign_off
    from pilotgate.gate._render import definition_text
    from pilotgate.store import Store

    s = _settings(plan_path, store_url)
    assert s.plan is not None
    with Store(s.store) as store:
        so = sign_off(store, s.plan, criterion, reason=reason, who=who)
    click.echo(
        f"signed off {criterion!r} by {so.who}: now judged as {definition_text(so.new_definition)}"
    )
