"""Export/import: round trips, and the files read the way promptfoo and Inspect read them.

promptfoo and Inspect are not installed here, so their readers' rules are restated
from their sources (promptfoo ``src/csv.ts`` ``assertionFromString``/``testCaseFromCsvRow``;
Inspect ``inspect_ai/dataset/_util.py`` ``record_to_sample``), as docs/cases.md cites.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pilotgate.cases import export_cases, import_cases
from pilotgate.errors import ConfigError, InputError
from pilotgate.records import Case

CASES = [
    Case(id="a", input="Where is my order?", expected="It ships today.", tags=["cluster:1"]),
    Case(
        id="b",
        input=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": 'Cancel my "pro" plan, now'},
        ],
        expected="contains: cancelled, with commas\nand a newline",
        tags=["failure:rejected", "a,b"],
        source="production",
        origin={"interaction_id": "i9", "reference_source": "edited"},
    ),
    Case(id="c", input="Label this", expected={"label": "refund"}, source="manual"),
    Case(id="d", input="No reference here", tags=[]),
]

# promptfoo: an assertion string is TYPE[(threshold)][:value]; anything else is equals.
_PF_TYPES = "equals|contains|icontains|regex|starts-with|similar|llm-rubric|is-json|javascript"
_PF_ASSERT = re.compile(rf"^(not-)?({_PF_TYPES})(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$")


def _pf_assertion(expected: str) -> tuple[str, str]:
    m = _PF_ASSERT.match(expected)
    if m:
        return (m.group(1) or "") + m.group(2), m.group(4) or ""
    return "equals", expected


def _inspect_sample(record: dict[str, Any]) -> dict[str, Any]:
    """What Inspect's default FieldSpec makes of a record (input/target/id/metadata)."""
    inp = record.get("input")
    assert inp, "No input in dataset"
    if not isinstance(inp, str):
        for m in inp:
            assert m.get("role") in ("system", "user", "assistant", "tool")
            assert m.get("content") is not None
    target = record.get("target")
    target = (
        ""
        if target is None
        else [str(x) for x in target]
        if isinstance(target, list)
        else str(target)
    )
    meta = record.get("metadata")
    if isinstance(meta, str):
        meta = json.loads(meta)
    assert meta is None or isinstance(meta, dict)
    return {"input": inp, "target": target, "id": record.get("id"), "metadata": meta}


def _core(c: Case) -> tuple[Any, ...]:
    return (c.id, c.input, c.expected, c.tags, c.source)


@pytest.mark.parametrize("ext", ["jsonl", "csv"])
def test_pilotgate_round_trip(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"cases.{ext}"
    assert export_cases(CASES, path, "pilotgate") == 4
    back, fmt = import_cases(path)
    assert fmt == "pilotgate"
    assert [_core(c) for c in back] == [_core(c) for c in CASES]
    assert back[1].origin == CASES[1].origin


def test_promptfoo_jsonl_and_yaml(tmp_path: Path) -> None:
    path = tmp_path / "tests.jsonl"
    export_cases(CASES, path, "promptfoo")
    tests = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert tests[0] == {
        "description": "a",
        "vars": {"input": "Where is my order?"},
        "assert": [{"type": "equals", "value": "It ships today."}],
        "metadata": {"id": "a", "tags": ["cluster:1"]},
    }
    assert tests[1]["vars"]["input"] == 'Cancel my "pro" plan, now'
    assert json.loads(tests[1]["vars"]["messages"]) == CASES[1].input
    assert tests[2]["assert"] == [{"type": "equals", "value": '{"label": "refund"}'}]
    assert "assert" not in tests[3]
    back, fmt = import_cases(path)
    assert fmt == "promptfoo"
    assert [_core(c) for c in back[:2]] == [
        (*_core(c)[:4], c.source or "imported") for c in CASES[:2]
    ]
    ypath = tmp_path / "tests.yaml"
    export_cases(CASES, ypath, "promptfoo")
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(ypath.read_text("utf-8")) == tests
    yback, _ = import_cases(ypath, "promptfoo")
    assert [c.id for c in yback] == ["a", "b", "c", "d"]


def test_promptfoo_csv_reads_as_promptfoo_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "tests.csv"
    export_cases(CASES, path, "promptfoo")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {"input", "__expected", "__description", "__metadata:tags[]"} <= set(rows[0])
    # each __expected becomes one equals assertion whose value is the reference, exactly,
    # even when the reference itself looks like another assertion ("contains: ...")
    assert _pf_assertion(rows[0]["__expected"]) == ("equals", "It ships today.")
    assert _pf_assertion(rows[1]["__expected"]) == ("equals", CASES[1].expected)
    assert rows[3]["__expected"] == ""  # no reference: no assertion (empty cells are skipped)
    back, fmt = import_cases(path)
    assert fmt == "promptfoo"
    assert [(c.id, c.expected) for c in back] == [
        ("a", "It ships today."),
        ("b", CASES[1].expected),
        ("c", '{"label": "refund"}'),
        ("d", None),
    ]
    assert back[1].tags == ["failure:rejected", "a,b"] and back[1].input == CASES[1].input


def test_inspect_jsonl_and_csv(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    export_cases(CASES, path, "inspect")
    recs = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    samples = [_inspect_sample(r) for r in recs]
    assert samples[0] == {
        "input": "Where is my order?",
        "target": "It ships today.",
        "id": "a",
        "metadata": {"tags": ["cluster:1"]},
    }
    assert samples[1]["input"] == CASES[1].input  # chat messages stay messages
    assert samples[1]["metadata"]["origin"]["interaction_id"] == "i9"
    assert samples[2]["target"] == '{"label": "refund"}'
    assert samples[3]["target"] == ""
    back, fmt = import_cases(path)
    assert fmt == "inspect"
    # Inspect targets are text: a structured reference comes back as its JSON text
    want = [_core(c)[:4] for c in CASES]
    want[2] = ("c", "Label this", '{"label": "refund"}', [])
    assert [_core(c)[:4] for c in back] == want

    cpath = tmp_path / "samples.csv"
    export_cases(CASES, cpath, "inspect")
    with cpath.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "input", "target", "metadata"]
    s0 = _inspect_sample(rows[0])
    assert s0["target"] == "It ships today." and s0["metadata"] == {"tags": ["cluster:1"]}
    back, fmt = import_cases(cpath)
    assert fmt == "inspect" and [c.id for c in back] == ["a", "b", "c", "d"]


def test_import_accepts_ingest_lines_and_rejects_bad_files(tmp_path: Path) -> None:
    ingest = tmp_path / "prod.jsonl"
    ingest.write_text(
        json.dumps(
            {
                "kind": "interaction",
                "id": "x1",
                "ts": "2026-05-01T00:00:00Z",
                "feature": "f",
                "input": "hello",
            }
        )
        + "\n",
        "utf-8",
    )
    cases, fmt = import_cases(ingest)
    assert fmt == "pilotgate" and cases[0].id == "x1" and cases[0].source == "production"
    with pytest.raises(InputError, match="file not found"):
        import_cases(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="file type"):
        export_cases(CASES, tmp_path / "x.txt")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"vars": {}}\n', "utf-8")
    with pytest.raises(InputError, match="record 1"):
        import_cases(bad)
