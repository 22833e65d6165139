"""A loopback ingest server speaking the collector's ``POST /v1/ingest`` contract.

A small stdlib HTTP server (real sockets, real SQLite store) with the contract of
``pilotgate serve`` -- bearer key, 413 over a size limit, per-record errors, committed
before the 200 -- plus switches the real collector does not have (answer 503, hang) so
the SDK's failure paths can be driven directly. Process-level tests use the real
collector (``pilotgate serve``).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pilotgate.records import parse_ingest_line
from pilotgate.store import Store


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the SDK's exit deadline) is expected here


class IngestServer:
    """A loopback ``/v1/ingest`` endpoint writing into a real SQLite store."""

    def __init__(self, db: Path, *, key: str = "k-test", max_bytes: int = 1 << 20) -> None:
        self.store = Store(f"sqlite:///{db}")
        self.key = key
        self.max_bytes = max_bytes
        self.status: int | None = None  # force this status (e.g. 503)
        self.hang_s = 0.0
        self.requests = 0
        self.statuses: list[int] = []
        self.traces: list[dict[str, Any]] = []  # OTLP/JSON bodies posted to /v1/traces
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                server.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                server.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if server.hang_s:
                    time.sleep(server.hang_s)
                if server.status is not None:
                    return self._reply(server.status, {"detail": "forced"})
                if self.path == "/v1/traces":
                    server.traces.append(json.loads(raw))
                    return self._reply(200, {})
                if self.path != "/v1/ingest":
                    return self._reply(404, {"detail": "not found"})
                if self.headers.get("Authorization") != f"Bearer {server.key}":
                    return self._reply(401, {"detail": "bad key"})
                if length > server.max_bytes:
                    return self._reply(413, {"detail": "too large"})
                records = json.loads(raw)["records"]
                good, errors = [], []
                for i, rec in enumerate(records):
                    try:
                        good.append(parse_ingest_line(rec))
                    except ValueError as exc:
                        errors.append({"index": i, "error": str(exc)})
                with server.lock:
                    new = server.store.ingest(good)
                self._reply(
                    200,
                    {"accepted": len(good), "stored_new": sum(new.values()), "errors": errors},
                )

        return Handler

    def ids(self) -> list[str]:
        return [r["id"] for r in self.store.iter_interactions(columns=["id"])]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.store.close()
