"""The SDK's public surface is deliberate, and every setting is documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pilotgate
from pilotgate import instrument
from pilotgate.instrument import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def test_public_api_is_pinned() -> None:
    assert sorted(instrument.__all__) == [
        "Interaction",
        "Settings",
        "Tracker",
        "annotate",
        "configure",
        "current_interaction_id",
        "feedback",
        "flush",
        "session",
        "shutdown",
        "stats",
        "step",
        "track",
    ]
    for name in ("configure", "track", "feedback", "step", "session", "stats", "flush"):
        assert getattr(pilotgate, name) is getattr(instrument, name)


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(Settings) if f"`{f.name}`" not in text]
    assert not missing, f"document these settings in docs/sdk.md: {missing}"
