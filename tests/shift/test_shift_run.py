"""``run_shift``: shift's entry point chooses its inputs (files or the store) and its cache."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pilotgate.errors import ConfigError, InputError
from pilotgate.shift import ShiftRequest, print_shift, run_shift
from pilotgate.shift._synthetic import support_requests
from pilotgate.store import Store

POOL = support_requests(400, seed=5)


def _jsonl(path: Path, texts: list[str], prefix: str) -> str:
    lines = [json.dumps({"id": f"{prefix}{i}", "input": t}) for i, t in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of --eval FILE or --eval-set"),
        ({"eval_path": "e", "eval_set": "s", "production_path": "p"}, "exactly one of --eval"),
        ({"eval_path": "e"}, "exactly one of --production FILE or --feature"),
        ({"eval_path": "e", "production_path": "p", "since": "2026-01-01"}, "filter stored"),
        ({"eval_path": "e", "feature": "f", "embedder": "openai:http://x"}, "--embedding-model"),
        ({"eval_path": "e", "feature": "f", "embedding_model": "m"}, "for openai:URL"),
    ],
)
def test_bad_combinations_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_shift(ShiftRequest(**kwargs), save=False)


def test_files_without_a_store_read_both_sides_and_note_bad_lines(tmp_path: Path) -> None:
    ev = _jsonl(tmp_path / "e.jsonl", POOL[:120], "e")
    prod = tmp_path / "p.jsonl"
    _jsonl(prod, POOL[150:350], "p")
    with prod.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    request = ShiftRequest(eval_path=ev, production_path=str(prod), embedder="lexical", seed=3)
    result = run_shift(request, store_url="sqlite:///" + str(tmp_path / "none.db"), save=False)
    assert not (tmp_path / "none.db").exists()  # nothing read from or saved in the store
    doc = result.to_json()
    assert (doc["n_eval"], doc["n_production"]) == (120, 200)
    assert result.run_id is None
    assert any("skipped 1 unreadable line" in n for n in doc["notes"])


def test_store_sides_record_the_run_and_parse_since(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "s.db")
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    with Store(url) as store:
        store.save_eval_set(
            "support", [{"id": f"c{i}", "input": t} for i, t in enumerate(POOL[:80])]
        )
        store.add_interactions(
            {"id": f"p{i}", "ts": t0 + timedelta(hours=i), "feature": "bot", "input": t}
            for i, t in enumerate(POOL[100:300])
        )
    request = ShiftRequest(
        eval_set="support", feature="bot", since="2026-05-02", embedder="lexical"
    )
    result = run_shift(request, store_url=url, feature="bot", version="v1")
    assert result.run_id is not None
    doc = result.to_json()
    assert doc["n_production"] == 200 - 24  # only interactions since 2 May
    with pytest.raises(ConfigError, match="is not a date"):
        run_shift(ShiftRequest(eval_set="support", feature="bot", since="May"), store_url=url)
    with pytest.raises(InputError, match="no stored interactions"):
        run_shift(ShiftRequest(eval_set="support", feature="nope"), store_url=url, save=False)
    out = io.StringIO()
    print_shift(doc, Console(file=out, width=200))
    assert "coverage" in out.getvalue() and "drift" in out.getvalue()
