"""``report_summary``: what a written report holds, without parsing its HTML."""

from __future__ import annotations

from pathlib import Path

from pilotgate.report import build_report, render_report, report_sections, report_summary
from pilotgate.store import Store


def test_summary_names_every_section_and_the_file(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        ctx = build_report(store, None, title="T")
    out = tmp_path / "r.html"
    out.write_text(render_report(ctx), encoding="utf-8")
    doc = report_summary(ctx, out)
    sections = report_sections(ctx)
    assert doc["schema"] == "pilotgate.report/1" and doc["title"] == "T"
    assert doc["path"] == str(out.resolve()) and doc["bytes"] == out.stat().st_size
    assert list(doc["sections"]) == [s["key"] for s in sections]
    assert sections[0] is ctx["verdict"] and sections[1] is ctx["demo_vs_production"]
    assert not any(s["available"] for s in doc["sections"].values())  # an empty store
