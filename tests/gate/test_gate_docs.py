"""docs/gate.md documents every registered metric, and the public API is pinned."""

from __future__ import annotations

from pathlib import Path

import pilotgate.gate as gate_pkg
from pilotgate.gate import catalogue, resolve_metric

DOC = Path(__file__).resolve().parents[2] / "docs" / "gate.md"


def test_every_provider_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    entries = catalogue()
    assert len(entries) >= 15
    for e in entries:
        assert f"`{e['pattern'].replace('|', chr(92) + '|')}`" in text, e["pattern"]
        assert e["description"] and e["source"]


def test_each_example_resolves_to_its_own_pattern() -> None:
    """Patterns never overlap: every example names exactly its own provider."""
    for e in catalogue():
        assert resolve_metric(e["example"]).pattern == e["pattern"]


def test_public_api() -> None:
    assert set(gate_pkg.__all__) >= {
        "evaluate_gate",
        "GateResult",
        "metric_provider",
        "MetricValue",
        "NoData",
        "Evidence",
        "start_pilot",
        "sign_off",
        "to_junit",
        "to_markdown",
        "catalogue",
    }
    for name in gate_pkg.__all__:
        assert hasattr(gate_pkg, name), name
