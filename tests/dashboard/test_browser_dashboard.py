"""In Debian's Chromium (Playwright, never a downloaded browser): the dashboard and the
report as a person sees them. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.dashboard._dash_server import Server

from pilotgate.store import tables

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing — run `apt-get install -y chromium` "
        "(never `playwright install`)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _svg_charts(page: Any) -> tuple[int, int]:
    charts = page.locator("div.chart")
    drawn = page.locator("div.chart svg.main-svg").count()
    return charts.count(), drawn


def test_dashboard_login_pages_review(browser: Any, login_server: Server) -> None:
    s = login_server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(s.base) else None)

    resp = page.goto(s.base + "/")
    assert resp is not None and resp.status == 200
    assert page.url.startswith(s.base + "/login")
    page.screenshot(path=str(ARTIFACTS / "dashboard-login.png"))
    page.fill("#key", s.filled.api_key)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == s.base + "/"

    # the scorecard
    banner = page.locator("#verdict-banner .word")
    assert banner.inner_text().strip().lower() == "fail"
    assert page.locator("#scorecard table tbody tr").count() == 3
    assert page.locator("#kpi-calls").inner_text() == "400"
    page.wait_for_selector("div.chart svg.main-svg")
    n, drawn = _svg_charts(page)
    assert n == 1 and drawn >= 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

    # every page through the navigation, each answering 200
    for label, path, shot in [
        ("Usage", "/usage", "usage"),
        ("Runs", "/runs", "runs"),
        ("Coverage", "/coverage", "coverage"),
        ("Review queue", "/review", "review-sets"),
        ("Overview", "/", "overview-again"),
    ]:
        with page.expect_navigation() as nav:
            page.click(f"header nav >> text={label}")
        assert nav.value is not None and nav.value.status == 200, label
        assert page.url == s.base + path
        if path in ("/usage", "/coverage"):
            page.wait_for_selector("div.chart svg.main-svg")
            n, drawn = _svg_charts(page)
            assert n >= 2 and drawn >= n, label
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{shot}.png"), full_page=True)
        html = page.content()
        assert page.evaluate("() => typeof window.__xss") == "undefined", label
        for planted in s.filled.planted:
            assert planted not in html, (label, planted[:12])

    # one run page per run, all 200
    page.goto(s.base + "/runs")
    links = page.locator("table a[href^='/runs/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) == 7
    for href in hrefs:
        r = page.goto(s.base + str(href))
        assert r is not None and r.status == 200, href
        assert not any(p in page.content() for p in s.filled.planted), href
    page.goto(s.base + str(next(h for h in hrefs if "/runs/load-" in str(h))))
    page.wait_for_selector("div.chart svg.main-svg")
    page.screenshot(path=str(ARTIFACTS / "dashboard-run-load.png"), full_page=True)

    # submit one review and see it stored
    page.goto(s.base + "/review")
    with page.expect_navigation():
        page.click("text=production-derived >> nth=0")
    case = page.locator("#case-case-2")
    case.locator("textarea[name=reference]").fill("We will write to you at the address on file.")
    case.locator("input[name=tags]").fill("pii, needs-reference")
    with page.expect_navigation():
        case.locator("button[value=reference]").click()
    assert "Saved the review of" in page.locator("#saved").inner_text()
    state = page.locator("#case-case-2 .review-state").inner_text()
    assert state.startswith("reference by pilot/reviewer-ann")
    page.screenshot(path=str(ARTIFACTS / "dashboard-review.png"), full_page=True)
    with s.filled.store.engine.connect() as conn:
        row = conn.execute(
            select(tables.reviews).where(tables.reviews.c.case_id == "case-2")
        ).mappings().one()  # fmt: skip
    assert row["reviewer"] == "pilot/reviewer-ann"
    assert row["reference"] == "We will write to you at the address on file."
    assert row["tags"] == ["pii", "needs-reference"]

    # the session opens the JSON API too; without it the API answers 401
    assert ctx.request.get(s.base + "/api/overview").status == 200
    anon = browser.new_context()
    assert anon.request.get(s.base + "/api/overview").status == 401
    anon.close()

    assert errors == []
    assert [u for u in external if not u.startswith("data:")] == []
    ctx.close()


def test_report_opens_offline(browser: Any, tmp_path: Path, login_server: Server) -> None:
    from pilotgate.report import write_report

    filled = login_server.filled
    out = write_report(filled.store, filled.plan, tmp_path / "report.html")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    blocked: list[str] = []

    def block(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    ctx.route("**/*", block)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.wait_for_selector("div.chart svg.main-svg")
    sections = page.locator("section[data-section]")
    keys = [sections.nth(i).get_attribute("data-section") for i in range(sections.count())]
    assert keys == [
        "verdict",
        "demo_vs_production",
        "usage",
        "silent",
        "coverage",
        "robustness",
        "load",
        "compare",
    ]
    for key in keys:
        sec = page.locator(f"section[data-section={key}]")
        assert sec.is_visible()
        assert sec.locator(".missing").count() == 0, key
        charts = sec.locator("div.chart")
        if key != "verdict":
            assert charts.count() >= 1, key
        for i in range(charts.count()):
            # each Plotly div drew an SVG with marks in it
            assert charts.nth(i).locator("svg.main-svg").count() >= 1, (key, i)
            assert charts.nth(i).locator("g.trace, g.trace.bars, g.funnellayer").count() >= 1
    text = page.inner_text("body")
    assert re.search(r"FAIL", text)
    for planted in filled.planted:
        assert planted not in page.content()
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert blocked == []
    assert errors == []
    ctx.close()
