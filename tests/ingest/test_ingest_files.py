"""``pilotgate ingest``: bad lines reported by number, good lines kept, idempotent, CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pilotgate._cli import cli
from pilotgate.errors import InputError
from pilotgate.ingest import ingest_files
from pilotgate.redact import Redactor
from pilotgate.store import Store

TS = "2026-05-01T12:00:00Z"


def line(i: int, **kw: Any) -> str:
    rec = {"kind": "interaction", "id": f"i{i}", "ts": TS, "feature": "bank", "input": f"q{i}"}
    rec.update(kw)
    return json.dumps(rec)


def test_bad_lines_reported_good_kept_and_idempotent(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "prod.jsonl"
    lines = [
        line(1),
        "{broken",
        line(2, latency_ms=-5),
        "",
        line(3, input="mail a@b.io"),
        json.dumps({"kind": "feedback", "interaction_id": "i1", "ts": TS, "accepted": True}),
        json.dumps({"kind": "step", "session_id": "s1", "ts": TS, "name": "opened"}),
        line(4, ts="2026-05-01T12:00:00"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = ingest_files([path], store, redactor=Redactor(), batch_size=2)
    f = rep.files[0]
    assert [(b.line, b.error.split(":")[0]) for b in f.bad] == [
        (2, "invalid JSON"),
        (3, "latency_ms"),
        (8, "ts"),
    ]
    assert f.stored_new == {"interaction": 2, "feedback": 1, "step": 1}
    assert rep.redactions == {"email": 1}
    assert {r["id"]: r["input"] for r in store.interactions()} == {"i1": "q1", "i3": "mail [EMAIL]"}
    again = ingest_files([path], store, redactor=Redactor())
    assert again.stored_new.get("interaction") == 0 and store.count() == 2


def test_csv_with_header_field_names(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "id,ts,feature,version,input,output,latency_ms,tokens_in,metadata\n"
        'c1,2026-05-01T10:00:00Z,bank,v1,hello,hi,120.5,12,"{""a"": 1}"\n'
        "c2,2026-05-01T10:01:00Z,bank,v1,again,,not-a-number,,\n"
        "c3,2026-05-01T10:02:00Z,bank,v1,third,ok,,,\n",
        encoding="utf-8",
    )
    rep = ingest_files([path], store, redactor=None)
    assert [b.line for b in rep.files[0].bad] == [3]
    rows = {r["id"]: r for r in store.interactions()}
    assert set(rows) == {"c1", "c3"}
    assert rows["c1"]["latency_ms"] == 120.5 and rows["c1"]["tokens_in"] == 12
    assert rows["c1"]["metadata"] == {"a": 1} and rows["c3"]["output"] == "ok"


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(line(1) + "\nnot json\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path}/s.db"
    out = tmp_path / "ingest.json"
    res = CliRunner().invoke(cli, ["ingest", str(good), "--store", url, "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 bad line" in res.output and "good.jsonl:2" in res.output
    doc = json.loads(out.read_text())
    assert doc["schema"] == "pilotgate.ingest/1" and doc["files"][0]["bad_lines"][0]["line"] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ingest", str(bad), "--store", url])
    assert isinstance(res.exception, InputError) and "nothing could be read" in str(res.exception)
    with Store(url) as store, pytest.raises(InputError):
        ingest_files([tmp_path / "missing.jsonl"], store)
