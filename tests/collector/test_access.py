"""Who may talk to the server: Host names, content types, browser keys (origins, CORS,
rate limits, beacons), dashboard login and sessions (a real server on loopback)."""

from __future__ import annotations

import re
from typing import Any

from pilotgate.collector import create_key
from pilotgate.store import Store

TS = "2025-05-01T10:00:00Z"
ORIGIN = "https://shop.example"


def _interaction(rid: str) -> dict[str, Any]:
    return {"kind": "interaction", "id": rid, "ts": TS, "feature": "f", "input": "q"}


def test_only_the_servers_own_host_names_are_answered(collector_factory: Any) -> None:
    col = collector_factory(allowed_hosts=("localhost", "127.0.0.1", "::1", "*.corp.example"))
    for host in ("127.0.0.1", f"127.0.0.1:{col.port}", f"localhost:{col.port}", "[::1]:80",
                 "pilot.corp.example", "a.b.corp.example:8765"):  # fmt: skip
        status, _, _ = col.request("GET", "/health", key=None, headers={"Host": host})
        assert status == 200, host
    for host in ("attacker.example", "attacker.example:80", "corp.example.evil", "127.0.0.2",
                 "", "localhost.attacker.example"):  # fmt: skip
        for path in ("/health", "/", "/api/overview", "/v1/browser.js"):
            status, body, _ = col.request("GET", path, key=None, headers={"Host": host})
            assert status == 421, (host, path)
    status, _, _ = col.request(
        "POST", "/v1/ingest", [_interaction("x")], headers={"Host": "attacker.example"}
    )
    assert status == 421 and col.store.count() == 0


def test_write_routes_take_json_or_ndjson_only(collector_factory: Any) -> None:
    col = collector_factory(require_key=False)
    body = '{"records": [{"kind": "interaction", "id": "a", "ts": "2025-01-01T00:00:00Z", ' \
        '"feature": "f", "input": "q"}]}'  # fmt: skip
    for route in ("/v1/ingest", "/v1/feedback", "/v1/traces"):
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                      "multipart/form-data; boundary=x", ""):  # fmt: skip
            status, resp, _ = col.request("POST", route, body, key=None, content_type=ctype)
            assert status == 415, (route, ctype, resp)
    status, _, _ = col.request(
        "POST", "/v1/ingest", body, key=None, content_type="application/x-protobuf"
    )
    assert status == 415  # protobuf is for OTLP only
    assert col.store.count() == 0
    status, resp, _ = col.request(
        "POST", "/v1/ingest", body, key=None, content_type="application/json; charset=utf-8"
    )
    assert status == 200 and resp["stored_new"] == 1


def _browser_setup(collector_factory: Any, **settings: Any) -> tuple[Any, str]:
    col = collector_factory(**settings)
    key, _ = create_key(col.store, "shop", scopes=("browser",), origins=(ORIGIN,))
    ingest, _ = create_key(col.store, "shop")
    assert col.request("POST", "/v1/ingest", [_interaction("i-1")], key=ingest)[0] == 200
    return col, key


def test_a_browser_key_sends_feedback_and_steps_only_from_its_origins(
    collector_factory: Any,
) -> None:
    col, key = _browser_setup(collector_factory)
    fb = {"kind": "feedback", "interaction_id": "i-1", "ts": TS, "accepted": True}
    status, resp, hdrs = col.request(
        "POST", "/v1/ingest", [fb, _interaction("i-2")], key=key, headers={"Origin": ORIGIN}
    )
    assert status == 200 and resp["accepted"] == 1, resp
    assert resp["errors"][0]["field"] == "kind" and hdrs["access-control-allow-origin"] == ORIGIN
    for origin in (None, "https://evil.example", "http://shop.example"):
        headers = {"Origin": origin} if origin else {}
        status, _, hdrs = col.request("POST", "/v1/ingest", [fb], key=key, headers=headers)
        assert status == 403 and "access-control-allow-origin" not in hdrs, origin
    # no reading, no traces
    for path in ("/api/overview", "/api/runs", "/"):
        assert col.request("GET", path, key=key, headers={"Origin": ORIGIN})[0] == 403, path
    status, _, _ = col.request("POST", "/v1/traces", {}, key=key, headers={"Origin": ORIGIN})
    assert status == 403
    # a preflight is answered for the key's origin only
    status, _, hdrs = col.request(
        "OPTIONS", "/v1/ingest", key=None,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )  # fmt: skip
    assert status == 204 and hdrs["access-control-allow-origin"] == ORIGIN
    assert "authorization" in hdrs["access-control-allow-headers"]
    status, _, hdrs = col.request(
        "OPTIONS", "/v1/feedback", key=None, headers={"Origin": "https://evil.example"}
    )
    assert status == 403 and "access-control-allow-origin" not in hdrs
    assert len(col.store.feedback()) == 1


