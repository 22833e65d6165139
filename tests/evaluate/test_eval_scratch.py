"""run_eval(scratch=True) keeps nothing; render_eval prints eval and compare documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from pilotgate.errors import ConfigError
from pilotgate.evaluate import compare_runs, render_eval, run_eval
from pilotgate.store import Store

TARGET = "python:test_eval_scratch:answer"
CASES = [
    {"id": f"c{i}", "input": f"{'card' if i % 2 else 'loan'} {i}", "expected": "card"}
    for i in range(6)
]


def answer(text: str) -> str:
    return "[intent=card] ok" if "card" in text else "[intent=loans] no"


def test_a_scratch_run_reads_the_eval_set_and_records_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    with Store(url) as st:
        st.save_eval_set("gold", CASES)
    res = run_eval(TARGET, None, ["label"], eval_set="gold", store=url, scratch=True)
    assert res.document["stored"] is False and res.document["n_cases"] == 6
    assert res.document["scorers"]["label"]["mean"] == pytest.approx(0.5)
    with Store(url) as st:
        assert st.list_runs() == []
    again = run_eval(TARGET, CASES, ["label"], store=url, scratch=True)
    assert again.document["calls"] == 6  # no response cache survives a scratch run


def test_a_scratch_run_cannot_resume(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--resume needs the store"):
        run_eval(TARGET, CASES, ["label"], store=f"sqlite:///{tmp_path / 'x.db'}",
                 scratch=True, resume="r1")  # fmt: skip


def test_render_eval_prints_the_run_and_the_comparison(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    a = run_eval(TARGET, CASES, ["label"], store=url, version="v1")
    b = run_eval(TARGET, CASES, ["label"], store=url, version="v2", use_cache=False)
    console = Console(record=True, width=140)
    render_eval(a.document, console)
    render_eval(compare_runs(a.run_id, b.run_id, store=url).document, console)
    text = console.export_text()
    assert f"eval run {a.run_id}" in text and "6 cases" in text and "50.0" in text
    assert "on 6 shared cases" in text and "diff (pt)" in text
