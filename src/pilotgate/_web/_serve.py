"""Running the server: one process or N uvicorn workers over one store, with upkeep.

With ``--workers N`` uvicorn starts N processes that share the listening socket; each
builds its app with :func:`app_factory` from the settings the parent put in the
environment (``PILOTGATE_SERVE_CONFIG``), and opens its own connection pool. Nothing is
held per process that another needs: API keys, sessions and idempotency (records are
stored by id, a repeated id is a no-op) live in the store, and so do the rollups, whose
refreshes are serialised by the store (SQLite's write lock, a PostgreSQL advisory lock).

:class:`Upkeep` is a daemon thread in every serving process: it refreshes the rollups of
the hours the collector wrote (every ``REFRESH_S`` seconds), brings the silent-user signals
up to date incrementally (every ``SIGNALS_S``: the plan's feature, and every feature whose
signals were built with the same ``[signals]`` settings), so that ``pilotgate usage`` and
the gate find them current, and, when the plan sets ``store.retention_days``, prunes the
plan's feature's raw rows older than that once a day.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = ["ENV", "ServeConfig", "Upkeep", "app_factory", "base_url", "bind", "run_server"]

ENV = "PILOTGATE_SERVE_CONFIG"
REFRESH_S = 10.0
SIGNALS_S = 30.0
PRUNE_EVERY = timedelta(days=1)
log = logging.getLogger("pilotgate.serve")


@dataclass(frozen=True)
class ServeConfig:
    """What a worker needs to build the same app as the parent (no secrets: keys are in
    the store, hashed)."""

    store: str
    plan: str | None = None
    require_key: bool = True
    max_body_bytes: int = 16 * 1024 * 1024
    redact: bool = True
    pseudonymise_ids: bool = True
    redact_patterns: dict[str, str] = field(default_factory=dict)
    allowed_hosts: list[str] = field(default_factory=list)
    dashboard_login: bool | None = None

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeConfig:
        return cls(**json.loads(os.environ[ENV]))


def build_app(cfg: ServeConfig) -> tuple[FastAPI, Store]:
    """The app over a store opened here, with its upkeep thread started."""
    from pilotgate._web.app import ServerSettings, create_app
    from pilotgate.plan import resolve_settings
    from pilotgate.store import open_store

    plan = resolve_settings(store=cfg.store, plan=cfg.plan).plan if cfg.plan else None
    settings = ServerSettings(
        require_key=cfg.require_key,
        max_body_bytes=cfg.max_body_bytes,
        redact=cfg.redact,
        pseudonymise_ids=cfg.pseudonymise_ids,
        redact_patterns=cfg.redact_patterns,
        plan=plan,
        allowed_hosts=tuple(cfg.allowed_hosts),
        dashboard_login=cfg.dashboard_login,
        # the secret never goes through the config: `--session-secret` sets this variable
        session_secret=os.environ.get("PILOTGATE_SESSION_SECRET") or None,
    )
    store = open_store(cfg.store)
    Upkeep(store, plan).start()
    return create_app(store, settings=settings), store


def app_factory() -> FastAPI:
    """uvicorn's ``--factory`` target in each worker process."""
    app, _store = build_app(ServeConfig.from_env())
    return app


class Upkeep(threading.Thread):
    """Refreshes rollups every ``REFRESH_S``, signals every ``SIGNALS_S``, and applies
    ``store.retention_days`` daily."""

    def __init__(
        self,
        store: Store,
        plan: Plan | None,
        *,
        every: float = REFRESH_S,
        signals_every: float = SIGNALS_S,
    ):
        super().__init__(name="pilotgate-upkeep", daemon=True)
        self.store, self.plan, self.every = store, plan, every
        self.signals_every = timedelta(seconds=signals_every)
        self.stopped = threading.Event()
        self.last_prune: datetime | None = None
        self.last_signals: datetime | None = None

    def run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.every)

    def tick(self, now: datetime | None = None) -> dict[str, Any] | None:
        """One round: the retention rule when due, then the rollups. Never raises (a
        failed round is logged and retried next time)."""
        from pilotgate.store.rollups import refresh_rollups

        now = now or datetime.now(UTC)
        pruned = None
        try:
            pruned = self._retention(now)
            refresh_rollups(self.store)
            self._signals(now)
        except Exception as exc:  # upkeep must never take the server down
            log.warning("upkeep failed (retrying in %.0f s): %s", self.every, exc)
        return pruned

    def _signals(self, now: datetime) -> list[str]:
        """Refresh the signals that readers will ask for, when due; returns the features.

        The plan's feature (built here the first time), and every feature whose stored
        signals have the settings this server would use (a feature built with other
        ``[signals]`` settings is left to its readers: refreshing it with these would
        rebuild it, and theirs would rebuild it back)."""
        if self.last_signals is not None and now - self.last_signals < self.signals_every:
            return []
        from pilotgate.plan import SignalsSection
        from pilotgate.signals import features_built_with, refresh_signals

        cfg = self.plan.signals if self.plan is not None else SignalsSection()
        features = set(features_built_with(self.store, cfg))
        if self.plan is not None:
            features.add(self.plan.feature.name)
        for feature in sorted(features):
            refresh_signals(self.store, feature, cfg)
        self.last_signals = now
        return sorted(features)

    def _retention(self, now: datetime) -> dict[str, Any] | None:
        days = self.plan.store.retention_days if self.plan is not None else None
        if days is None or self.plan is None:
            return None
        if self.last_prune is not None and now - self.last_prune < PRUNE_EVERY:
            return None
        from pilotgate.store import prune

        feature = self.plan.feature.name
        res = prune(self.store, now - timedelta(days=days), feature=feature)
        self.last_prune = now
        log.warning(
            "retention (store.retention_days = %d): pruned %d interactions, %d feedback, "
            "%d steps of %s before %s",
            days, res.interactions, res.feedback, res.steps, feature, res.before,
        )  # fmt: skip
        return res.to_json()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port), inheritable by workers.

    Bound before anything is printed, so the URL a person is shown is the real one.

    Raises:
        ConfigError: the address cannot be bound (a port in use), in one line.
    """
    from pilotgate.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            where="--host/--port",
            fix="choose another --port (0 picks a free one)",
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(host: str, sock: socket.socket) -> str:
    """``http://HOST:PORT``: the host as given (an IPv6 one in brackets), the bound port."""
    return f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}"


def run_server(cfg: ServeConfig, sock: socket.socket, *, workers: int = 1) -> None:
    """Serve the app on ``sock`` until stopped; the socket (and the store) close after.

    With ``workers`` > 1 the store is migrated once here, then uvicorn starts that many
    processes which build the app from ``cfg`` in their environment (:func:`app_factory`).
    """
    import uvicorn

    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            from pilotgate.store import open_store

            open_store(cfg.store).close()  # migrate once, before the workers race to
            os.environ[ENV] = cfg.to_env()
            config = uvicorn.Config(
                "pilotgate._web._serve:app_factory", factory=True, workers=workers,
                log_level="warning", access_log=False,
            )  # fmt: skip
            Multiprocess(config, sockets=[sock]).run()
            return
        app, store = build_app(cfg)
        try:
            config = uvicorn.Config(app, log_level="warning", access_log=False)
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            store.close()
    finally:
        sock.close()
