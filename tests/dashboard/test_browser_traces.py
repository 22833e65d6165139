"""The trace explorer in Debian's Chromium: find an interaction by a word of its input, open
its session, see its feedback, steps and redactions; and the same pages over HTTP, with
filters and hostile text."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pilotgate.store import Store

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _fill(st: Store) -> None:
    def inter(iid: str, sid: str | None, k: int, text: str, out: str, **kw: Any) -> dict[str, Any]:
        return {"id": iid, "ts": T0 + timedelta(minutes=k), "feature": "refunds", "version": "v2",
                "session_id": sid, "input": text, "output": out, "latency_ms": 420.0,
                **kw}  # fmt: skip

    st.add_interactions([
        inter("i-1", "sess-kayak", 0, "I was charged twice for my kayak rental",
              "I have opened a refund request for the double charge."),
        inter("i-2", "sess-kayak", 2, "Send the receipt to [EMAIL] please",
              "Done: the receipt is on its way."),
        inter("i-3", "sess-other", 5, "What is my balance?", "Your balance is in the app.",
              version="v1"),
        inter("i-4", None, 7, "<script>alert(1)</script> 100% _refund_", "ok", error="timeout"),
    ])  # fmt: skip
    st.add_feedback([
        {"interaction_id": "i-1", "ts": T0 + timedelta(minutes=1), "accepted": False,
         "comment": "that is not what I asked", "dwell_ms": 5300},
        {"interaction_id": "i-3", "ts": T0 + timedelta(minutes=6), "accepted": True},
    ])  # fmt: skip
    st.add_steps([
        {"session_id": "sess-kayak", "ts": T0 - timedelta(seconds=30), "name": "opened_assistant"},
        {"session_id": "sess-kayak", "ts": T0 + timedelta(minutes=3), "name": "abandoned"},
    ])  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from pilotgate._web import create_app

    path = tmp_path_factory.mktemp("traces") / "store.db"
    store = Store(f"sqlite:///{path}")
    _fill(store)
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: bytes = resp.read()
        return body.decode()


def test_search_filters_and_escapes(base: str) -> None:
    html = _get(f"{base}/traces?q=KAYAK")
    assert "i-1" in html and "i-3" not in html  # case-insensitive substring of the input
    assert "i-3" in _get(f"{base}/traces?outcome=accepted") and "i-1" not in _get(
        f"{base}/traces?outcome=accepted"
    )
    assert 'data-interaction="i-1"' in _get(f"{base}/traces?outcome=rejected")
    v1 = _get(f"{base}/traces?version=v1")
    assert 'data-interaction="i-3"' in v1 and 'data-interaction="i-1"' not in v1
    pct = _get(f"{base}/traces?q=100%25")  # a literal %, not a wildcard
    assert 'data-interaction="i-4"' in pct and 'data-interaction="i-1"' not in pct
    assert "<script>alert(1)</script>" not in pct and "&lt;script&gt;" in pct
    late = _get(f"{base}/traces?since=2026-05-02")
    assert "No interaction matches" in late


def test_find_by_a_word_open_the_session_see_feedback_and_steps(base: str) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"BROWSER TEST SKIPPED: {CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/")
            page.get_by_role("link", name="Traces").click()
            page.get_by_label("search text").fill("kayak")
            page.get_by_role("button", name="Search").click()
            rows = page.locator("[data-testid=trace-results] tbody tr")
            assert rows.count() == 1
            assert "charged twice for my kayak" in rows.first.inner_text()
            rows.first.get_by_role("link", name="open session").click()
            page.wait_for_url("**/traces/session/sess-kayak*")
            assert page.locator("[data-testid=interaction]").count() == 2
            feedback = page.locator("[data-testid=feedback]")
            assert feedback.count() == 1
            assert "rejected" in feedback.inner_text()
            assert "that is not what I asked" in feedback.inner_text()
            steps = page.locator("[data-testid=step]").all_inner_texts()
            assert len(steps) == 2 and "opened_assistant" in steps[0] and "abandoned" in steps[1]
            assert page.locator("mark.redacted").first.inner_text() == "[EMAIL]"
            out = Path(__file__).parents[2] / "test-artifacts"
            out.mkdir(exist_ok=True)
            page.screenshot(path=str(out / "trace-session.png"), full_page=True)
        finally:
            browser.close()
