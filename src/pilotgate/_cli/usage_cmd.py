"""``pilotgate usage``: behaviour analytics of the piloted feature, as tables or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pilotgate.errors import ConfigError

__all__ = ["usage"]


def _date(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"not a date: {value!r}", where=flag, fix="use YYYY-MM-DD or an RFC 3339 time"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@click.command("usage")
@click.option("--feature", help="Feature (default: the plan's, else every feature).")
@click.option("--version", "version", help="Only this version.")
@click.option("--since", help="From this date/time (UTC unless given).")
@click.option("--until", help="Up to this date/time, exclusive.")
@click.option("--store", "store_url", help="Store URL (default: PILOTGATE_STORE, plan, local).")
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False), help="Pilot plan file.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write a JSON doc.")
@click.option(
    "--exact",
    is_flag=True,
    help="Exact percentiles from the raw rows (default: hourly rollups, within 0.25 %).",
)
def usage(
    feature: str | None,
    version: str | None,
    since: str | None,
    until: str | None,
    store_url: str | None,
    plan_path: str | None,
    json_path: str | None,
    exact: bool = False,
) -> None:
    """Volume, latency, errors, acceptance, dwell, funnel and abandonment, by version and day.

    The funnel follows the plan's [pilot] steps.
    """
    from rich.console import Console

    from pilotgate.plan import resolve_settings
    from pilotgate.store import open_store
    from pilotgate.usage import usage_report

    settings = resolve_settings(store=store_url, plan=plan_path)
    plan = settings.plan
    if feature is None and plan is not None:
        feature = plan.feature.name
    steps = plan.pilot.steps if plan is not None else []
    store = open_store(settings.store)
    try:
        report = usage_report(
            store,
            feature=feature,
            version=version,
            since=_date(since, "--since"),
            until=_date(until, "--until"),
            steps=steps,
            exact=exact,
        )
    finally:
        store.close()
    doc = report.to_json()
    _render(doc, Console())
    if json_path:
        Path(json_path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _pct(rate: dict[str, Any]) -> str:
    if rate["value"] is None:
        return "–"
    lo, hi = rate["ci95"]
    return f"{rate['value']:.1%} [{lo:.0%}–{hi:.0%}] n={rate['n']}"


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def _render(doc: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"usage — {doc['filters']['feature'] or 'all features'}")
    for col in (
        "slice",
        "n",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "accepted",
        "edited",
        "dwell p50 ms",
        "abandoned after reject",
    ):
        table.add_column(col, justify="left" if col == "slice" else "right")
    rows = [("all", doc["overall"])]
    rows += [(f"version {k}", v) for k, v in doc["by_version"].items()]
    rows += [(f"day {k}", v) for k, v in doc["by_day"].items()]
    for name, s in rows:
        lat = s["latency_ms"]
        table.add_row(
            name,
            str(s["n"]),
            _pct(s["error_rate"]),
            _ms(lat["p50"]),
            _ms(lat["p95"]),
            _ms(lat["p99"]),
            _pct(s["feedback"]["acceptance"]),
            _pct(s["feedback"]["edit"]),
            _ms(s["dwell_ms"]["p50"]),
            _pct(s["abandonment_after_rejection"]),
        )
    console.print(table)
    if doc["steps"]:
        funnel = Table(title="funnel (plan [pilot] steps)")
        for col in ("step", "sessions", "conversion", "drop-off"):
            funnel.add_column(col, justify="left" if col == "step" else "right")
        for st in doc["overall"]["funnel"]:
            drop = st["dropoff"]["value"]
            funnel.add_row(
                st["step"],
                str(st["sessions"]),
                _pct(st["conversion"]),
                "–" if drop is None else f"{drop:.1%}",
            )
        console.print(funnel)
