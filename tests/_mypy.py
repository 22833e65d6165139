"""Running ``mypy --strict`` on a snippet of user code, as a user's type checker would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["mypy_snippet"]


def mypy_snippet(snippet: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """mypy's run on ``snippet``, with none of the project's settings and a fresh cache."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental"]
        + ["--config-file=", "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
