"""The review queue: library functions and the terminal session driven by scripted keys."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.console import Console

from pilotgate.cases import (
    apply_reviews,
    diff_eval_sets,
    list_reviews,
    pending_reviews,
    record_review,
    review_session,
)
from pilotgate.errors import InputError
from pilotgate.store import Store


def _cases() -> list[dict[str, Any]]:
    return [
        {
            "id": "c1",
            "input": "Where is my order?",
            "source": "production",
            "origin": {"output": "It ships today.", "feedback": {"accepted": True}},
        },
        {
            "id": "c2",
            "input": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Cancel [bold]my[/bold] plan"},
            ],
            "origin": {
                "output": "Done.",
                "failures": ["rejected"],
                "feedback": {"accepted": False},
            },
        },
        {"id": "c3", "input": "Refund please", "origin": {"output": None, "failures": ["errored"]}},
        {"id": "c4", "input": "Change my address", "origin": {"output": "Sure."}},
    ]


def test_record_pending_apply_and_versions(store: Store) -> None:
    store.save_eval_set("q", _cases())
    assert [c.id for c in pending_reviews(store, "q")] == ["c1", "c2", "c3", "c4"]
    r = record_review(store, "q", "c1", "accept", reference="ignored", reviewer="ann")
    assert r.reviewer == "ann" and r.ts.tzinfo is not None
    assert r.reference is None  # what is returned is what was stored
    record_review(store, "q", "c2", "reference", reference="Plan cancelled.", reviewer="bob")
    record_review(store, "q", "c3", "drop", reviewer="ann")
    record_review(store, "q", "c4", "skip", reviewer="ann")
    record_review(store, "q", "c4", "tag", tags=["address", " "], reviewer="ann")
    # decided cases leave the queue; skipped come back last; tags don't decide
    assert [c.id for c in pending_reviews(store, "q")] == ["c4"]
    stored = list_reviews(store, "q")
    assert [(x.case_id, x.action, x.reviewer) for x in stored][:2] == [
        ("c1", "accept", "ann"),
        ("c2", "reference", "bob"),
    ]
    assert stored[-1].tags == ["address"]

    res = apply_reviews(store, "q")
    assert res.base_version == 1 and res.version == 2 and res.n_cases == 3
    assert res.applied == {"accept": 1, "reference": 1, "drop": 1, "skip": 1, "tag": 1}
    _, v2 = store.get_eval_set("q@2")
    by = {c["id"]: c for c in v2}
    assert set(by) == {"c1", "c2", "c4"}
    assert by["c1"]["expected"] == "It ships today."
    assert by["c2"]["expected"] == "Plan cancelled."
    assert by["c2"]["origin"]["reference_source"] == "reviewer"
    assert by["c2"]["origin"]["review"]["reviewer"] == "bob"
    assert by["c4"]["tags"] == ["address"]
    # v1 is untouched (immutable), and applying again makes no new version
    _, v1 = store.get_eval_set("q@1")
    assert len(v1) == 4 and "expected" not in v1[0]
    again = apply_reviews(store, "q")
    assert again.version is None and again.base_version == 2

    d = diff_eval_sets(store, "q@1", "q@2")
    assert d.removed == ["c3"] and d.added == []
    fields = {c["id"]: c["fields"] for c in d.changed}
    assert fields == {
        "c1": ["expected", "origin.reference_source"],
        "c2": ["expected", "origin.reference_source"],
        "c4": ["tags"],
    }
    assert d.unchanged == 0


def test_review_errors(store: Store) -> None:
    store.save_eval_set("q", _cases())
    with pytest.raises(InputError, match="unknown review action"):
        record_review(store, "q", "c1", "approve")
    with pytest.raises(InputError, match="no case"):
        record_review(store, "q", "zz", "drop")
    with pytest.raises(InputError, match="no recorded output"):
        record_review(store, "q", "c3", "accept")
    with pytest.raises(InputError, match="needs the reference"):
        record_review(store, "q", "c1", "reference", reference="  ")
    with pytest.raises(InputError, match="newest version"):
        record_review(store, "q@1", "c1", "drop")
    with pytest.raises(InputError, match="no eval set"):
        pending_reviews(store, "nope")
    assert list_reviews(store, "q") == []


def _keys(seq: str) -> Callable[[], str]:
    it: Iterator[str] = iter(seq)
    return lambda: next(it)


def _lines(*seq: str) -> Callable[[str], str]:
    it = iter(seq)
    return lambda prompt: next(it)


def test_terminal_session_driven_by_keys(store: Store) -> None:
    store.save_eval_set("q", _cases())
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    # c1: accept · c2: help, tag, then write a reference · c3: accept fails (no output),
    # then drop · c4: skip
    session = review_session(
        store,
        "q",
        reviewer="cat",
        console=console,
        read_key=_keys("a?twads"),
        read_line=_lines("billing, urgent", "Your plan is cancelled."),
    )
    text = out.getvalue()
    assert session.reviewed == 4 and not session.quit
    assert dict(session.actions) == {"accept": 1, "tag": 1, "reference": 1, "drop": 1, "skip": 1}
    assert "Where is my order?" in text and "It ships today." in text  # input and output shown
    assert "rejected" in text and "signals: rejected" in text  # feedback shown
    assert "Cancel [bold]my[/bold] plan" in text  # user text printed verbatim, not as markup
    assert "system: Be brief." in text
    assert "write a reference" in text  # the help
    assert "can't: case 'c3' has no recorded output" in text
    assert "tags now: billing, urgent" in text
    reviews = list_reviews(store, "q")
    assert {r.reviewer for r in reviews} == {"cat"}
    assert [(r.case_id, r.action) for r in reviews] == [
        ("c1", "accept"),
        ("c2", "tag"),
        ("c2", "reference"),
        ("c3", "drop"),
        ("c4", "skip"),
    ]
    assert [c.id for c in pending_reviews(store, "q")] == ["c4"]
    res = apply_reviews(store, "q")
    _, v2 = store.get_eval_set(f"q@{res.version}")
    c2 = next(c for c in v2 if c["id"] == "c2")
    assert c2["expected"] == "Your plan is cancelled." and c2["tags"] == ["billing", "urgent"]


def test_terminal_session_quit_keeps_what_was_done(store: Store) -> None:
    store.save_eval_set("q", _cases())
    out = io.StringIO()
    session = review_session(
        store,
        "q",
        reviewer="dan",
        console=Console(file=out, width=80),
        read_key=_keys("dq"),
        read_line=_lines(),
    )
    assert session.quit and session.reviewed == 1
    assert [r.action for r in list_reviews(store, "q")] == ["drop"]
    assert [c.id for c in pending_reviews(store, "q")] == ["c2", "c3", "c4"]
    # the next session resumes where this one stopped
    out2 = io.StringIO()
    review_session(
        store,
        "q",
        console=Console(file=out2, width=80),
        read_key=_keys("q"),
        read_line=_lines(),
    )
    assert "1/3  c2" in out2.getvalue()


def test_rebuild_keeps_reviewer_decisions(store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from pilotgate.cases import BuildSpec, build_eval_set
    from pilotgate.cases._synthetic import distinct_texts

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    texts = distinct_texts(12, seed=1)
    store.add_interactions(
        [
            {"id": f"i{k}", "ts": t0 + timedelta(minutes=k), "feature": "f", "input": x}
            for k, x in enumerate(texts)
        ]
        + [{"id": "o1", "ts": t0, "feature": "f", "input": "Is it raining?", "output": "No."}]
    )
    spec = BuildSpec(size=50, weights={"uniform": 1})
    build_eval_set(store, "p", spec)
    record_review(store, "p", "i3", "drop", reviewer="ann")
    record_review(store, "p", "i4", "reference", reference="Mail me at a@b.com", reviewer="ann")
    record_review(store, "p", "o1", "accept", tags=["weather"], reviewer="bob")
    again = build_eval_set(store, "p", spec)  # a rebuild, not an apply
    by_id = {c.id: c for c in again.cases}
    assert "i3" not in by_id and again.removed["dropped_by_reviewer"] == 1
    assert by_id["i4"].expected == "Mail me at [EMAIL]"  # reviewers' text is redacted too
    assert by_id["o1"].expected == "No." and "weather" in by_id["o1"].tags
    for cid in ("i4", "o1"):
        origin = by_id[cid].origin or {}
        assert origin["reference_source"] == "reviewer" and origin["review"]["reviewer"]
    assert [c.id for c in pending_reviews(store, "p")] == [
        c.id for c in again.cases if c.id not in ("i4", "o1")
    ]
