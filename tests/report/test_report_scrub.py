"""What the report and dashboard show of user and run text: no keys, no PII."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilotgate._scrub import scrub
from pilotgate._stats import wilson
from pilotgate.report._stats import fmt_ms, fmt_num, fmt_pct, pick


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("pilotgate load --api-key sk-abcdefghijklmnop1234", "sk-abcdefghijklmnop1234"),
        ("--token=hunter2hunter2", "hunter2hunter2"),
        ("curl -H 'Authorization: Bearer abc.def.ghi'", "abc.def.ghi"),
        ("key pg_0123456789ab_" + "Z" * 40 + " end", "pg_0123456789ab_"),
        ("write to ann.lee@example.org today", "ann.lee@example.org"),
        ('{"password=letmein1": 1}', "letmein1"),
    ],
)
def test_scrub_hides(text: str, hidden: str) -> None:
    out = scrub(text)
    assert hidden not in out
    assert "[SECRET]" in out or "[EMAIL]" in out


def test_scrub_keeps_ordinary_text_and_clips() -> None:
    assert scrub("how do I close my account?") == "how do I close my account?"
    assert scrub(None) == ""
    long = scrub("word " * 500, 50)
    assert len(long) == 50 and long.endswith("…")


def test_helpers() -> None:
    ci = wilson(7, 10)
    assert ci is not None
    lo, hi = ci
    assert 0.39 < lo < 0.7 < hi < 0.92
    assert wilson(0, 0) is None
    assert pick({"a": {"b": [1, {"c": 3}]}}, "x.y", "a.b.1.c") == 3
    assert pick({}, "a", default=5) == 5
    assert fmt_pct(0.1234) == "12.3 %"
    assert fmt_ms(12_500) == "12.5 s" and fmt_ms(None) == "—"
    assert fmt_num(1234567) == "1,234,567" and fmt_num(float("nan")) == "—"


def test_scrub_keeps_timestamps_that_look_like_phone_numbers() -> None:
    text = "window 2026-11-26 16:11:30 .. 2025-03-17T00:00:00+00:00, call +44 20 7946 0958"
    out = scrub(text)
    assert "2026-11-26 16:11:30" in out and "2025-03-17T00:00:00+00:00" in out
    assert "7946" not in out and "[PHONE]" in out
    many = " ".join(f"2025-01-{d:02d}" for d in range(1, 31)) + " \u27e6zz\u27e7"
    assert scrub(many, None) == many


def test_api_run_scrubs_keys_as_well_as_values(tmp_path: Path) -> None:
    # by_tag / by_cluster are keyed by the cases' own text: the JSON API must hide there too
    from pilotgate.report.pages import api_run
    from pilotgate.store import Store

    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        doc = {"by_tag": {"ann.lee@example.org": {"n": 1}}, "note": "ann.lee@example.org"}
        rid = store.save_run("eval", doc, name="x")
        out = api_run(store, rid)
    assert out is not None
    text = json.dumps(out)
    assert "ann.lee@example.org" not in text
    assert out["summary"]["by_tag"] == {"[EMAIL]": {"n": 1}}
