"""The gate's silent-user metrics (with min-sample rules and intervals) and off-purpose
requests against a scope file, through the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pilotgate.gate import evaluate_gate
from pilotgate.plan import SignalsSection, validate_plan_text
from pilotgate.signals import silent_users
from pilotgate.store import Store

T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
IN_SCOPE = [
    "how do I block my lost card",
    "my card was stolen, block it",
    "what is my account balance",
    "show the balance of my savings account",
    "how much does an international transfer cost",
    "send money to my friend's account",
    "what are the fees for atm withdrawals",
    "why was I charged an overdraft fee",
] * 3
OFF = ["write me a poem about the sea", "what's a good recipe for chicken curry",
       "who won the football game last night"]  # fmt: skip


def _fill(store: Store, n_users: int = 60) -> None:
    rows = []
    for u in range(n_users):
        base = T0 + timedelta(hours=u)
        text = OFF[u % 3] if u % 4 == 0 else IN_SCOPE[u % 8]
        rows.append({"id": f"a{u}", "ts": base.isoformat(), "feature": "f", "version": "v1",
                     "session_id": f"s{u}", "user_id": f"u{u}", "input": text, "output": "ok",
                     "latency_ms": 200.0})  # fmt: skip
        if u % 3 == 0:  # rephrased at once, never back
            rows.append({"id": f"b{u}", "ts": (base + timedelta(seconds=15)).isoformat(),
                         "feature": "f", "version": "v1", "session_id": f"s{u}",
                         "user_id": f"u{u}", "input": text + "?", "output": "ok",
                         "latency_ms": 200.0})  # fmt: skip
        else:
            rows.append({"id": f"c{u}", "ts": (base + timedelta(days=1)).isoformat(),
                         "feature": "f", "version": "v1", "session_id": f"t{u}",
                         "user_id": f"u{u}", "input": "thanks", "output": "ok",
                         "latency_ms": 200.0})  # fmt: skip
    rows.append({"id": "end", "ts": (T0 + timedelta(days=30)).isoformat(), "feature": "f",
                 "version": "v1", "input": "hi", "output": "ok"})  # fmt: skip
    store.add_interactions(rows)


PLAN = """
[feature]
name = "f"

[signals]
return_days = 7

[[criteria]]
name = "silent churn"
metric = "usage.silent_churn"
op = "<="
threshold = 0.5
min_samples = 10

[[criteria]]
name = "rephrases"
metric = "usage.rephrase_rate"
op = "<="
threshold = 0.1
min_samples = 30

[[criteria]]
name = "returns"
metric = "usage.return_rate"
op = ">="
threshold = 0.5
min_samples = 1000

[[criteria]]
name = "off purpose"
metric = "usage.off_purpose_rate"
op = "<="
threshold = 0.2
"""


def test_gate_judges_silent_user_metrics_with_min_samples(store: Store) -> None:
    _fill(store)
    res = evaluate_gate(validate_plan_text(PLAN), store, now=T0 + timedelta(days=31), save=False)
    by = {c["name"]: c for c in res.to_json()["criteria"]}
    churn = by["silent churn"]
    assert churn["status"] == "fail" and churn["value"] == 1.0 and churn["n"] == 20
    assert churn["ci95"] is not None and churn["ci95"][0] > 0.5
    assert by["rephrases"]["status"] == "fail"  # 20 of 121 told
    assert by["returns"]["status"] == "insufficient_data"  # 60 users < 1000
    assert by["off purpose"]["status"] == "insufficient_data"  # no [signals] scope


def test_off_purpose_against_a_scope_file(store: Store, tmp_path: Path) -> None:
    _fill(store)
    scope = tmp_path / "scope.jsonl"
    variants = [f"{p}{t}{q}" for t in IN_SCOPE[:8] for p in ("", "hi, ", "please tell me ")
                for q in ("", " please", "?")]  # fmt: skip
    scope.write_text(
        "".join(json.dumps({"id": f"c{k}", "input": t}) + "\n" for k, t in enumerate(variants))
    )
    cfg = SignalsSection(scope=str(scope), scope_embedder="lexical")
    rep = silent_users(store, "f", cfg)
    off = rep.overall.rate("off_purpose")
    assert off.n == rep.overall.n
    # 15 off-purpose first requests (+ their rephrases) are out; "thanks"/"hi" too
    assert 0.2 < (off.value or 0) < 0.8
    doc = rep.to_json()
    assert doc["off_purpose"]["scope"] == str(scope)
    texts = " ".join(x for c in doc["off_purpose"]["clusters"] for x in c["examples"])
    assert "poem" in texts or "curry" in texts or "football" in texts
    assert "block my lost card" not in texts
    assert set(doc["by_day"]) and all("off_purpose_rate" in d for d in doc["by_day"].values())
