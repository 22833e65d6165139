"""Strict HTTP/1.1 response framing (RFC 9112) for the lean client, with bounded sizes.

The lean client parses a response head once per distinct head (a server's heads repeat,
so the cost is paid once per run), which leaves room to be exact about what decides
where a response ends and whether its connection may be reused:

* the status line is ``HTTP/1.x SP 3DIGIT [SP reason]``;
* every field line is ``token ":" OWS value OWS``; an obs-fold continues the previous
  value (RFC 9112 §5.2); CR, LF or NUL inside a value is refused;
* a field sent more than once is one comma-separated list (RFC 9110 §5.3);
* ``Connection`` is a list of tokens: ``close`` anywhere in it closes (``close, TE``);
* ``Content-Length`` is ``1*DIGIT`` (``+5``, ``0x1a``, ``1_0``, `` 5 6`` are refused);
  a list of identical values is that value, differing values are an error;
* ``Transfer-Encoding`` whose last coding is ``chunked`` frames by chunks and overrides
  ``Content-Length`` (and then the connection is not reused, RFC 9112 §6.3); any other
  last coding means the body runs to the end of the connection;
* a chunk-size line is ``1*HEXDIG [BWS ";" ext]``, bounded in length.

Anything refused is a :class:`ProtocolError`: the attempt fails and its connection is
dropped, never reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["H1Limits", "ProtocolError", "chunk_size", "framing", "parse_head"]

_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
# RFC 9110 §5.6.2 tchar
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = b" \t"
# A whole head without obs-fold, checked in one linear pass: the status line, then field
# lines "token:value" whose values hold no CR, LF or NUL. Heads it does not match (an
# obs-fold, or an error) take the line-by-line path, which says what is wrong.
_PLAIN_HEAD = re.compile(
    rb"HTTP/1\.[0-9] [0-9]{3}(?: [^\r\n\x00]*)?"
    rb"(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n\x00]*)*"
)
_MAX_LENGTH_DIGITS = 18  # < 2**63: anything longer is refused before int()
_MAX_CHUNK_HEX = 15


class ProtocolError(ConnectionError):
    """The server's bytes are not a valid HTTP/1.1 response (treated as a connection error)."""


@dataclass(frozen=True)
class H1Limits:
    """Most bytes the lean client accepts in each part of a response.

    A load test reads whatever the target sends; a bound on every buffer keeps a broken
    or hostile server from growing the client's memory without end.
    """

    head: int = 64 * 1024
    """Status line and header fields together."""
    body: int = 64 * 1024 * 1024
    """A body (after de-chunking), streamed or not."""
    chunk_line: int = 4096
    """One chunk-size line, extensions included."""
    trailer: int = 16 * 1024
    """The trailer section after the last chunk."""
    sse_line: int = 1024 * 1024
    """One line of an event stream."""
    sse_event: int = 4 * 1024 * 1024
    """The data of one server-sent event."""


# status, keep-alive, SSE, chunked, length (-1: none), rate-limit headers present
Framing = tuple[int, bool, bool, bool, int, bool]


def _status(line: bytes) -> tuple[int, int]:
    """``(minor version, status)`` from ``HTTP/1.x SP 3DIGIT [SP reason]``."""
    if (
        len(line) < 12
        or not line.startswith(b"HTTP/1.")
        or line[7] not in _DIGITS
        or line[8:9] != b" "
        or not all(c in _DIGITS for c in line[9:12])
        or (len(line) > 12 and line[12:13] != b" ")
    ):
        raise ProtocolError(f"bad status line {line[:40]!r}")
    status = int(line[9:12])
    if status < 100:
        raise ProtocolError(f"bad status code {status}")
    return line[7] - 48, status


