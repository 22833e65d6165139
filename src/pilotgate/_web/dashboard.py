"""The dashboard: server-rendered pages next to the collector in ``pilotgate serve``.

Pages: the overview scorecard (``/``), live usage (``/usage``), runs and their results
(``/runs``), the coverage map (``/coverage``) and the review queue for eval sets
(``/review``). Charts are the report's Plotly figures, drawn by the plotly.min.js that
ships in the plotly package and is served from ``/static/plotly.min.js`` (no CDN).

Access: on a loopback client the pages are open; otherwise (or with
``require_login=True``) they ask for an API key from ``pilotgate keys create`` and keep
a signed, HttpOnly, SameSite=Strict session cookie. The JSON API under ``/api/`` always
needs a key (``Authorization: Bearer``) or that session, and answers 401 otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from pilotgate._net import is_loopback_host
from pilotgate.errors import PilotgateError
from pilotgate.store import Store

if TYPE_CHECKING:
    import jinja2

    from pilotgate.collector import ApiKey
    from pilotgate.plan import Plan

__all__ = [
    "REVIEW_ACTIONS",
    "dashboard_router",
    "save_review",
    "security_headers",
    "session_secret",
]

TEMPLATES = Path(__file__).parent / "templates" / "dashboard"
COOKIE = "pilotgate_session"
SESSION_S = 8 * 3600
REVIEW_ACTIONS = ("accept", "reference", "tag", "skip", "drop")  # = pilotgate.cases'
MAX_FORM = 64 * 1024
PAGE_CASES = 50


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a key's project, id and scopes, or the local (loopback) user.

    ``project`` None means every project (the local user of a loopback server).
    """

    who: str
    key_id: str | None
    logged_in: bool
    project: str | None = None
    scopes: tuple[str, ...] = ("read", "admin")

    def can(self, scope: str) -> bool:
        return scope in self.scopes


class _Auth:
    """API-key login and signed session cookies, keyed by the server's session secret."""

    def __init__(self, store: Store, require_login: bool | None, secret: bytes) -> None:
        self.store = store
        self.require_login = require_login
        self.secret = secret

    def needs_login(self, request: Request) -> bool:
        if self.require_login is not None:
            return self.require_login
        client = request.client.host if request.client else None
        # a reverse proxy on the same host makes every client look local: proxied
        # requests (they carry forwarding headers) must log in like remote ones
        proxied = any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip"))
        return proxied or not is_loopback_host(client)

    def _sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()

    def make_cookie(self, who: str, key_id: str) -> str:
        payload = f"{quote(who, safe='')}|{key_id}|{int(time.time()) + SESSION_S}"
        return f"{payload}|{self._sign(payload)}"

    def from_cookie(self, value: str | None) -> Viewer | None:
        if not value or value.count("|") != 3:
            return None
        payload, sig = value.rsplit("|", 1)
        if not hmac.compare_digest(self._sign(payload), sig):
            return None
        who, key_id, expires = payload.split("|")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        key = self._live_key(key_id)
        if key is None:
            return None
        from urllib.parse import unquote

        return Viewer(unquote(who), key_id, True, key.project, key.scopes)

    def _live_key(self, key_id: str) -> ApiKey | None:
        from pilotgate.collector import list_keys

        for k in list_keys(self.store, include_revoked=False, key_id=key_id):
            return k
        return None

    def from_key(self, key: str) -> Viewer | None:
        from pilotgate.collector import authenticate

        found = authenticate(self.store, key.strip())
        if found is None:
            return None
        who = f"{found.project}/{found.name or found.id}"
        return Viewer(who, found.id, True, found.project, found.scopes)

    def viewer(self, request: Request) -> Viewer | None:
        """The request's viewer: its Bearer key, its session, or the local user when no
        login is needed; else None."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return self.from_key(auth[7:])
        v = self.from_cookie(request.cookies.get(COOKIE))
        if v is not None:
            return v
        if not self.needs_login(request):
            return Viewer("local", None, False)
        return None

    def api_viewer(self, request: Request) -> Viewer | None:
        """The API's caller: a Bearer key or a session cookie, never anonymous."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return self.from_key(auth[7:])
        return self.from_cookie(request.cookies.get(COOKIE))

    def csrf(self, viewer: Viewer) -> str:
        return self._sign(f"csrf|{viewer.who}|{viewer.key_id}")


def save_review(
    store: Store,
    set_name: str,
    case_id: str,
    action: str,
    reviewer: str,
    *,
    reference: str | None = None,
    tags: list[str] | None = None,
) -> None:
    """Record one review (who and when) of a case of eval set ``set_name``.

    Goes through :func:`pilotgate.cases.record_review`, so the terminal and the browser
    queues validate and write the same rows.

    Raises:
        InputError: unknown case or action, a reference review without text, a tag
            review without tags, or accepting a case that has no recorded output.
    """
    from pilotgate.cases import record_review

    record_review(
        store, set_name, case_id, action, reference=reference, tags=tags, reviewer=reviewer
    )


