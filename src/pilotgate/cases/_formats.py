"""Export and import eval sets: pilotgate's case format, promptfoo tests, Inspect samples.

Mappings (docs/cases.md has the tables and the sources they were checked against):

* **pilotgate** JSONL is docs/formats.md's case format, one case per line; CSV has the columns
  ``id, input, expected, tags, source, origin`` with ``input_format``/``expected_format``
  saying when a cell holds JSON (chat messages, structured references).
* **promptfoo** test cases: ``{"description", "vars": {"input"}, "assert": [{"type":
  "equals", "value"}], "metadata"}`` as JSONL, or YAML (written as JSON, which is valid
  YAML); CSV with the ``input`` var, ``__expected`` (``equals:<reference>``: the explicit
  type keeps a reference that starts like ``contains:`` from being read as another
  assertion), ``__description`` and ``__metadata:*`` columns.
* **Inspect** samples: ``{"id", "input", "target", "metadata"}`` JSONL (chat inputs as
  ``[{"role", "content"}]``); CSV with ``id, input, target, metadata`` (metadata as JSON).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pilotgate.errors import ConfigError, InputError
from pilotgate.records import Case, format_validation_error, input_text, iter_jsonl, read_cases

__all__ = ["EXPORT_FORMATS", "export_cases", "import_cases"]

EXPORT_FORMATS = ("pilotgate", "promptfoo", "inspect")
_META_KEYS = ("tags", "source", "origin")


def _kind(path: Path, fmt: str) -> str:
    ext = path.suffix.lower()
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".csv":
        return "csv"
    if ext in (".yaml", ".yml", ".json") and fmt == "promptfoo":
        return "array"
    raise ConfigError(
        f"can't tell the file type of {path.name!r} for format {fmt}",
        fix="use a .jsonl or .csv file (.yaml/.json for promptfoo)",
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ----------------------------------------------------------------------------- export
def export_cases(cases: Sequence[Case], path: str | Path, fmt: str = "pilotgate") -> int:
    """Write ``cases`` to ``path`` in ``fmt``; the extension picks JSONL, CSV or YAML."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", fix=f"use {', '.join(EXPORT_FORMATS)}")
    p = Path(path)
    kind = _kind(p, fmt)
    if fmt == "pilotgate":
        rows = [_pilotgate_row(c) for c in cases] if kind == "csv" else None
        if rows is None:
            from pilotgate.records import write_cases

            return write_cases(p, cases)
    elif fmt == "promptfoo":
        if kind == "csv":
            rows = [_promptfoo_csv_row(c) for c in cases]
        else:
            tests = [_promptfoo_test(c) for c in cases]
            if kind == "array":
                p.write_text(json.dumps(tests, indent=2, ensure_ascii=False) + "\n", "utf-8")
                return len(tests)
            return _write_jsonl(p, tests)
    else:
        samples = [_inspect_sample(c) for c in cases]
        if kind == "jsonl":
            return _write_jsonl(p, samples)
        rows = [
            {
                "id": s["id"],
                "input": _text(s["input"]),
                "target": _text(s.get("target", "")),
                "metadata": json.dumps(s["metadata"], ensure_ascii=False),
            }
            for s in samples
        ]
    return _write_csv(p, rows)


def _write_jsonl(path: Path, objs: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for obj in objs:
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> int:
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields or ["id", "input"], extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    return len(rows)


def _pilotgate_row(c: Case) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": c.id,
        "input": _text(c.input),
        "input_format": "text" if isinstance(c.input, str) else "messages",
        "expected": "" if c.expected is None else _text(c.expected),
        "expected_format": (
            "" if c.expected is None else "text" if isinstance(c.expected, str) else "json"
        ),
        "tags": json.dumps(c.tags, ensure_ascii=False),
        "source": c.source or "",
        "origin": json.dumps(c.origin, ensure_ascii=False) if c.origin else "",
    }
    return row


def _metadata(c: Case) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": c.id, "tags": list(c.tags)}
    if c.source:
        meta["source"] = c.source
    if c.origin:
        meta["origin"] = c.origin
    return meta


