"""An installed plug-in distribution for the entry-point tests: a module and its ``dist-info``."""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["install_plugin"]


def install_plugin(site: Path, module: str, source: str, group: str, entry: str) -> None:
    """Install ``module`` (``source``) into ``site`` as the distribution of the same name
    (``_`` spelt ``-``), version 1.0, declaring ``entry`` (``name = object reference``) in
    the entry-point ``group``: a real ``dist-info`` that ``importlib.metadata`` finds once
    ``site`` is on ``sys.path``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    name = module.replace("_", "-")
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n", encoding="utf-8")
