"""Pseudonymous user and session ids: keyed hashes, stable per store, never the raw id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pilotgate.ingest import ingest_files
from pilotgate.redact import Pseudonymiser, Redactor, is_pseudonym
from pilotgate.store import Store

TS = "2026-05-01T12:00:00Z"
RAW_USER = "ann.smith@example.com"
RAW_SESSION = "sess-ann-0042"


def _records(prefix: str) -> list[dict[str, Any]]:
    return [
        {"kind": "interaction", "id": f"{prefix}1", "ts": TS, "feature": "f", "input": "q",
         "session_id": RAW_SESSION, "user_id": RAW_USER},
        {"kind": "step", "session_id": RAW_SESSION, "ts": TS, "name": f"opened-{prefix}"},
    ]  # fmt: skip


def test_ids_are_keyed_hashes_consistent_across_paths(collector_factory: Any, store_url: str,
                                                      tmp_path: Path) -> None:  # fmt: skip
    store = Store(store_url)
    collector = collector_factory(store=store)
    status, doc, _ = collector.request("POST", "/v1/ingest", {"records": _records("c")})
    assert status == 200 and doc["accepted"] == 2
    path = tmp_path / "more.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _records("f")) + "\n", encoding="utf-8")
    ingest_files([path], store, redactor=Redactor())
    inter = {r["id"]: r for r in store.interactions()}
    steps = store.steps()
    sessions = {r["session_id"] for r in inter.values()} | {s["session_id"] for s in steps}
    users = {r["user_id"] for r in inter.values()}
    # one pseudonym per raw id, whichever way the records came in: joins still work
    assert len(sessions) == 1 and len(users) == 1
    (sid,), (uid,) = sessions, users
    assert is_pseudonym(sid) and is_pseudonym(uid) and sid != uid
    assert Pseudonymiser(store.secret("pseudonym")).id(RAW_SESSION) == sid
    # the raw ids are nowhere in what was stored
    dump = json.dumps([*inter.values(), *steps], default=str)
    assert RAW_USER not in dump and RAW_SESSION not in dump


def test_the_key_is_per_store_and_stable(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/a.db") as a, Store(f"sqlite:///{tmp_path}/b.db") as b:
        key_a, key_b = a.secret("pseudonym"), b.secret("pseudonym")
        assert key_a != key_b and len(key_a) == 64
        assert a.secret("pseudonym") == key_a
    with Store(f"sqlite:///{tmp_path}/a.db") as again:
        assert again.secret("pseudonym") == key_a  # survives a restart
    # another store's pseudonym of the same id differs: no cross-store linkage
    assert Pseudonymiser(key_a).id(RAW_USER) != Pseudonymiser(key_b).id(RAW_USER)


def test_raw_id_never_reaches_the_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _records("x")) + "\n", encoding="utf-8")
    with Store(f"sqlite:///{db}") as store:
        ingest_files([path], store, redactor=Redactor())
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert RAW_USER.encode() not in blob and RAW_SESSION.encode() not in blob


def test_switchable_off(collector_factory: Any, tmp_path: Path) -> None:
    collector = collector_factory(pseudonymise_ids=False)
    status, _, _ = collector.request("POST", "/v1/ingest", {"records": _records("o")})
    assert status == 200
    (row,) = collector.store.interactions()
    assert (row["session_id"], row["user_id"]) == (RAW_SESSION, RAW_USER)
    path = tmp_path / "raw.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _records("r")) + "\n", encoding="utf-8")
    with Store(f"sqlite:///{tmp_path}/raw.db") as store:
        ingest_files([path], store, redactor=Redactor(), pseudonymise_ids=False)
        assert {s["session_id"] for s in store.steps()} == {RAW_SESSION}
        ingest_files([path], store, redactor=None)  # no redaction: ids as they are
        assert {r["user_id"] for r in store.interactions()} == {RAW_USER}


def test_a_pseudonym_is_not_hashed_twice() -> None:
    p = Pseudonymiser("k")
    once = p.id(RAW_USER)
    assert p.id(once) == once
    assert Pseudonymiser("other").id(once) == once  # data passing through a second store
