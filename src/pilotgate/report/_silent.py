"""The report's "Silent users" section: retention by first experience, implicit signals,
rephrase examples side by side, off-purpose requests (from :mod:`pilotgate.signals`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pilotgate.report._charts import PALETTE, _layout
from pilotgate.report._sections import section

if TYPE_CHECKING:
    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = ["retention_chart", "silent_section"]

_COLORS = {"good": PALETTE[2], "bad": PALETTE[3], "unknown": PALETTE[9]}


def retention_chart(curves: dict[str, list[dict[str, Any]]], return_days: int) -> Any:
    """Share of users back within d days, one line per first-experience outcome, with
    95 % bands as error bars."""
    data = []
    for outcome in ("good", "bad", "unknown"):
        pts = curves.get(outcome) or []
        if not pts:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"first answer {outcome}",
                "x": [p["day"] for p in pts],
                "y": [p["value"] for p in pts],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [p["ci95"][1] - p["value"] for p in pts],
                    "arrayminus": [p["value"] - p["ci95"][0] for p in pts],
                    "thickness": 1,
                },
                "line": {"color": _COLORS[outcome]},
                "hovertemplate": "day %{x}: %{y:.0%} back<extra></extra>",
            }
        )
    layout = _layout(
        "Users back within d days, by their first answer",
        xaxis={"title": {"text": "days since first interaction"}, "dtick": 1},
        yaxis={"title": {"text": "returned"}, "tickformat": ".0%", "range": [0, 1]},
        shapes=[
            {
                "type": "line",
                "x0": return_days,
                "x1": return_days,
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot", "color": "#94a3b8"},
            }
        ],
    )
    return {"data": data, "layout": layout}


def silent_section(
    store: Store, plan: Plan | None, feature: str | None, *, build: bool = True
) -> dict[str, Any]:
    """Implicit signals and silent churn of ``feature`` (refreshed incrementally).

    ``build`` False (the dashboard): never start the first, full materialisation inside
    a page request; say which command does it instead.
    """
    from pilotgate.plan import SignalsSection
    from pilotgate.signals import silent_users

    cmd = f"pilotgate usage{f' --feature {feature}' if feature else ''} --json usage.json"
    sec = section("silent", "Silent users", cmd, feature=feature)
    if feature is None:
        sec["missing"] = "Name the feature (plan or --feature) to read its implicit signals."
        return sec
    cfg = plan.signals if plan is not None else SignalsSection()
    if not build and not _materialised(store, feature):
        sec["missing"] = f"Signals not computed yet for {feature!r}. Run once: {cmd}"
        return sec
    rep = silent_users(store, feature, cfg)
    if rep.overall.n == 0:
        sec["missing"] = f"No interactions of {feature!r} stored yet."
        return sec
    doc = rep.to_json()
    sec.update(available=True, doc=doc)
    sec["charts"].append(
        {"id": "silent-retention", "fig": retention_chart(doc["retention"], cfg.return_days)}
    )
    return sec


def _materialised(store: Store, feature: str) -> bool:
    from sqlalchemy import select

    from pilotgate.store import tables as t

    s = t.signal_state.c
    with store.engine.connect() as conn:
        return conn.execute(select(s.feature).where(s.feature == feature)).first() is not None
