"""Hostile records: one bad record is refused on its own; good ones beside it are stored.

Against a real ``pilotgate serve`` process (the must-show batch) and the ASGI app under
uvicorn on loopback (the property suite), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import free_port

from pilotgate.store import Store

GOOD_TS = "2026-05-01T12:00:00Z"


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _serve(store_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "pilotgate", "serve", "--port", str(port)]
    cmd += ["--store", store_url, "--no-auth"]
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 60
    while time.monotonic() < end:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"pilotgate serve did not start: {log.read_text()}")


def _rec(rid: str, **over: Any) -> dict[str, Any]:
    return {"id": rid, "ts": GOOD_TS, "feature": "hostile", "input": "hello", **over}


def test_must_show_batch_against_real_serve(store_url: str, tmp_path: Path) -> None:
    """NUL byte, year 1 at +14:00, a 1e999 latency and good records in one batch."""
    proc, url = _serve(store_url, tmp_path / "serve.log")
    try:
        records = [
            _rec("good-1"),
            _rec("nul", input="pasted\x00text", output="ok\x00"),
            _rec("year-1", ts="0001-01-01T00:00:00+14:00"),
            "LATENCY",
            _rec("surrogate", output="half a pair: \ud83d!"),
            _rec("long-session", session_id="s" * 300),
            _rec("huge-tokens", tokens_in=2**40),
            {"kind": "feedback", "interaction_id": "good-1", "ts": GOOD_TS, "comment": "a\x00b"},
            _rec("good-2", metadata={"k\x00ey": ["v\x00"]}),
        ]
        text = json.dumps({"records": records}).replace(
            '"LATENCY"', json.dumps(_rec("inf-latency", latency_ms=0))[:-1] + ', "x": 1}'
        )
        # the 1e999 literal, as a client's JSON would carry it (json.dumps cannot write it)
        text = text.replace('"latency_ms": 0, "x": 1}', '"latency_ms": 1e999}')
        status, doc = _post(url + "/v1/ingest", text.encode())
        assert status == 200, doc
        refused = {e["index"]: e for e in doc["errors"]}
        assert set(refused) == {2, 3, 5, 6}, doc
        assert refused[2]["field"] == "ts" and "UTC" in refused[2]["error"]
        assert refused[3]["field"] == "latency_ms" and "finite" in refused[3]["error"]
        assert refused[5]["field"] == "session_id"
        assert refused[6]["field"] == "tokens_in"
        assert doc["accepted"] == 5 and doc["normalised"] >= 6
    finally:
        proc.terminate()
        proc.wait(15)
    with Store(store_url) as store:
        rows = {r["id"]: r for r in store.interactions(feature="hostile")}
        assert set(rows) == {"good-1", "nul", "surrogate", "good-2"}
        assert rows["nul"]["input"] == "pasted\ufffdtext"
        assert rows["surrogate"]["output"] == "half a pair: \ufffd!"
        assert rows["good-2"]["metadata"]["k\ufffdey"] == ["v\ufffd"]
        (fb,) = store.feedback()
        assert fb["comment"] == "a\ufffdb"


# ------------------------------------------------------------------ property suite

extreme_text = st.text(alphabet=st.characters(), max_size=20) | st.text(
    alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "a", "\u202e", "\x1b", "é"]),
    max_size=20,
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
# hypothesis wants naive bounds; the offsets are attached below
extreme_dt = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 2)),  # noqa: DTZ001
    st.datetimes(
        min_value=datetime(9999, 12, 30),  # noqa: DTZ001
        max_value=datetime(9999, 12, 31, 23, 59),  # noqa: DTZ001
    ),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),  # noqa: DTZ001
)
extreme_num = st.one_of(
    st.none(),
    st.floats(min_value=0, allow_nan=False),  # includes inf and huge finite values
    st.just(float("nan")),
    st.integers(min_value=0, max_value=2**64),
)


@st.composite
def hostile_record(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A record and whether it must be stored (True) or refused by name (False)."""
    dt = draw(extreme_dt).replace(tzinfo=draw(offsets))
    latency = draw(extreme_num)
    tokens = draw(st.none() | st.integers(min_value=0, max_value=2**40))
    session = draw(st.none() | extreme_text | st.just("s" * 201))
    rec: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "ts": dt.isoformat(),
        "feature": "prop",
        "input": draw(extreme_text),
        "output": draw(st.none() | extreme_text),
        "session_id": session,
        "user_id": draw(st.none() | extreme_text),
        "latency_ms": latency,
        "tokens_in": tokens,
        "metadata": draw(st.dictionaries(extreme_text, extreme_text | extreme_num, max_size=3)),
    }
    try:
        dt.astimezone(UTC)
        ts_ok = True
    except OverflowError:
        ts_ok = False
    nums = [latency, *rec["metadata"].values()]
    finite = all(not isinstance(v, float) or v == v and abs(v) != float("inf") for v in nums)
    good = (
        ts_ok
        and finite
        and (tokens is None or tokens < 2**31)
        and (session is None or len(session) <= 200)
        and (rec["user_id"] is None or len(rec["user_id"]) <= 200)
    )
    return rec, good


