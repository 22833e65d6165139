"""import/export/show_eval_set, BuildSpec.from_options and render_cases, without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from pilotgate.cases import (
    BuildSpec,
    export_eval_set,
    import_eval_set,
    list_eval_sets,
    render_cases,
    show_eval_set,
)
from pilotgate.errors import ConfigError, InputError
from pilotgate.store import Store


def _cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "input": "refund please", "expected": "refund", "tags": ["billing"]},
        {"id": "b", "input": "\x1b[2Jwipe [bold]x[/bold]", "expected": "other"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_import_saves_a_version_and_export_and_show_read_it_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    doc = import_eval_set(url, "gold", _cases_file(tmp_path), description="two")
    assert (doc["schema"], doc["ref"], doc["n_cases"], doc["format"]) == (
        "pilotgate.cases.import/1", "gold@1", 2, "pilotgate",
    )  # fmt: skip
    with Store(url) as st:
        shown = show_eval_set(st, "gold")
        out = tmp_path / "out.jsonl"
        exported = export_eval_set(st, "gold@1", out, "promptfoo")
        assert [s["ref"] for s in list_eval_sets(st)] == ["gold@1"]
    assert (shown["ref"], shown["description"], [c["id"] for c in shown["cases"]]) == (
        "gold@1", "two", ["a", "b"],
    )  # fmt: skip
    assert exported == {
        "schema": "pilotgate.cases.export/1", "ref": "gold@1", "path": str(out),
        "format": "promptfoo", "n_cases": 2,
    }  # fmt: skip
    assert len(out.read_text("utf-8").splitlines()) == 2


def test_import_refuses_a_version_and_a_bad_file_creates_no_store(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    with pytest.raises(ConfigError, match="by name"):
        import_eval_set(f"sqlite:///{db}", "gold@2", _cases_file(tmp_path))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError):
        import_eval_set(f"sqlite:///{db}", "gold", bad)
    assert not db.exists()


def test_from_options_keeps_the_default_shares_and_parses_the_rest() -> None:
    assert BuildSpec.from_options().weights == {"stratified": 0.5, "failures": 0.3, "uniform": 0.2}
    spec = BuildSpec.from_options(strategy="stratified,failures,uniform", weights="1,1,2")
    assert spec.weights == {"stratified": 1.0, "failures": 1.0, "uniform": 2.0}
    assert BuildSpec.from_options(strategy="uniform,novelty", size=5).weights == {
        "uniform": 1.0, "novelty": 1.0,
    }  # fmt: skip
    with pytest.raises(ConfigError, match="unknown strategy"):
        BuildSpec.from_options(strategy="everything")


def test_render_cases_shows_hostile_case_text_inert(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    import_eval_set(url, "gold", _cases_file(tmp_path))
    with Store(url) as st:
        doc = show_eval_set(st, "gold")
    console = Console(record=True, width=200)
    render_cases(doc, console, limit=1)
    text = console.export_text()
    assert "gold@1: 2 cases" in text and "refund please" in text
    assert "… 1 more" in text and "wipe" not in text
    console = Console(record=True, width=200)
    render_cases(doc, console)
    text = console.export_text()
    assert "\\x1b[2Jwipe [bold]x[/bold]" in text  # the escape shown, the markup not applied


def test_render_cases_names_the_bad_lines_of_a_labels_file() -> None:
    doc = {
        "schema": "pilotgate.cases.import-labels/1", "name": "gold", "imported": 1,
        "actions": {"accept": 1}, "n_errors": 3, "errors": [{"line": 4, "error": "no id"}],
    }  # fmt: skip
    console = Console(record=True, width=200)
    render_cases(doc, console, source="labels.csv")
    text = console.export_text()
    assert "gold: imported 1 decision(s) (accept 1)" in text
    assert "labels.csv:4: no id" in text and "… and 2 more bad line(s)" in text
