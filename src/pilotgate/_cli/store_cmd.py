"""``pilotgate store prune``: retention of raw production text."""

from __future__ import annotations

import click

from pilotgate._cli._options import json_option, plan_path_option, store_option, write_json

__all__ = ["store"]


@click.group("store")
def store() -> None:
    """Look after the store: retention of raw production data."""


# fmt: off
@store.command("prune")
@click.option("--before", required=True, help="Delete raw records older than this date (UTC).")
@click.option("--feature", help="Only this feature's interactions (and their feedback, steps).")
@click.option("--keep-cases", is_flag=True,
              help="Keep the interactions (and feedback) that eval-set cases were built from.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@store_option
@plan_path_option
@json_option("pilotgate.store-prune/1")
# fmt: on
def prune_cmd(
    before: str, feature: str | None, keep_cases: bool, dry_run: bool, store_url: str | None,
    plan_path: str | None, json_path: str | None,
) -> None:  # fmt: skip
    """Delete interactions, feedback and steps before a date; runs and eval sets stay."""
    from pilotgate._dates import parse_time
    from pilotgate.plan import resolve_settings
    from pilotgate.store import open_store, prune

    cutoff = parse_time(before, where="--before")
    assert cutoff is not None
    db = open_store(resolve_settings(store=store_url, plan=plan_path).store)
    try:
        result = prune(db, cutoff, feature=feature, keep_cases=keep_cases, dry_run=dry_run)
    finally:
        db.close()
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {result.interactions} interactions, {result.feedback} feedback, "
        f"{result.steps} steps before {result.before}"
        + (f" (kept {result.kept_for_cases} used by eval-set cases)" if keep_cases else "")
    )
    if json_path:
        write_json(json_path, result.to_json())
