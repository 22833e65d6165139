"""The public surface of pilotgate.demo: every exported name resolves, imports stay light."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

import pilotgate.demo as demo
from pilotgate.demo import normalize


def test_every_public_name_resolves() -> None:
    for name in demo.__all__:
        assert getattr(demo, name) is not None, name
    assert sorted(dir(demo)) == sorted(demo.__all__)


def test_importing_the_package_and_its_data_is_cheap() -> None:
    code = (
        "import sys, pilotgate.demo, pilotgate.demo.data\n"
        "pilotgate.demo.data.demo_set()\n"
        "print(sorted(m for m in ('aiohttp', 'onnxruntime', 'numpy', 'tokenizers')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@given(st.text(max_size=300))
def test_normalize_never_fails_and_leaves_no_noise(text: str) -> None:
    out = normalize(text)
    assert out == out.strip()
    for noise in ("!!", "??", "..", "**", "  "):
        assert noise not in out
