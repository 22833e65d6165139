"""``/favicon.ico``: every browser asks for it; a 404 in each page load's log is noise."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

__all__ = ["favicon_router"]

_ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<rect width="16" height="16" rx="3" fill="#1e293b"/>'
    b'<path d="M4 8.5l2.5 2.5L12 5" stroke="#60a5fa" stroke-width="2" fill="none"/></svg>'
)


def favicon_router() -> APIRouter:
    """A tiny SVG icon (browsers accept SVG at /favicon.ico), cached for a day."""
    router = APIRouter()

    @router.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(
            _ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    return router
