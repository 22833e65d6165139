"""``pilotgate usage``: behaviour analytics of the piloted feature, as tables or JSON."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pilotgate._term import term_text
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
@click.option(
    "--by", "by_key", help="Slice by a metadata key: metadata.KEY (its 20 commonest values)."
)
@click.option(
    "--where",
    "where_opts",
    multiple=True,
    help="Only interactions with metadata.KEY=VALUE (repeatable).",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write a JSON doc.")
@click.option(
    "--signals/--no-signals",
    default=True,
    help="Implicit signals, churn and off-purpose requests (needs a feature).",
)
@click.option(
    "--signals-refresh/--no-signals-refresh",
    "signals_refresh",
    default=True,
    help="Bring the signals up to date first (incrementally; default), or read them as "
    "built (`serve` keeps them current): the output says how current they are either way.",
)
@click.option("--rebuild", is_flag=True, help="Recompute every stored signal, not only new data.")
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
    by_key: str | None,
    where_opts: tuple[str, ...],
    json_path: str | None,
    signals: bool,
    rebuild: bool,
    exact: bool = False,
    signals_refresh: bool = True,
) -> None:
    """Volume, latency, errors, acceptance, dwell, funnel and abandonment, by version and day.

    The funnel follows the plan's [pilot] steps.
    """
    from rich.console import Console

    from pilotgate.plan import SignalsSection, resolve_settings
    from pilotgate.store import open_store
    from pilotgate.usage import usage_report
    from pilotgate.usage._cost import usage_cost
    from pilotgate.usage._slices import metadata_key, parse_selector, usage_slices

    key = metadata_key(by_key) if by_key else None
    where = parse_selector(",".join(where_opts), where="--where") if where_opts else ()
    settings = resolve_settings(store=store_url, plan=plan_path)
    plan = settings.plan
    if feature is None and plan is not None:
        feature = plan.feature.name
    steps = plan.pilot.steps if plan is not None else []
    store = open_store(settings.store, create=False)
    t0, t1 = _date(since, "--since"), _date(until, "--until")
    # the report, the cost and the signals read separate tables: each on its own
    # connection, at once (the database does the work; the answer is the same)
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        cost = pool.submit(
            usage_cost, store, plan.prices if plan is not None else {}, feature=feature,
            version=version, since=t0, until=t1, metadata=where,
        )  # fmt: skip
        silent = None
        if signals and feature is not None:
            cfg = plan.signals if plan is not None else SignalsSection()
            silent = pool.submit(_silent, store, feature, cfg, version, t0, t1,
                                 rebuild=rebuild, refresh=signals_refresh)  # fmt: skip
        report = usage_report(
            store, feature=feature, version=version, since=t0, until=t1, steps=steps,
            metadata=where, exact=exact,
        )  # fmt: skip
        doc = report.to_json()
        doc["cost"] = cost.result().to_json()
        if key is not None:
            parts = usage_slices(
                store, key, feature=feature, version=version, since=t0, until=t1, steps=steps,
                where=where,
            )  # fmt: skip
            doc["by"] = f"metadata.{key}"
            doc["slices"] = [p.to_json() for p in parts]
        if silent is not None:
            doc["silent_users"] = silent.result().to_json()
    finally:
        pool.shutdown(cancel_futures=True)
        store.close()
    console = Console()
    _render(doc, console)
    if "silent_users" in doc:
        from pilotgate._cli._silent_render import render_silent

        render_silent(doc["silent_users"], console)
    if json_path:
        Path(json_path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _silent(
    store: Any,
    feature: str,
    cfg: Any,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
    *,
    rebuild: bool,
    refresh: bool,
) -> Any:
    """The silent-user figures, brought up to date first unless ``refresh`` is off, with
    how current they are."""
    from pilotgate.signals import refresh_signals, silent_users

    built = refresh_signals(store, feature, cfg, rebuild=True) if rebuild else None
    silent = silent_users(
        store, feature, cfg, version=version, since=since, until=until,
        refresh=refresh and built is None, fresh=True,
    )  # fmt: skip
    silent.refresh = built or silent.refresh
    return silent


def _render_cost(cost: dict[str, Any] | None, console: Any) -> None:
    if not cost or not cost["calls"]:
        return
    line = f"tokens: {cost['tokens_in']:,} in, {cost['tokens_out']:,} out"
    if cost["cost"] is None:
        line += " · cost: no [prices] in the plan"
    else:
        per = cost["cost_per_call"]
        line += f" · cost {cost['cost']:,.4f}" + ("" if per is None else f", {per:,.6f} per call")
        days = [f"{d} {r['cost']:,.4f}" for d, r in cost["by_day"].items() if r["cost"] is not None]
        if days:
            line += " · per day: " + ", ".join(days[-7:])
        if cost["unpriced_models"]:
            line += f" · no price for: {', '.join(cost['unpriced_models'])}"
    console.print(line, markup=False, highlight=False)


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
    key = str(doc.get("by", "")).removeprefix("metadata.")
    rows += [
        (f"{key}={'(none)' if s['value'] is None else s['value']}", s["overall"])
        for s in doc.get("slices") or []
    ]
    rows += [(f"version {k}", v) for k, v in doc["by_version"].items()]
    rows += [(f"day {k}", v) for k, v in doc["by_day"].items()]
    for name, s in rows:
        lat = s["latency_ms"]
        table.add_row(
            term_text(name),
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
    _render_cost(doc.get("cost"), console)
    if doc["steps"]:
        from rich.markup import escape

        funnel = Table(title=escape("funnel (plan [pilot] steps)"))
        for col in ("step", "sessions", "conversion", "drop-off"):
            funnel.add_column(col, justify="left" if col == "step" else "right")
        for st in doc["overall"]["funnel"]:
            drop = st["dropoff"]["value"]
            funnel.add_row(
                term_text(st["step"]),
                str(st["sessions"]),
                _pct(st["conversion"]),
                "–" if drop is None else f"{drop:.1%}",
            )
        console.print(funnel)
