"""The CLI contract: help, version, init -> validate, one-line errors with exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pilotgate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_commands(tmp_path: Path) -> None:
    res = run("--help", cwd=tmp_path)
    assert res.returncode == 0
    for cmd in ("init", "validate", "demo", "simulate"):
        assert f"  {cmd}" in res.stdout


def test_version(tmp_path: Path) -> None:
    from pilotgate import __version__

    res = run("--version", cwd=tmp_path)
    assert res.returncode == 0 and __version__ in res.stdout


def test_init_writes_a_plan_that_validates(tmp_path: Path) -> None:
    res = run("init", "--feature", "bank", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "pilotgate.toml").exists()
    res = run("validate", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "ok" in res.stdout and "bank" in res.stdout
    again = run("init", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('[feature]\nname="x"\nwrong_key=1\n', "feature.wrong_key: unknown key"),
        ('[feature]\nname=["x"]\n', "feature.name"),
        ("[feature\n", "malformed TOML"),
    ],
)
def test_bad_plan_exit_2_one_line(tmp_path: Path, content: str, needle: str) -> None:
    (tmp_path / "p.toml").write_text(content, encoding="utf-8")
    res = run("validate", "--plan", "p.toml", cwd=tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "p.toml" in lines[0]
    assert "Traceback" not in res.stderr


def test_verbose_shows_traceback(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text("[feature\n", encoding="utf-8")
    res = run("--verbose", "validate", "--plan", "p.toml", cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" in res.stderr


def test_unknown_command_is_usage_error(tmp_path: Path) -> None:
    res = run("frobnicate", cwd=tmp_path)
    assert res.returncode == 2


def test_import_is_cheap() -> None:
    heavy = "('numpy', 'aiohttp', 'sqlalchemy', 'pydantic')"
    code = f"import sys, pilotgate; print(sorted(m for m in {heavy} if m in sys.modules))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
