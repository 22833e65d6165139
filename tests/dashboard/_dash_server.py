"""Helpers of the dashboard tests: a tiny HTTP client that does not follow redirects."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field

from tests.report._report_fixture import Filled


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Server:
    base: str
    filled: Filled
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        path: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        cookie: str | None = None,
    ) -> Response:
        """One request, redirects not followed, so 303s and cookies can be checked."""
        from urllib.parse import urlencode

        body = urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        if cookie:
            req.add_header("Cookie", cookie)
        opener = urllib.request.build_opener(_NoRedirect())
        try:
            with opener.open(req, timeout=30) as resp:
                return Response(resp.status, dict(resp.headers), resp.read().decode())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers), exc.read().decode())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
