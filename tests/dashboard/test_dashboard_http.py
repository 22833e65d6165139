"""The dashboard over real HTTP: pages, the JSON API's 401, login, reviews, no leaks."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from tests.dashboard._dash_server import Server

from pilotgate.store import tables

PAGES = ["/", "/usage", "/runs", "/coverage", "/review", "/review/production-derived"]


def _run_pages(server: Server) -> list[str]:
    body = server.request("/runs").body
    return sorted(set(re.findall(r'href="(/runs/[^"?]+)"', body)))


def test_every_page_answers_200_and_leaks_nothing(server: Server) -> None:
    run_pages = _run_pages(server)
    assert len(run_pages) == 7  # gate, 2 eval, compare, shift, robustness, load
    for path in [*PAGES, *run_pages, "/runs?kind=load"]:
        resp = server.request(path)
        assert resp.status == 200, path
        for planted in server.filled.planted:
            assert planted not in resp.body, (path, planted[:12])
        # user text is escaped, never live markup
        assert "<script>window.__xss" not in resp.body, path
        assert 'onerror="window' not in resp.body, path


def test_overview_shows_the_scorecard_and_usage(server: Server) -> None:
    body = server.request("/").body
    assert 'id="verdict-banner"' in body
    assert ">fail<" in body.lower() or "fail</div>" in body.lower()
    assert "usage.acceptance_rate" in body
    assert 'id="kpi-calls">400<' in body
    assert 'data-fig="fig-ov-usage"' in body


def test_plotly_is_served_locally(server: Server) -> None:
    resp = server.request("/static/plotly.min.js")
    assert resp.status == 200
    assert "javascript" in resp.headers["content-type"]
    assert len(resp.body) > 1_000_000
    page = server.request("/").body
    assert '<script src="/static/plotly.min.js">' in page
    assert "cdn." not in page and "https://" not in page.split("<main>")[0]


def test_api_needs_a_key(server: Server) -> None:
    for path in ("/api/overview", "/api/runs", "/api/runs/whatever"):
        resp = server.request(path)
        assert resp.status == 401, path
        assert resp.headers.get("www-authenticate") == "Bearer"
    bad = server.request(
        "/api/overview", headers={"Authorization": "Bearer pg_000000000000_" + "x" * 30}
    )
    assert bad.status == 401
    ok = server.request(
        "/api/overview", headers={"Authorization": f"Bearer {server.filled.api_key}"}
    )
    assert ok.status == 200
    doc = json.loads(ok.body)
    assert doc["usage"]["n"] == 400
    assert doc["verdict"]["verdict"] == "fail"


def test_api_run_is_scrubbed(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.filled.api_key}"}
    runs = json.loads(server.request("/api/runs?kind=load", headers=auth).body)
    assert [r["kind"] for r in runs] == ["load"]
    eval_runs = json.loads(server.request("/api/runs?kind=robustness", headers=auth).body)
    resp = server.request(f"/api/runs/{eval_runs[0]['id']}", headers=auth)
    assert resp.status == 200
    for planted in server.filled.planted:
        assert planted not in resp.body
    assert "[EMAIL]" in resp.body
    missing = server.request("/api/runs/nope", headers=auth)
    assert missing.status == 404


def test_review_is_stored_with_who_and_when(server: Server) -> None:
    page = server.request("/review/production-derived").body
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert csrf is not None
    resp = server.request(
        "/review/production-derived/case-1",
        data={"csrf": csrf.group(1), "action": "reference", "reference": "Block the card now.",
              "tags": "cards, urgent", "reviewer": "bea", "page": "0"},
    )  # fmt: skip
    assert resp.status == 303
    assert resp.headers["location"].startswith("/review/production-derived?page=0&saved=case-1")
    store = server.filled.store
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(tables.reviews).where(tables.reviews.c.case_id == "case-1")
        ).mappings().all()  # fmt: skip
    assert len(rows) == 1
    row = rows[0]
    assert (row["set_name"], row["action"], row["reviewer"]) == (
        "production-derived",
        "reference",
        "bea",
    )
    assert row["reference"] == "Block the card now."
    assert row["tags"] == ["cards", "urgent"]
    assert row["ts"] is not None
    after = server.request("/review/production-derived").body
    assert "reference by bea" in after


def test_review_accept_and_a_refused_review(server: Server) -> None:
    page = server.request("/review/production-derived").body
    assert "[intent=balance] answer 4" in page  # the recorded output, shown to accept
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    csrf = found.group(1)
    resp = server.request(
        "/review/production-derived/case-4", data={"csrf": csrf, "action": "accept"}
    )
    assert resp.status == 303
    with server.filled.store.engine.connect() as conn:
        row = conn.execute(
            select(tables.reviews).where(tables.reviews.c.case_id == "case-4")
        ).mappings().one()  # fmt: skip
    assert (row["action"], row["reviewer"]) == ("accept", "local")
    # pilotgate.cases refuses a tag review without tags: the page says why, nothing stored
    resp = server.request(
        "/review/production-derived/case-3", data={"csrf": csrf, "action": "tag", "tags": " "}
    )
    assert resp.status == 400
    assert "Not saved: a &#39;tag&#39; review needs at least one tag" in resp.body
    with server.filled.store.engine.connect() as conn:
        assert (
            conn.execute(
                select(tables.reviews.c.id).where(tables.reviews.c.case_id == "case-3")
            ).all()
            == []
        )


def test_review_rejects_a_forged_form(server: Server) -> None:
    resp = server.request(
        "/review/production-derived/case-0", data={"csrf": "0" * 64, "action": "drop"}
    )
    assert resp.status == 403
    bad_action = server.request("/review/production-derived").body
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', bad_action)
    assert found is not None
    csrf = found.group(1)
    resp = server.request(
        "/review/production-derived/case-0", data={"csrf": csrf, "action": "delete-all"}
    )
    assert resp.status == 400
    with server.filled.store.engine.connect() as conn:
        n = conn.execute(
            select(tables.reviews.c.id).where(tables.reviews.c.case_id == "case-0")
        ).all()
    assert n == []


def test_unknown_things_answer_200_with_a_message(server: Server) -> None:
    resp = server.request("/runs/no-such-run")
    assert resp.status == 200 and "no run no-such-run" in resp.body
    resp = server.request("/review/no-such-set")
    assert resp.status == 200 and "no eval set no-such-set" in resp.body


def test_login_when_exposed(login_server: Server) -> None:
    s = login_server
    first = s.request("/usage?feature=x")
    assert first.status == 303
    assert first.headers["location"] == "/login?next=/usage%3Ffeature%3Dx"
    assert s.request("/login").status == 200
    wrong = s.request("/login", data={"key": "pg_000000000000_" + "y" * 30, "next": "/"})
    assert wrong.status == 303 and "error=1" in wrong.headers["location"]
    good = s.request("/login", data={"key": s.filled.api_key, "next": "//evil.example/x"})
    assert good.status == 303
    assert good.headers["location"] == "/"  # no open redirect
    cookie_header = good.headers["set-cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=strict" in cookie_header
    cookie = cookie_header.split(";")[0]
    assert s.filled.api_key not in cookie
    for path in PAGES:
        resp = s.request(path, cookie=cookie)
        assert resp.status == 200, path
        assert "pilot/reviewer-ann" in resp.body
        for planted in s.filled.planted:
            assert planted not in resp.body
    # the session also opens the API; a tampered one does not
    assert s.request("/api/overview", cookie=cookie).status == 200
    assert s.request("/api/overview", cookie=cookie[:-2] + "00").status == 401
    assert s.request("/", cookie=cookie[:-2] + "00").status == 303


def test_a_revoked_key_ends_the_session(login_server: Server) -> None:
    from pilotgate.collector import create_key, revoke_key

    s = login_server
    key, rec = create_key(s.filled.store, "pilot", name="temp", scopes=("read",))
    cookie = s.request("/login", data={"key": key}).headers["set-cookie"].split(";")[0]
    assert s.request("/", cookie=cookie).status == 200
    revoke_key(s.filled.store, rec.id)
    assert s.request("/", cookie=cookie).status == 303


def test_proxied_requests_must_log_in(server: Server) -> None:
    """Behind a reverse proxy on the same host every client looks local: not trusted."""
    assert server.request("/").status == 200
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        resp = server.request("/", headers={header: "203.0.113.9"})
        assert resp.status == 303, header
        assert resp.headers["location"].startswith("/login")
