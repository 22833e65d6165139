"""``pilotgate cases``: build eval sets from production, review, version, import, export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from pilotgate._cli._options import json_option, store_env_option, write_json
from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["cases"]

_opt = click.option


def _open(url: str | None) -> Store:
    """The store; only ``cases import`` may create one (a mistyped path must not)."""
    from pilotgate.store import open_store

    return open_store(url, create=False)


def _done(doc: dict[str, Any], json_path: str | None, **render: Any) -> None:
    """Write ``--json`` (when given), then print the document."""
    from pilotgate.cases import render_cases

    if json_path:
        write_json(json_path, doc)
    render_cases(doc, **render)


@click.group("cases")
def cases() -> None:
    """Eval sets from production: build, review, diff, export, import, list, show."""


# fmt: off
@cases.command("build")
@click.argument("name")
@_opt("--feature", help="Only interactions of this feature.")
@_opt("--version", "feature_version", help="Only this feature version.")
@_opt("--since", help="Only interactions at or after this date/time (UTC if no zone).")
@_opt("--until", help="Only interactions before this date/time.")
@_opt("--size", type=click.IntRange(min=1), default=200, show_default=True)
@_opt("--strategy", default="stratified,failures,uniform", show_default=True,
      help="Comma-separated: uniform, stratified, failures, novelty.")
@_opt("--weights", help="Shares per strategy, in order (5,3,2) or by name (failures=1,uniform=1). "
      "Default: 5,3,2 for the default strategies, else equal.")
@_opt("--dedup-threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.92,
      show_default=True, help="Cosine similarity at or above which two inputs are one case.")
@_opt("--dedup-embedder", default="chars", show_default=True,
      help="What near-duplicates are judged on: chars (retyped copies) or an embedder.")
@_opt("--embedder", default="lexical", show_default=True,
      help="Embeddings for clusters and novelty: lexical (no model) or minilm.")
@_opt("--clusters", type=click.IntRange(min=1), help="Input clusters for stratified.")
@_opt("--against", help="Eval set novelty improves on (default: NAME's newest).")
@_opt("--references", type=click.Choice(["auto", "accepted", "edited", "none"]), default="auto",
      show_default=True,
      help="Reference outputs from the user's edit, else an accepted output (auto).")
@_opt("--seed", type=int, default=0, show_default=True)
@_opt("--no-redact", is_flag=True, help="Keep personal data (not recommended).")
@_opt("--description", help="A note stored with the version.")
@_opt("--out", type=click.Path(dir_okay=False), help="Also write the cases (JSONL).")
@store_env_option
@json_option("pilotgate.cases.build/1")
# fmt: on
def build(
    name: str, since: str | None, until: str | None, no_redact: bool, description: str | None,
    out: str | None, store_url: str | None, json_path: str | None, feature_version: str | None,
    **spec: Any,
) -> None:  # fmt: skip
    """Build the next version of eval set NAME from stored interactions."""
    from pilotgate._dates import parse_time
    from pilotgate.cases import BuildSpec, build_eval_set
    from pilotgate.records import write_cases

    if "@" in name:
        raise ConfigError(f"build a set by name, not {name!r}", fix="drop the @VERSION")
    bspec = BuildSpec.from_options(
        version=feature_version, since=parse_time(since or None, where="--since"),
        until=parse_time(until or None, where="--until"), redact=not no_redact, **spec,
    )  # fmt: skip
    with _open(store_url) as store:
        result = build_eval_set(store, name, bspec, description=description, progress=None)
    if out:
        write_cases(out, result.cases)
    _done(result.to_json(), json_path)


@cases.command("review")
@click.argument("name")
@_opt("--reviewer", help="Who is reviewing (default: $USER).")
@_opt("--limit", type=click.IntRange(min=1), help="Stop after this many cases.")
@_opt("--apply", "apply_now", is_flag=True, help="Save a new version when done.")
@store_env_option
@json_option("pilotgate.cases.review/1")
def review(
    name: str, reviewer: str | None, limit: int | None, apply_now: bool,
    store_url: str | None, json_path: str | None,
) -> None:  # fmt: skip
    """Review the pending cases of NAME, one key per decision.

    a accept the output as reference · w write one · t tag · s skip · d drop · q quit.
    Reviews are stored as you go; `cases apply-reviews NAME` (or --apply) saves them
    as the next version.
    """
    from rich.console import Console

    from pilotgate.cases import apply_reviews, default_reviewer, render_cases, review_session

    who = reviewer or default_reviewer()
    con = Console()
    with _open(store_url) as store:
        session = review_session(store, name, reviewer=who, console=con, limit=limit)
        doc = session.to_json()
        if apply_now:
            doc["apply"] = apply_reviews(store, name).to_json()
            render_cases(doc["apply"])
    if json_path:
        write_json(json_path, doc)


@cases.command("import-labels")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False))
@_opt("--reviewer", help="Who made these decisions (default: $USER).")
@_opt("--apply", "apply_now", is_flag=True, help="Save a new version when done.")
@store_env_option
@json_option("pilotgate.cases.import-labels/1")
def import_labels_cmd(
    name: str, file: str, reviewer: str | None, apply_now: bool, store_url: str | None,
    json_path: str | None,
) -> None:  # fmt: skip
    """Store review decisions for NAME from FILE (JSONL or CSV), without a terminal.

    One line per case: {"id": CASE_ID, "reference": "refund"}, or "action": accept |
    drop | skip, or "tags": [...]. Bad lines are listed and skipped. --apply (or
    `cases apply-reviews NAME`) saves them as the next version. See docs/formats.md.
    """
    from pilotgate.cases import apply_reviews, import_labels

    with _open(store_url) as store:
        doc = import_labels(store, name, file, reviewer=reviewer).to_json()
        if apply_now:
            doc["apply"] = apply_reviews(store, name).to_json()
    _done(doc, json_path, source=file)


@cases.command("apply-reviews")
@click.argument("name")
@_opt("--description", help="A note stored with the version.")
@store_env_option
@json_option("pilotgate.cases.apply-reviews/1")
def apply_reviews_cmd(
    name: str, description: str | None, store_url: str | None, json_path: str | None
) -> None:
    """Save the reviews made since the last application as the next version of NAME."""
    from pilotgate.cases import apply_reviews

    with _open(store_url) as store:
        doc = apply_reviews(store, name, description=description).to_json()
    _done(doc, json_path)


@cases.command("diff")
@click.argument("a")
@click.argument("b")
@store_env_option
@json_option("pilotgate.cases.diff/1")
def diff(a: str, b: str, store_url: str | None, json_path: str | None) -> None:
    """Cases added, removed and changed from version A to version B (NAME@1 NAME@2)."""
    from pilotgate.cases import diff_eval_sets

    with _open(store_url) as store:
        doc = diff_eval_sets(store, a, b).to_json()
    _done(doc, json_path)


@cases.command("export")
@click.argument("ref")
@_opt("--out", required=True, type=click.Path(dir_okay=False), help="FILE.jsonl or .csv")
@_opt("--format", "fmt", type=click.Choice(["pilotgate", "promptfoo", "inspect"]),
      default="pilotgate", show_default=True)  # fmt: skip
@store_env_option
@json_option("pilotgate.cases.export/1")
def export(ref: str, out: str, fmt: str, store_url: str | None, json_path: str | None) -> None:
    """Write eval set REF (NAME or NAME@V) for pilotgate, promptfoo or Inspect."""
    from pilotgate.cases import export_eval_set

    with _open(store_url) as store:
        doc = export_eval_set(store, ref, out, fmt)
    _done(doc, json_path)


@cases.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@_opt("--name", required=True, help="Eval set to add the cases to as a new version.")
@_opt("--format", "fmt", type=click.Choice(["auto", "pilotgate", "promptfoo", "inspect"]),
      default="auto", show_default=True)  # fmt: skip
@_opt("--description", help="A note stored with the version.")
@store_env_option
@json_option("pilotgate.cases.import/1")
def import_cmd(
    file: str, name: str, fmt: str, description: str | None, store_url: str | None,
    json_path: str | None,
) -> None:  # fmt: skip
    """Read cases from FILE (JSONL or CSV) and store them as the next version of NAME."""
    from pilotgate.cases import import_eval_set

    _done(import_eval_set(store_url, name, file, fmt, description=description), json_path)


@cases.command("list")
@store_env_option
@json_option("pilotgate.cases.list/1")
def list_cmd(store_url: str | None, json_path: str | None) -> None:
    """Every stored eval set version."""
    from pilotgate.cases import list_eval_sets

    with _open(store_url) as store:
        sets = list_eval_sets(store)
    _done({"schema": "pilotgate.cases.list/1", "eval_sets": sets}, json_path)


@cases.command("show")
@click.argument("ref")
@_opt("--limit", type=click.IntRange(min=0), default=20, show_default=True)
@store_env_option
@json_option("pilotgate.cases.show/1")
def show(ref: str, limit: int, store_url: str | None, json_path: str | None) -> None:
    """The cases of REF (NAME or NAME@V); --json writes all of them."""
    from pilotgate.cases import show_eval_set

    with _open(store_url) as store:
        doc = show_eval_set(store, ref)
    _done(doc, json_path, limit=limit)
