"""``pilotgate keys create|list|revoke``: the collector's per-project API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pilotgate._cli._options import json_option, store_option, write_json

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["keys"]


def _open(store_url: str | None) -> Store:
    from pilotgate.plan import resolve_settings
    from pilotgate.store import open_store

    return open_store(resolve_settings(store=store_url).store)


@click.group("keys")
def keys() -> None:
    """API keys for the collector (stored hashed; a key is shown once, at creation)."""


# fmt: off
@keys.command("create")
@click.option("--project", required=True, help="Project the key writes and reads.")
@click.option("--name", help="A label (who or what uses the key).")
@click.option("--scope", "scopes", multiple=True,
              type=click.Choice(["ingest", "read", "admin", "browser"]),
              help="What the key may do (repeatable; default ingest): ingest = send interactions, "
              "feedback, steps, traces; read = dashboard and JSON API; admin = reviews; "
              "browser = feedback and steps from a web page (needs --origin).")
@click.option("--origin", "origins", multiple=True, metavar="URL",
              help="A page origin a browser key may be used from (https://app.example.com). "
              "Repeatable.")
@store_option
# fmt: on
def create(project: str, name: str | None, scopes: tuple[str, ...], origins: tuple[str, ...],
           store_url: str | None) -> None:  # fmt: skip
    """Create a key and print it once: store it in your secret manager now."""
    from pilotgate.collector import create_key

    with _open(store_url) as store:
        key, info = create_key(store, project, name=name, scopes=scopes or ("ingest",),
                               origins=origins)  # fmt: skip
    click.echo(key)
    click.echo(
        f"created key {info.id} for project {project!r} with scopes {', '.join(info.scopes)}"
        "; it is not shown again",
        err=True,
    )


@keys.command("list")
@store_option
@json_option("pilotgate.keys/1")
def list_cmd(store_url: str | None, json_path: str | None) -> None:
    """List keys (ids, projects, dates; never secrets)."""
    from pilotgate.collector import list_keys, print_keys

    with _open(store_url) as store:
        found = list_keys(store)
    print_keys(found)
    if json_path:
        write_json(json_path, {"schema": "pilotgate.keys/1", "keys": [k.to_json() for k in found]})


@keys.command("revoke")
@click.argument("key_id")
@store_option
def revoke(key_id: str, store_url: str | None) -> None:
    """Revoke a key by id: the collector refuses it from the next request on."""
    from pilotgate.collector import revoke_key

    with _open(store_url) as store:
        info = revoke_key(store, key_id)
    click.echo(f"revoked key {info.id} (project {info.project!r})")
