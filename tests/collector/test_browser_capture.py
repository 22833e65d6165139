"""The browser script in a real Chromium: a sample page on one loopback origin loads
``/v1/browser.js`` from a collector on another, and the store says what it measured.

Times are checked against the page's own clock (``performance.now``), so a loaded
machine that fires a timer late moves both sides alike.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pilotgate.collector import create_key

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # DNS rebinding, for real: this name resolves to loopback inside this browser only
    "--host-resolver-rules=MAP attacker.example 127.0.0.1",
]
TS = "2025-05-01T10:00:00Z"
TOLERANCE_MS = 50

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing — run `apt-get install -y chromium` "
        "(never `playwright install`)",
    ),
]


class PageServer:
    """The app's web server: serves pages registered by path, on 127.0.0.1."""

    def __init__(self) -> None:
        pages = self.pages = {}  # type: dict[str, str]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright turns the back/forward cache off by default; a page kept there is
        # hidden, which is how these tests hide a page for a known time
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=ARGS,
            ignore_default_args=["--disable-back-forward-cache"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def site() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


def _sample_page(collector_port: int) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head>
<body><h1>Assistant</h1>
<div id="answer" style="height: 120px">Your parcel ships on Monday.</div>
<script src="http://127.0.0.1:{collector_port}/v1/browser.js"></script>
<script>
window.vis = [];
document.addEventListener("visibilitychange", function () {{
  window.vis.push([document.visibilityState, performance.now()]);
}});
window.restored = false;
addEventListener("pageshow", function (e) {{ if (e.persisted) {{ window.restored = true; }} }});
</script></body></html>"""


def _setup(collector_factory: Any, site: PageServer, **settings: Any) -> tuple[Any, str, str]:
    """A collector, a browser key bound to the site's origin, and the page's URL."""
    col = collector_factory(**settings)
    key, _ = create_key(
        col.store, "shop", scopes=("browser",), origins=(f"http://127.0.0.1:{site.port}",)
    )
    ingest, _ = create_key(col.store, "shop")
    ids = ["dwell", "hidden", "left", "copied", "elsewhere"]
    records = [{"kind": "interaction", "id": i, "ts": TS, "feature": "assistant",
                "input": "when does it ship?", "output": "Monday"} for i in ids]  # fmt: skip
    status, resp, _ = col.request("POST", "/v1/ingest", records, key=ingest)
    assert status == 200 and resp["stored_new"] == len(ids), resp
    site.pages["/page"] = _sample_page(col.port)
    site.pages["/other"] = "<!doctype html><html><body>another page</body></html>"
    return col, key, f"http://127.0.0.1:{site.port}/page"


def _open(browser: Any, url: str, col: Any, key: str) -> tuple[Any, Any]:
    ctx = browser.new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.evaluate(
        "(c) => pilotgate.init(c)",
        {"collector": f"http://127.0.0.1:{col.port}", "key": key, "feature": "assistant",
         "version": "v1", "sessionId": "sess-1"},
    )  # fmt: skip
    assert errors == []
    return ctx, page


def _wait_for(fetch: Callable[[], list[dict[str, Any]]], what: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = fetch()
        if rows:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"nothing stored: {what}")


SHOW_WAIT_ACCEPT = """async ({id, waitMs}) => {
  const t0 = performance.now();
  pilotgate.shown(id, document.getElementById("answer"));
  await new Promise((r) => setTimeout(r, waitMs));
  const t1 = performance.now();
  const ok = await pilotgate.accept(id);
  return {ok, elapsed: t1 - t0};
}"""


def test_dwell_is_the_scripted_time_on_screen(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col, key, url = _setup(collector_factory, site)
    ctx, page = _open(browser, url, col, key)
    try:
        got = page.evaluate(SHOW_WAIT_ACCEPT, {"id": "dwell", "waitMs": 800})
    finally:
        ctx.close()
    assert got["ok"] is True
    (fb,) = col.store.feedback(interaction_ids=["dwell"])
    assert fb["project"] == "shop" and fb["accepted"] is True
    assert got["elapsed"] >= 800
    assert abs(fb["dwell_ms"] - got["elapsed"]) <= TOLERANCE_MS, (fb["dwell_ms"], got)


def test_time_with_the_page_hidden_is_not_dwell(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col, key, url = _setup(collector_factory, site)
    ctx, page = _open(browser, url, col, key)
    try:
        page.evaluate(
            "() => { window.t0 = performance.now();"
            " pilotgate.shown('hidden', document.getElementById('answer')); }"
        )
        page.wait_for_timeout(400)
        page.goto(url.replace("/page", "/other"))  # the page goes to the back/forward cache
        page.wait_for_timeout(700)
        page.go_back(wait_until="commit")
        page.wait_for_function("() => window.restored === true", timeout=10_000)
        page.wait_for_timeout(400)
        got = page.evaluate(
            "async () => { const t1 = performance.now();"
            " const ok = await pilotgate.accept('hidden');"
            " return {ok, elapsed: t1 - window.t0, vis: window.vis}; }"
        )
    finally:
        ctx.close()
    assert got["ok"] is True
    vis = got["vis"]
    assert [v[0] for v in vis] == ["hidden", "visible"], vis
    hidden_ms = vis[1][1] - vis[0][1]
    assert hidden_ms >= 600
    (fb,) = col.store.feedback(interaction_ids=["hidden"])
    expected = got["elapsed"] - hidden_ms
    assert abs(fb["dwell_ms"] - expected) <= TOLERANCE_MS, (fb["dwell_ms"], expected, got)
    assert fb["dwell_ms"] < got["elapsed"] - 550  # the hidden time really was left out


def test_leaving_an_answer_unanswered_sends_an_abandonment_beacon(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col, key, url = _setup(collector_factory, site)
    ctx, page = _open(browser, url, col, key)
    try:
        page.evaluate(
            "() => { pilotgate.shown('left', document.getElementById('answer'));"
            " pilotgate.shown('copied', document.getElementById('answer'));"
            " return pilotgate.accept('copied'); }"
        )
        page.wait_for_timeout(300)
        page.goto(url.replace("/page", "/other"))
        rows = _wait_for(
            lambda: [s for s in col.store.steps() if s["name"] == "abandoned"], "abandonment"
        )
    finally:
        ctx.close()
    assert [(r["metadata"]["interaction_id"], r["project"]) for r in rows] == [("left", "shop")]
    # the page's session id, stored as the store's keyed pseudonym (redaction is on)
    from pilotgate.redact import Pseudonymiser

    assert rows[0]["session_id"] == Pseudonymiser(col.store.secret("pseudonym")).id("sess-1")
    assert rows[0]["metadata"]["dwell_ms"] >= 300


def test_a_copy_of_a_shown_answer_is_a_step(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col, key, url = _setup(collector_factory, site)
    ctx, page = _open(browser, url, col, key)
    try:
        page.evaluate("() => pilotgate.shown('copied', document.getElementById('answer'))")
        page.click("#answer", click_count=3)  # select the answer's text
        page.keyboard.press("Control+C")
        rows = _wait_for(
            lambda: [s for s in col.store.steps() if s["name"] == "copied_answer"], "copy step"
        )
    finally:
        ctx.close()
    assert rows[0]["metadata"]["interaction_id"] == "copied"


def test_a_page_on_another_origin_is_refused(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col, key, url = _setup(collector_factory, site)
    # localhost is another origin than 127.0.0.1: same server, not the key's origin
    ctx, page = _open(browser, url.replace("127.0.0.1", "localhost"), col, key)
    try:
        got = page.evaluate(SHOW_WAIT_ACCEPT, {"id": "elsewhere", "waitMs": 50})
        step_ok = page.evaluate("() => pilotgate.step('opened_assistant', {})")
    finally:
        ctx.close()
    assert got["ok"] is False and step_ok is False
    assert col.store.feedback() == [] and col.store.steps() == []
    # the preflight itself says no, without CORS headers
    status, _, hdrs = col.request(
        "OPTIONS", "/v1/ingest", key=None,
        headers={"Origin": f"http://localhost:{site.port}",
                 "Access-Control-Request-Method": "POST"},
    )  # fmt: skip
    assert status == 403 and "access-control-allow-origin" not in hdrs


def test_the_dashboard_refuses_a_rebound_host_name(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col = collector_factory()
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        own = page.goto(f"http://127.0.0.1:{col.port}/")
        assert own is not None and own.status == 200  # the local user's dashboard
        rebound = page.goto(f"http://attacker.example:{col.port}/")
        assert rebound is not None and rebound.status == 421
        assert "pilotgate" not in page.content().lower().replace("--allowed-host", "")
        api = page.goto(f"http://attacker.example:{col.port}/api/overview")
        assert api is not None and api.status == 421
    finally:
        ctx.close()


def test_a_cross_site_text_plain_post_to_a_no_auth_collector_is_refused(
    browser: Any, collector_factory: Any, site: PageServer
) -> None:
    col = collector_factory(require_key=False)
    record = (
        '{"records": [{"kind": "interaction", "id": "forged", "ts": "2025-01-01T00:00:00Z",'
        ' "feature": "f", "input": "x'
    )
    site.pages["/form"] = f"""<!doctype html><html><body>
<form id="f" method="post" enctype="text/plain" action="http://127.0.0.1:{col.port}/v1/ingest">
<input type="hidden" name='{record}' value='"}}]}}'><button id="go">send</button></form>
</body></html>"""
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto(f"http://127.0.0.1:{site.port}/form")
        with page.expect_response(lambda r: r.url.endswith("/v1/ingest")) as info:
            page.click("#go")
        assert info.value.status == 415
        page.goto(f"http://127.0.0.1:{site.port}/form")
        sent = page.evaluate(
            f"""() => fetch("http://127.0.0.1:{col.port}/v1/ingest", {{method: "POST",
              mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
              body: JSON.stringify({{records: [{{kind: "interaction", id: "forged2",
                ts: "2025-01-01T00:00:00Z", feature: "f", input: "x"}}]}})}}).then(() => true)"""
        )
        assert sent is True  # the browser sent it; the collector did not take it
    finally:
        ctx.close()
    assert col.store.count() == 0
