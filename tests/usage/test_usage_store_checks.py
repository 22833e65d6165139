"""A read asks the store whether it holds only the viewer's project once per read, not once
per figure: the overview's check (and re-check after reading) and the usage report's are
passed down to ``usage_figures`` (a real SQLite store; the method is counted, not faked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pilotgate.report import usage_overview
from pilotgate.store import Store
from pilotgate.usage import usage_figures, usage_report

T0 = datetime(2025, 5, 1, 10, tzinfo=UTC)


def _fill(store: Store, project: str) -> None:
    store.add_interactions(
        [{"id": f"{project}-{i}", "ts": T0 + timedelta(minutes=i), "feature": "f",
          "version": "v1", "input": "q", "output": "a", "latency_ms": 100.0 + i}
         for i in range(12)],
        project=project,
    )  # fmt: skip


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = Store.holds_only

    def holds_only(self: Store, project: str) -> bool:
        calls.append(project)
        return real(self, project)

    monkeypatch.setattr(Store, "holds_only", holds_only)
    return calls


@pytest.mark.parametrize("shared", [False, True])
def test_the_overview_asks_once_and_checks_once_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        _fill(store, "alpha")
        if shared:
            _fill(store, "bravo")
        calls = _counting(monkeypatch)
        ov: dict[str, Any] = usage_overview(store.scoped("alpha"))
        assert ov["n"] == 12 and ov["figures"]["n"] == 12
        # one-project store: the check, and the re-check after reading; shared: the check
        assert calls == (["alpha"] if shared else ["alpha", "alpha"])
        calls.clear()
        assert usage_report(store.scoped("alpha"), feature="f").figures.n == 12  # type: ignore[union-attr]
        assert calls == ["alpha"]
        calls.clear()
        # figures on their own still ask when not told
        assert usage_figures(store.scoped("alpha"), feature="f").n == 12
        assert calls == ["alpha"]
