"""The ``pilotgate.cases.*`` documents as terminal output (build, review, diff, list, show).

Case text comes from production: it is shown through :func:`pilotgate._term.term_text`, so
control sequences are made visible and rich's ``[markup]`` in it is not interpreted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pilotgate._term import term_text, visible

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_cases"]


def render_cases(
    doc: dict[str, Any],
    console: Console | None = None,
    *,
    limit: int = 20,
    source: str | None = None,
) -> None:
    """Print a ``pilotgate.cases.*`` document (by its ``schema``) for a person to read.

    Args:
        doc: the document of ``build``, ``apply-reviews``, ``import-labels`` (an ``apply``
            key is printed too), ``diff``, ``export``, ``import``, ``list`` or ``show``.
        console: where to print (default: a new rich console on stdout).
        limit: ``show``: the cases listed (the document keeps all of them).
        source: ``import-labels``: the labels file, to name its bad lines.
    """
    from rich.console import Console

    con = console or Console()
    kind = doc["schema"].removeprefix("pilotgate.cases.").removesuffix("/1")
    if kind == "show":
        _show(con, doc, limit)
    elif kind == "import-labels":
        _label_import(con, doc, source)
    else:
        _RENDERERS[kind](con, doc)
    if kind == "import-labels" and "apply" in doc:
        _apply(con, doc["apply"])


def _build(con: Console, doc: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

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


def _apply(con: Console, doc: dict[str, Any]) -> None:
    from rich.markup import escape

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


def _label_import(con: Console, doc: dict[str, Any], source: str | None) -> None:
    acts = ", ".join(f"{k} {v}" for k, v in doc["actions"].items()) or "nothing"
    con.print(f"{doc['name']}: imported {doc['imported']} decision(s) ({acts})", markup=False)
    for err in doc["errors"]:
        con.print(f"{source}:{err['line']}: {err['error']}", markup=False, style="yellow")
    if doc["n_errors"] > len(doc["errors"]):
        con.print(f"… and {doc['n_errors'] - len(doc['errors'])} more bad line(s)", markup=False)


def _diff(con: Console, doc: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    added, removed, changed = doc["added"], doc["removed"], doc["changed"]
    con.print(
        f"{doc['a']} → {doc['b']}: {len(added)} added, {len(removed)} removed, "
        f"{len(changed)} changed, {doc['unchanged']} unchanged",
        markup=False,
    )
    table = Table()
    table.add_column("case")
    table.add_column("change")
    for cid in added[:20]:
        table.add_row(Text(cid), "added")
    for cid in removed[:20]:
        table.add_row(Text(cid), "removed")
    for ch in changed[:20]:
        table.add_row(Text(ch["id"]), "changed: " + ", ".join(ch["fields"]))
    if table.row_count:
        con.print(table)


def _export(con: Console, doc: dict[str, Any]) -> None:
    n, ref = doc["n_cases"], doc["ref"]
    con.print(f"wrote {n} cases of {ref} to {doc['path']} ({doc['format']})", markup=False)


def _import(con: Console, doc: dict[str, Any]) -> None:
    con.print(f"{doc['ref']}: {doc['n_cases']} cases imported ({doc['format']})", markup=False)


def _list(con: Console, doc: dict[str, Any]) -> None:
    from rich.table import Table

    sets = doc["eval_sets"]
    if not sets:
        con.print("no eval sets yet: `pilotgate cases build NAME` makes one")
        return
    table = Table()
    for col in ("eval set", "cases", "kind", "created", "description"):
        table.add_column(col, overflow="fold")
    for s in sets:
        table.add_row(
            s["ref"], str(s["n_cases"]), s["kind"], s["created_at"][:19], s["description"] or ""
        )
    con.print(table)


def _show(con: Console, doc: dict[str, Any], limit: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    from pilotgate.records import Case

    rows = [Case.model_validate(c) for c in doc["cases"]]
    desc = escape(visible(doc.get("description") or ""))
    con.print(f"[bold]{escape(visible(doc['ref']))}[/bold]: {len(rows)} cases — {desc}")
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


_RENDERERS: dict[str, Callable[[Console, dict[str, Any]], None]] = {
    "build": _build,
    "apply-reviews": _apply,
    "diff": _diff,
    "export": _export,
    "import": _import,
    "list": _list,
}
