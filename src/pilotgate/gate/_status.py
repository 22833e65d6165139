"""``pilotgate pilot status`` as text: the locked plan's hash and every change since the start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotgate.gate._lock import criteria_changes
from pilotgate.gate._render import definition_text

if TYPE_CHECKING:
    from pilotgate.gate._lock import Pilot
    from pilotgate.plan import Plan

__all__ = ["pilot_status_lines"]


def pilot_status_lines(pilot: Pilot, plan: Plan) -> list[str]:
    """The status of a started pilot against the plan in force, one printable line each.

    Each changed criterion shows its original and current definition and its sign-off,
    so a reviewer can see what the gate judges without reading the store.
    """
    from pilotgate.plan import plan_hash

    now_hash = plan_hash(plan)
    lines = [
        f"pilot of {pilot.feature!r} started {pilot.started_at:%Y-%m-%d %H:%M} UTC; locked plan "
        f"{pilot.plan_hash}, current plan {now_hash}"
        + (" (unchanged)" if now_hash == pilot.plan_hash else " (changed)")
    ]
    changes = criteria_changes(pilot, plan)
    for ch in changes.values():
        state = "signed off" if ch.signed_off else "NOT signed off"
        lines += [
            f"  {ch.name} ({ch.kind}, {state})",
            f"    original: {definition_text(ch.original)}",
            f"    current:  {definition_text(ch.current)}",
        ]
        if ch.signoff is not None:
            so = ch.signoff
            lines.append(f"    sign-off: {so.who} {so.ts:%Y-%m-%d %H:%M}: {so.reason}")
    if not changes:
        lines.append("  no criterion changed since the start")
    return lines
