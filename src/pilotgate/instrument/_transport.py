"""Where batches go: the collector over HTTP (remote mode) or the store directly (local mode).

Both speak the same tiny protocol to the exporter: ``send(records, timeout)`` returns
``(stored_or_acknowledged, rejected)`` or raises :class:`Retry` (the backend is away; keep
the records and try later), :class:`TooLarge` (split the batch) or :class:`Reject` (the
backend refuses the batch itself; retrying cannot help).
"""

from __future__ import annotations

import http.client
import json
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

    def __init__(self, base_url: str, api_key: str | None) -> None:
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

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Any = None

    def open(self) -> None:
        """Open (and migrate) the store now, before any record is taken from the buffer."""
        from pilotgate.errors import PilotgateError

        if self._store is not None:
            return
        try:
            from pilotgate.store import Store

            self._store = Store(self.url)
        except PilotgateError as exc:
            raise Retry(f"store unavailable: {exc.what}") from None
        except Exception as exc:
            raise Retry(f"store unavailable: {type(exc).__name__}: {exc}") from None

    def send(self, records: list[Record], timeout: float) -> tuple[int, int]:
        from pilotgate.errors import PilotgateError
        from pilotgate.records import parse_ingest_line

        valid = []
        rejected = 0
        for rec in records:
            try:
                valid.append(parse_ingest_line(rec))
            except ValueError:
                rejected += 1
        try:
            if self._store is None:
                from pilotgate.store import Store

                self._store = Store(self.url)
            self._store.ingest(valid)
        except PilotgateError as exc:
            self.close()
            raise Retry(f"store unavailable: {exc.what}") from None
        except Exception as exc:
            self.close()
            raise Retry(f"store unavailable: {type(exc).__name__}: {exc}") from None
        return len(valid), rejected

    def close(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                pass
            self._store = None
