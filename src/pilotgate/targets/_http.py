"""``http:URL`` — any JSON-over-HTTP service: a request template in, a response path out.

Most features in a pilot sit behind a team's own endpoint, not a provider API. The
template is JSON with ``"{{input}}"`` placeholders; we substitute into the decoded
structure (never into JSON text), so quotes and newlines in an input cannot break the
request, and a value that is exactly ``"{{input}}"`` can receive chat messages whole.
"""

from __future__ import annotations

import time
from typing import Any

from pilotgate._response_path import DEFAULT_RESPONSE_PATH, MissingPath, lookup, parse_path
from pilotgate.records import input_text
from pilotgate.targets._base import Input
from pilotgate.targets._config import TargetConfig
from pilotgate.targets._http_common import HttpTargetBase, json_loads, read_body
from pilotgate.targets._result import TargetResult

__all__ = ["DEFAULT_RESPONSE_PATH", "DEFAULT_TEMPLATE", "HttpTarget", "lookup", "render"]

PLACEHOLDER = "{{input}}"
DEFAULT_TEMPLATE: dict[str, Any] = {"input": PLACEHOLDER}


def render(template: Any, input: Input) -> Any:
    """``template`` with every ``"{{input}}"`` replaced, recursively through dicts and lists.

    A string that *is* the placeholder becomes the input itself (text or messages); a
    string that *contains* it gets the text spliced in (for messages, the last user
    message).
    """
    if isinstance(template, str):
        if template == PLACEHOLDER:
            return input
        if PLACEHOLDER in template:
            return template.replace(PLACEHOLDER, input_text(input))
        return template
    if isinstance(template, dict):
        return {k: render(v, input) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, input) for v in template]
    return template


class HttpTarget(HttpTargetBase):
    """POSTs the rendered template to the URL and reads the output at the response path."""

    kind = "http"

    def __init__(self, config: TargetConfig) -> None:
        super().__init__(config)
        self._template = (
            config.request_template if config.request_template is not None else DEFAULT_TEMPLATE
        )
        self._path_text = config.response_path or DEFAULT_RESPONSE_PATH
        self._path = parse_path(self._path_text)
        self._tokens_in = parse_path(config.tokens_in_path) if config.tokens_in_path else None
        self._tokens_out = parse_path(config.tokens_out_path) if config.tokens_out_path else None

    def body(self, input: Input) -> Any:
        """The JSON request for ``input``: the template with the input substituted."""
        return render(self._template, input)

    async def _attempt(self, input: Input, result: TargetResult) -> None:
        async with await self._post(
            self.endpoint, result, json=self.body(input), headers=self._headers()
        ) as resp:
            if await self._check_error_status(resp, result):
                return
            data = json_loads(await read_body(resp))
            result.end = time.perf_counter()
        try:
            value = lookup(data, self._path)
        except MissingPath:
            value = None
        if value is None:
            result.error = "bad_response"
            result.detail = self.scrub(f"no {self._path_text!r} in response: {str(data)[:200]}")
            return
        result.output = value if isinstance(value, str) else _json_text(value)
        result.tokens_in = self._count(data, self._tokens_in)
        result.tokens_out = self._count(data, self._tokens_out)

    @staticmethod
    def _count(data: Any, path: list[str] | None) -> int | None:
        if path is None:
            return None
        try:
            value = lookup(data, path)
        except MissingPath:
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
