"""Streaming readers for the files ``pilotgate ingest`` accepts: JSONL, CSV, OTLP/JSON.

Each yields ``(line, object or BadLine, bytes read so far)`` one record at a time, so a
file of any size is read in constant memory and a progress bar can follow the bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pilotgate._json import loads_line
from pilotgate.errors import InputError
from pilotgate.ingest._otlp import otlp_json_records
from pilotgate.records import BadLine, json_error_text

__all__ = ["SKIPPED", "detect_format", "jsonl_items", "read_records"]

Item = tuple[int, Any, int]
SKIPPED = object()
"""Yielded (in place of a record) for an OTLP span that is not a GenAI call."""

_FLOATS = {"latency_ms", "ttft_ms", "dwell_ms", "score"}
_INTS = {"tokens_in", "tokens_out"}
_BOOLS = {"accepted"}
_JSONISH = {"input", "metadata"}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def detect_format(path: Path) -> str:
    """``jsonl``, ``csv`` or ``otlp`` from the extension (``.json`` files are OTLP exports)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".csv":
        return "csv"
    if ext == ".json":
        return "otlp"
    return "jsonl"


_BOM = b"\xef\xbb\xbf"


def _open(path: Path) -> io.BufferedReader:
    if not path.exists():
        raise InputError("file not found", where=str(path), fix="check the path")
    if path.is_dir():
        raise InputError("is a directory", where=str(path), fix="pass files, not folders")
    return path.open("rb")


def _expand(lineno: int, obj: Any, pos: int, where: str) -> Iterator[Item]:
    """A JSONL line that holds a whole OTLP export (as the OTel collector's file exporter
    writes them) expands into its spans; any other object passes through."""
    if isinstance(obj, dict) and "resourceSpans" in obj:
        try:
            for _, rec in otlp_json_records(obj):
                yield lineno, SKIPPED if rec is None else rec, pos
        except (ValueError, TypeError, AttributeError) as exc:
            yield lineno, BadLine(where, lineno, f"bad OTLP export: {exc}"), pos
        return
    yield lineno, obj, pos


def read_jsonl(path: Path) -> Iterator[Item]:
    with _open(path) as fh:
        yield from jsonl_items(fh, str(path))


def jsonl_items(
    lines: Iterable[bytes], where: str, first_line: int = 1, base_pos: int = 0
) -> Iterator[Item]:
    """The items of JSONL ``lines`` (bytes, newlines kept) that start at ``first_line``.

    ``where`` names the file in bad-line reports; ``base_pos`` is the byte offset of the
    first line, so positions stay file offsets when a file is read in blocks.
    """
    pos = base_pos
    for lineno, raw in enumerate(lines, start=first_line):
        pos += len(raw)
        if lineno == 1 and raw.startswith(_BOM):  # Excel and Notepad write one
            raw = raw[len(_BOM) :]
        if not raw.strip():
            continue
        try:
            obj = loads_line(raw)
        except UnicodeDecodeError as exc:
            yield lineno, BadLine(where, lineno, f"not UTF-8 (byte {exc.start})"), pos
            continue
        except json.JSONDecodeError as exc:
            msg = f"invalid JSON: {json_error_text(exc)}"
            yield lineno, BadLine(where, lineno, msg), pos
            continue
        if type(obj) is dict and "resourceSpans" not in obj:
            yield lineno, obj, pos  # the common case, without a generator per line
        else:
            yield from _expand(lineno, obj, pos, where)


def _csv_value(field: str, value: str) -> Any:
    if field in _FLOATS:
        return float(value)
    if field in _INTS:
        return int(value)
    if field in _BOOLS:
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{field}: not a boolean: {value!r}")
    if field in _JSONISH and value[:1] in ("[", "{"):
        return json.loads(value)
    return value


def read_csv(path: Path) -> Iterator[Item]:
    """CSV with a header row of ingest field names; empty cells mean "absent"."""
    with _open(path) as raw_fh:
        fh = io.TextIOWrapper(raw_fh, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(fh)
        try:
            header = reader.fieldnames
        except (UnicodeDecodeError, csv.Error) as exc:
            yield 1, BadLine(str(path), 1, f"unreadable CSV header: {exc}"), 0
            return
        if not header:
            return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                line = reader.line_num
                yield line, BadLine(str(path), line, f"unreadable CSV row: {exc}"), raw_fh.tell()
                continue
            line = reader.line_num
            obj: dict[str, Any] = {}
            try:
                for key, value in row.items():
                    if key is None:
                        raise ValueError("more cells than header columns")
                    if value is None or value == "":
                        continue
                    obj[key] = _csv_value(key, value)
            except ValueError as exc:
                yield line, BadLine(str(path), line, f"{exc}"), raw_fh.tell()
                continue
            yield line, obj, raw_fh.tell()


def read_otlp(path: Path) -> Iterator[Item]:
    """A whole OTLP/JSON export document (or JSON Lines of them)."""
    with _open(path) as fh:
        data = fh.read()
    size = len(data)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        # not one document: perhaps one export per line
        yield from read_jsonl(path)
        return
    if isinstance(doc, list):  # a JSON array of ingest records is accepted too
        for i, obj in enumerate(doc, start=1):
            yield i, obj, size
        return
    if not isinstance(doc, dict) or "resourceSpans" not in doc:
        yield 1, BadLine(str(path), 1, "not an OTLP/JSON export (no resourceSpans)"), size
        return
    yield from _expand(1, doc, size, str(path))


def read_records(path: Path, fmt: str | None = None) -> Iterator[Item]:
    """Records of ``path`` in the given or detected format."""
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "otlp":
        return read_otlp(path)
    return read_jsonl(path)
