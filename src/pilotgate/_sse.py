"""Server-sent events, read by the WHATWG ``text/event-stream`` rules, with bounded buffers.

Shared by the load engine's clients and the ``openai:`` target, so both read a stream the
way a browser's ``EventSource`` (and the provider SDKs) do:

* a line ends at CRLF, LF or CR, also when the CR and the LF arrive in different reads;
* a line starting with ``:`` is a comment; ``field:value`` drops one space after the
  colon; a line without a colon is a field with an empty value;
* ``data`` lines accumulate, joined by LF, and the event is dispatched at the blank
  line that ends it (an event with no data is not dispatched); ``event``, ``id`` and
  ``retry`` are kept as the spec says; unknown fields are ignored;
* a leading byte-order mark is dropped; an event cut off by the end of the stream (no
  blank line after it) is never dispatched.

Each dispatched event is ``(arrival time, data)``: the time the bytes that completed it
arrived, as the caller stamps them.
"""

from __future__ import annotations

__all__ = ["SseError", "SseParser"]

_BOM = b"\xef\xbb\xbf"


class SseError(ValueError):
    """The stream broke a bound (a line or an event's data too long)."""


class SseParser:
    """Incremental event-stream parser: :meth:`feed` bytes, read :attr:`events`.

    Args:
        max_line: most bytes of one line (also of an unfinished line held between reads).
        max_event: most bytes of one event's data.
    """

    __slots__ = (
        "events", "event_types", "last_id", "retry_ms", "_buf", "_data", "_size", "_type",
        "_cr", "_started", "max_line", "max_event",
    )  # fmt: skip

    def __init__(self, *, max_line: int = 1024 * 1024, max_event: int = 4 * 1024 * 1024) -> None:
        self.events: list[tuple[float, bytes]] = []
        self.event_types: list[bytes] = []  # the ``event`` field of each event (b"message")
        self.last_id = b""
        self.retry_ms: int | None = None
        self.max_line = max_line
        self.max_event = max_event
        self._buf = b""
        self._data: list[bytes] = []
        self._size = 0
        self._type = b""
        self._cr = False  # the last read ended in CR: an LF starting the next one is its pair
        self._started = False

    def feed(self, data: bytes, now: float) -> None:
        """Bytes of the stream that arrived at ``now``."""
        if not data:  # nothing arrived (and a pending CR must still meet its LF)
            return
        if not self._started:
            data = self._buf + data
            if len(data) < 3 and _BOM.startswith(data):
                self._buf = data  # too short to tell whether it is a BOM yet
                return
            self._buf = b""
            self._started = True
            if data.startswith(_BOM):
                data = data[3:]
        if self._cr:
            self._cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if b"\r" in data:
            self._cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._buf:
            data = self._buf + data
        lines = data.split(b"\n")
        rest = lines.pop()
        if len(rest) > self.max_line:
            raise SseError(f"an event-stream line longer than {self.max_line} bytes")
        self._buf = rest
        for line in lines:
            if line[:6] == b"data: " and len(line) <= self.max_line:  # the usual line
                self._size += len(line) - 5
                if self._size > self.max_event:
                    raise SseError(f"an event's data longer than {self.max_event} bytes")
                self._data.append(line[6:])
            elif line:
                self._field(line)
            elif self._data:
                self._dispatch(now)
            else:
                self._type = b""

    def _field(self, line: bytes) -> None:
        if len(line) > self.max_line:
            raise SseError(f"an event-stream line longer than {self.max_line} bytes")
        name, sep, value = line.partition(b":")
        if not name:
            return  # a comment
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._size += len(value) + 1
            if self._size > self.max_event:
                raise SseError(f"an event's data longer than {self.max_event} bytes")
            self._data.append(value)
        elif name == b"event":
            self._type = value
        elif name == b"id":
            if b"\0" not in value:
                self.last_id = value
        elif name == b"retry":
            if value.isdigit():
                self.retry_ms = int(value)

    def _dispatch(self, now: float) -> None:
        data = self._data
        self.events.append((now, data[0] if len(data) == 1 else b"\n".join(data)))
        self.event_types.append(self._type or b"message")
        self._data = []
        self._size = 0
        self._type = b""
