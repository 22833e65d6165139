"""``pilotgate cases``: build, diff, export/import, list, show, review and apply over a store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pilotgate._cli import cli
from pilotgate.cases._synthetic import synthetic_production
from pilotgate.errors import PilotgateError
from pilotgate.store import Store


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path}/cli.db"
    syn = synthetic_production(1200, seed=3)
    with Store(u) as st:
        st.add_interactions(syn.interactions)
        st.add_feedback(syn.feedback)
        st.add_steps(syn.steps)
    return u


def _run(args: list[str], url: str, input: str | None = None) -> Any:
    res = CliRunner().invoke(cli, ["cases", *args, "--store", url], input=input)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


def _doc(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text("utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_build_diff_export_import_list_show(url: str, tmp_path: Path) -> None:
    b1 = tmp_path / "b1.json"
    out = _run(
        ["build", "prod", "--size", "40", "--strategy", "uniform,failures", "--weights", "1,3"]
        + ["--seed", "2", "--json", str(b1), "--out", str(tmp_path / "b1.jsonl")],
        url,
    ).output
    doc = _doc(b1)
    assert doc["schema"] == "pilotgate.cases.build/1" and doc["ref"] == "prod@1"
    assert doc["n_cases"] == 40 and doc["by_strategy"] == {"uniform": 10, "failures": 30}
    assert doc["spec"]["weights"] == {"uniform": 1.0, "failures": 3.0}
    assert "prod@1: 40 cases from 1200 interactions" in out
    assert len((tmp_path / "b1.jsonl").read_text().splitlines()) == 40

    _run(["build", "prod", "--size", "30", "--since", "2026-05-01T02:00:00"], url)
    d = tmp_path / "d.json"
    _run(["diff", "prod@1", "prod@2", "--json", str(d)], url)
    dd = _doc(d)
    assert dd["schema"] == "pilotgate.cases.diff/1" and (dd["a"], dd["b"]) == ("prod@1", "prod@2")
    assert len(dd["added"]) + len(dd["changed"]) + dd["unchanged"] == 30

    exp = tmp_path / "x.jsonl"
    _run(["export", "prod@1", "--out", str(exp), "--format", "inspect"], url)
    first = json.loads(exp.read_text("utf-8").splitlines()[0])
    assert set(first) >= {"id", "input", "metadata"}
    imp = tmp_path / "imp.json"
    _run(["import", str(exp), "--name", "imported", "--json", str(imp)], url)
    assert _doc(imp)["ref"] == "imported@1" and _doc(imp)["format"] == "inspect"

    lst = tmp_path / "l.json"
    _run(["list", "--json", str(lst)], url)
    refs = [s["ref"] for s in _doc(lst)["eval_sets"]]
    assert refs == ["imported@1", "prod@1", "prod@2"]
    sh = tmp_path / "s.json"
    _run(["show", "prod@1", "--limit", "2", "--json", str(sh)], url)
    shown = _doc(sh)
    assert shown["n_cases"] == 40 and len(shown["cases"]) == 40
    assert shown["params"]["spec"]["seed"] == 2


def test_review_then_apply(url: str, tmp_path: Path) -> None:
    _run(["build", "q", "--size", "5", "--strategy", "uniform"], url)
    rv = tmp_path / "r.json"
    res = _run(["review", "q", "--reviewer", "eve", "--json", str(rv)], url, input="ddsq")
    doc = _doc(rv)
    assert doc["reviewer"] == "eve" and doc["actions"] == {"drop": 2, "skip": 1} and doc["quit"]
    assert "1/5" in res.output
    ap = tmp_path / "a.json"
    _run(["apply-reviews", "q", "--json", str(ap)], url)
    applied = _doc(ap)
    assert applied["version"] == 2 and applied["n_cases"] == 3
    _run(["apply-reviews", "q", "--json", str(ap)], url)
    assert _doc(ap)["version"] is None


def test_bad_input_exits_2_with_one_line(url: str, tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "pilotgate", "cases", "show", "nope@1", "--store", url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "no eval set 'nope@1'" in lines[0]
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["build", "p", "--strategy", "psychic"], "unknown strategy 'psychic'"),
        (["build", "p", "--strategy", "uniform,failures", "--weights", "1"], "1 weights for 2"),
        (["build", "p", "--feature", "none-such"], "no stored interactions"),
        (["build", "p", "--since", "yesterday"], "bad date"),
        (["build", "p@2"], "build a set by name"),
        (["export", "p", "--out", "x.txt"], "no eval set"),
    ],
)
def test_bad_usage_raises_pilotgate_errors(url: str, args: list[str], needle: str) -> None:
    res = CliRunner().invoke(cli, ["cases", *args, "--store", url])
    assert isinstance(res.exception, PilotgateError), res.output
    assert res.exception.exit_code == 2 and needle in res.exception.one_line()
