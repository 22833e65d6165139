"""The terminal table of the collector's API keys (``pilotgate keys list``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pilotgate.collector._keys import ApiKey

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_keys"]


def print_keys(keys: Sequence[ApiKey], console: Console | None = None) -> None:
    """Print ids, projects, scopes, origins and dates of ``keys`` (never a secret)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="API keys")
    for col in ("id", "project", "scopes", "origins", "name", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.id,
            k.project,
            ",".join(k.scopes),
            " ".join(k.origins),
            k.name or "",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    (console or Console()).print(table)
