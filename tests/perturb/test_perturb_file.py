"""``perturb_file`` and ``read_glossary``: the `pilotgate perturb` verb as a function."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from pilotgate.errors import ConfigError
from pilotgate.perturb import list_perturbations, perturb_file, print_catalogue, read_glossary
from pilotgate.records import Case, read_cases, write_cases


def test_perturb_file_writes_every_sample_and_counts_the_unchanged(tmp_path: Path) -> None:
    src, out = tmp_path / "c.jsonl", tmp_path / "p.jsonl"
    write_cases(src, [Case(id="a", input="Block my card"), Case(id="b", input="SHOUTING NOW")])
    done = perturb_file(src, out, ["typo,all_caps"], samples=2, seed=4, options={"glossary": {}})
    assert (done.n_cases, done.n_written, done.perturbations) == (2, 8, ["typo", "all_caps"])
    assert done.n_unchanged == {"all_caps": 2}  # "SHOUTING NOW" is already upper case
    assert len(read_cases(out)[0]) == 8
    doc = done.to_json()
    assert doc["schema"] == "pilotgate.perturb/1" and doc["options"] == ["glossary"]
    keys = "schema n_cases perturbations samples seed severity n_written n_unchanged options out"
    assert list(doc) == keys.split()
    again = perturb_file(src, tmp_path / "q.jsonl", ["typo,all_caps"], samples=2, seed=4)
    assert (tmp_path / "q.jsonl").read_text() == out.read_text() and again.options == []


def test_read_glossary_takes_a_json_object_only(tmp_path: Path) -> None:
    good = tmp_path / "g.json"
    good.write_text(json.dumps({"money": "funds"}), encoding="utf-8")
    assert read_glossary(good) == {"money": "funds"}
    for text, message in (("[1]", "not a JSON object"), ("{oops", "cannot read glossary")):
        good.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            read_glossary(good)
    with pytest.raises(ConfigError, match="cannot read glossary"):
        read_glossary(tmp_path / "missing.json")


def test_print_catalogue_lists_every_perturbation() -> None:
    out = io.StringIO()
    catalogue = list_perturbations()
    print_catalogue(catalogue, Console(file=out, width=300))
    assert all(p.name in out.getvalue() for p in catalogue)
