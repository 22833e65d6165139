"""``.pre-commit-config.yaml`` runs what ``make check`` runs, and downloads nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PATHS = {"src", "tests", "benchmarks", "realtests"}


def _make_check_commands() -> list[str]:
    """``make check``'s commands as a hook runs them: from ``.venv``, without path arguments."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("check:"))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        line = (
            line.strip().replace("$(VENV)/bin/", ".venv/bin/").replace("$(PY)", ".venv/bin/python")
        )
        commands.append(" ".join(w for w in line.split() if w not in PATHS))
    return commands


def _hooks() -> list[dict[str, Any]]:
    doc = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [r["repo"] for r in doc["repos"]] == ["local"]
    hooks: list[dict[str, Any]] = doc["repos"][0]["hooks"]
    return hooks


def test_hooks_are_local_and_need_no_download() -> None:
    for hook in _hooks():
        assert hook["language"] == "system", hook["id"]
        assert hook["entry"].startswith(".venv/bin/"), hook["id"]


def test_hooks_run_make_checks_commands() -> None:
    commands = _make_check_commands()
    assert [c.split()[0] for c in commands] == [
        ".venv/bin/ruff",
        ".venv/bin/ruff",
        ".venv/bin/mypy",
        ".venv/bin/python",
    ]
    # The same commands, in the same order: ruff format checks (never rewrites behind a commit).
    assert [h["entry"] for h in _hooks()] == commands
