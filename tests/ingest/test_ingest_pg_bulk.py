"""``pilotgate ingest`` on PostgreSQL's bulk path: COPY lines made in the worker (feedback
too), two batches written at once; idempotent by id, every refusal named alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pilotgate.errors import StoreError
from pilotgate.ingest import ingest_files
from pilotgate.store import Store

TS = "2026-05-01T{h:02d}:{m:02d}:00Z"


@pytest.fixture
def pg(store: Store) -> Store:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's bulk path")
    return store


def _log(path: Path, n: int) -> tuple[int, int]:
    """``n`` interactions, feedback on every 5th (every other one without an id, some sent
    twice), and interactions repeated in the next batches. Returns (interactions, feedback)
    distinct."""
    lines: list[dict[str, Any]] = []
    inter: list[dict[str, Any]] = []
    fb: set[Any] = set()
    for i in range(n):
        ts = TS.format(h=i // 60 % 24, m=i % 60)
        inter.append({"kind": "interaction", "id": f"i{i}", "ts": ts, "feature": "bank",
                      "input": f"q {i}\tx", "latency_ms": 10.0 + i,
                      "user_id": f"u{i % 7}"})  # fmt: skip
        lines.append(inter[-1])
        if i % 5 == 0:
            rec: dict[str, Any] = {"kind": "feedback", "interaction_id": f"i{i}", "ts": ts,
                                   "accepted": i % 10 == 0, "dwell_ms": 100.0 + i}  # fmt: skip
            if i % 2:
                rec["id"] = f"f{i}"
            lines.append(rec)
            fb.add(rec.get("id") or i)
            if i % 15 == 0:  # the same feedback again: stored once, the last copy wins
                lines.append({**rec, "comment": "again"})
        if i % 97 == 50:  # an interaction seen before, in one of the last batches
            lines.append(inter[i - 40])
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return n, len(fb)


def _counts(store: Store) -> tuple[int, int, int, int, int]:
    """Rows and distinct keys of both tables, counted (not trusted to a primary key), and
    the feedback marked ``again``."""
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM interactions), "
            "(SELECT count(DISTINCT (id, project)) FROM interactions), "
            "(SELECT count(*) FROM feedback), "
            "(SELECT count(DISTINCT (id, project)) FROM feedback), "
            "(SELECT count(*) FROM feedback WHERE comment = 'again')"
        ).one()
    return tuple(int(x) for x in row)  # type: ignore[return-value]


def test_parallel_pg_import_is_idempotent_by_counting(pg: Store, tmp_path: Path) -> None:
    """Lines and two writers store each key once; re-importing the file, by the worker or
    by the sequential path (validated dicts: the same derived feedback ids), adds nothing."""
    path = tmp_path / "log.jsonl"
    n_inter, n_fb = _log(path, 1500)
    rep = ingest_files([path], pg, redactor=None, batch_size=128, parallel=True)
    assert rep.n_bad == 0
    assert rep.stored_new["interaction"] == n_inter
    again = sum(1 for i in range(0, 1500, 5) if i % 15 == 0)
    assert _counts(pg) == (n_inter, n_inter, n_fb, n_fb, again)
    for parallel in (True, False):
        rep = ingest_files([path], pg, redactor=None, batch_size=128, parallel=parallel)
        assert rep.stored_new["interaction"] == 0 and rep.n_bad == 0
        assert _counts(pg) == (n_inter, n_inter, n_fb, n_fb, again)
    fb = {r["id"]: r for r in pg.feedback()}
    assert fb["f15"]["comment"] == "again" and fb["f5"]["comment"] is None
    assert fb["f5"]["dwell_ms"] == 105.0 and fb["f15"]["accepted"] is False
    inter = {r["id"]: r for r in pg.interactions()}
    assert inter["i7"]["input"] == "q 7\tx" and inter["i7"]["latency_ms"] == 17.0


def test_a_record_the_store_refuses_is_named_by_its_line(pg: Store, tmp_path: Path) -> None:
    """On the COPY path a refusal sinks neither its batch nor the other writer's: the
    interaction and the feedback the store refuses are named by line, the rest stored."""
    path = tmp_path / "log.jsonl"
    _log(path, 600)
    with pg.engine.begin() as conn:  # refused for good, as a store may for reasons unforeseen
        conn.exec_driver_sql("ALTER TABLE interactions ADD CONSTRAINT no_i77 CHECK (id <> 'i77')")
        conn.exec_driver_sql("ALTER TABLE feedback ADD CONSTRAINT no_f25 CHECK (id <> 'f25')")
    rep = ingest_files([path], pg, redactor=None, batch_size=64, parallel=True)
    text = path.read_text(encoding="utf-8").splitlines()
    want = {i + 1 for i, ln in enumerate(text) if json.loads(ln).get("id") in ("i77", "f25")}
    got = {b.line: b.error for b in rep.files[0].bad}
    assert set(got) == want and len(want) == 2
    assert all("the store refused it" in e and "no_" in e for e in got.values())
    n_inter, n_inter_keys, n_fb, n_fb_keys, _ = _counts(pg)
    assert n_inter == n_inter_keys == 599 and n_fb == n_fb_keys
    assert rep.stored_new["interaction"] == 599 and rep.read == len(text) - 2
    assert n_fb == 119  # 120 distinct, f25 refused (stored_new counts upserts written)


def test_a_batch_that_failed_for_a_retryable_reason_is_stored_again_alone(
    pg: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches written at once can deadlock on the rollup marks of an hour they share:
    the one that failed is written again once the other is done, and the import completes.
    Its interactions were committed before its feedback failed: they are still counted new."""
    path = tmp_path / "log.jsonl"
    n_inter, n_fb = _log(path, 400)
    real = Store.add_feedback_lines
    failed: list[int] = []

    def flaky(self: Store, lines: Any, project: str | None = None) -> int:
        if not failed:
            failed.append(len(lines))
            err = StoreError("deadlock detected", where="test")
            err.retryable = True
            raise err
        return real(self, lines, project)

    monkeypatch.setattr(Store, "add_feedback_lines", flaky)
    rep = ingest_files([path], pg, redactor=None, batch_size=50, parallel=True)
    assert failed and rep.n_bad == 0
    assert rep.stored_new["interaction"] == n_inter
    assert _counts(pg)[:4] == (n_inter, n_inter, n_fb, n_fb)


