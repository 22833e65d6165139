"""Import review decisions in bulk: labels made in a spreadsheet, a script or another tool.

``pilotgate cases review`` asks one key per case in a terminal; a team labelling hundreds of
cases elsewhere needs a file instead. Each JSONL line (or CSV row) names a case of the
newest version of the set and a decision; it is stored as a review exactly as the terminal
and the dashboard store one, so ``cases apply-reviews`` turns them into the next version.
A bad line is reported with its line number and skipped; the good ones are kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pilotgate.cases._review import REVIEW_ACTIONS, _newest, record_review
from pilotgate.errors import InputError
from pilotgate.store import Store

__all__ = ["LabelImport", "import_labels"]

SCHEMA = "pilotgate.cases.import-labels/1"
_MAX_ERRORS = 50


@dataclass
class LabelImport:
    """What an import stored and what it refused."""

    SCHEMA: ClassVar[str] = SCHEMA

    name: str
    imported: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    n_errors: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "name": self.name,
            "imported": self.imported,
            "actions": dict(sorted(self.actions.items())),
            "n_errors": self.n_errors,
            "errors": self.errors,
        }


def _rows(path: Path) -> list[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the labels file: {exc}", where=str(path)) from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        return [(i, dict(row)) for i, row in enumerate(reader, start=2)]
    out: list[tuple[int, Any]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((i, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((i, exc))
    return out


def _decision(row: Any) -> tuple[str, str, str | None, list[str]]:
    """(case id, action, reference, tags) from one row; ValueError says what is wrong."""
    if isinstance(row, Exception):
        raise ValueError(f"not JSON: {row}")
    if not isinstance(row, dict):
        raise ValueError("a line must be a JSON object")
    case_id = row.get("id", row.get("case_id"))
    if not isinstance(case_id, str) or not case_id:
        raise ValueError("missing 'id' (the case id)")
    ref = row.get("reference", row.get("label"))
    if ref is not None and not isinstance(ref, str):
        ref = json.dumps(ref, ensure_ascii=False)
    tags_raw = row.get("tags") or []
    if isinstance(tags_raw, str):
        tags_raw = [t for t in tags_raw.replace(";", ",").split(",") if t.strip()]
    if not isinstance(tags_raw, list) or not all(isinstance(t, str) for t in tags_raw):
        raise ValueError("'tags' must be a list of strings")
    action = row.get("action") or ("reference" if ref else "tag" if tags_raw else None)
    if action not in REVIEW_ACTIONS:
        raise ValueError(
            f"'action' must be one of {', '.join(REVIEW_ACTIONS)} (or give a 'reference')"
        )
    return case_id, str(action), ref or None, list(tags_raw)


def import_labels(
    store: Store, name: str, path: str | Path, *, reviewer: str | None = None
) -> LabelImport:
    """Store one review per line of ``path`` for eval set ``name``.

    Lines: ``{"id": CASE_ID, "reference": "refund"}`` (a reference, e.g. a label),
    ``{"id": …, "action": "accept" | "drop" | "skip"}``, ``{"id": …, "tags": ["x"]}``;
    ``label`` is accepted for ``reference`` and ``case_id`` for ``id``. CSV files take the
    same columns (tags separated by commas or semicolons).

    Raises:
        InputError: the file cannot be read, or the set does not exist.
    """
    _newest(store, name)  # an unknown set is one error, not one per line
    result = LabelImport(name)
    for line, row in _rows(Path(path)):
        try:
            case_id, action, ref, tags = _decision(row)
            record_review(
                store, name, case_id, action, reference=ref, tags=tags or None, reviewer=reviewer
            )
        except (ValueError, InputError) as exc:
            msg = exc.one_line() if isinstance(exc, InputError) else str(exc)
            result.n_errors += 1
            if len(result.errors) < _MAX_ERRORS:
                result.errors.append({"line": line, "error": msg})
            continue
        result.imported += 1
        result.actions[action] += 1
    return result
