"""Embedding backends load through the shared Registry from the ``pilotgate.embeddings``
entry-point group: the built-ins are declared there, and a plug-in from an installed
distribution (a real ``dist-info`` with ``entry_points.txt`` on ``sys.path``) loads too."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from tests._plugin import install_plugin

from pilotgate.embeddings import EMBEDDERS, embedder_names, get_embedder

PLUGIN = """
import numpy as np
from pilotgate.embeddings import register_embedder


class OnesEmbedder:
    name = "ones-v1"
    dim = 3

    def embed(self, texts):
        return np.full((len(texts), 3), 3 ** -0.5, dtype=np.float32)


register_embedder("ones", OnesEmbedder)
"""


def test_builtins_are_declared_as_entry_points_and_registered() -> None:
    declared = {ep.name: ep.value for ep in entry_points(group="pilotgate.embeddings")}
    for name in ("minilm", "lexical", "openai"):
        assert declared[name] == f"pilotgate.embeddings._builtin:{name}"
        assert name in EMBEDDERS
    assert {"minilm", "lexical", "openai"} <= set(embedder_names())
    assert get_embedder("lexical").name.startswith("lexical-")


def test_a_plugin_distribution_loads_through_the_registry(tmp_path: Path) -> None:
    install_plugin(
        tmp_path, "pg_ones_plugin", PLUGIN, "pilotgate.embeddings", "ones = pg_ones_plugin"
    )
    code = (
        "from pilotgate.embeddings import embedder_names, get_embedder\n"
        "e = get_embedder('ones')\n"
        "print(e.name, e.embed(['a', 'b']).shape, 'ones' in embedder_names())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ones-v1", "(2,", "3)", "True"]


def test_without_the_distribution_the_name_is_unknown(tmp_path: Path) -> None:
    code = "from pilotgate.embeddings import get_embedder\nget_embedder('ones')\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "unknown embedding backend 'ones'" in out.stderr
