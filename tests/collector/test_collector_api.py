"""The collector over real HTTP: auth, limits, per-record errors, redaction, durability."""

from __future__ import annotations

import gzip
import json
from typing import Any

from pilotgate.collector import list_keys, revoke_key
from pilotgate.store import Store

TS = "2026-05-01T12:00:00Z"


def rec(i: int, **kw: Any) -> dict[str, Any]:
    r = {
        "kind": "interaction",
        "id": f"r{i}",
        "ts": TS,
        "feature": "bank",
        "version": "v1",
        "session_id": f"s{i}",
        "input": f"question {i}",
        "output": "answer",
        "latency_ms": 100.0,
    }
    r.update(kw)
    return r


def test_health_needs_no_key(collector: Any) -> None:
    status, body, _ = collector.request("GET", "/health", key=None)
    assert status == 200 and body["status"] == "ok" and body["store"] == "sqlite"


def test_missing_wrong_and_revoked_keys_get_401(collector: Any) -> None:
    batch = {"records": [rec(1)]}
    status, body, hdrs = collector.request("POST", "/v1/ingest", batch, key=None)
    assert status == 401 and hdrs["www-authenticate"] == "Bearer"
    wrong = collector.key[:-4] + ("AAAA" if not collector.key.endswith("AAAA") else "BBBB")
    assert collector.request("POST", "/v1/ingest", batch, key=wrong)[0] == 401
    assert collector.request("POST", "/v1/ingest", batch, key="garbage")[0] == 401
    assert (
        collector.request(
            "POST", "/v1/ingest", batch, key=None, headers={"Authorization": "Basic abc"}
        )[0]
        == 401
    )
    assert collector.store.count() == 0
    assert collector.request("POST", "/v1/ingest", batch)[0] == 200
    key_id = collector.key.split("_")[1]
    revoke_key(collector.store, key_id)
    status, body, _ = collector.request("POST", "/v1/ingest", {"records": [rec(2)]})
    assert status == 401 and collector.store.count() == 1
    assert collector.key not in json.dumps(body)


def test_key_secret_is_never_stored(collector: Any, tmp_path: Any) -> None:
    secret = collector.key.split("_", 2)[2]
    collector.request("POST", "/v1/ingest", {"records": [rec(1)]})
    keys = list_keys(collector.store)
    assert [k.project for k in keys] == ["acme"]
    assert secret not in json.dumps([k.to_json() for k in keys])
    for f in tmp_path.iterdir():  # the database file and its WAL
        assert secret.encode() not in f.read_bytes()


def test_oversized_body_gets_413(collector: Any) -> None:
    big = {"records": [rec(i, input="x" * 1000) for i in range(100)]}  # > 64 KiB limit
    status, _, _ = collector.request("POST", "/v1/ingest", big)
    assert status == 413
    bomb = gzip.compress(json.dumps(big).encode())
    assert len(bomb) < 64 * 1024
    status, _, _ = collector.request(
        "POST", "/v1/ingest", bomb, headers={"Content-Encoding": "gzip"}
    )
    assert status == 413
    assert collector.store.count() == 0


def test_gzip_body_is_accepted(collector: Any) -> None:
    body = gzip.compress(json.dumps({"records": [rec(1), rec(2)]}).encode())
    status, resp, _ = collector.request(
        "POST", "/v1/ingest", body, headers={"Content-Encoding": "gzip"}
    )
    assert status == 200 and resp["accepted"] == 2


def test_truncated_gzip_body_is_refused_and_nothing_stored(collector: Any) -> None:
    records = [rec(i, input="some words " * 20) for i in range(50)]
    body = gzip.compress(json.dumps({"records": records}).encode())
    status, resp, _ = collector.request(
        "POST", "/v1/ingest", body[: len(body) // 2], headers={"Content-Encoding": "gzip"}
    )
    assert status == 400 and "truncated" in json.dumps(resp)
    assert collector.store.count() == 0


def test_one_malformed_record_is_named_and_the_rest_stored(collector: Any) -> None:
    batch = [rec(0), rec(1), rec(2, latency_ms="slow"), rec(3), {"kind": "feedback"}]
    status, body, _ = collector.request("POST", "/v1/ingest", {"records": batch})
    assert status == 200
    assert body["accepted"] == 3 and body["stored_new"] == 3
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (2, "latency_ms"),
        (4, "interaction_id"),
    ]
    assert sorted(r["id"] for r in collector.store.interactions()) == ["r0", "r1", "r3"]


