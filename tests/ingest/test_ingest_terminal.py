"""``print_ingest``: the ingest summary, bad lines capped at 20 with the rest counted."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from pilotgate.ingest import ingest_files, print_ingest
from pilotgate.redact import Redactor
from pilotgate.store import Store


def test_summary_counts_redactions_and_caps_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    good = {"kind": "interaction", "id": "i1", "ts": "2026-05-01T10:00:00Z", "feature": "f"}
    good |= {"input": "mail me at ana@example.com", "output": "ok"}
    src.write_text(json.dumps(good) + "\n" + "{bad\n" * 25, encoding="utf-8")
    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        report = ingest_files([src], store, redactor=Redactor())
    out = io.StringIO()
    print_ingest(report, Console(file=out, width=200))
    text = out.getvalue()
    assert "redacted: email 1" in text
    assert "25 bad line(s) skipped" in text and "… and 5 more (see --json)" in text
