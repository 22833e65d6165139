"""Spill files: what is appended is replayed once, in order, within the size cap."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.instrument._spill import Spill

text = st.text(max_size=30)
row = st.lists(st.one_of(st.none(), st.integers(), text), min_size=1, max_size=4)
batches = st.lists(st.lists(row, min_size=1, max_size=8), max_size=12)


def replay_all(spill: Spill) -> list[list[Any]]:
    out: list[list[Any]] = []
    while (batch := spill.next_batch()) is not None:
        out.extend(batch.rows)
        spill.commit(batch)
    return out


@settings(max_examples=60, deadline=None)
@given(batches=batches, cap=st.integers(min_value=10, max_value=2_000))
def test_appended_rows_replay_once_in_order_within_the_cap(
    batches: list[list[list[Any]]], cap: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spill = Spill(Path(tmp) / "s", cap, "proc1")
        offered: list[list[Any]] = []
        total_written = 0
        for rows in batches:
            before = spill.total_bytes
            written, dropped = spill.append(rows)
            assert written + dropped == len(rows)
            assert before <= spill.total_bytes <= cap
            offered.extend(rows)
            total_written += written
        replayed = replay_all(spill)
        assert len(replayed) == total_written
        it = iter(offered)  # replayed rows are the written ones, in the order offered
        assert all(any(r == o for o in it) for r in replayed)
        if total_written == len(offered):
            assert replayed == offered
        assert spill.total_bytes == 0 and not spill.has_pending()
        assert not list((Path(tmp) / "s").glob("*.jsonl"))
        spill.close()


def test_a_second_process_adopts_released_files_only(tmp_path: Path) -> None:
    owner = Spill(tmp_path, 10_000, "owner")
    owner.append([[0, "a"], [0, "b"]])
    other = Spill(tmp_path, 10_000, "other")
    assert other.claim_orphans() == 0  # the owner is alive and holds its lock
    owner.close()  # the owner exits
    assert other.claim_orphans() == 1
    assert replay_all(other) == [[0, "a"], [0, "b"]]
    assert not list(tmp_path.glob("*.jsonl"))
    other.close()