def _promptfoo_test(c: Case) -> dict[str, Any]:
    test: dict[str, Any] = {"description": c.id, "vars": _promptfoo_vars(c)}
    if c.expected is not None:
        test["assert"] = [{"type": "equals", "value": _text(c.expected)}]
    test["metadata"] = _metadata(c)
    return test


def _promptfoo_vars(c: Case) -> dict[str, str]:
    if isinstance(c.input, str):
        return {"input": c.input}
    return {"input": input_text(c.input), "messages": json.dumps(c.input, ensure_ascii=False)}


def _promptfoo_csv_row(c: Case) -> dict[str, Any]:
    row: dict[str, Any] = dict(_promptfoo_vars(c))
    row["__expected"] = "" if c.expected is None else "equals:" + _text(c.expected)
    row["__description"] = c.id
    row["__metadata:id"] = c.id
    row["__metadata:source"] = c.source or ""
    row["__metadata:tags[]"] = ",".join(t.replace(",", "\\,") for t in c.tags)
    return row


def _inspect_sample(c: Case) -> dict[str, Any]:
    sample: dict[str, Any] = {"id": c.id, "input": c.input}
    if c.expected is not None:
        exp = c.expected
        is_str_list = isinstance(exp, list) and all(isinstance(x, str) for x in exp)
        sample["target"] = exp if isinstance(exp, str) or is_str_list else _text(exp)
    meta = _metadata(c)
    meta.pop("id")
    sample["metadata"] = meta
    return sample