def dashboard_router(
    store: Store,
    settings: Any = None,
    *,
    plan: Plan | None = None,
    require_login: bool | None = None,
) -> APIRouter:
    """The dashboard's routes over ``store``.

    Args:
        store: the store the pages read (and the review queue writes).
        settings: the server settings; its ``plan`` is used when ``plan`` is not given.
        plan: the pilot plan (feature, funnel steps, criteria).
        require_login: True: always ask for an API key; False: never; None (default):
            ask unless the client connects over loopback directly (requests that came
            through a proxy, with ``Forwarded``/``X-Forwarded-For``/``X-Real-IP``, ask).
            ``settings.dashboard_login`` is used when this is None and it is set.
    """
    from pilotgate.report import pages

    plan = plan if plan is not None else getattr(settings, "plan", None)
    if require_login is None:
        require_login = getattr(settings, "dashboard_login", None)
    secret = session_secret(store, getattr(settings, "session_secret", None))
    auth = _Auth(store, require_login, secret)
    env = _environment()
    _warm_up(env)
    router = APIRouter(tags=["dashboard"], include_in_schema=True)

    def render(request: Request, name: str, viewer: Viewer, **ctx: Any) -> HTMLResponse:
        from pilotgate.report import figure_json

        nonce = secrets.token_urlsafe(16)
        tpl = env.get_template(name)
        html = tpl.render(
            request_path=request.url.path,
            viewer=viewer,
            csrf=auth.csrf(viewer),
            fig_json=figure_json,
            csp_nonce=nonce,
            **ctx,
        )
        return HTMLResponse(html, headers=security_headers(nonce))

    def gate(request: Request, scope: str = "read") -> Viewer | Response:
        viewer = auth.viewer(request)
        if viewer is None:
            if request.headers.get("authorization"):
                return _refused(401, "invalid or revoked API key")
            nxt = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"/login?next={nxt}", status_code=303)
        if not viewer.can(scope):
            return _refused(403, f"this key cannot do that: it needs the {scope} scope")
        return viewer

    def scoped(viewer: Viewer) -> Store:
        """What ``viewer`` may see: one project's view of the store, or all of it."""
        return store if viewer.project is None else store.scoped(viewer.project)

    from pilotgate._web.traces import add_trace_routes

    add_trace_routes(router, scoped, gate, render)

    @router.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        from pilotgate.report import plotly_js_path

        return FileResponse(
            plotly_js_path(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @router.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
        anon = Viewer("anonymous", None, False)
        return render(request, "login.html.j2", anon, next=_safe_next(next), error=error)

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        nxt = _safe_next(form.get("next", "/"))
        viewer = auth.from_key(form.get("key", ""))
        if viewer is None or viewer.key_id is None or not viewer.can("read"):
            error = "1" if viewer is None else "scope"
            return RedirectResponse(
                f"/login?error={error}&next={quote(nxt)}",
                status_code=303,
                headers=security_headers(None),
            )
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(
            COOKIE,
            auth.make_cookie(viewer.who, viewer.key_id),
            max_age=SESSION_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return resp

    @router.post("/logout", include_in_schema=False)
    def logout() -> Response:
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request, feature: str | None = None) -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        return render(request, "overview.html.j2", v, **pages.overview(scoped(v), plan, feature))

    @router.get("/usage", response_class=HTMLResponse, include_in_schema=False)
    def usage(request: Request, feature: str | None = None, by: str | None = None) -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        return render(request, "usage.html.j2", v, **pages.usage(scoped(v), plan, feature, by))

    @router.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs(request: Request, kind: str | None = None) -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        return render(request, "runs.html.j2", v, **pages.runs(scoped(v), kind))

    @router.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(request: Request, run_id: str) -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        ctx = pages.run_detail(scoped(v), plan, run_id)
        if ctx is None:
            return render(request, "missing.html.j2", v, what=f"run {run_id}")
        return render(request, "run.html.j2", v, **ctx)

    @router.get("/coverage", response_class=HTMLResponse, include_in_schema=False)
    def coverage(request: Request) -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        return render(request, "coverage.html.j2", v, **pages.coverage(scoped(v)))

    @router.get("/review", response_class=HTMLResponse, include_in_schema=False)
    def review_sets(request: Request) -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        return render(request, "review_sets.html.j2", v, **pages.review_sets(scoped(v)))

    @router.get("/review/{set_name}", response_class=HTMLResponse, include_in_schema=False)
    def review(request: Request, set_name: str, page: int = 0, saved: str = "") -> Response:
        v = gate(request)
        if not isinstance(v, Viewer):
            return v
        ctx = pages.review_queue(scoped(v), set_name, page=max(0, page), per_page=PAGE_CASES)
        if ctx is None:
            return render(request, "missing.html.j2", v, what=f"eval set {set_name}")
        return render(request, "review.html.j2", v, saved=saved, **ctx)

    @router.post("/review/{set_name}/{case_id}", include_in_schema=False)
    async def review_submit(request: Request, set_name: str, case_id: str) -> Response:
        v = gate(request, "admin")
        if not isinstance(v, Viewer):
            return v
        view = scoped(v)
        form = await _form(request)
        if not hmac.compare_digest(form.get("csrf", ""), auth.csrf(v)):
            return HTMLResponse("stale or forged form; reload the page", status_code=403)
        action = form.get("action", "")
        if action not in REVIEW_ACTIONS:
            return HTMLResponse("unknown review action", status_code=400)
        reference = form.get("reference") or None
        tags = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
        who = v.who if v.logged_in else (form.get("reviewer", "").strip()[:200] or "local")
        page = form.get("page", "0")
        page = page if page.isdigit() else "0"
        try:
            save_review(view, set_name, case_id, action, who, reference=reference, tags=tags)
        except PilotgateError as exc:
            ctx = pages.review_queue(view, set_name, page=int(page), per_page=PAGE_CASES)
            if ctx is None:
                return render(request, "missing.html.j2", v, what=f"eval set {set_name}")
            resp = render(request, "review.html.j2", v, saved="", error=exc.what, **ctx)
            resp.status_code = 400
            return resp
        url = f"/review/{quote(set_name)}?page={page}&saved={quote(case_id)}#case-{quote(case_id)}"
        return RedirectResponse(url, status_code=303)

    # ------------------------------------------------------------ JSON API
    def api_gate(request: Request) -> Viewer | JSONResponse:
        viewer = auth.api_viewer(request)
        if viewer is None:
            return JSONResponse(
                {"detail": "an API key is required: Authorization: Bearer <key>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not viewer.can("read"):
            return JSONResponse(
                {"detail": "this key cannot read: it needs the read scope"}, status_code=403
            )
        return viewer

    @router.get("/api/overview", summary="The overview's numbers (needs an API key).")
    def api_overview(request: Request, feature: str | None = None) -> Response:
        v = api_gate(request)
        if not isinstance(v, Viewer):
            return v
        return JSONResponse(pages.api_overview(scoped(v), plan, feature))

    @router.get("/api/runs", summary="Recent runs (needs an API key).")
    def api_runs(request: Request, kind: str | None = None, limit: int = 50) -> Response:
        v = api_gate(request)
        if not isinstance(v, Viewer):
            return v
        return JSONResponse(pages.api_runs(scoped(v), kind, min(max(limit, 1), 500)))

    @router.get("/api/runs/{run_id}", summary="One run's summary (needs an API key).")
    def api_run(request: Request, run_id: str) -> Response:
        v = api_gate(request)
        if not isinstance(v, Viewer):
            return v
        doc = pages.api_run(scoped(v), run_id)
        if doc is None:
            return JSONResponse({"detail": f"no run {run_id!r}"}, status_code=404)
        return JSONResponse(doc)

    return router


def security_headers(nonce: str | None) -> dict[str, str]:
    """Headers of every page. Scripts run only from this origin or with this response's
    nonce: no inline handlers, no ``eval`` (Plotly's charts need neither)."""
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": f"default-src 'self'; script-src {script}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'",
    }


def _refused(status: int, detail: str) -> HTMLResponse:
    return HTMLResponse(detail, status_code=status, headers=security_headers(None))


def session_secret(store: Store, configured: str | None) -> bytes:
    """The key that signs session cookies and forms.

    ``configured`` (``--session-secret`` / ``PILOTGATE_SESSION_SECRET``) when given; else
    one generated on first use and kept in the store, so every worker and every restart
    over the same store signs alike (a session survives both).
    """
    if configured:
        return hashlib.sha256(b"pilotgate-session|" + configured.encode()).digest()
    return bytes.fromhex(store.secret("dashboard_session"))


def _safe_next(target: str) -> str:
    """Only same-site paths: ``//evil.example`` and absolute URLs become ``/``."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (no python-multipart needed), size-capped."""
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def _warm_up(env: jinja2.Environment) -> None:
    """Do at start-up what the first request would otherwise pay for (~0.7 s on a busy
    2-core machine): compile the templates and the redactor's patterns."""
    from pilotgate._scrub import scrub

    for name in env.list_templates(filter_func=lambda n: n.endswith(".html.j2")):
        env.get_template(name)
    scrub("warm-up ann@example.com 2025-01-01")


def _environment() -> jinja2.Environment:
    from pilotgate.report import environment

    return environment(TEMPLATES)
