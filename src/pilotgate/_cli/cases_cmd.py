"""``pilotgate cases``: build eval sets from production, review, version, import, export."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pilotgate._term import term_text, visible
from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["cases"]

F = TypeVar("F", bound=Callable[..., Any])


def _store_option(fn: F) -> F:
    return click.option(
        "--store",
        "store_url",
        default=None,
        envvar="PILOTGATE_STORE",
        help="Store URL (default: PILOTGATE_STORE, the plan's, else .pilotgate/pilotgate.db).",
    )(fn)


def _json_option(schema: str) -> Callable[[F], F]:
    def deco(fn: F) -> F:
        return click.option(
            "--json",
            "json_path",
            type=click.Path(dir_okay=False),
            help=f"Write the {schema} document.",
        )(fn)

    return deco


def _open(url: str | None, *, create: bool = False) -> Store:
    """The store; only ``cases import`` may create one (a mistyped path must not)."""
    from pilotgate.store import open_store

    return open_store(url, create=create)


def _write_json(path: str | None, doc: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(
            json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )


def _date(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"bad date {value!r}", where=option, fix="use 2026-05-01 or 2026-05-01T12:00:00Z"
        ) from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _console() -> Any:
    from rich.console import Console

    return Console()


@click.group("cases")
def cases() -> None:
    """Eval sets from production: build, review, diff, export, import, list, show."""


@cases.command("build")
@click.argument("name")
@click.option("--feature", help="Only interactions of this feature.")
@click.option("--version", "feature_version", help="Only this feature version.")
@click.option("--since", help="Only interactions at or after this date/time (UTC if no zone).")
@click.option("--until", help="Only interactions before this date/time.")
@click.option("--size", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--strategy",
    default="stratified,failures,uniform",
    show_default=True,
    help="Comma-separated: uniform, stratified, failures, novelty.",
)
@click.option(
    "--weights",
    help="Shares per strategy, in order (5,3,2) or by name (failures=1,uniform=1). "
    "Default: 5,3,2 for the default strategies, else equal.",
)
@click.option(
    "--dedup-threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.92,
    show_default=True,
    help="Cosine similarity at or above which two inputs are one case.",
)
@click.option(
    "--dedup-embedder",
    default="chars",
    show_default=True,
    help="What near-duplicates are judged on: chars (retyped copies) or an embedder.",
)
@click.option(
    "--embedder",
    default="lexical",
    show_default=True,
    help="Embeddings for clusters and novelty: lexical (no model) or minilm.",
)
@click.option("--clusters", type=click.IntRange(min=1), help="Input clusters for stratified.")
@click.option("--against", help="Eval set novelty improves on (default: NAME's newest).")
@click.option(
    "--references",
    type=click.Choice(["auto", "accepted", "edited", "none"]),
    default="auto",
    show_default=True,
    help="Reference outputs from the user's edit, else an accepted output (auto).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-redact", is_flag=True, help="Keep personal data (not recommended).")
@click.option("--description", help="A note stored with the version.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the cases (JSONL).")
@_store_option
@_json_option("pilotgate.cases.build/1")
def build(
    name: str,
    feature: str | None,
    feature_version: str | None,
    since: str | None,
    until: str | None,
    size: int,
    strategy: str,
    weights: str | None,
    dedup_threshold: float,
    dedup_embedder: str,
    embedder: str,
    clusters: int | None,
    against: str | None,
    references: str,
    seed: int,
    no_redact: bool,
    description: str | None,
    out: str | None,
    store_url: str | None,
    json_path: str | None,
) -> None:
    """Build the next version of eval set NAME from stored interactions."""
    from pilotgate.cases import BuildSpec, build_eval_set, parse_strategies
    from pilotgate.cases._spec import DEFAULT_WEIGHTS
    from pilotgate.records import write_cases

    if "@" in name:
        raise ConfigError(f"build a set by name, not {name!r}", fix="drop the @VERSION")
    if strategy == "stratified,failures,uniform" and not weights:
        mix = dict(DEFAULT_WEIGHTS)
    else:
        mix = parse_strategies(strategy, weights)
    spec = BuildSpec(
        feature=feature,
        version=feature_version,
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        size=size,
        weights=mix,
        dedup_threshold=dedup_threshold,
        dedup_embedder=dedup_embedder,
        embedder=embedder,
        seed=seed,
        redact=not no_redact,
        references=references,  # type: ignore[arg-type]
        clusters=clusters,
        against=against,
    )
    with _open(store_url) as store:
        result = build_eval_set(store, name, spec, description=description, progress=None)
    if out:
        write_cases(out, result.cases)
    doc = result.to_json()
    _write_json(json_path, doc)
    _render_build(doc)


def _render_build(doc: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = _console()
    con.print(
        f"[bold]{escape(doc['ref'])}[/bold]: {doc['n_cases']} cases "
        f"from {doc['pool']} interactions "
        f"({doc['clusters']} clusters, {doc['timings_s'].get('total', 0):.1f} s)"
    )
    table = Table(title="kept by strategy")
    table.add_column("strategy")
    table.add_column("cases", justify="right")
    for s, n in doc["by_strategy"].items():
        table.add_row(s, str(n))
    con.print(table)
    rm = doc["removed"]
    con.print(
        f"near-duplicates dropped: {rm.get('text', 0)} same text, "
        f"{rm.get('embedding', 0)} similar (≥ {doc['spec']['dedup_threshold']}); "
        f"empty: {rm.get('empty', 0)}"
    )
    red = doc["redactions"]
    con.print(
        "redacted: " + (", ".join(f"{k} {v}" for k, v in sorted(red.items())) or "nothing found")
    )
    con.print("references: " + ", ".join(f"{k} {v}" for k, v in sorted(doc["references"].items())))
    fails = ", ".join(f"{k} {v}" for k, v in doc["failures_in_pool"].items())
    con.print(f"failure signals in the pool: {fails}", markup=False)
    for note in doc["notes"]:
        con.print(f"note: {note}", markup=False, style="dim")


@cases.command("review")
@click.argument("name")
@click.option("--reviewer", help="Who is reviewing (default: $USER).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many cases.")
@click.option("--apply", "apply_now", is_flag=True, help="Save a new version when done.")
@_store_option
@_json_option("pilotgate.cases.review/1")
def review(
    name: str,
    reviewer: str | None,
    limit: int | None,
    apply_now: bool,
    store_url: str | None,
    json_path: str | None,
) -> None:
    """Review the pending cases of NAME, one key per decision.

    a accept the output as reference · w write one · t tag · s skip · d drop · q quit.
    Reviews are stored as you go; `cases apply-reviews NAME` (or --apply) saves them
    as the next version.
    """
    from pilotgate.cases import apply_reviews, default_reviewer, review_session

    who = reviewer or default_reviewer()
    con = _console()
    with _open(store_url) as store:
        session = review_session(store, name, reviewer=who, console=con, limit=limit)
        doc = session.to_json()
        if apply_now:
            res = apply_reviews(store, name)
            doc["apply"] = res.to_json()
            _render_apply(res.to_json())
    _write_json(json_path, doc)


@cases.command("import-labels")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--reviewer", help="Who made these decisions (default: $USER).")
@click.option("--apply", "apply_now", is_flag=True, help="Save a new version when done.")
@_store_option
@_json_option("pilotgate.cases.import-labels/1")
def import_labels_cmd(
    name: str,
    file: str,
    reviewer: str | None,
    apply_now: bool,
    store_url: str | None,
    json_path: str | None,
) -> None:
    """Store review decisions for NAME from FILE (JSONL or CSV), without a terminal.

    One line per case: {"id": CASE_ID, "reference": "refund"}, or "action": accept |
    drop | skip, or "tags": [...]. Bad lines are listed and skipped. --apply (or
    `cases apply-reviews NAME`) saves them as the next version. See docs/formats.md.
    """
    from pilotgate.cases import apply_reviews, import_labels

    with _open(store_url) as store:
        res = import_labels(store, name, file, reviewer=reviewer)
        doc = res.to_json()
        if apply_now:
            doc["apply"] = apply_reviews(store, name).to_json()
    _write_json(json_path, doc)
    con = _console()
    acts = ", ".join(f"{k} {v}" for k, v in doc["actions"].items()) or "nothing"
    con.print(f"{name}: imported {doc['imported']} decision(s) ({acts})", markup=False)
    for err in doc["errors"]:
        con.print(f"{file}:{err['line']}: {err['error']}", markup=False, style="yellow")
    if doc["n_errors"] > len(doc["errors"]):
        con.print(f"… and {doc['n_errors'] - len(doc['errors'])} more bad line(s)", markup=False)
    if apply_now:
        _render_apply(doc["apply"])


@cases.command("apply-reviews")
@click.argument("name")
@click.option("--description", help="A note stored with the version.")
@_store_option
@_json_option("pilotgate.cases.apply-reviews/1")
def apply_reviews_cmd(
    name: str, description: str | None, store_url: str | None, json_path: str | None
) -> None:
    """Save the reviews made since the last application as the next version of NAME."""
    from pilotgate.cases import apply_reviews

    with _open(store_url) as store:
        doc = apply_reviews(store, name, description=description).to_json()
    _write_json(json_path, doc)
    _render_apply(doc)


def _render_apply(doc: dict[str, Any]) -> None:
    from rich.markup import escape

    con = _console()
    if doc["version"] is None:
        con.print(f"no reviews to apply to {doc['name']}@{doc['base_version']}", markup=False)
        return
    applied = ", ".join(f"{k} {v}" for k, v in sorted(doc["applied"].items()))
    con.print(
        f"[bold]{escape(doc['name'])}@{doc['version']}[/bold]: {doc['n_cases']} cases "
        f"({applied} from {doc['name']}@{doc['base_version']})"
    )
    if doc["stale"]:
        con.print(f"{doc['stale']} review(s) name cases no longer in the set", style="dim")


@cases.command("diff")
@click.argument("a")
@click.argument("b")
@_store_option
@_json_option("pilotgate.cases.diff/1")
def diff(a: str, b: str, store_url: str | None, json_path: str | None) -> None:
    """Cases added, removed and changed from version A to version B (NAME@1 NAME@2)."""
    from rich.table import Table
    from rich.text import Text

    from pilotgate.cases import diff_eval_sets

    with _open(store_url) as store:
        d = diff_eval_sets(store, a, b)
    doc = d.to_json()
    _write_json(json_path, doc)
    con = _console()
    summary = (
        f"{d.a} → {d.b}: {len(d.added)} added, {len(d.removed)} removed, "
        f"{len(d.changed)} changed, {d.unchanged} unchanged"
    )
    con.print(summary, markup=False)
    table = Table()
    table.add_column("case")
    table.add_column("change")
    for cid in d.added[:20]:
        table.add_row(Text(cid), "added")
    for cid in d.removed[:20]:
        table.add_row(Text(cid), "removed")
    for ch in d.changed[:20]:
        table.add_row(Text(ch["id"]), "changed: " + ", ".join(ch["fields"]))
    if table.row_count:
        con.print(table)


@cases.command("export")
@click.argument("ref")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.jsonl or .csv")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pilotgate", "promptfoo", "inspect"]),
    default="pilotgate",
    show_default=True,
)
@_store_option
@_json_option("pilotgate.cases.export/1")
def export(ref: str, out: str, fmt: str, store_url: str | None, json_path: str | None) -> None:
    """Write eval set REF (NAME or NAME@V) for pilotgate, promptfoo or Inspect."""
    from pilotgate.cases import export_cases, load_eval_set

    with _open(store_url) as store:
        meta, rows = load_eval_set(store, ref)
    n = export_cases(rows, out, fmt)
    full = f"{meta['name']}@{meta['version']}"
    doc: dict[str, Any] = {
        "schema": "pilotgate.cases.export/1",
        "ref": full,
        "path": out,
        "format": fmt,
        "n_cases": n,
    }
    _write_json(json_path, doc)
    _console().print(f"wrote {n} cases of {full} to {out} ({fmt})", markup=False)


@cases.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="Eval set to add the cases to as a new version.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "pilotgate", "promptfoo", "inspect"]),
    default="auto",
    show_default=True,
)
@click.option("--description", help="A note stored with the version.")
@_store_option
@_json_option("pilotgate.cases.import/1")
def import_cmd(
    file: str,
    name: str,
    fmt: str,
    description: str | None,
    store_url: str | None,
    json_path: str | None,
) -> None:
    """Read cases from FILE (JSONL or CSV) and store them as the next version of NAME."""
    from pilotgate.cases import import_cases

    if "@" in name:
        raise ConfigError(f"import into a set by name, not {name!r}", fix="drop the @VERSION")
    loaded, used = import_cases(file, fmt)
    with _open(store_url, create=True) as store:
        version = store.save_eval_set(
            name,
            [c.model_dump(mode="json", exclude_none=True) for c in loaded],
            params={"kind": "import", "path": str(file), "format": used},
            description=description or f"imported from {Path(file).name}",
        )
    doc = {
        "schema": "pilotgate.cases.import/1",
        "name": name,
        "version": version,
        "ref": f"{name}@{version}",
        "format": used,
        "path": str(file),
        "n_cases": len(loaded),
    }
    _write_json(json_path, doc)
    _console().print(f"{name}@{version}: {len(loaded)} cases imported ({used})", markup=False)


@cases.command("list")
@_store_option
@_json_option("pilotgate.cases.list/1")
def list_cmd(store_url: str | None, json_path: str | None) -> None:
    """Every stored eval set version."""
    from rich.table import Table

    from pilotgate.cases import list_eval_sets

    with _open(store_url) as store:
        sets = list_eval_sets(store)
    _write_json(json_path, {"schema": "pilotgate.cases.list/1", "eval_sets": sets})
    if not sets:
        _console().print("no eval sets yet: `pilotgate cases build NAME` makes one")
        return
    table = Table()
    for col in ("eval set", "cases", "kind", "created", "description"):
        table.add_column(col, overflow="fold")
    for s in sets:
        table.add_row(
            s["ref"], str(s["n_cases"]), s["kind"], s["created_at"][:19], s["description"] or ""
        )
    _console().print(table)


@cases.command("show")
@click.argument("ref")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True)
@_store_option
@_json_option("pilotgate.cases.show/1")
def show(ref: str, limit: int, store_url: str | None, json_path: str | None) -> None:
    """The cases of REF (NAME or NAME@V); --json writes all of them."""
    from rich.markup import escape
    from rich.table import Table

    from pilotgate.cases import load_eval_set

    with _open(store_url) as store:
        meta, rows = load_eval_set(store, ref)
    full = f"{meta['name']}@{meta['version']}"
    doc = {
        "schema": "pilotgate.cases.show/1",
        "ref": full,
        "name": meta["name"],
        "version": meta["version"],
        "created_at": meta["created_at"].isoformat(),
        "description": meta.get("description"),
        "params": meta.get("params") or {},
        "n_cases": len(rows),
        "cases": [c.model_dump(mode="json", exclude_none=True) for c in rows],
    }
    _write_json(json_path, doc)
    con = _console()
    desc = escape(visible(meta.get("description") or ""))
    con.print(f"[bold]{escape(visible(full))}[/bold]: {len(rows)} cases — {desc}")
    table = Table()
    for col in ("id", "input", "reference", "tags"):
        table.add_column(col, overflow="fold")
    for c in rows[:limit]:
        src = (c.origin or {}).get("reference_source", "")
        exp = "" if c.expected is None else f"{str(c.expected)[:60]} [{src}]"
        table.add_row(
            term_text(c.id), term_text(c.text[:80]), term_text(exp), term_text(", ".join(c.tags))
        )
    if limit:
        con.print(table)
    if len(rows) > limit:
        con.print(f"… {len(rows) - limit} more (--limit N, or --json FILE for all)", style="dim")
