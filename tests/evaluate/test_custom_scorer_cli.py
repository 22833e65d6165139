"""`--scorer python:scorers.py:fn`, `eval run --no-store`, `robustness --eval-set`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.store import Store

_FEATURE = "def answer(text):\n    return f'order 42: {text}'\n"
_SCORERS = '''
def mentions_order(output, reference):
    """Passes when the reply names the order."""
    return "order" in output

def close_enough(output, reference, *, input=None, minimum=0.5):
    return 1.0 if input and input in output else 0.0
'''


def _code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cs_feature.py").write_text(_FEATURE, encoding="utf-8")
    (tmp_path / "scorers.py").write_text(_SCORERS, encoding="utf-8")
    (tmp_path / "cases.jsonl").write_text(
        "".join(json.dumps({"id": f"c{i}", "input": f"refund {i}"}) + "\n" for i in range(6)),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_python_scorer_from_a_file_without_storing(project: Path) -> None:
    store = project / "never.db"
    out = project / "eval.json"
    argv = ["eval", "run", "--target", "python:cs_feature:answer", "--cases", "cases.jsonl",
            "--scorer", "python:scorers.py:mentions_order",
            "--scorer", "python:scorers.py:close_enough,minimum=0.9",
            "--no-store", "--store", f"sqlite:///{store}", "--json", str(out)]  # fmt: skip
    assert _code(argv) == 0
    doc = json.loads(out.read_text())
    assert doc["scorers"]["mentions_order"]["mean"] == 1.0
    assert doc["scorers"]["close_enough"]["mean"] == 1.0
    assert doc["stored"] is False
    assert not store.exists()


def test_a_missing_scorer_function_is_a_usage_error(project: Path) -> None:
    argv = ["eval", "run", "--target", "python:cs_feature:answer", "--cases", "cases.jsonl",
            "--scorer", "python:scorers.py:nope", "--no-store"]  # fmt: skip
    assert _code(argv) == 2


def test_robustness_reads_a_stored_eval_set(project: Path) -> None:
    url = f"sqlite:///{project / 's.db'}"
    assert _code(["cases", "import", "cases.jsonl", "--name", "refunds", "--store", url]) == 0
    out = project / "rob.json"
    argv = ["robustness", "--target", "python:cs_feature:answer", "--eval-set", "refunds",
            "--perturbations", "typo", "--scorer", "python:scorers.py:mentions_order",
            "--store", url, "--json", str(out)]  # fmt: skip
    assert _code(argv) == 0
    doc = json.loads(out.read_text())
    assert doc["n_cases"] == 6 and doc["perturbations"]["typo"]["pass_rate"] == 1.0
    with Store(url) as st:
        run = st.list_runs("robustness")[0]
    assert run["eval_set"] == "refunds@1"  # the runs layer's record of what it read
