"""Bad --target strings, unreachable URLs and malformed plans: one line, exit 2, nothing lost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pilotgate.store import Store


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


@pytest.fixture
def filled_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/store.db"
    with Store(url) as store:
        store.add_interactions(
            [
                {"id": f"i{i}", "ts": datetime(2026, 1, 1, tzinfo=UTC), "feature": "f",
                 "input": f"q{i}", "output": "a"}
                for i in range(5)
            ]
        )  # fmt: skip
        store.save_run("eval", {"x": 1})
    return url


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pilotgate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def commands(url: str, cases: str) -> list[list[str]]:
    return [
        ["eval", "run", "-t", url, "--model", "m", "--cases", cases, "--scorer", "exact"],
        ["robustness", "-t", url, "--model", "m", "--cases", cases],
        ["load", "-t", url, "--model", "m", "-c", "1", "-d", "1"],
    ]


@pytest.mark.parametrize("which", [0, 1, 2], ids=["eval", "robustness", "load"])
@pytest.mark.parametrize(
    "target",
    ["unreachable", "bogus:thing", "http://no-kind-given", "openai:not a url"],
)
def test_bad_or_unreachable_target_one_line_exit_2_nothing_lost(
    tmp_path: Path, filled_store: str, which: int, target: str
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "input": "hello"}\n', encoding="utf-8")
    if target == "unreachable":
        target = f"openai:http://127.0.0.1:{closed_port()}/v1"
    args = commands(target, str(cases))[which] + ["--store", filled_store]
    res = run(args, tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.stderr
    with Store(filled_store) as store:
        assert store.count() == 5
        assert len(store.list_runs()) == 1


def test_malformed_plan_exit_2_store_untouched(tmp_path: Path, filled_store: str) -> None:
    (tmp_path / "pilotgate.toml").write_text("[feature\nname = 'x'\n", encoding="utf-8")
    res = run(["gate", "--store", filled_store], tmp_path)
    assert res.returncode == 2
    assert "malformed TOML" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    with Store(filled_store) as store:
        assert store.count() == 5
