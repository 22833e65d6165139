"""Ingest: a UTF-8 BOM is accepted, feedback for unknown interactions is reported, and
``"accepted": "yes"`` is refused (issue 18, item 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilotgate.ingest import ingest_files
from pilotgate.store import Store

TS = "2026-05-01T12:00:00Z"


def _inter(i: int) -> dict[str, object]:
    return {"kind": "interaction", "id": f"i{i}", "ts": TS, "feature": "f", "input": f"q{i}"}


def _fb(iid: str, accepted: object) -> dict[str, object]:
    return {"kind": "feedback", "interaction_id": iid, "ts": TS, "accepted": accepted}


@pytest.mark.parametrize("parallel", [False, True])
def test_a_utf8_bom_is_accepted(store: Store, tmp_path: Path, parallel: bool) -> None:
    path = tmp_path / "excel.jsonl"
    body = "\n".join(json.dumps(_inter(i)) for i in range(3)) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    rep = ingest_files([path], store, parallel=parallel)
    assert rep.n_bad == 0 and rep.stored_new == {"interaction": 3}


def test_a_csv_with_a_bom_is_accepted(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfkind,id,ts,feature,input\ninteraction,c1," + TS.encode()
                     + b",f,hello\n")  # fmt: skip
    rep = ingest_files([path], store)
    assert rep.n_bad == 0 and rep.stored_new == {"interaction": 1}


def test_string_booleans_are_refused_one_line_at_a_time(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "fb.jsonl"
    rows = [_inter(1), _fb("i1", "yes"), _fb("i1", True), _fb("i1", 1)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    rep = ingest_files([path], store)
    assert [b.line for b in rep.files[0].bad] == [2, 4]
    assert "accepted" in rep.files[0].bad[0].error
    assert rep.stored_new == {"interaction": 1, "feedback": 1}


def test_feedback_for_unknown_interactions_is_reported(store: Store, tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    # feedback before its interaction, and in an earlier file than it: not unknown
    first.write_text(
        "\n".join(json.dumps(r) for r in [_fb("i2", True), _fb("ghost-1", False),
                                           _fb("ghost-2", True), _inter(1)]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    second = tmp_path / "b.jsonl"
    second.write_text(json.dumps(_inter(2)) + "\n", encoding="utf-8")
    rep = ingest_files([first, second], store)
    doc = rep.to_json()
    assert doc["feedback_unknown_interactions"] == {"n": 2, "examples": ["ghost-1", "ghost-2"]}
