"""``pilotgate serve``: the collector (and dashboard) over HTTP, on loopback by default."""

from __future__ import annotations

import os

import click

from pilotgate._cli._options import (
    parse_patterns,
    plan_path_option,
    redaction_options,
    store_option,
)
from pilotgate._net import is_loopback_host
from pilotgate.errors import ConfigError

__all__ = ["serve"]

_opt = click.option


# fmt: off
@click.command("serve")
@_opt("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@_opt("--port", default=8765, show_default=True, type=int, help="Port (0: a free one).")
@store_option
@plan_path_option
@_opt("--max-body-mb", default=16.0, show_default=True, type=click.FloatRange(min=0.01),
      help="Largest request body accepted (413 beyond).")
@_opt("--no-auth", is_flag=True,
      help="Accept writes without an API key (only on a loopback address).")
@_opt("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
      help="A Host name to answer to besides loopback's and the bind address "
      "('*.example.com' for subdomains); others get 421. Repeatable.")
@_opt("--session-secret", envvar="PILOTGATE_SESSION_SECRET",
      help="Secret that signs dashboard sessions (env PILOTGATE_SESSION_SECRET); "
      "default: one kept in the store, shared by every worker.")
@_opt("--workers", default=1, show_default=True, type=click.IntRange(min=1),
      help="Worker processes sharing the port (keys, sessions and ids are in the store).")
@redaction_options
# fmt: on
def serve(
    host: str, port: int, store_url: str | None, plan_path: str | None, max_body_mb: float,
    no_auth: bool, allowed_hosts: tuple[str, ...], session_secret: str | None,
    no_redact: bool, raw_ids: bool, redact_patterns: tuple[str, ...], workers: int = 1,
) -> None:  # fmt: skip
    """Serve the collector: POST /v1/ingest, /v1/feedback, /v1/traces (OTLP), GET /health.

    Writes need 'Authorization: Bearer <key>' from `pilotgate keys create`. PII is
    redacted before anything is stored unless --no-redact; user and session ids are then
    stored as keyed hashes unless --raw-ids. The dashboard asks for a read key whenever
    the bind address is not loopback.
    """
    from pilotgate._web import ServeConfig, base_url, bind, run_server, server_hosts
    from pilotgate.plan import resolve_settings
    from pilotgate.store import safe_url

    if no_auth and not is_loopback_host(host):
        raise ConfigError(
            "--no-auth is only allowed on a loopback address",
            where=f"--host {host}",
            fix="create a key with `pilotgate keys create --project NAME`",
        )
    resolved = resolve_settings(store=store_url, plan=plan_path)
    cfg = ServeConfig(
        store=resolved.store,
        plan=str(resolved.plan_path) if resolved.plan is not None else None,
        require_key=not no_auth,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        redact=not no_redact,
        pseudonymise_ids=not raw_ids,
        redact_patterns=parse_patterns(redact_patterns),
        allowed_hosts=list(server_hosts(host, allowed_hosts)),
        dashboard_login=True if not is_loopback_host(host) else None,
    )
    if session_secret:  # workers read it from their environment, never from argv
        os.environ["PILOTGATE_SESSION_SECRET"] = session_secret
    sock = bind(host, port)  # bound first, so the URL printed is the real one (--port 0)
    base = base_url(host, sock)
    click.echo(
        f"pilotgate collector on {base} -> {safe_url(resolved.store)}"
        f" (auth {'off' if no_auth else 'on'}, redaction {'off' if no_redact else 'on'}"
        f", {workers} worker{'s' if workers > 1 else ''})",
        err=True,
    )
    click.echo(f"dashboard: {base}/", err=True)
    run_server(cfg, sock, workers=workers)
