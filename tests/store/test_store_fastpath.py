"""The fast ingest path stores exactly what the pydantic path stores.

The store writes records of :func:`pilotgate.ingest.validate_record` without checking them
again, and turns them straight into SQLite parameters; these tests hold it to the rows the
pydantic-validated :class:`InteractionRecord` path writes, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pilotgate._interaction_rows import (
    CheckedInteraction,
    json_text,
    normalise_interaction,
    sqlite_interaction_row,
)
from pilotgate.ingest import InvalidRecord, validate_record
from pilotgate.ingest._sanitise import Refused, sanitise
from pilotgate.records import InteractionRecord
from pilotgate.redact import Redactor
from pilotgate.store import Store

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def records() -> list[dict[str, Any]]:
    base: dict[str, Any] = {"ts": "2026-05-01T12:00:00.123456Z", "feature": "f", "input": "q"}
    return [
        {**base, "id": "plain"},
        {**base, "id": "full", "version": "v2", "session_id": "s", "user_id": "u",
         "output": "a", "latency_ms": 12, "ttft_ms": 1.5, "tokens_in": 3, "tokens_out": 0,
         "error": None, "metadata": {"k": ["é", 1, None, {"x": 2.5}]}},
        {**base, "id": "chat", "input": [{"role": "user", "content": "héllo"}], "metadata": {}},
        {**base, "id": "offset", "ts": "2026-05-01T14:30:00+02:00", "kind": "interaction"},
        {**base, "id": "dt", "ts": datetime(2026, 5, 1, 8, tzinfo=timezone(timedelta(hours=-4)))},
        {**base, "id": "pii", "input": "mail ann@example.com", "output": "card 4111111111111111"},
        # what COPY's text format must escape, and a text that reads like its NULL
        {**base, "id": "esc\tid", "input": "tab\there\\back\nnew\rcr", "output": "\\N",
         "session_id": "a\\b", "metadata": {"path": "C:\\dir\n", "t": "\t"}},
    ]  # fmt: skip


def _rows(store: Store) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: {k: v for k, v in r.items() if k != "ingested_at"} for r in store.interactions()
    }


def test_checked_records_store_the_rows_pydantic_stores(store: Store, tmp_path: Any) -> None:
    redactor = Redactor()
    fast = []
    for rec in records():
        checked = validate_record(dict(rec))
        redactor.record(checked)
        fast.append(checked)
    assert all(type(r) is CheckedInteraction for r in fast)
    assert store.add_interactions(fast) == len(fast)

    slow_store = Store(f"sqlite:///{tmp_path}/slow.db")
    try:
        slow = []
        for rec in records():
            d = InteractionRecord.model_validate(rec).model_dump()
            redactor.record(d)
            slow.append(InteractionRecord.model_validate(d))
        assert slow_store.add_interactions(slow) == len(slow)
        assert _rows(store) == _rows(slow_store)
    finally:
        slow_store.close()
    got = _rows(store)
    assert got["offset"]["ts"] == datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    assert got["chat"]["input_messages"] == [{"role": "user", "content": "héllo"}]
    assert got["chat"]["input"] == json_text([{"role": "user", "content": "héllo"}])
    assert got["chat"]["metadata"] is None
    assert got["pii"]["input"] == "mail [EMAIL]"
    assert got["pii"]["metadata"] == {"redactions": {"email": 1, "card": 1}}
    assert store.add_interactions(fast) == 0  # idempotent by id


def test_non_finite_numbers_are_refused_by_name() -> None:
    """pydantic accepts inf (and the stores would keep it); validation refuses it."""
    rec = {"id": "inf", "ts": T0, "feature": "f", "input": "q", "latency_ms": math.inf}
    with pytest.raises(InvalidRecord) as err:
        validate_record(rec)
    assert err.value.field == "latency_ms"


def test_plain_dicts_are_still_validated(store: Store) -> None:
    with pytest.raises(ValidationError):
        store.add_interactions([{"id": "x", "ts": T0, "feature": "", "input": "q"}])
    assert store.count() == 0


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.sampled_from(["2026-05-01T12:00:00Z", "2026-05-01T12:00:00", "2026-05-01 12:00+01:00"]),
)
FIELDS = st.sampled_from(
    ["id", "ts", "feature", "version", "session_id", "user_id", "input", "output",
     "latency_ms", "ttft_ms", "tokens_in", "tokens_out", "error", "metadata", "kind", "extra"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        FIELDS,
        st.one_of(SCALARS, st.lists(st.dictionaries(st.text(max_size=2), SCALARS), max_size=2)),
    ),
    st.sampled_from(["", "i1"]),
)
def test_fast_validator_accepts_a_subset_of_pydantic_with_the_same_values(
    obj: dict[str, Any], rid: str
) -> None:
    base = {"id": rid, "ts": "2026-05-01T12:00:00Z", "feature": "f", "input": "q"}
    rec = {**base, **obj}
    fast = normalise_interaction(rec)
    if fast is None:
        return
    model = InteractionRecord.model_validate(rec)  # must not raise: fast is a subset
    assert fast == {**model.model_dump(), "ts": model.ts.astimezone(UTC)}
    try:
        checked = validate_record(rec)
    except InvalidRecord as exc:
        # the shape was accepted; what follows refuses only what no store can hold (a
        # non-finite number anywhere, as in input=[{"": inf}]), and exactly when the
        # store's own rule refuses the fast path's record
        with pytest.raises(Refused) as refused:
            sanitise(copy.deepcopy(dict(fast)))
        assert (exc.field, exc.error) == (refused.value.field, refused.value.error)
        return
    assert checked == fast


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(),
    st.sampled_from(["T", " "]),
    st.sampled_from([0, 3, 6]),
    st.sampled_from(["Z", "+00:00", "+02:00", "-00:00"]),
)
def test_timestamp_text_cut_from_the_input_is_the_formatted_one(
    when: datetime, sep: str, digits: int, suffix: str
) -> None:
    w = when
    text = f"{w.year:04d}-{w.month:02d}-{w.day:02d}{sep}{w.hour:02d}:{w.minute:02d}:{w.second:02d}"
    if digits:
        text += "." + f"{when.microsecond:06d}"[:digits]
    text += suffix
    rec = normalise_interaction({"id": "i", "ts": text, "feature": "f", "input": "q"})
    assert rec is not None
    want = rec["ts"].isoformat(" ", "microseconds")[:26]
    assert sqlite_interaction_row(rec)[1] == want
    rec["ts"] = rec["ts"] + timedelta(seconds=1)  # a replaced ts is formatted, not cut
    assert sqlite_interaction_row(rec)[1] != want


def test_postgresql_copy_lines_store_a_repeated_key_once(store: Store) -> None:
    """New lines are copied straight in; a batch holding a stored key, or one key twice,
    goes through the merge instead: every key once, the count of new rows exact, and the
    rollups (marked by the table's statement triggers either way) agree with the rows."""
    if store.dialect != "postgresql":
        pytest.skip("COPY lines are PostgreSQL's bulk path")
    from pilotgate._interaction_rows import pg_copy_line
    from pilotgate.store.rollups import refresh_rollups

    def rec(rid: str, hour: int) -> CheckedInteraction:
        checked = validate_record({"id": rid, "ts": T0 + timedelta(hours=hour), "feature": "f",
                                   "input": "q", "latency_ms": 10.0})  # fmt: skip
        assert type(checked) is CheckedInteraction
        return checked

    assert store.add_interaction_lines([pg_copy_line(rec("a", 0)), pg_copy_line(rec("b", 1))]) == 2
    lines = [pg_copy_line(rec(r, h)) for r, h in (("b", 1), ("c", 2), ("c", 2), ("d", 3))]
    assert store.add_interaction_lines(lines, project="other") == 3  # b is new in "other"
    assert store.add_interaction_lines(lines) == 2  # c and d; b is stored already
    rows = store.interactions()
    assert sorted((r["id"], r["project"]) for r in rows) == sorted(
        [(i, store.project) for i in "abcd"] + [(i, "other") for i in "bcd"]
    )
    refresh_rollups(store)
    with store.engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT sum(n) FROM rollup_interactions").scalar()
    assert n == 7
