"""docs/load.md documents every option of `pilotgate load` and `pilotgate load merge`."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate._cli.load_cmd import load, merge

DOC = Path(__file__).resolve().parents[2] / "docs" / "load.md"


def test_every_load_option_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [
        f"{cmd.name} {opt}"
        for cmd in (load, merge)
        for p in cmd.params
        if isinstance(p, click.Option)
        for opt in (*p.opts, *p.secondary_opts)
        if opt.startswith("--") and opt not in text
    ]
    assert missing == []
