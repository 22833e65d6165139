"""Immutable versions: load one (``name`` or ``name@3``), list them, diff two.

A version is never edited: builds, imports and applied reviews each save a new one, so
an eval run that names ``prod@3`` can always be re-run on the same cases. Import, export
and show return the ``pilotgate.cases.*`` documents the command line writes with ``--json``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from pilotgate.errors import ConfigError, InputError
from pilotgate.records import Case, format_validation_error

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = [
    "DIFF_FIELDS",
    "EvalSetDiff",
    "diff_eval_sets",
    "export_eval_set",
    "import_eval_set",
    "list_eval_sets",
    "load_eval_set",
    "show_eval_set",
]

#: Case fields compared by a diff; ``origin`` counts only through its reference fields,
#: so a rebuilt case whose provenance timestamps moved is not "changed".
DIFF_FIELDS = ("input", "expected", "tags", "source")
_ORIGIN_FIELDS = ("reference_source",)


def load_eval_set(store: Store, ref: str) -> tuple[dict[str, Any], list[Case]]:
    """(metadata, cases) of ``name`` (newest) or ``name@N``."""
    meta, rows = store.get_eval_set(ref)
    cases: list[Case] = []
    for i, row in enumerate(rows):
        try:
            cases.append(Case.model_validate(row))
        except ValidationError as exc:
            raise InputError(format_validation_error(exc), where=f"{ref} case #{i + 1}") from None
    return meta, cases


def list_eval_sets(store: Store) -> list[dict[str, Any]]:
    """Every stored version: name, version, created, cases, kind and description."""
    out = []
    for m in store.list_eval_sets():
        params = m.get("params") or {}
        out.append(
            {
                "name": m["name"],
                "version": int(m["version"]),
                "ref": f"{m['name']}@{m['version']}",
                "created_at": m["created_at"].isoformat(),
                "n_cases": int(m["n_cases"]),
                "kind": params.get("kind", "manual"),
                "description": m.get("description"),
            }
        )
    return out


@dataclass(frozen=True)
class EvalSetDiff:
    """Cases added, removed and changed (with the fields that changed) from ``a`` to ``b``."""

    SCHEMA: ClassVar[str] = "pilotgate.cases.diff/1"

    a: str
    b: str
    added: list[str]
    removed: list[str]
    changed: list[dict[str, Any]]
    unchanged: int

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "a": self.a,
            "b": self.b,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "unchanged": self.unchanged,
        }


def _view(case: Case) -> dict[str, Any]:
    d = case.model_dump(mode="json")
    view = {k: d.get(k) for k in DIFF_FIELDS}
    origin = d.get("origin") or {}
    for k in _ORIGIN_FIELDS:
        view[f"origin.{k}"] = origin.get(k)
    return view


def diff_eval_sets(store: Store, a: str, b: str) -> EvalSetDiff:
    """Compare two versions by case id (``a`` and ``b`` are ``name@N`` or ``name``)."""
    meta_a, cases_a = load_eval_set(store, a)
    meta_b, cases_b = load_eval_set(store, b)
    va = {c.id: _view(c) for c in cases_a}
    vb = {c.id: _view(c) for c in cases_b}
    changed = []
    unchanged = 0
    for cid, view in vb.items():
        old = va.get(cid)
        if old is None:
            continue
        fields = [k for k in view if view[k] != old.get(k)]
        if fields:
            changed.append(
                {
                    "id": cid,
                    "fields": fields,
                    "before": {k: old.get(k) for k in fields},
                    "after": {k: view[k] for k in fields},
                }
            )
        else:
            unchanged += 1
    return EvalSetDiff(
        a=f"{meta_a['name']}@{meta_a['version']}",
        b=f"{meta_b['name']}@{meta_b['version']}",
        added=[c for c in vb if c not in va],
        removed=[c for c in va if c not in vb],
        changed=changed,
        unchanged=unchanged,
    )


def show_eval_set(store: Store, ref: str) -> dict[str, Any]:
    """The ``pilotgate.cases.show/1`` document of ``ref``: its metadata and every case."""
    meta, rows = load_eval_set(store, ref)
    return {
        "schema": "pilotgate.cases.show/1",
        "ref": f"{meta['name']}@{meta['version']}",
        "name": meta["name"],
        "version": meta["version"],
        "created_at": meta["created_at"].isoformat(),
        "description": meta.get("description"),
        "params": meta.get("params") or {},
        "n_cases": len(rows),
        "cases": [c.model_dump(mode="json", exclude_none=True) for c in rows],
    }


def export_eval_set(store: Store, ref: str, path: str | Path, fmt: str) -> dict[str, Any]:
    """Write ``ref`` to ``path`` for pilotgate, promptfoo or Inspect; the ``export/1`` document."""
    from pilotgate.cases._formats import export_cases

    meta, rows = load_eval_set(store, ref)
    n = export_cases(rows, path, fmt)
    return {
        "schema": "pilotgate.cases.export/1",
        "ref": f"{meta['name']}@{meta['version']}",
        "path": str(path),
        "format": fmt,
        "n_cases": n,
    }


def import_eval_set(
    store: Store | str | None,
    name: str,
    path: str | Path,
    fmt: str = "auto",
    *,
    description: str | None = None,
) -> dict[str, Any]:
    """Read cases from ``path`` and save them as the next version of ``name``.

    The file is read before the store is opened, so a bad file never creates a store;
    a store URL (or None: the default) is opened with ``create=True``.

    Returns:
        The ``pilotgate.cases.import/1`` document (ref, format used, number of cases).
    """
    from pilotgate.cases._formats import import_cases

    if "@" in name:
        raise ConfigError(f"import into a set by name, not {name!r}", fix="drop the @VERSION")
    loaded, used = import_cases(path, fmt)
    with _opened(store) as st:
        version = st.save_eval_set(
            name,
            [c.model_dump(mode="json", exclude_none=True) for c in loaded],
            params={"kind": "import", "path": str(path), "format": used},
            description=description or f"imported from {Path(path).name}",
        )
    return {
        "schema": "pilotgate.cases.import/1",
        "name": name,
        "version": version,
        "ref": f"{name}@{version}",
        "format": used,
        "path": str(path),
        "n_cases": len(loaded),
    }


def _opened(store: Store | str | None) -> AbstractContextManager[Store]:
    from pilotgate.store import Store, open_store

    return nullcontext(store) if isinstance(store, Store) else open_store(store, create=True)
