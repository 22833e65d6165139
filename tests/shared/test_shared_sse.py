"""The event-stream parser, rule by rule (WHATWG HTML §9.2.6 "Interpreting an event stream")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotgate._sse import SseError, SseParser


def _data(*feeds: bytes, **limits: int) -> list[bytes]:
    p = SseParser(**limits)
    for i, chunk in enumerate(feeds):
        p.feed(chunk, float(i))
    return [d for _, d in p.events]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_ends_a_line(eol: bytes) -> None:
    stream = b"data: a" + eol + eol + b"data: b" + eol + eol
    assert _data(stream) == [b"a", b"b"]


def test_a_crlf_split_between_two_reads_is_one_line_end() -> None:
    # A CR ending one read and the LF starting the next make one line end, not two (which
    # would dispatch "a" alone, then "b").
    assert _data(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [b"a\nb"]
    assert _data(b"data: a\r", b"", b"\n\n") == [b"a"]  # an empty read in between


def test_data_lines_join_with_lf_and_dispatch_at_the_blank_line() -> None:
    assert _data(b'data: {"a":\ndata: 1}\n\n') == [b'{"a":\n1}']
    assert _data(b"data: x\n") == []  # no blank line yet: not dispatched
    assert _data(b"data: x\n", b"\n") == [b"x"]


def test_comments_are_ignored_even_inside_an_event() -> None:
    assert _data(b": hello\ndata: a\n: data: not data\ndata: b\n\n:\n\n") == [b"a\nb"]


def test_one_space_after_the_colon_is_dropped_and_only_one() -> None:
    assert _data(b"data:x\n\ndata:  y\n\ndata\n\ndata:\n\n") == [b"x", b" y", b"", b""]


def test_a_blank_line_without_data_dispatches_nothing_and_resets_the_type() -> None:
    p = SseParser()
    p.feed(b"event: ping\n\nid: 7\n\ndata: a\n\nevent: done\ndata: b\n\n", 0.0)
    assert [d for _, d in p.events] == [b"a", b"b"]
    assert p.event_types == [b"message", b"done"]
    assert p.last_id == b"7"


def test_id_with_nul_and_non_numeric_retry_are_ignored() -> None:
    p = SseParser()
    p.feed(b"id: 1\nretry: 250\n\nid: a\x00b\nretry: 9x\n\nretry: +5\n\n", 0.0)
    assert (p.last_id, p.retry_ms) == (b"1", 250)


def test_unknown_fields_are_ignored() -> None:
    assert _data(b"foo: bar\ndata: a\nDATA: b\n\n") == [b"a"]


def test_a_leading_byte_order_mark_is_dropped_even_split() -> None:
    assert _data(b"\xef\xbb\xbfdata: a\n\n") == [b"a"]
    assert _data(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == [b"a"]
    assert _data(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []  # only one is dropped


def test_an_event_is_stamped_when_its_blank_line_arrives() -> None:
    p = SseParser()
    p.feed(b"data: a\n", 1.0)
    p.feed(b"\ndata: b\n\n", 2.0)
    assert p.events == [(2.0, b"a"), (2.0, b"b")]


def test_lines_and_events_are_bounded() -> None:
    assert _data(b"data: " + b"x" * 10 + b"\n\n", max_line=16) == [b"x" * 10]
    with pytest.raises(SseError):
        _data(b"data: " + b"x" * 20 + b"\n\n", max_line=16)
    with pytest.raises(SseError):  # an unfinished line, before its end arrives
        _data(b"data: " + b"x" * 20, max_line=16)
    with pytest.raises(SseError):
        _data(b"data: " + b"x" * 20 + b"\n", max_line=16)  # not the "data: " fast path
    with pytest.raises(SseError):
        _data(b"data: 12345\n" * 4 + b"\n", max_event=20)
    with pytest.raises(SseError):
        _data(b"data:12345\n" * 4 + b"\n", max_event=20)


_STREAM = (
    b"\xef\xbb\xbf: c\r\ndata: one\r\ndata:two\r\n\r\nevent: e\rdata: 3\r\rdata\n\n"
    b'id: 9\ndata: {"k": [1,\r\ndata: 2]}\n\n: end\ndata: tail'
)


@given(st.lists(st.integers(min_value=0, max_value=len(_STREAM)), max_size=12))
def test_how_the_stream_is_split_into_reads_never_changes_the_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(_STREAM)]
    pieces = [_STREAM[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert _data(*pieces) == [b"one\ntwo", b"3", b"", b'{"k": [1,\n2]}']
