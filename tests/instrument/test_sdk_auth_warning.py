"""A wrong SDK API key is logged once as a warning, not only kept in stats() (issue 18,
item 11); records are still kept and replayed once the key is fixed."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from tests.instrument.sdk_ingest_server import IngestServer

from pilotgate import instrument as pg


@pg.track(feature="auth-f", version="v1")
def answer(question: str) -> str:
    return question.upper()


def test_a_refused_key_is_logged_once(
    ingest_server: IngestServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pilotgate.instrument")
    pg.configure(
        collector=ingest_server.url, api_key="wrong", spill_dir=str(tmp_path / "spill"),
        retry_initial_s=0.02, retry_max_s=0.05, flush_interval_s=0.02,
    )  # fmt: skip
    for i in range(10):
        answer(f"q{i}")
    end = time.monotonic() + 10
    while ingest_server.statuses.count(401) < 3:  # several refused attempts
        assert time.monotonic() < end, pg.stats()
        answer("more")
        time.sleep(0.05)
    warnings = [
        r for r in caplog.records
        if r.name == "pilotgate.instrument" and r.levelno == logging.WARNING
    ]  # fmt: skip
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "401" in text and "api_key" in text and "wrong" not in text  # never the key itself
    assert pg.stats()["sent"] == 0