def parse_head(head: bytes) -> tuple[int, int, dict[bytes, bytes]]:
    """``(minor version, status, fields)`` of a head without its final CRLF CRLF.

    Field names are lower-cased; repeated fields are joined with ``", "``.
    """
    if _PLAIN_HEAD.fullmatch(head):
        return _plain_head(head)
    lines = head.split(b"\r\n")
    minor, status = _status(lines[0])
    fields: dict[bytes, bytes] = {}
    last: bytes | None = None
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):  # obs-fold: the previous value goes on
            if last is None:
                raise ProtocolError("a header section that starts with whitespace")
            _check_value(line)
            fields[last] = (fields[last] + b" " + line.strip(_OWS)).strip(_OWS)
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or any(c not in _TCHAR for c in name):
            raise ProtocolError(f"bad header line {line[:40]!r}")
        _check_value(value)
        low = name.lower()
        value = value.strip(_OWS)
        old = fields.get(low)
        fields[low] = value if old is None else old + b", " + value
        last = low
    return minor, status, fields


def _plain_head(head: bytes) -> tuple[int, int, dict[bytes, bytes]]:
    """:func:`parse_head` of a head the grammar already matched (the common, fast case)."""
    status = int(head[9:12])
    if status < 100:
        raise ProtocolError(f"bad status code {status}")
    fields: dict[bytes, bytes] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        low = name.lower()
        value = value.strip(_OWS)
        old = fields.get(low)
        fields[low] = value if old is None else old + b", " + value
    return head[7] - 48, status, fields


def _check_value(value: bytes) -> None:
    if b"\r" in value or b"\n" in value or b"\0" in value:
        raise ProtocolError("CR, LF or NUL inside a header value")


def _tokens(value: bytes | None) -> list[bytes]:
    """The elements of a comma-separated list, lower-cased, empty ones dropped."""
    if value is None:
        return []
    return [t for t in (p.strip(_OWS).lower() for p in value.split(b",")) if t]


def content_length(value: bytes) -> int:
    """A ``Content-Length`` value (a list of identical lengths counts as one)."""
    if value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS:  # the usual case (ASCII digits)
        return int(value)
    values = {p.strip(_OWS) for p in value.split(b",")}
    if len(values) != 1:
        raise ProtocolError(f"conflicting content-length {value[:40]!r}")
    (v,) = values
    if not v or len(v) > _MAX_LENGTH_DIGITS or any(c not in _DIGITS for c in v):
        raise ProtocolError(f"bad content-length {value[:40]!r}")
    return int(v)


def framing(head: bytes, limits: H1Limits) -> Framing:
    """How a response is delimited and whether its connection may carry another."""
    minor, status, fields = parse_head(head)
    conn_field = fields.get(b"connection")
    if conn_field is None:
        keep = minor >= 1
    else:
        conn = _tokens(conn_field)
        keep = b"close" not in conn and (minor >= 1 or b"keep-alive" in conn)
    ctype = fields.get(b"content-type", b"").lower()
    sse = ctype.startswith(b"text/event-stream")
    te = fields.get(b"transfer-encoding")
    length = -1
    chunked = False
    if te is not None:
        codings = _tokens(te)
        chunked = bool(codings) and codings[-1] == b"chunked"
        if codings.count(b"chunked") > 1:
            raise ProtocolError(f"chunked applied more than once: {te[:40]!r}")
        if b"content-length" in fields or minor == 0 or not chunked:
            keep = False  # RFC 9112 §6.3: ambiguous framing; never reuse the connection
    elif b"content-length" in fields:
        length = content_length(fields[b"content-length"])
        if length > limits.body:
            raise ProtocolError(f"content-length {length} over the {limits.body}-byte limit")
    ratelimit = b"\r\nx-ratelimit-" in head.lower()
    return status, keep, sse, chunked, length, ratelimit


def chunk_size(line: bytes) -> int:
    """The size on a chunk-size line (without its CRLF): ``1*HEXDIG [BWS ";" ext]``."""
    digits, sep, _ext = line.partition(b";")
    if sep:
        digits = digits.rstrip(_OWS)
    if not digits or len(digits) > _MAX_CHUNK_HEX or any(c not in _HEX for c in digits):
        raise ProtocolError(f"bad chunk size {line[:40]!r}")
    return int(digits, 16)
