"""What the OpenAI and generic HTTP adapters share: headers, timeouts, classification.

The API key is read from the environment at each request and never kept on the
target, so it cannot leak through ``repr``, the fingerprint, a pickled config or an
error message (details are scrubbed of it anyway, in case a server echoes it back).
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from pilotgate._sse import SseError
from pilotgate.errors import TargetError
from pilotgate.targets._base import _ENV_REF, BaseTarget, safe_url
from pilotgate.targets._config import TargetConfig
from pilotgate.targets._result import TargetResult, error_for_status
from pilotgate.targets._session import REUSED, get_session, release_session

__all__ = ["MAX_BODY", "HttpTargetBase", "ResponseTooLarge", "headers_of_interest", "read_body"]

MAX_BODY = 64 * 1024 * 1024
"""Most bytes of one response body a target reads (a stream's included)."""


class ResponseTooLarge(ValueError):
    """A response body over :data:`MAX_BODY`."""


async def read_body(resp: aiohttp.ClientResponse, limit: int = MAX_BODY) -> bytes:
    """The whole body of ``resp``, refused past ``limit`` bytes (a broken or hostile server)."""
    n = resp.content_length
    if n is not None:  # aiohttp reads exactly that many bytes: bounded already
        if n > limit:
            raise ResponseTooLarge(f"content-length {n} over {limit} bytes")
        return await resp.read()
    parts: list[bytes] = []
    got = 0
    async for chunk in resp.content.iter_any():
        got += len(chunk)
        if got > limit:
            raise ResponseTooLarge(f"body over {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def headers_of_interest(headers: Mapping[str, str]) -> dict[str, str]:
    """Rate-limit and retry headers, lower-cased: what a load report needs."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low.startswith("x-ratelimit-") or low in ("retry-after", "retry-after-ms"):
            out[low] = value
    return out


_MAX_RESENDS = 3
_STALE_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})


def _stale(exc: aiohttp.ClientError) -> bool:
    """The error of a request written to a connection the server had already closed."""
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return True
    return isinstance(exc, aiohttp.ClientOSError) and exc.errno in _STALE_ERRNOS


class HttpTargetBase(BaseTarget):
    """A target reached over HTTP through the process's shared aiohttp session."""

    def __init__(self, config: TargetConfig) -> None:
        super().__init__(config)
        if not config.url:
            raise TargetError(
                f"{config.kind} target needs a url",
                fix=f"write {config.kind}:http://host:port/… or set url in [targets.NAME]",
            )
        parts = urlsplit(config.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(
                f"not an http(s) URL: {safe_url(config.url)!r}",
                fix="use http://host:port/path or https://…",
            )
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._timeout = aiohttp.ClientTimeout(total=config.timeout_s)
        for env in self._env_names():
            if env not in os.environ:
                raise TargetError(
                    f"environment variable {env} is not set",
                    where=f"target {self.describe()}",
                    fix=f"export {env}=<the key> (the plan names the variable, never the key)",
                )

    def _env_names(self) -> list[str]:
        names = [self._config.api_key_env] if self._config.api_key_env else []
        for value in self._config.headers.values():
            ref = _ENV_REF.match(value)
            if ref:
                names.append(ref.group(1))
        return names

    def describe(self) -> str:
        return f"{self.kind}:{safe_url(self._config.url)}"

    @property
    def endpoint(self) -> str:
        """The URL every call is sent to (load tests check it is the only one)."""
        return self._config.url or ""

    def request_headers(self) -> dict[str, str]:
        """The headers of a call, API key included: for engines that send the bytes themselves.

        Raises:
            TargetError: the API-key variable is not set (any more).
        """
        return self._headers()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for name, value in self._config.headers.items():
            ref = _ENV_REF.match(value)
            headers[name] = os.environ.get(ref.group(1), "") if ref else value
        if self._config.api_key_env:
            key = os.environ.get(self._config.api_key_env)
            if key is None:
                raise TargetError(
                    f"environment variable {self._config.api_key_env} is not set",
                    where=f"target {self.describe()}",
                    fix=f"export {self._config.api_key_env}=<the key>",
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _session(self) -> aiohttp.ClientSession:
        return get_session(self)

    async def _post(self, url: str, result: TargetResult, **kw: Any) -> aiohttp.ClientResponse:
        """POST ``url``; re-sent on a fresh connection when a kept-alive one was closed by
        the server before any answer (its idle timeout raced this request), each re-send
        counted in ``result.retries``, as production clients do and count."""
        session = self._session()
        for _ in range(_MAX_RESENDS):
            cell = [False]
            token = REUSED.set(cell)
            try:
                return await session.post(url, timeout=self._timeout, **kw)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if not cell[0] or not _stale(exc):
                    raise
                result.retries += 1
            finally:
                REUSED.reset(token)
        return await session.post(url, timeout=self._timeout, **kw)

    async def aclose(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        await release_session(self)

    async def _check_error_status(self, resp: aiohttp.ClientResponse, result: TargetResult) -> bool:
        """Record status and headers; on a non-2xx fill the error and return True."""
        result.status = resp.status
        result.headers = headers_of_interest(resp.headers)
        error = error_for_status(resp.status)
        if error is None:
            return False
        result.error = error
        try:
            body = (await resp.content.read(2048)).decode("utf-8", "replace")
        except (aiohttp.ClientError, TimeoutError):
            body = ""
        result.detail = self.scrub(f"HTTP {resp.status} {resp.reason or ''}: {body}")
        result.end = time.perf_counter()
        return True

    def _classify(self, exc: Exception) -> tuple[str, str]:
        where = f"{self._host}:{self._port}"
        if isinstance(exc, TimeoutError):
            return "timeout", f"no complete answer from {where} within {self._config.timeout_s:g} s"
        if isinstance(exc, aiohttp.ClientPayloadError):
            return "bad_response", f"response body from {where} cut short: {exc}"
        if isinstance(exc, aiohttp.ClientConnectorError):
            return "connect", f"cannot connect to {where}: {exc.os_error.strerror or exc}"
        if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
            return "connect", f"connection to {where} failed: {type(exc).__name__} {exc}"
        if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | aiohttp.ContentTypeError):
            return "bad_response", f"response from {where} is not valid JSON: {exc}"
        if isinstance(exc, ResponseTooLarge | SseError):
            return "bad_response", f"response from {where} refused: {exc}"
        return super()._classify(exc)

    async def check(self) -> None:
        """Open a TCP connection to the target's host and port, or raise TargetError."""
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), timeout=5.0
            )
        except (OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            raise TargetError(
                f"cannot reach {self._host}:{self._port} ({reason})",
                where=f"target {self.describe()}",
                fix="start the service, or fix the host/port in the target",
            ) from None
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


def json_loads(raw: bytes) -> Any:
    """Decode a JSON body (bytes), raising JSONDecodeError/UnicodeDecodeError."""
    return json.loads(raw.decode("utf-8"))
