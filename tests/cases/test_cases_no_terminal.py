"""`cases review` without a terminal, and the bulk import of labels (issue 18, item 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.cases import load_eval_set
from pilotgate.cases._synthetic import synthetic_production
from pilotgate.store import Store


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path}/cases.db"
    syn = synthetic_production(300, seed=3)
    with Store(u) as st:
        st.add_interactions(syn.interactions)
        st.add_feedback(syn.feedback)
    assert main(["cases", "build", "q", "--size", "6", "--strategy", "uniform",
                 "--store", u]) in (None, 0)  # fmt: skip
    return u


def test_review_without_a_terminal_is_one_line_and_exit_2(url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pilotgate", "cases", "review", "q", "--store", url],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
        env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "needs a terminal" in errors[0]
    assert "import-labels" in errors[0]


def test_import_labels_stores_reviews_and_reports_bad_lines(url: str, tmp_path: Path) -> None:
    with Store(url) as st:
        _, cases = load_eval_set(st, "q")
    ids = [c.id for c in cases]
    lines = [
        json.dumps({"id": ids[0], "reference": "refund"}),
        json.dumps({"case_id": ids[1], "label": "balance", "tags": ["checked"]}),
        json.dumps({"id": ids[2], "action": "drop"}),
        json.dumps({"id": "no-such-case", "reference": "x"}),
        "{not json",
        json.dumps({"id": ids[3], "action": "maybe"}),
    ]
    path = tmp_path / "labels.jsonl"
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "import.json"
    code = main(["cases", "import-labels", "q", str(path), "--apply", "--json", str(out),
                 "--store", url])  # fmt: skip
    assert code in (None, 0)
    doc = json.loads(out.read_text())
    assert doc["imported"] == 3 and doc["actions"] == {"drop": 1, "reference": 2}
    assert [e["line"] for e in doc["errors"]] == [4, 5, 6]
    assert doc["apply"]["version"] == 2 and doc["apply"]["n_cases"] == 5
    with Store(url) as st:
        _, new = load_eval_set(st, "q@2")
    by_id = {c.id: c for c in new}
    assert by_id[ids[0]].expected == "refund" and by_id[ids[1]].expected == "balance"
    assert ids[2] not in by_id


def test_import_labels_into_an_unknown_set_exits_2(url: str, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "x", "reference": "y"}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["cases", "import-labels", "nope", str(path), "--store", url])
    assert exc.value.code == 2
