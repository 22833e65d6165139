"""Oversized and multi-member bodies: a 413 a standard client can read; gzip read whole."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

TS = "2026-05-01T12:00:00Z"


def rec(i: int) -> dict[str, Any]:
    return {"id": f"r{i}", "ts": TS, "feature": "bodies", "input": f"q{i}"}


def test_20mb_body_to_a_16mb_collector_is_read_as_413_by_urllib(collector_factory: Any) -> None:
    c = collector_factory(max_body_bytes=16 * 1024 * 1024)
    body = b'{"records": [' + b" " * (20 * 1024 * 1024) + b"]}"
    req = urllib.request.Request(
        f"http://127.0.0.1:{c.port}/v1/ingest",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {c.key}"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    with err.value:
        assert err.value.code == 413  # not "connection reset by peer"
        assert "limit" in json.loads(err.value.read())["detail"]


def test_20mb_chunked_body_is_read_as_413(collector_factory: Any) -> None:
    """No Content-Length: the limit is found while the body streams in."""
    c = collector_factory(max_body_bytes=16 * 1024 * 1024)

    def chunks() -> Any:
        for _ in range(20):
            yield b" " * (1024 * 1024)

    req = urllib.request.Request(
        f"http://127.0.0.1:{c.port}/v1/ingest",
        data=chunks(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {c.key}",
            "Transfer-Encoding": "chunked",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    with err.value:
        assert err.value.code == 413


def test_multi_member_gzip_is_decoded_whole(collector: Any) -> None:
    first = gzip.compress(b'{"records": [' + json.dumps(rec(1)).encode())
    second = gzip.compress(b", " + json.dumps(rec(2)).encode() + b"]}")
    status, doc, _ = collector.request(
        "POST", "/v1/ingest", first + second, headers={"Content-Encoding": "gzip"}
    )
    assert status == 200, doc
    assert doc["accepted"] == 2
    assert {r["id"] for r in collector.store.interactions()} == {"r1", "r2"}


def test_gzip_followed_by_garbage_is_refused(collector: Any) -> None:
    body = gzip.compress(json.dumps({"records": [rec(1)]}).encode()) + b"garbage"
    status, doc, _ = collector.request(
        "POST", "/v1/ingest", body, headers={"Content-Encoding": "gzip"}
    )
    assert status == 400, doc
    assert collector.store.count() == 0


def test_multi_member_gzip_over_the_limit_is_413(collector: Any) -> None:
    big = gzip.compress(b" " * (40 * 1024))  # the fixture's limit is 64 KiB
    status, _, _ = collector.request(
        "POST", "/v1/ingest", big + big, headers={"Content-Encoding": "gzip"}
    )
    assert status == 413
