"""``pilotgate usage``: behaviour analytics of the piloted feature, as tables or JSON."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import click

from pilotgate._cli._options import json_option, plan_path_option, store_option, write_json

__all__ = ["usage"]


# fmt: off
@click.command("usage")
@click.option("--feature", help="Feature (default: the plan's, else every feature).")
@click.option("--version", "version", help="Only this version.")
@click.option("--since", help="From this date/time (UTC unless given).")
@click.option("--until", help="Up to this date/time, exclusive.")
@store_option
@plan_path_option
@click.option("--by", "by_key",
              help="Slice by a metadata key: metadata.KEY (its 20 commonest values).")
@click.option("--where", "where_opts", multiple=True,
              help="Only interactions with metadata.KEY=VALUE (repeatable).")
@json_option("pilotgate.usage/1")
@click.option("--signals/--no-signals", default=True,
              help="Implicit signals, churn and off-purpose requests (needs a feature).")
@click.option("--signals-refresh/--no-signals-refresh", "signals_refresh", default=True,
              help="Bring the signals up to date first (incrementally; default), or read them "
              "as built (`serve` keeps them current): the output says how current they are.")
@click.option("--rebuild", is_flag=True, help="Recompute every stored signal, not only new data.")
@click.option("--exact", is_flag=True,
              help="Exact percentiles from the raw rows (default: hourly rollups, within 0.25 %).")
# fmt: on
def usage(
    feature: str | None, version: str | None, since: str | None, until: str | None,
    store_url: str | None, plan_path: str | None, by_key: str | None,
    where_opts: tuple[str, ...], json_path: str | None, signals: bool, rebuild: bool,
    exact: bool = False,
    signals_refresh: bool = True,
) -> None:  # fmt: skip
    """Volume, latency, errors, acceptance, dwell, funnel and abandonment, by version and day.

    The funnel follows the plan's [pilot] steps.
    """
    from pilotgate._dates import parse_time
    from pilotgate.plan import SignalsSection, resolve_settings
    from pilotgate.signals import print_silent_users, silent_users
    from pilotgate.store import open_store
    from pilotgate.usage import print_usage, usage_summary

    settings = resolve_settings(store=store_url, plan=plan_path)
    plan = settings.plan
    if feature is None and plan is not None:
        feature = plan.feature.name
    t0, t1 = parse_time(since, where="--since"), parse_time(until, where="--until")
    cfg = plan.signals if plan is not None else SignalsSection()
    # the signals read their own tables: on their own connection, beside the report
    with open_store(settings.store, create=False) as store, ThreadPoolExecutor(1) as pool:
        silent = None
        if signals and feature is not None:
            silent = pool.submit(silent_users, store, feature, cfg, version=version, since=t0,
                                 until=t1, refresh=signals_refresh, rebuild=rebuild, fresh=True)
        doc = usage_summary(store, plan, feature=feature, version=version, since=t0, until=t1,
                            by=by_key, where=where_opts, exact=exact)  # fmt: skip
        if silent is not None:
            doc["silent_users"] = silent.result().to_json()
    print_usage(doc)
    if "silent_users" in doc:
        print_silent_users(doc["silent_users"])
    if json_path:
        write_json(json_path, doc)
