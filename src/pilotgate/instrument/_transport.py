"""Where batches go: the collector over HTTP (remote mode) or the store directly (local mode).

Both speak the same tiny protocol to the exporter: ``send(records, timeout)`` returns
``(stored_or_acknowledged, rejected)`` or raises :class:`Retry` (the backend is away; keep
the records and try later), :class:`TooLarge` (split the batch) or :class:`Reject` (the
backend refuses the batch itself; retrying cannot help).
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = ["CollectorTransport", "Reject", "Retry", "StoreTransport", "TooLarge", "Transport"]

Record = dict[str, Any]


class Retry(Exception):
    """The backend is unavailable; ``after`` is a server-requested delay in seconds."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Unauthorized(Retry):
    """The collector refused the API key (401/403): kept and retried, and said out loud."""


class TooLarge(Exception):
    """The batch is over the backend's size limit."""


class Reject(Exception):
    """The backend refused the batch (not a transient condition)."""


class Transport(Protocol):
    def open(self) -> None: ...

    def send(self, records: list[Record], timeout: float) -> tuple[int, int]: ...

    def close(self) -> None: ...


class CollectorTransport:
    """``POST {collector}/v1/ingest`` with a bearer key, over one keep-alive connection."""

    def __init__(
        self, base_url: str, api_key: str | None, max_bytes: int = 4 * 1024 * 1024
    ) -> None:
        self.max_bytes = max_bytes
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.path = parts.path.rstrip("/") + "/v1/ingest"
        self.headers = {"Content-Type": "application/json", "User-Agent": "pilotgate-sdk"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._conn: http.client.HTTPConnection | None = None

    def open(self) -> None:
        """Nothing to do ahead of time: connections are made on first send."""

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=timeout)
        else:
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
        return self._conn

    def request(self, body: bytes, timeout: float) -> tuple[int, bytes, str | None]:
        """POST ``body``; (status, response body, Retry-After) or :class:`Retry`."""
        try:
            conn = self._connection(timeout)
            conn.request("POST", self.path, body=body, headers=self.headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.will_close:
                self.close()
            return resp.status, data, resp.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Retry(
                f"{self.host}:{self.port} unreachable: {type(exc).__name__}: {exc}"
            ) from None

    def send(self, records: list[Record], timeout: float) -> tuple[int, int]:
        body = json.dumps(
            {"records": records},
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
            check_circular=False,  # rows were checked when frozen: no cycles
        ).encode("utf-8")
        if len(body) > self.max_bytes and len(records) > 1:
            raise TooLarge(f"{len(body)} bytes for {len(records)} records: split before sending")
        status, data, retry_after = self.request(body, timeout)
        if 200 <= status < 300:
            return _accepted(data, len(records))
        if status == 413:
            raise TooLarge(f"collector said 413 for {len(records)} records")
        if status in (401, 403):
            raise Unauthorized(f"collector said {status}: check api_key (pilotgate keys create)")
        if status in (404, 405):  # a wrong URL is a configuration problem: keep the data
            raise Retry(f"collector said {status} for {self.path}: check the collector URL")
        if status in (408, 425, 429) or status >= 500:
            raise Retry(f"collector said {status}", after=_seconds(retry_after))
        raise Reject(f"collector said {status}: {data[:200]!r}")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def _accepted(data: bytes, n: int) -> tuple[int, int]:
    try:
        doc = json.loads(data)
    except ValueError:
        return n, 0
    errors = doc.get("errors") if isinstance(doc, dict) else None
    rejected = len(errors) if isinstance(errors, list) else 0
    return n - rejected, rejected


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class StoreTransport:
    """Validate each record and write the batch into a :class:`~pilotgate.store.Store`.

    The store is opened (and migrated) on first use, on the exporter's thread, so that
    ``configure()`` returns at once and a store that cannot be opened yet is just "away".
    """

    def __init__(self, url: str, *, pseudonymise: bool = False) -> None:
        self.url = url
        self.pseudonymise = pseudonymise
        self._pseud: Any = None
        self._store: Any = None
        self.normalised = 0
        """Characters replaced (NUL, lone surrogates) in the records stored so far."""
        self.io_lock = threading.Lock()
        """Held while the store is opened or written: a fork waits for it (see ``_api``)."""
        _warm_store_imports(url)

    def open(self) -> None:
        """Open (and migrate) the store now, before any record is taken from the buffer."""
        with self.io_lock:
            self._open()

    def _open(self) -> None:
        from pilotgate.errors import PilotgateError
        from pilotgate.store import Store

        if self._store is not None:
            return
        try:
            self._store = Store(self.url)
        except PilotgateError as exc:
            raise Retry(f"store unavailable: {exc.what}") from None
        except Exception as exc:
            raise Retry(f"store unavailable: {type(exc).__name__}: {exc}") from None

    def send(self, records: list[Record], timeout: float) -> tuple[int, int]:
        """Store what can be stored; a record the store cannot hold is counted as rejected
        (never retried: it would fail forever); :class:`Retry` only if the store is away."""
        with self.io_lock:
            return self._send(records, timeout)

    def _send(self, records: list[Record], timeout: float) -> tuple[int, int]:
        from pilotgate.errors import PilotgateError
        from pilotgate.ingest import InvalidRecord, store_batch, validate_record

        valid = []
        rejected = 0
        counts: dict[str, int] = {}
        for rec in records:
            try:
                valid.append(validate_record(rec, counts=counts))
            except (InvalidRecord, RecursionError):
                rejected += 1
        self.normalised += sum(counts.values())
        try:
            if self._store is None:
                from pilotgate.store import Store

                self._store = Store(self.url)
            if self.pseudonymise:
                self._pseudonyms(valid)
            fate = store_batch(self._store, valid)
        except PilotgateError as exc:
            self.close()
            raise Retry(f"store unavailable: {exc.what}") from None
        except Exception as exc:
            self.close()
            raise Retry(f"store unavailable: {type(exc).__name__}: {exc}") from None
        return len(valid) - len(fate.refused), rejected + len(fate.refused)

    def _pseudonyms(self, records: list[dict[str, Any]]) -> None:
        if self._pseud is None:
            from pilotgate.redact import Pseudonymiser

            self._pseud = Pseudonymiser(self._store.secret("pseudonym"))
        for rec in records:
            self._pseud.record(rec)

    def close(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                pass
            self._store = None


def _warm_store_imports(url: str) -> None:
    """Import, on the caller's thread, every module the exporter thread needs for ``url``.

    A module that the background thread is still importing when the process forks stays
    half-initialised in the child for good (its importing thread does not exist there), and
    every later import of it fails: gunicorn ``--preload`` or a ``multiprocessing`` pool
    started right after ``configure()`` would record nothing. Importing here, before
    ``configure()`` returns, leaves the thread nothing to import. Never raises: a store that
    cannot be imported is reported by ``open()`` like any unavailable store.
    """
    try:
        import alembic.command  # migrations run when the store opens
        import alembic.config
        import alembic.runtime.migration
        import alembic.script
        import alembic.util  # noqa: F401
        from sqlalchemy.engine import make_url

        import pilotgate.errors
        import pilotgate.records
        import pilotgate.redact  # pseudonyms
        import pilotgate.store  # noqa: F401

        # validation and per-record fate (names, not the package: it loads them lazily)
        from pilotgate.ingest import InvalidRecord, store_batch, validate_record  # noqa: F401
        from pilotgate.store import normalise_url

        dialect = make_url(normalise_url(url)).get_dialect()
        dialect.import_dbapi()
        backend = dialect.name
        __import__(f"alembic.ddl.{'postgresql' if backend == 'postgresql' else 'sqlite'}")
    except Exception:
        pass
