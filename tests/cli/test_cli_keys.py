"""``pilotgate keys create --scope … --origin …`` and what ``keys list --json`` says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pilotgate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PILOTGATE_STORE": f"sqlite:///{cwd / 'k.db'}"},
    )


def test_keys_carry_scopes_and_origins(tmp_path: Path) -> None:
    res = run("keys", "create", "--project", "shop", "--scope", "read", "--scope", "admin",
              cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("pg_") and "read, admin" in res.stderr
    res = run("keys", "create", "--project", "shop", "--scope", "browser",
              "--origin", "https://Shop.Example:443/", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert run("keys", "create", "--project", "shop", cwd=tmp_path).returncode == 0
    bad = run("keys", "create", "--project", "shop", "--scope", "browser", cwd=tmp_path)
    assert bad.returncode == 2 and "origin" in bad.stderr and "Traceback" not in bad.stderr
    assert run("keys", "list", "--json", "keys.json", cwd=tmp_path).returncode == 0
    doc = json.loads((tmp_path / "keys.json").read_text())
    got = [(k["project"], k["scopes"], k["origins"]) for k in doc["keys"]]
    assert got == [
        ("shop", ["read", "admin"], []),
        ("shop", ["browser"], ["https://shop.example"]),
        ("shop", ["ingest"], []),
    ]
