"""Fuzzing the collector's routes: whatever arrives, the answer is never a 5xx."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = [
    "kind",
    "id",
    "ts",
    "feature",
    "version",
    "session_id",
    "user_id",
    "input",
    "output",
    "latency_ms",
    "ttft_ms",
    "tokens_in",
    "tokens_out",
    "error",
    "metadata",
    "interaction_id",
    "accepted",
    "score",
    "edited_output",
    "dwell_ms",
    "comment",
    "name",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["interaction", "feedback", "step", "2026-05-01T12:00:00Z", "2026-13-99"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10)
bodies = st.one_of(
    st.builds(lambda rs: {"records": rs}, st.lists(records, max_size=5)),
    st.lists(records, max_size=5),
    records,
    json_values,
)
ROUTES = ["/v1/ingest", "/v1/feedback", "/v1/traces"]
CTYPES = ["application/json", "application/x-ndjson", "application/x-protobuf", "text/plain"]

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(route=st.sampled_from(ROUTES), body=bodies, ctype=st.sampled_from(CTYPES))
def test_structured_bodies_never_5xx(collector: Any, route: str, body: Any, ctype: str) -> None:
    status, resp, _ = collector.request("POST", route, json.dumps(body), content_type=ctype)
    assert status < 500, (status, resp)
    if route != "/v1/traces" and status in (200, 422):
        assert set(resp) == {"accepted", "stored_new", "errors", "redactions", "normalised"}
        assert all(0 <= e["index"] and e["field"] for e in resp["errors"])


@SETTINGS
@given(route=st.sampled_from(ROUTES), body=st.binary(max_size=300), ctype=st.sampled_from(CTYPES))
def test_raw_bytes_never_5xx(collector: Any, route: str, body: bytes, ctype: str) -> None:
    status, resp, _ = collector.request("POST", route, body, content_type=ctype)
    assert status < 500, (status, resp)


def test_deep_nesting_is_refused_not_crashed(collector: Any) -> None:
    deep = "[" * 5000 + '"x"' + "]" * 5000
    body = (
        '{"records": [{"id": "a", "ts": "2026-05-01T00:00:00Z", "feature": "f", "input": "x",'
        ' "metadata": {"d": ' + deep + "}}]}"
    )
    status, _, _ = collector.request("POST", "/v1/ingest", body)
    assert 400 <= status < 500