def test_stored_before_a_retryable_failure_travels_with_it() -> None:
    """``write_isolated`` puts the rows stored before a failure on the exception, once,
    however deep in the bisection it came (halves done + the failed write's own part)."""
    from pilotgate.ingest import write_isolated
    from pilotgate.ingest._fate import _STORED, stored_before

    calls: list[int] = []

    def write(part: list[Any]) -> dict[str, int]:
        calls.append(len(part))
        if len(calls) == 1:
            raise ValueError("refused")  # permanent: the batch of 8 is halved
        if len(calls) == 3:  # the second half: store away after 1 row was committed
            err = StoreError("away", where="test")
            err.retryable = True
            setattr(err, _STORED, {"interaction": 1})
            raise err
        return {"interaction": len(part)}

    with pytest.raises(StoreError) as info:
        write_isolated(list(range(8)), write)
    assert calls == [8, 4, 4]
    assert stored_before(info.value) == {"interaction": 5}


def test_batches_sharing_a_key_are_never_written_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers take batches without a key in common at once; a batch repeating a key
    of one in flight waits for it (so which copy wins is the file's order, not a race)."""
    import threading
    import time

    import pilotgate.ingest._run as run
    from pilotgate.ingest._fate import BatchFate

    lock = threading.Lock()
    active: list[set[Any]] = []
    clashes: list[set[Any]] = []
    most = [0]
    order: list[str] = []

    def fake(store: Any, records: list[Any], **kw: Any) -> BatchFate:
        keys = run._keys(records)
        with lock:
            clashes.extend(keys & other for other in active if keys & other)
            active.append(keys)
            most[0] = max(most[0], len(active))
        time.sleep(0.04 * len(records))  # the second batch outlasts the first
        with lock:
            active.remove(keys)
            order.append(records[0])
        return BatchFate({"interaction": len(records)})

    monkeypatch.setattr(run, "store_batch", fake)
    writer = run._Writer(Store.__new__(Store), 2)
    rep = run.FileReport("f.jsonl", "jsonl", 0)
    line = "i{}\t2026-05-01 00:00:00+00\tbank\tv1".format
    for part in ([0], [3, 4, 7, 8, 9], [4], [5, 6]):  # [4] repeats the newest batch in flight
        writer.submit([line(i) for i in part], rep, list(part))
    writer.drain()
    writer.close()
    assert clashes == [] and most[0] == 2
    assert order.index(line(4)) > order.index(line(3))  # the repeat after its first copy
    assert rep.stored_new == {"interaction": 9}
