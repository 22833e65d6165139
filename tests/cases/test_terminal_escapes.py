"""Production text never drives the reviewer's terminal: controls are shown, not obeyed."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from pilotgate._cli import cli
from pilotgate._scrub import scrub
from pilotgate._term import visible
from pilotgate.cases import review_session
from pilotgate.store import Store

HOSTILE = "hi \x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x9b31m \u202eevil\x07"
TS = "2026-05-01T12:00:00Z"


def _no_controls(text: str) -> None:
    for ch in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert ch not in text, repr(ch)


def test_visible_escapes_controls_and_keeps_text() -> None:
    assert visible("plain text\nnext\tline") == "plain text\nnext\tline"
    out = visible(HOSTILE)
    _no_controls(out)
    assert "\\x1b[2J" in out and "\\u202e" in out and "click" in out


def test_review_session_shows_escapes_not_sequences(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/r.db") as store:
        store.save_eval_set(
            "q",
            [{"id": "c\x1b[31m1", "input": HOSTILE, "origin": {"output": HOSTILE, "feedback": {}}}],
        )
        out = io.StringIO()
        keys = iter("q")
        review_session(
            store,
            "q",
            console=Console(file=out, width=200, force_terminal=True),
            read_key=lambda: next(keys),
            read_line=lambda prompt: "",
        )
    text = out.getvalue()
    # rich's own styling uses ESC; production text must add none of its sequences
    for seq in ("\x1b[2J", "\x1b]8;;http", "\x07", "\x9b", "\u202e", "\x1b[31m1"):
        assert seq not in text, repr(seq)
    assert "\\x1b[2J" in text and "\\u202e" in text


def _ingest(url: str, tmp_path: Path) -> None:
    recs = [
        {"kind": "interaction", "id": f"i{i}", "ts": TS, "feature": "f",
         "version": "v\x1b[2J1", "input": HOSTILE, "output": "ok"}
        for i in range(5)
    ]  # fmt: skip
    path = tmp_path / "prod.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ingest", str(path), "--store", url])
    assert res.exit_code == 0, res.output


def test_usage_and_cases_show_escape_production_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/u.db"
    _ingest(url, tmp_path)
    res = CliRunner().invoke(cli, ["usage", "--store", url, "--feature", "f"])
    assert res.exit_code == 0, res.output
    _no_controls(res.output)
    assert "v\\x1" in res.output  # the version, its escape visible (clipped by the width)
    with Store(url) as store:
        store.save_eval_set("s", [{"id": "c\x1b[2J", "input": HOSTILE, "expected": HOSTILE}])
    res = CliRunner().invoke(cli, ["cases", "show", "s", "--store", url])
    assert res.exit_code == 0, res.output
    _no_controls(res.output)
    assert "\\x1b" in res.output


def test_scrub_escapes_controls_for_pages() -> None:
    out = scrub(HOSTILE, 600)
    _no_controls(out)
    assert "click" in out
