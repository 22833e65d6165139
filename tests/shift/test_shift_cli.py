"""``pilotgate shift`` through the real CLI entry point, with files on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.records import read_cases
from pilotgate.shift._synthetic import support_requests

POOL = support_requests(1_200, seed=5)


def write_cases(path: Path, texts: list[str], prefix: str = "c") -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": f"{prefix}{i}", "input": t}) + "\n")
    return path


def write_interactions(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            rec = {
                "kind": "interaction",
                "id": f"p{i}",
                "ts": f"2026-05-{1 + i % 20:02d}T10:00:00Z",
                "feature": "support",
                "input": [{"role": "system", "content": "be nice"}, {"role": "user", "content": t}],
            }
            fh.write(json.dumps(rec) + "\n")
        fh.write(
            json.dumps(
                {"kind": "step", "session_id": "s", "ts": "2026-05-01T00:00:00Z", "name": "x"}
            )
        )
        fh.write("\n")
    return path


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    return int(exc.value.code or 0)


def test_files_in_json_scores_and_suggestions_out(tmp_path: Path, capsys) -> None:
    ev = write_cases(tmp_path / "eval.jsonl", POOL[:200])
    prod_texts = POOL[300:900] + support_requests(120, seed=6, kind="es")
    prod = write_interactions(tmp_path / "prod.jsonl", prod_texts)
    out, scores, sug = tmp_path / "out.json", tmp_path / "s.jsonl", tmp_path / "sug.jsonl"
    code = run(
        "shift", "--eval", str(ev), "--production", str(prod), "--embedder", "lexical",
        "--scores", str(scores), "--suggest", "6", "--suggest-out", str(sug), "--json", str(out),
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["schema"] == "pilotgate.shift/1"
    assert doc["n_eval"] == 200 and doc["n_production"] == 720
    assert 0.0 < doc["coverage"]["value"] < 1.0
    assert doc["gaps"][0]["label"].startswith("Spanish")
    assert [d["name"] for d in doc["drift"]["embedding"]] == ["eval_vs_production", "early_vs_late"]
    assert len(doc["coverage_by_day"]) == 20
    lines = scores.read_text().splitlines()
    assert len(lines) == 720 and json.loads(lines[0])["id"] == "p0"
    cases, bad = read_cases(sug)
    assert len(cases) == 6 and not bad and all(c.source == "suggested" for c in cases)
    assert "coverage" in capsys.readouterr().out


def test_empty_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    ev = write_cases(tmp_path / "eval.jsonl", POOL[:20])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert run("shift", "--eval", str(ev), "--production", str(empty), "--embedder", "lexical") == 2
    err = capsys.readouterr().err
    assert "empty.jsonl" in err and "no inputs found" in err and "fix:" in err


def test_non_utf8_lines_are_skipped_and_reported(tmp_path: Path) -> None:
    ev = write_cases(tmp_path / "eval.jsonl", POOL[:50])
    prod = write_cases(tmp_path / "prod.jsonl", POOL[100:160], prefix="p")
    with prod.open("ab") as fh:
        fh.write(b'{"id": "bad", "input": "caf\xe9 \xff"}\n')
    out = tmp_path / "o.json"
    code = run(
        "shift", "--eval", str(ev), "--production", str(prod), "--embedder", "lexical",
        "--json", str(out),
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["n_production"] == 60
    assert any("not UTF-8" in n and "line 61" in n for n in doc["notes"])


def test_a_mostly_unreadable_file_is_an_error(tmp_path: Path, capsys) -> None:
    ev = write_cases(tmp_path / "eval.jsonl", POOL[:20])
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(
        b"\xff\xfe garbage\nnot json\n" + json.dumps({"id": "a", "input": "x"}).encode()
    )
    assert run("shift", "--eval", str(ev), "--production", str(junk), "--embedder", "lexical") == 2
    assert "unreadable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--embedder", "lexical"], "--eval and --production are required"),
        (["--eval-set", "x", "--feature", "f"], "store"),
        (["--suggest", "3"], "--suggest needs --suggest-out"),
        (["--embedder", "nope"], "unknown embedding backend"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path: Path, capsys, args, message) -> None:
    ev = write_cases(tmp_path / "eval.jsonl", POOL[:20])
    base = [] if "--eval-set" in args or "--eval" in args else ["--eval", str(ev)]
    if message != "--eval and --production are required":
        base += ["--production", str(ev)]
    assert run("shift", *base, *args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
