"""The SDK's public surface is deliberate, and every setting is documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import pilotgate
from pilotgate import instrument
from pilotgate.instrument import SDKSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def test_public_api_is_pinned() -> None:
    assert sorted(instrument.__all__) == [
        "Instrumentation",
        "Interaction",
        "SDKSettings",
        "Tracker",
        "annotate",
        "configure",
        "current_interaction_id",
        "feedback",
        "flush",
        "instrument_anthropic",
        "instrument_openai",
        "session",
        "shutdown",
        "stats",
        "step",
        "track",
    ]
    names = ("configure", "track", "feedback", "step", "session", "stats", "flush")
    for name in (*names, "instrument_openai", "instrument_anthropic"):
        assert getattr(pilotgate, name) is getattr(instrument, name)


def test_old_settings_name_is_a_deprecated_alias() -> None:
    with pytest.warns(DeprecationWarning, match="SDKSettings"):
        old = instrument.Settings
    assert old is SDKSettings
    assert "Settings" not in instrument.__all__


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(SDKSettings) if f"`{f.name}`" not in text]
    assert not missing, f"document these settings in docs/sdk.md: {missing}"
