"""The SDK's local store mode: a record the store cannot hold never poisons its batch."""

from __future__ import annotations

from pathlib import Path

from pilotgate import instrument as pg
from pilotgate.store import Store


def test_store_mode_normalises_and_refuses_per_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/sdk.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "spill"), batch_size=50)

    @pg.track(feature="hostile")
    def answer(question: str, tokens: int = 1) -> str:
        pg.annotate(tokens_in=tokens)
        return "reply\x00"

    answer("pasted\x00text")
    answer("huge", tokens=2**40)  # no store column holds it: refused alone
    answer("fine")
    assert pg.flush(10), pg.stats()
    stats = pg.stats()
    assert stats["rejected"] == 1 and stats["spill_files"] == 0
    assert stats["normalised"] == 3  # two in the first call, one in the last
    with Store(url) as s:
        rows = {r["input"]: r for r in s.interactions(feature="hostile")}
    assert set(rows) == {"pasted\ufffdtext", "fine"}
    assert rows["fine"]["output"] == "reply\ufffd"
    pg.shutdown()
