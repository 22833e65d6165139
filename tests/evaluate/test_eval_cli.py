"""``pilotgate eval run`` / ``eval compare`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pilotgate._cli import cli


def old(text: str) -> str:
    return "[intent=card] ok" if "card" in text and "7" not in text else "[intent=loans] no"


def new(text: str) -> str:
    return "[intent=card] ok" if "card" in text else "[intent=loans] no"


def _write_cases(path: Path, n: int = 30) -> None:
    with path.open("w") as fh:
        for i in range(n):
            tag = "short" if i % 2 else "long"
            case = {"id": f"c{i}", "input": f"card {i}", "expected": "card", "tags": [tag]}
            fh.write(json.dumps(case) + "\n")


def test_eval_run_and_compare_write_their_documents(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    _write_cases(cases)
    db = f"sqlite:///{tmp_path}/cli.db"
    runner = CliRunner()
    docs = {}
    for version, fn in (("v1", "old"), ("v2", "new")):
        out = tmp_path / f"{version}.json"
        res = runner.invoke(
            cli,
            ["eval", "run", "--target", f"python:test_eval_cli:{fn}", "--cases", str(cases),
             "--scorer", "label", "--scorer", "contains:require=any", "--store", db,
             "--version", version, "--json", str(out), "--rows", str(tmp_path / "rows.jsonl")],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        docs[version] = json.loads(out.read_text())
        assert "label" in res.output and "95% CI" in res.output and "by tag" in res.output
    assert docs["v1"]["schema"] == "pilotgate.eval/1"
    assert docs["v1"]["scorers"]["label"]["passed"] == 27  # c7, c17, c27 wrong
    assert docs["v2"]["scorers"]["label"]["passed"] == 30
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 30
    cmp_path = tmp_path / "cmp.json"
    res = runner.invoke(
        cli,
        ["eval", "compare", docs["v1"]["run_id"], docs["v2"]["run_id"], "--store", db,
         "--json", str(cmp_path)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(cmp_path.read_text())
    assert doc["schema"] == "pilotgate.compare/1"
    assert doc["scorers"]["label"]["improved"] == 3 and doc["scorers"]["label"]["regressed"] == 0
    assert doc["verdict"] in " ".join(res.output.split())  # printed, however rich wraps it
    # the reverse comparison fails with --fail-on-regression only when significant
    rev = runner.invoke(
        cli,
        ["eval", "compare", docs["v2"]["run_id"], docs["v1"]["run_id"], "--store", db,
         "--fail-on-regression"],
    )  # fmt: skip
    assert rev.exit_code == 0  # 3 flips of 30: the interval still covers 0
    assert "no significant difference" in " ".join(rev.output.split())


def test_bad_usage_exits_2_with_one_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    _write_cases(cases, 3)
    proc = subprocess.run(
        [sys.executable, "-m", "pilotgate", "eval", "run", "--target", "python:os:getcwd",
         "--cases", str(cases), "--store", f"sqlite:///{tmp_path}/x.db"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: no --scorer given")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run(
        [sys.executable, "-m", "pilotgate", "eval", "compare", "nope-a", "nope-b",
         "--store", f"sqlite:///{tmp_path}/x.db"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "no run 'nope-a'" in proc.stderr


def test_terminal_says_how_many_cases_were_scored(tmp_path: Path) -> None:
    """ "28 of 30 scored (2 have no reference)" in the run's and the comparison's output."""
    cases = tmp_path / "cases.jsonl"
    with cases.open("w") as fh:
        for i in range(30):
            expected = None if i in (3, 4) else "card"
            fh.write(json.dumps({"id": f"c{i}", "input": f"card {i}", "expected": expected}) + "\n")
    db = f"sqlite:///{tmp_path}/cli.db"
    runner = CliRunner()
    ids = []
    for version, fn in (("v1", "old"), ("v2", "new")):
        out = tmp_path / f"{version}.json"
        res = runner.invoke(
            cli,
            ["eval", "run", "--target", f"python:test_eval_cli:{fn}", "--cases", str(cases),
             "--scorer", "label", "--store", db, "--version", version, "--json", str(out)],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "label: 28 of 30 scored (2 have no reference)" in res.output
        doc = json.loads(out.read_text())
        assert doc["scorers"]["label"]["n"] == 28
        ids.append(doc["run_id"])
    res = runner.invoke(cli, ["eval", "compare", *ids, "--store", db])
    assert res.exit_code == 0, res.output
    assert "label: 28 of 30 scored (2 have no reference)" in res.output