def test_browser_clients_are_rate_limited(collector_factory: Any) -> None:
    col, key = _browser_setup(collector_factory, browser_rate_per_s=0.5, browser_burst=3)
    step = {"kind": "step", "session_id": "s", "ts": TS, "name": "opened"}
    codes = []
    for _ in range(5):
        status, _, hdrs = col.request(
            "POST", "/v1/ingest", [step], key=key, headers={"Origin": ORIGIN}
        )
        codes.append(status)
    assert codes == [200, 200, 200, 429, 429]
    assert int(hdrs["retry-after"]) >= 1 and hdrs["access-control-allow-origin"] == ORIGIN


def test_a_beacon_carries_a_browser_key_in_its_text_body(collector_factory: Any) -> None:
    import json

    col, key = _browser_setup(collector_factory)
    step = {"kind": "step", "session_id": "s", "ts": TS, "name": "abandoned",
            "metadata": {"interaction_id": "i-1", "dwell_ms": 900}}  # fmt: skip
    body = json.dumps({"key": key, "records": [step]})
    status, resp, _ = col.request(
        "POST", "/v1/browser/beacon", body, key=None, content_type="text/plain;charset=UTF-8",
        headers={"Origin": ORIGIN},
    )  # fmt: skip
    assert status == 200 and resp["stored_new"] == 1, resp
    # from another origin, or with an ingest key, or no key: nothing
    ingest, _ = create_key(col.store, "shop")
    for k, origin in ((key, "https://evil.example"), (ingest, ORIGIN), ("", ORIGIN)):
        other = json.dumps({"key": k, "records": [{**step, "session_id": "s2"}]})
        status, _, _ = col.request(
            "POST", "/v1/browser/beacon", other, key=None, content_type="text/plain",
            headers={"Origin": origin},
        )  # fmt: skip
        assert status in (401, 403), (k[:8], origin)
    # only the first beacon was stored (its session id pseudonymised, redaction being on)
    assert [s["name"] for s in col.store.steps()] == ["abandoned"]


def test_browser_js_is_served(collector_factory: Any) -> None:
    col = collector_factory()
    status, body, hdrs = col.request("GET", "/v1/browser.js", key=None)
    assert status == 200 and hdrs["content-type"].startswith("application/javascript")
    text = body.decode() if isinstance(body, bytes) else str(body)
    for name in ("init", "shown", "accept", "reject", "edit", "step", "sendBeacon"):
        assert name in text


def _login_cookie(col: Any, key: str) -> str:
    status, _, hdrs = col.request(
        "POST", "/login", f"key={key}&next=/", key=None,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert status == 303 and "set-cookie" in hdrs, hdrs
    return str(hdrs["set-cookie"]).split(";")[0]


def test_sessions_survive_another_worker_and_a_restart(
    collector_factory: Any, tmp_path: Any
) -> None:
    store = Store(f"sqlite:///{tmp_path}/shared.db")
    one = collector_factory(store, dashboard_login=True)
    two = collector_factory(store, dashboard_login=True)  # a second worker, same store
    key, _ = create_key(store, "acme", scopes=("read",))
    cookie = _login_cookie(one, key)
    status, _, _ = two.request("GET", "/api/runs", key=None, headers={"Cookie": cookie})
    assert status == 200
    # a configured secret signs differently: its sessions are its own
    three = collector_factory(store, dashboard_login=True, session_secret="s3cret-for-tests")
    status, _, _ = three.request("GET", "/api/runs", key=None, headers={"Cookie": cookie})
    assert status == 401
    four = collector_factory(store, dashboard_login=True, session_secret="s3cret-for-tests")
    cookie3 = _login_cookie(three, key)
    assert four.request("GET", "/api/runs", key=None, headers={"Cookie": cookie3})[0] == 200


def test_a_server_bound_beyond_loopback_asks_even_local_clients_to_log_in(
    collector_factory: Any,
) -> None:
    col = collector_factory(dashboard_login=True)
    status, _, hdrs = col.request("GET", "/", key=None)
    assert status == 303 and hdrs["location"].startswith("/login")
    local = collector_factory()
    assert local.request("GET", "/", key=None)[0] == 200


def test_pages_allow_only_their_own_nonced_scripts(collector_factory: Any) -> None:
    col = collector_factory()
    status, body, hdrs = col.request("GET", "/", key=None)
    assert status == 200
    csp = hdrs["content-security-policy"]
    assert "unsafe-eval" not in csp and "script-src 'self' 'nonce-" in csp
    script_src = csp.split("script-src ")[1].split(";")[0]
    assert "unsafe-inline" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None
    html = body.decode() if isinstance(body, bytes) else str(body)
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce.group(1)}"' in attrs for attrs in inline), inline
    assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline event handlers either
    assert col.request("GET", "/", key=None)[2]["content-security-policy"] != csp  # fresh nonce