# ----------------------------------------------------------------------------- import
def import_cases(path: str | Path, fmt: str = "auto") -> tuple[list[Case], str]:
    """Read cases from a pilotgate, promptfoo or Inspect file; returns (cases, format).

    ``auto`` looks at the columns or the first record: ``vars`` or ``__expected`` means
    promptfoo, ``target`` means Inspect, anything else is pilotgate's format (which
    also takes ingest interaction lines).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", where=str(p), fix="check the path")
    if fmt not in ("auto", *EXPORT_FORMATS):
        raise ConfigError(f"unknown format {fmt!r}", fix="use auto, pilotgate, promptfoo, inspect")
    kind = _kind(p, "promptfoo" if fmt in ("auto", "promptfoo") else fmt)
    if kind == "csv":
        with p.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        header = list(rows[0]) if rows else []
        fmt = fmt if fmt != "auto" else _detect(header)
        objs: list[tuple[int, dict[str, Any]]] = [(i + 2, r) for i, r in enumerate(rows)]
        conv = {"pilotgate": _from_pilotgate_csv, "promptfoo": _from_promptfoo_csv}.get(
            fmt, _from_inspect
        )
    else:
        if kind == "array":
            data = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InputError("expected a list of test cases", where=str(p))
            objs = [(i + 1, d) for i, d in enumerate(data)]
        else:
            objs = []
            for lineno, obj in iter_jsonl(p):
                if not isinstance(obj, dict):
                    raise InputError(f"line {lineno}: expected a JSON object", where=str(p))
                objs.append((lineno, obj))
        fmt = fmt if fmt != "auto" else _detect_records([o for _, o in objs])
        if fmt == "pilotgate":
            cases, _ = read_cases(p)
            return cases, fmt
        conv = _from_promptfoo if fmt == "promptfoo" else _from_inspect
    cases = []
    for n, (line, obj) in enumerate(objs):
        try:
            cases.append(conv(obj, n))
        except (ValueError, ValidationError) as exc:
            msg = format_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise InputError(f"record {line}: {msg}", where=str(p)) from None
    if not cases:
        raise InputError("no cases in file", where=str(p))
    return cases, fmt


def _detect_records(objs: Sequence[dict[str, Any]]) -> str:
    """The format of JSON records: any promptfoo or Inspect marker decides."""
    found = [_detect(list(o)) for o in objs[:1000]]
    for fmt in ("promptfoo", "inspect"):
        if fmt in found:
            return fmt
    ours = {"expected", "tags", "origin", "source", "kind"}
    if any("metadata" in o and not ours & set(o) for o in objs[:1000]):
        return "inspect"  # Inspect samples without targets: id, input, metadata
    return "pilotgate"


def _detect(keys: Sequence[str]) -> str:
    if "vars" in keys or any(k.startswith(("__expected", "__description")) for k in keys):
        return "promptfoo"
    if "target" in keys:
        return "inspect"
    return "pilotgate"


def _json_or(value: str, default: Any) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return default


def _from_pilotgate_csv(row: dict[str, Any], n: int) -> Case:
    inp: Any = row.get("input") or ""
    if row.get("input_format") == "messages":
        inp = json.loads(inp)
    exp: Any = row.get("expected") or None
    if exp is not None and row.get("expected_format") == "json":
        exp = json.loads(exp)
    raw_tags = row.get("tags") or ""
    tags = _json_or(raw_tags, None)
    if not isinstance(tags, list):
        tags = [t.strip() for t in raw_tags.split(",") if t.strip()]
    return Case(
        id=row.get("id") or f"case-{n + 1}",
        input=inp,
        expected=exp,
        tags=[str(t) for t in tags],
        source=row.get("source") or None,
        origin=_json_or(row.get("origin") or "", None),
    )


def _from_meta(meta: dict[str, Any]) -> tuple[list[str], str | None, dict[str, Any] | None]:
    tags = meta.get("tags") or []
    origin = meta.get("origin")
    rest = {k: v for k, v in meta.items() if k not in (*_META_KEYS, "id")}
    if rest:
        origin = {**(origin or {}), "metadata": rest}
    return [str(t) for t in tags], meta.get("source"), origin


def _from_promptfoo(obj: dict[str, Any], n: int) -> Case:
    vars_ = obj.get("vars") or {}
    if not isinstance(vars_, dict) or not vars_:
        raise ValueError("a promptfoo test needs vars")
    meta = obj.get("metadata") or {}
    if vars_.get("messages"):
        inp: Any = json.loads(vars_["messages"])
    else:
        inp = vars_.get("input", next(iter(vars_.values())))
    expected = None
    for a in obj.get("assert") or []:
        if isinstance(a, dict) and a.get("type") == "equals":
            expected = a.get("value")
            break
    tags, source, origin = _from_meta(meta)
    return Case(
        id=str(meta.get("id") or obj.get("description") or f"case-{n + 1}"),
        input=inp if isinstance(inp, list) else str(inp),
        expected=expected,
        tags=tags,
        source=source or "imported",
        origin=origin,
    )


def _from_promptfoo_csv(row: dict[str, Any], n: int) -> Case:
    vars_ = {k: v for k, v in row.items() if not k.startswith("__")}
    expected = None
    for k, v in row.items():
        if k.startswith("__expected") and v:
            expected = v[len("equals:") :] if v.startswith("equals:") else v
            break
    tags = [
        t.replace("\\,", ",")
        for t in _split_escaped(row.get("__metadata:tags[]") or "")
        if t.strip()
    ]
    obj = {
        "vars": vars_,
        "description": row.get("__description"),
        "metadata": {
            "id": row.get("__metadata:id") or row.get("__description"),
            "tags": tags,
            "source": row.get("__metadata:source") or None,
        },
    }
    case = _from_promptfoo(obj, n)
    case.expected = expected
    return case


def _split_escaped(text: str) -> list[str]:
    out, cur, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 2] == ",":
            cur += "\\,"
            i += 2
            continue
        if text[i] == ",":
            out.append(cur)
            cur = ""
        else:
            cur += text[i]
        i += 1
    out.append(cur)
    return out


def _from_inspect(obj: dict[str, Any], n: int) -> Case:
    inp = obj.get("input")
    if not inp:
        raise ValueError("an Inspect sample needs an input")
    meta = obj.get("metadata") or {}
    if isinstance(meta, str):
        meta = json.loads(meta) if meta.strip() else {}
    target = obj.get("target")
    tags, source, origin = _from_meta(meta)
    return Case(
        id=str(obj.get("id") or f"case-{n + 1}"),
        input=inp,
        expected=target if target not in (None, "") else None,
        tags=tags,
        source=source or "imported",
        origin=origin,
    )
