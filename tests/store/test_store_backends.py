"""The same store suite on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pilotgate.errors import InputError, StoreError
from pilotgate.store import Store

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def inter(i: int, **kw: Any) -> dict[str, Any]:
    rec = {
        "id": f"i{i}",
        "ts": T0 + timedelta(minutes=i),
        "feature": "bank",
        "version": "v1" if i % 2 == 0 else "v2",
        "session_id": f"s{i // 3}",
        "user_id": "u1",
        "input": f"question {i}",
        "output": f"answer {i}",
        "latency_ms": 100.0 + i,
        "metadata": {"i": i},
    }
    rec.update(kw)
    return rec


def test_interactions_round_trip_and_idempotent(store: Store) -> None:
    assert store.add_interactions([inter(i) for i in range(10)]) == 10
    assert store.add_interactions([inter(i) for i in range(5, 15)]) == 5
    rows = store.interactions(feature="bank")
    assert [r["id"] for r in rows] == [f"i{i}" for i in range(15)]
    r0 = rows[0]
    assert r0["ts"] == T0 and r0["ts"].tzinfo is not None
    assert r0["metadata"] == {"i": 0}
    assert r0["latency_ms"] == 100.0


def test_batches_larger_than_one_statement(store: Store) -> None:
    n = 4500
    assert store.add_interactions([inter(i) for i in range(n)]) == n
    assert store.count(feature="bank") == n
    assert store.add_interactions([inter(i) for i in range(n)]) == 0


def test_filters_by_version_and_time(store: Store) -> None:
    store.add_interactions([inter(i) for i in range(20)])
    assert store.count(feature="bank", version="v1") == 10
    since = T0 + timedelta(minutes=5)
    until = T0 + timedelta(minutes=10)
    got = [r["id"] for r in store.iter_interactions(since=since, until=until)]
    assert got == [f"i{i}" for i in range(5, 10)]
    assert store.count(feature="other") == 0
    assert store.features() == [("bank", "v1", 10), ("bank", "v2", 10)]


def test_chat_messages_input_kept(store: Store) -> None:
    msgs = [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}]
    store.add_interactions([inter(1, input=msgs)])
    row = store.interactions()[0]
    assert row["input_messages"] == msgs


def test_upsert_updates(store: Store) -> None:
    store.add_interactions([inter(1)])
    store.add_interactions([inter(1, output="changed")], upsert=True)
    assert store.interactions()[0]["output"] == "changed"


def test_feedback_and_steps_idempotent(store: Store) -> None:
    fb = {"interaction_id": "i1", "ts": T0, "accepted": True, "dwell_ms": 5300}
    assert store.add_feedback([fb]) == 1
    assert store.add_feedback([fb]) == 1  # upsert of the same derived id, still one row
    assert len(store.feedback()) == 1
    st = {"session_id": "s1", "ts": T0, "name": "opened"}
    assert store.add_steps([st, st]) == 1
    assert [s["name"] for s in store.steps()] == ["opened"]


def test_runs_results_and_latest(store: Store) -> None:
    rid = store.start_run("eval", name="demo", params={"k": 1}, feature="bank")
    store.add_results(rid, [("c1", {"score": 1.0}), ("c2", {"score": 0.0})])
    assert store.result_ids(rid) == {"c1", "c2"}
    store.add_results(rid, [("c2", {"score": 0.5})])
    store.finish_run(rid, {"mean": 0.75})
    run = store.get_run(rid)
    assert run["status"] == "ok" and run["summary"] == {"mean": 0.75}
    assert [r["score"] for r in store.run_results(rid)] == [1.0, 0.5]
    latest = store.latest_run("eval")
    assert latest is not None and latest["id"] == rid
    assert store.latest_run("load") is None
    with pytest.raises(InputError, match="no run"):
        store.get_run("nope")


def test_eval_sets_are_versioned(store: Store) -> None:
    v1 = store.save_eval_set("prod", [{"id": "a", "input": "x"}], params={"seed": 0})
    v2 = store.save_eval_set("prod", [{"id": "a", "input": "x"}, {"id": "b", "input": "y"}])
    assert (v1, v2) == (1, 2)
    meta, cases = store.get_eval_set("prod")
    assert meta["version"] == 2 and [c["id"] for c in cases] == ["a", "b"]
    meta1, cases1 = store.get_eval_set("prod@1")
    assert meta1["params"] == {"seed": 0} and len(cases1) == 1
    with pytest.raises(InputError):
        store.get_eval_set("prod@9")
    with pytest.raises(InputError, match="duplicate"):
        store.save_eval_set("dup", [{"id": "a", "input": "x"}, {"id": "a", "input": "y"}])


def test_caches(store: Store) -> None:
    store.cache_put_many({"k1": {"output": "a"}})
    assert store.cache_get_many(["k1", "k2"]) == {"k1": {"output": "a"}}
    store.embeddings_put("lexical", {"h1": b"\x00\x01"})
    assert store.embeddings_get("lexical", ["h1", "h2"]) == {"h1": b"\x00\x01"}


def test_bad_batch_keeps_what_was_stored(store: Store) -> None:
    store.add_interactions([inter(1)])
    bad = {"id": "x", "ts": T0, "feature": "bank", "input": "q"}
    bad_row = {**bad, "input": None}  # violates NOT NULL at the database
    from pilotgate.store import tables as t

    with pytest.raises(StoreError, match="write to interactions failed"):
        store._insert(t.interactions, [bad_row], upsert=False)
    assert [r["id"] for r in store.interactions()] == ["i1"]


def test_reopen_keeps_data(store_url: str) -> None:
    s = Store(store_url)
    s.add_interactions([inter(1)])
    s.close()
    s2 = Store(store_url)
    assert s2.count() == 1
    s2.close()


def test_one_key_twice_in_a_batch(store: Store) -> None:
    """The bulk paths (SQLite executemany, PostgreSQL COPY + merge) keep the row rules."""
    assert store.add_interactions([inter(1), inter(1, output="second"), inter(2)]) == 2
    assert {r["id"]: r["output"] for r in store.interactions()} == {
        "i1": "answer 1",
        "i2": "answer 2",
    }
    fb = {"id": "f1", "interaction_id": "i1", "ts": T0, "accepted": True}
    assert store.add_feedback([fb, {**fb, "accepted": False, "comment": "changed my mind"}]) >= 1
    (row,) = store.feedback()
    assert row["accepted"] is False and row["comment"] == "changed my mind"


def test_bulk_rows_round_trip_every_column_type(store: Store) -> None:
    msgs = [{"role": "user", "content": 'tab\there, quote " and backslash \\ and ñ'}]
    rec = inter(7, input=msgs, metadata={"nested": {"a": [1, 2.5, None]}, "ok": True},
                tokens_in=3, tokens_out=4, ttft_ms=12.5, error="Timeout")  # fmt: skip
    assert store.add_interactions([rec]) == 1
    (row,) = store.interactions()
    assert row["input_messages"] == msgs
    assert row["metadata"] == {"nested": {"a": [1, 2.5, None]}, "ok": True}
    assert (row["tokens_in"], row["tokens_out"], row["ttft_ms"], row["error"]) == (
        3,
        4,
        12.5,
        "Timeout",
    )
    assert row["ts"] == T0 + timedelta(minutes=7)
