"""Fixtures for the SDK tests: a loopback ingest server, a closed port, a clean SDK."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.instrument.sdk_ingest_server import IngestServer

from pilotgate import instrument


@pytest.fixture
def ingest_server(tmp_path: Path) -> Iterator[IngestServer]:
    srv = IngestServer(tmp_path / "collector.db")
    yield srv
    srv.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _sdk_reset() -> Iterator[None]:
    """Each test starts and ends with the SDK shut down (its thread stopped)."""
    instrument.shutdown(0.5)
    yield
    instrument.shutdown(0.5)
