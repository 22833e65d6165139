"""Replaying history: records keep the time they happened, not the time they were sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pilotgate import instrument as pg
from pilotgate.store import Store


def test_at_sets_the_recorded_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    pg.configure(store=url, strict=True)
    try:
        when = datetime(2025, 3, 4, 10, 30, tzinfo=UTC).timestamp()
        with pg.track(feature="bank", version="v1") as t:
            t.at = when
            t.input = "where is my card"
            t.output = "[intent=card_lost] ..."
            t.session_id = "s1"
        pg.feedback(t.id, accepted=True, dwell_ms=1200, at=when + 5)
        pg.step("s1", "asked", at=when, channel="web")
        pg.flush()
    finally:
        pg.shutdown()
    with Store(url) as store:
        (row,) = store.interactions()
        (fb,) = store.feedback()
        (st,) = store.steps()
    assert row["ts"] == datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
    assert fb["ts"].timestamp() == when + 5
    assert st["ts"].timestamp() == when and st["metadata"] == {"channel": "web"}
