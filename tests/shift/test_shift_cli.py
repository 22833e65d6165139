"""``pilotgate shift`` through the real CLI entry point, with files on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


def test_files_in_json_scores_and_suggestions_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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
    assert 0.0 < doc["coverage"] < 1.0
    assert doc["gaps"][0]["label"].startswith("Spanish")
    assert [d["name"] for d in doc["drift"]["embedding"]] == ["eval_vs_production", "early_vs_late"]
    assert len(doc["coverage_by_day"]) == 20
    lines = scores.read_text().splitlines()
    assert len(lines) == 720 and json.loads(lines[0])["id"] == "p0"
    cases, bad = read_cases(sug)
    assert len(cases) == 6 and not bad and all(c.source == "suggested" for c in cases)
    assert "coverage" in capsys.readouterr().out


def test_empty_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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


def test_a_mostly_unreadable_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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
        (["--embedder", "lexical"], "exactly one of --production FILE or --feature"),
        (["--suggest", "3"], "--suggest needs --suggest-out"),
        (["--embedder", "nope"], "unknown embedding backend"),
        (["--since", "2026-01-01"], "--since and --version filter stored production"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    ev = write_cases(tmp_path / "eval.jsonl", POOL[:20])
    base = ["--eval", str(ev)]
    if "--feature" not in message:
        base += ["--production", str(ev)]
    assert run("shift", *base, *args, "--no-store") == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_store_backed_run_reads_eval_set_and_feature_and_records_the_run(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from pilotgate.shift._store_io import StoreEmbeddingCache
    from pilotgate.store import Store

    url = f"sqlite:///{tmp_path}/store.db"
    prod = POOL[300:700] + support_requests(60, seed=7, kind="es")
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    with Store(url) as store:
        store.save_eval_set(
            "support", [{"id": f"c{i}", "input": t} for i, t in enumerate(POOL[:150])]
        )
        store.add_interactions(
            {"id": f"p{i}", "ts": t0 + timedelta(hours=i), "feature": "router", "input": t}
            for i, t in enumerate(prod)
        )
        store.add_interactions(
            [{"id": "other", "ts": t0, "feature": "elsewhere", "input": "unrelated"}]
        )
    out = tmp_path / "o.json"
    args = ["shift", "--eval-set", "support", "--feature", "router", "--embedder", "lexical"]
    assert run(*args, "--since", "2026-05-02", "--store", url, "--json", str(out)) == 0
    doc = json.loads(out.read_text())
    assert doc["n_eval"] == 150 and doc["n_production"] == len(prod) - 24
    assert doc["inputs"]["production"] == "store:feature:router"
    with Store(url) as store:
        runs = store.list_runs("shift")
        assert len(runs) == 1 and runs[0]["summary"]["schema"] == "pilotgate.shift/1"
        stored = store.run_results(runs[0]["id"])
        assert len(stored) == round(doc["n_production"] * (1 - doc["coverage"]))
        cache = StoreEmbeddingCache(store)
        vec = np.arange(4, dtype=np.float32)
        cache.put_many("b", {"h1": vec})
        cache.put_many("b", {"h1": vec})  # idempotent
        assert np.array_equal(cache.get_many("b", ["h1", "nope"])["h1"], vec)
    assert run("shift", "--eval-set", "nope", "--feature", "router", "--store", url) == 2
