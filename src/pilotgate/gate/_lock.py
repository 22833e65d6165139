"""Locking the plan when the pilot starts, and signing off changes made afterwards.

``pilotgate pilot start`` stores the plan (JSON), its hash and the time in the ``pilots``
table. From then on the gate compares every criterion with the stored one; a change is
judged only once someone signs it off (``signoffs``: who, when, why, the new definition).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from pilotgate.errors import ConfigError
from pilotgate.plan import Criterion, Plan, plan_hash
from pilotgate.store import Store, tables

__all__ = [
    "CriterionChange",
    "Pilot",
    "Signoff",
    "criteria_changes",
    "current_pilot",
    "sign_off",
    "start_pilot",
]

REMOVED = {"removed": True}


@dataclass(frozen=True)
class Signoff:
    """A recorded approval of a criterion changed after the pilot started."""

    criterion: str
    new_definition: dict[str, Any]
    reason: str
    who: str
    ts: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "new_definition": self.new_definition,
            "reason": self.reason,
            "who": self.who,
            "ts": self.ts.isoformat(),
        }


@dataclass(frozen=True)
class Pilot:
    """A started pilot: the locked plan and the sign-offs recorded since."""

    id: int
    feature: str
    started_at: datetime
    plan_hash: str
    plan: dict[str, Any]
    signoffs: tuple[Signoff, ...] = ()

    def locked_plan(self) -> Plan:
        return Plan.model_validate(self.plan)

    def latest_signoff(self, name: str) -> Signoff | None:
        found = [s for s in self.signoffs if s.criterion == name]
        return found[-1] if found else None


@dataclass(frozen=True)
class CriterionChange:
    """How one criterion differs from the locked plan (``kind``: changed/added/removed)."""

    name: str
    kind: str
    original: dict[str, Any] | None
    current: dict[str, Any] | None
    signoff: Signoff | None

    @property
    def signed_off(self) -> bool:
        """Signed off for exactly the current definition (a later edit voids it)."""
        if self.signoff is None:
            return False
        want = self.current if self.current is not None else REMOVED
        return self.signoff.new_definition == want


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def current_pilot(store: Store, feature: str) -> Pilot | None:
    """The most recently started pilot of ``feature`` with its sign-offs, or None."""
    p, s = tables.pilots, tables.signoffs
    with store.engine.connect() as conn:
        row = (
            conn.execute(
                select(p)
                .where(p.c.feature == feature)
                .order_by(p.c.started_at.desc(), p.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        offs = conn.execute(
            select(s).where(s.c.pilot_id == row["id"]).order_by(s.c.ts, s.c.id)
        ).mappings()
        signoffs = tuple(
            Signoff(o["criterion"], dict(o["new_definition"]), o["reason"], o["who"], o["ts"])
            for o in offs
        )
    return Pilot(
        int(row["id"]), row["feature"], row["started_at"], row["plan_hash"], dict(row["plan"]),
        signoffs,
    )  # fmt: skip


def start_pilot(
    store: Store, plan: Plan, *, now: datetime | None = None, restart: bool = False
) -> Pilot:
    """Lock ``plan``: store it, its hash and the start time.

    Raises:
        ConfigError: a criterion names a metric the gate could never judge, or a pilot
            of this feature was already started (pass ``restart`` to start a new one; the
            old one and its sign-offs stay in the store).
    """
    from pilotgate.gate._check import check_plan_metrics

    check_plan_metrics(plan, where="pilot plan")
    feature = plan.feature.name
    existing = current_pilot(store, feature)
    if existing is not None and not restart:
        same = existing.plan_hash == plan_hash(plan)
        raise ConfigError(
            f"the pilot of {feature!r} was already started on "
            f"{existing.started_at:%Y-%m-%d %H:%M} UTC"
            + ("" if same else " with a different plan"),
            fix="sign off changed criteria with `pilotgate pilot signoff NAME --reason ...`, "
            "or start over with `pilotgate pilot start --restart`",
        )
    started = _now(now)
    doc = plan.model_dump(mode="json")
    digest = plan_hash(plan)
    with store.engine.begin() as conn:
        pid = conn.execute(
            tables.pilots.insert()
            .values(feature=feature, started_at=started, plan_hash=digest, plan=doc)
            .returning(tables.pilots.c.id)
        ).scalar_one()
    return Pilot(int(pid), feature, started, digest, doc)


def _criteria(plan: Plan | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    if isinstance(plan, Plan):
        items = [c.model_dump(mode="json") for c in plan.criteria]
    else:
        items = [Criterion.model_validate(c).model_dump(mode="json") for c in plan["criteria"]]
    return {c["name"]: c for c in items}


def criteria_changes(pilot: Pilot, plan: Plan) -> dict[str, CriterionChange]:
    """Every criterion that differs from the locked plan, by name."""
    old = _criteria(pilot.plan)
    new = _criteria(plan)
    out: dict[str, CriterionChange] = {}
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        kind = "added" if a is None else "removed" if b is None else "changed"
        out[name] = CriterionChange(name, kind, a, b, pilot.latest_signoff(name))
    return out


def _who(who: str | None) -> str:
    if who:
        return who
    for var in ("PILOTGATE_USER", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): still record something honest
        return "unknown"


def sign_off(
    store: Store,
    plan: Plan,
    criterion: str,
    *,
    reason: str,
    who: str | None = None,
    now: datetime | None = None,
) -> Signoff:
    """Approve the current definition of a criterion changed since the pilot started.

    Raises:
        ConfigError: no pilot started, no reason given, or the criterion is unchanged.
    """
    if not reason.strip():
        raise ConfigError("a sign-off needs a reason", fix="pass --reason 'why the change'")
    pilot = current_pilot(store, plan.feature.name)
    if pilot is None:
        raise ConfigError(
            f"no pilot of {plan.feature.name!r} has been started, so nothing is locked",
            fix="run `pilotgate pilot start` first; before it, edit criteria freely",
        )
    changes = criteria_changes(pilot, plan)
    change = changes.get(criterion)
    if change is None:
        known = ", ".join(changes) or "none"
        raise ConfigError(
            f"criterion {criterion!r} is unchanged since the pilot started (or does not exist)",
            fix=f"changed criteria: {known}",
        )
    definition = change.current if change.current is not None else dict(REMOVED)
    ts = _now(now)
    by = _who(who)
    with store.engine.begin() as conn:
        conn.execute(
            tables.signoffs.insert().values(
                pilot_id=pilot.id,
                criterion=criterion,
                new_definition=definition,
                reason=reason.strip(),
                who=by,
                ts=ts,
            )
        )
    return Signoff(criterion, definition, reason.strip(), by, ts)
