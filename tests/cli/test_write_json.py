"""The one ``--json`` writer: strict JSON (no NaN token), UTF-8 kept, indent 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pilotgate._cli._options import write_json


def test_non_finite_floats_become_null_and_the_file_parses_strictly(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    write_json(path, {"p99": math.nan, "rates": [1.5, math.inf, -math.inf], "text": "café"})
    raw = path.read_text(encoding="utf-8")

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    doc = json.loads(raw, parse_constant=refuse)
    assert doc == {"p99": None, "rates": [1.5, None, None], "text": "café"}
    assert "café" in raw
    assert raw.startswith('{\n  "p99"')
    assert raw.endswith("}\n")
