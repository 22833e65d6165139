"""``.pre-commit-config.yaml`` runs what ``make check`` runs, and downloads nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _make_check_tools() -> list[str]:
    """``make check``'s commands as "tool subcommand": ``ruff format``, ``ruff check``, ``mypy``."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("check:"))
    tools = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        words = line.strip().removeprefix("$(VENV)/bin/").split()
        tools.append(" ".join(w for w in words[:2] if not w.startswith("-") and w != "src"))
    return tools


def _hooks() -> list[dict[str, Any]]:
    doc = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [r["repo"] for r in doc["repos"]] == ["local"]
    hooks: list[dict[str, Any]] = doc["repos"][0]["hooks"]
    return hooks


def test_hooks_are_local_and_need_no_download() -> None:
    for hook in _hooks():
        assert hook["language"] == "system", hook["id"]
        assert hook["entry"].startswith(".venv/bin/"), hook["id"]


def test_hooks_run_make_checks_tools() -> None:
    tools = _make_check_tools()
    assert tools == ["ruff format", "ruff check", "mypy"]
    entries = [h["entry"].removeprefix(".venv/bin/") for h in _hooks()]
    for tool in tools:
        assert any(e == tool or e.startswith(tool + " ") for e in entries), tool
    # The format hook checks, like `make check`; it must not rewrite files behind a commit.
    assert "ruff format --check" in entries
