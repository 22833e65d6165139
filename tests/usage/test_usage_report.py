"""Usage numbers on a small fixture, recomputed by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pilotgate._stats import wilson
from pilotgate.errors import InputError
from pilotgate.store import Store
from pilotgate.usage import usage_report

D1 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
D2 = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
STEPS = ["opened", "asked", "copied"]


def _fixture(store: Store) -> None:
    """Day 1 runs v1, day 2 runs v2 (the regression: errors and rejections start on day 2).

    Sessions: a (day 1): asks twice, accepts both, copies.   b (day 1): asks, rejected, asks
    again, accepted.   c (day 2): asks, rejected, leaves.   d (day 2): asks, error, leaves
    after a rejection.   e (day 2): opens only.
    """
    inter: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []

    def add(
        iid: str,
        sess: str | None,
        t: datetime,
        version: str,
        lat: float,
        *,
        err: str | None = None,
        accepted: bool | None = None,
        dwell: float | None = None,
        edit: str | None = None,
    ) -> None:
        inter.append(
            {
                "id": iid,
                "ts": t,
                "feature": "bank",
                "version": version,
                "session_id": sess,
                "input": "q",
                "output": "a",
                "latency_ms": lat,
                "error": err,
            }
        )
        if accepted is not None:
            fb.append(
                {
                    "interaction_id": iid,
                    "ts": t + timedelta(seconds=30),
                    "accepted": accepted,
                    "dwell_ms": dwell,
                    "edited_output": edit,
                }
            )

    m = timedelta(minutes=1)
    add("a1", "a", D1, "v1", 100, accepted=True, dwell=1000)
    add("a2", "a", D1 + m, "v1", 200, accepted=True, dwell=3000, edit="better")
    add("b1", "b", D1 + 2 * m, "v1", 300, accepted=False, dwell=2000)
    add("b2", "b", D1 + 3 * m, "v1", 400, accepted=True, dwell=4000)
    add("c1", "c", D2, "v2", 500, accepted=False, dwell=500)
    add("d1", "d", D2 + m, "v2", 600, err="Timeout")
    add("d2", "d", D2 + 2 * m, "v2", 700, accepted=False, dwell=700)
    add("x1", None, D2 + 3 * m, "v2", 800)
    store.add_interactions(inter)
    store.add_feedback(fb)
    steps = []
    for sess, t, names in [
        ("a", D1, ["opened", "asked", "copied"]),
        ("b", D1, ["opened", "asked"]),
        ("c", D2, ["opened", "asked"]),
        ("d", D2, ["asked", "opened"]),
        ("e", D2, ["opened"]),
    ]:
        for k, name in enumerate(names):
            steps.append({"session_id": sess, "ts": t + k * timedelta(seconds=10), "name": name})
    store.add_steps(steps)


def _close(a: float | None, b: float, rel: float = 0.003) -> bool:
    return a is not None and abs(a - b) <= rel * max(1.0, abs(b))


def test_overall_numbers_by_hand(store: Store) -> None:
    _fixture(store)
    rep = usage_report(store, feature="bank", steps=STEPS)
    o = rep.to_json()["overall"]
    assert o["n"] == 8
    assert o["error_rate"]["k"] == 1 and o["error_rate"]["n"] == 8
    # latencies 100..800: numpy-style p50 = 450, p95 = 765, p99 = 793
    assert _close(o["latency_ms"]["p50"], 450) and _close(o["latency_ms"]["p95"], 765)
    fbk = o["feedback"]
    assert fbk["n"] == 6
    assert (fbk["acceptance"]["k"], fbk["acceptance"]["n"]) == (3, 6)
    assert (fbk["rejection"]["k"], fbk["rejection"]["n"]) == (3, 6)
    assert (fbk["edit"]["k"], fbk["edit"]["n"]) == (1, 6)
    ci = wilson(3, 6)
    assert ci is not None and fbk["acceptance"]["ci95"] == pytest.approx(list(ci))
    # dwell 500, 700, 1000, 2000, 3000, 4000: median 1500
    assert _close(o["dwell_ms"]["p50"], 1500)
    # sessions with a rejection: b (asked again), c (left), d (left) -> 2 of 3
    ab = o["abandonment_after_rejection"]
    assert (ab["k"], ab["n"]) == (2, 3)
    # funnel in order: opened a b c d (e has no interaction of the feature, so it is out),
    # asked after opened: a b c (3), copied after asked: a (1)
    funnel = {s["step"]: s for s in o["funnel"]}
    assert [funnel[s]["sessions"] for s in STEPS] == [4, 3, 1]
    assert funnel["copied"]["dropoff"]["value"] == pytest.approx(2 / 3)
    assert funnel["asked"]["conversion"]["n"] == 4


def test_regression_shows_on_its_day_and_version(store: Store) -> None:
    _fixture(store)
    rep = usage_report(store, feature="bank", steps=STEPS)
    assert set(rep.by_day) == {"2026-05-01", "2026-05-02"}
    d1, d2 = rep.by_day["2026-05-01"], rep.by_day["2026-05-02"]
    assert (d1.accepted, d1.judged) == (3, 4) and (d2.accepted, d2.judged) == (0, 2)
    assert d1.errors == 0 and d2.errors == 1
    assert rep.metric("usage.acceptance_rate", version="v1").value == pytest.approx(0.75)
    assert rep.metric("acceptance_rate", version="v2").value == 0
    assert rep.by_version["v2"].abandon.k == 2


def test_metrics_and_filters(store: Store) -> None:
    _fixture(store)
    rep = usage_report(store, feature="bank", steps=STEPS)
    m = rep.metric("acceptance_rate")
    assert (m.value, m.n) == (0.5, 6) and m.ci95 is not None and m.ci95[0] < 0.5 < m.ci95[1]
    p99 = rep.metric("latency.p99")
    assert p99.n == 8 and p99.ci95 is not None and p99.value is not None
    assert p99.ci95[0] <= p99.value <= p99.ci95[1]
    assert rep.metric("dropoff.copied").n == 3
    with pytest.raises(InputError, match="unknown usage metric"):
        rep.metric("usage.nonsense")
    only_d1 = usage_report(store, feature="bank", until=D1 + timedelta(hours=12))
    assert only_d1.overall.n == 4 and only_d1.overall.errors == 0
    assert usage_report(store, feature="bank", version="v2").overall.n == 4
    assert usage_report(store, feature="other").overall.n == 0
    doc = rep.to_json()
    assert doc["schema"] == "pilotgate.usage/1" and doc["metrics"]["error_rate"]["n"] == 8