PROP = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_hostile_records_property(collector_factory: Any, store_url: str) -> None:
    store = Store(store_url)
    collector = collector_factory(store=store, max_body_bytes=4 * 1024 * 1024)

    @PROP
    @given(batch=st.lists(hostile_record(), min_size=1, max_size=6))
    def check(batch: list[tuple[dict[str, Any], bool]]) -> None:
        records = [r for r, _ in batch]
        body = json.dumps({"records": records})  # NaN, Infinity and \ud800 escapes as sent
        status, doc, _ = collector.request("POST", "/v1/ingest", body)
        assert status < 500, doc
        assert status in (200, 422), doc
        refused = {e["index"] for e in doc["errors"]}
        stored = {r["id"] for r in store.interactions(feature="prop")}
        for i, (rec, good) in enumerate(batch):
            if good:
                assert rec["id"] in stored, (rec, doc)
                assert i not in refused
            else:
                assert i in refused, (rec, doc)
                assert rec["id"] not in stored

    check()


# ------------------------------------------------------------------ OTLP merge path

POISON_SPAN = "00000000000000c2"
TRACE = "0123456789abcdef0123456789abcdef"


def _refuse_one_id(store_url: str, rid: str) -> None:
    """Make the real store refuse one row for good (as a store may, for reasons nobody
    foresaw): a CHECK constraint on PostgreSQL, an aborting trigger on SQLite."""
    import sqlalchemy as sa

    with Store(store_url) as store, store.engine.begin() as conn:
        if store_url.startswith("sqlite"):
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON interactions "
                    f"WHEN NEW.id = '{rid}' BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
                )
            )
        else:
            conn.execute(
                sa.text(f"ALTER TABLE interactions ADD CONSTRAINT refuse_one CHECK (id <> '{rid}')")
            )


def _genai_span(span_id: str) -> dict[str, Any]:
    def attr(key: str, value: Any) -> dict[str, Any]:
        kind = "intValue" if isinstance(value, int) else "stringValue"
        return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}

    return {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "chat m",
        "startTimeUnixNano": "1777636800000000000",
        "endTimeUnixNano": "1777636800500000000",
        "attributes": [
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.request.model", "m"),
            attr("gen_ai.usage.input_tokens", 3),
            attr("gen_ai.prompt", f"question {span_id}"),
            attr("gen_ai.completion", "answer"),
        ],
    }


def test_otlp_batch_with_a_refused_span_against_real_serve(store_url: str, tmp_path: Path) -> None:
    """OTLP's merge path isolates what the store refuses: the good spans are stored, only
    the refused one is named (partialSuccess), and the answer is not a 5xx."""
    spans = [f"00000000000000a{i}" for i in range(5)]
    spans[2] = POISON_SPAN
    _refuse_one_id(store_url, f"otel-{TRACE}-{POISON_SPAN}")
    proc, url = _serve(store_url, tmp_path / "serve.log")
    try:
        doc = {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "otlp"}}]
                    },
                    "scopeSpans": [{"spans": [_genai_span(s) for s in spans]}],
                }
            ]
        }
        status, body = _post(url + "/v1/traces", json.dumps(doc).encode())
        assert status == 200, body
        partial = body["partialSuccess"]
        assert partial["rejectedSpans"] == 1, body
        assert partial["errorMessage"].startswith("span 2: (record): the store refused it"), body
    finally:
        proc.terminate()
        proc.wait(15)
    with Store(store_url) as store:
        stored = {r["id"] for r in store.interactions()}
    assert stored == {f"otel-{TRACE}-{s}" for s in spans if s != POISON_SPAN}
