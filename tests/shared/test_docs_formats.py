"""docs/formats.md names every --json schema the code writes, and no project doc points
outside the project (issue 18, item 13)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_schema_is_documented() -> None:
    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    schemas: set[str] = set()
    for path in (ROOT / "src" / "pilotgate").rglob("*.py"):
        schemas.update(re.findall(r'"(pilotgate\.[a-z_.-]+/\d+)"', path.read_text("utf-8")))
    assert len(schemas) >= 15
    missing = []
    for schema in sorted(schemas):
        base, _, tail = schema.partition(".")
        short = schema.split("cases", 1)[-1] if schema.startswith("pilotgate.cases.") else None
        if schema not in text and not (short and f"`{short}`" in text):
            missing.append(schema)
    assert missing == []


def test_no_doc_points_outside_the_project() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    offenders = []
    for doc in docs:
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            if "DESIGN.md" in line or "../shared" in line or "STYLE.md" in line:
                offenders.append(f"{doc.name}:{n}")
    assert offenders == []