def test_jsonl_body_with_a_broken_line(collector: Any) -> None:
    lines = [json.dumps(rec(0)), "{not json", json.dumps(rec(1))]
    status, body, _ = collector.request(
        "POST", "/v1/ingest", "\n".join(lines), content_type="application/x-ndjson"
    )
    assert status == 200 and body["accepted"] == 2
    assert body["errors"][0]["index"] == 1 and body["errors"][0]["field"] == "(json)"


def test_all_bad_is_422_and_resend_is_idempotent(collector: Any) -> None:
    status, body, _ = collector.request("POST", "/v1/ingest", {"records": [{"id": 1}]})
    assert status == 422 and body["accepted"] == 0
    batch = {"records": [rec(i) for i in range(5)]}
    assert collector.request("POST", "/v1/ingest", batch)[1]["stored_new"] == 5
    again = collector.request("POST", "/v1/ingest", batch)[1]
    assert again["accepted"] == 5 and again["stored_new"] == 0
    assert collector.store.count() == 5


def test_acknowledged_batch_is_durable(collector: Any) -> None:
    batch = {"records": [rec(i) for i in range(50)]}
    assert collector.request("POST", "/v1/ingest", batch)[0] == 200
    # a separate connection pool (another process would see the same): committed rows only
    with Store(collector.store.url) as other:
        assert other.count() == 50


def test_pii_is_redacted_before_storage(collector: Any) -> None:
    r = rec(
        1,
        input="I am ann@example.com, card 4111 1111 1111 1111",
        output="We call +44 20 7946 0958",
        metadata={"iban": "DE89370400440532013000"},
    )
    status, body, _ = collector.request("POST", "/v1/ingest", {"records": [r]})
    assert status == 200
    assert body["redactions"] == {"email": 1, "card": 1, "phone": 1, "iban": 1}
    row = collector.store.interactions()[0]
    assert row["input"] == "I am [EMAIL], card [CARD]"
    assert row["output"] == "We call [PHONE]"
    assert row["metadata"]["iban"] == "[IBAN]"
    assert row["metadata"]["redactions"] == body["redactions"]
    assert row["metadata"]["project"] == "acme"


def test_redaction_can_be_switched_off(collector_factory: Any) -> None:
    c = collector_factory(redact=False)
    r = rec(1, input="I am ann@example.com")
    status, body, _ = c.request("POST", "/v1/ingest", {"records": [r]})
    assert status == 200 and body["redactions"] == {}
    assert c.store.interactions()[0]["input"] == "I am ann@example.com"


def test_feedback_route(collector: Any) -> None:
    collector.request("POST", "/v1/ingest", {"records": [rec(1)]})
    fb = {"interaction_id": "r1", "ts": TS, "accepted": False, "comment": "mail x@y.com"}
    status, body, _ = collector.request("POST", "/v1/feedback", fb)
    assert status == 200 and body["accepted"] == 1 and body["redactions"] == {"email": 1}
    stored = collector.store.feedback()
    assert stored[0]["accepted"] is False and stored[0]["comment"] == "mail [EMAIL]"
    status, body, _ = collector.request("POST", "/v1/feedback", [rec(2)])
    assert status == 422 and body["errors"][0]["field"] == "kind"


def test_unreadable_bodies_are_4xx(collector: Any) -> None:
    for body, ctype in [
        (b"\xff\xfe", "application/json"),
        (b'"just a string"', "application/json"),
        (b'{"records": 5}', "application/json"),
    ]:
        status, _, _ = collector.request("POST", "/v1/ingest", body, content_type=ctype)
        assert 400 <= status < 500, (body, status)
    status, _, _ = collector.request("POST", "/v1/ingest", b"x", headers={"Content-Encoding": "br"})
    assert status == 415
