"""Append-only spill files: where records wait while the backend is away.

One line per batch: ``{"items": [...]}``, compact rows of JSON values (see
``_records.freeze``; they become ingest records, redacted, only when sent), or a JSON
array of complete ingest records. Each process appends to files of its
own, holding an exclusive ``flock`` on each for as long as it owns it, so several
processes can share a spill directory: a file whose lock can be taken belongs to nobody
alive and is claimed for replay (at start, and whenever the backend comes back).

Replay is at-least-once: a file is deleted only after every line in it was acknowledged;
a crash in between replays some lines again, which the idempotent store absorbs. A line
cut short by a crash is skipped and counted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["Spill", "SpillBatch"]

Record = dict[str, Any]


def _lock(fh: IO[bytes]) -> bool:
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


@dataclass
class _File:
    path: Path
    fh: IO[bytes]  # append handle; its flock marks ownership
    size: int
    offset: int = 0  # replay position: everything before it was acknowledged


@dataclass
class SpillBatch:
    """One line read for replay; ``commit`` it once the backend has acknowledged it.

    ``kind`` is ``items`` (compact rows to expand) or ``records`` (ready ingest records).
    """

    file: _File
    end: int
    kind: str
    rows: list[Any] = field(default_factory=list)


class Spill:
    """The spill directory of one backend, as seen by this process.

    Args:
        directory: where the files live (created on first use).
        max_bytes: cap on all files' total size; past it, ``append`` reports drops.
        tag: part of this process's file names (the id prefix makes them unique).
    """

    def __init__(self, directory: Path, max_bytes: int, tag: str) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.tag = tag
        self.files: list[_File] = []
        self.total_bytes = 0
        self.corrupt_lines = 0
        self._seq = 0
        self._scanned = False

    # ------------------------------------------------------------------ writing
    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        self.dir.mkdir(parents=True, exist_ok=True)
        self.total_bytes = sum(p.stat().st_size for p in self.dir.glob("*.jsonl"))

    def _active(self) -> _File:
        if self.files and self.files[-1].path.name.startswith(f"spill-{self.tag}-"):
            return self.files[-1]
        self._seq += 1
        final = self.dir / f"spill-{self.tag}-{self._seq:04d}.jsonl"
        tmp = final.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # may hold raw text
        fh = os.fdopen(fd, "ab")
        _lock(fh)
        os.replace(tmp, final)  # appears already locked to other processes
        f = _File(final, fh, 0)
        self.files.append(f)
        return f

    def append(self, records: list[Any]) -> tuple[int, int]:
        """Write compact rows; returns (written, dropped because of the size cap)."""
        if not records:
            return 0, 0
        self._scan()
        line = _encode(records)
        if self.total_bytes + len(line) <= self.max_bytes:
            f = self._active()
            f.fh.write(line)
            f.fh.flush()
            f.size += len(line)
            self.total_bytes += len(line)
            return len(records), 0
        if len(records) == 1:
            return 0, 1
        mid = len(records) // 2
        w1, d1 = self.append(records[:mid])
        w2, d2 = self.append(records[mid:])
        return w1 + w2, d1 + d2

    # ------------------------------------------------------------------ replay
    def claim_orphans(self) -> int:
        """Adopt files no live process owns (left by an earlier run); returns how many."""
        if not self.dir.is_dir():
            return 0
        self._scan()
        mine = {f.path for f in self.files}
        claimed = 0
        for path in sorted(self.dir.glob("*.jsonl")):
            if path in mine:
                continue
            try:
                fh = open(path, "ab")  # noqa: SIM115 - kept open while we own the file
            except OSError:
                continue
            if not _lock(fh):
                fh.close()
                continue
            if not path.exists():  # replayed and deleted by its owner meanwhile
                fh.close()
                continue
            size = path.stat().st_size
            self.files.insert(0, _File(path, fh, size))
            claimed += 1
        return claimed

    def has_pending(self) -> bool:
        return any(f.offset < f.size for f in self.files)

    def next_batch(self) -> SpillBatch | None:
        """The next unacknowledged line (skipping corrupt ones).

        The file being appended to is read too: this process writes whole lines from the
        exporter thread only, so every line before ``size`` is complete.
        """
        for f in list(self.files):
            while f.offset < f.size:
                with open(f.path, "rb") as rd:
                    rd.seek(f.offset)
                    raw = rd.readline()
                if not raw:
                    f.size = f.offset
                    break
                end = f.offset + len(raw)
                decoded = _decode(raw)
                if decoded is None:
                    self.corrupt_lines += 1
                    f.offset = end
                    continue
                return SpillBatch(f, end, *decoded)
            self._done(f)
        return None

    def commit(self, batch: SpillBatch) -> None:
        f = batch.file
        f.offset = max(f.offset, batch.end)
        if f.offset >= f.size:
            self._done(f)

    def _done(self, f: _File) -> None:
        """Every line of ``f`` was acknowledged: delete it (while still holding its lock)."""
        if f not in self.files:
            return
        self.files.remove(f)
        try:
            f.path.unlink(missing_ok=True)
        finally:
            f.fh.close()
        self.total_bytes = max(0, self.total_bytes - f.size)

    def iter_paths(self) -> Iterator[Path]:
        return (f.path for f in self.files)

    def close(self) -> None:
        """Release the files (and their locks); what is in them stays for the next start."""
        for f in self.files:
            try:
                f.fh.close()
            except OSError:
                pass
        self.files.clear()


def _encode(rows: list[Any]) -> bytes:
    text = json.dumps(
        {"items": rows},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
        check_circular=False,
    )
    return text.encode("utf-8") + b"\n"


def _decode(raw: bytes) -> tuple[str, list[Any]] | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and isinstance(value.get("items"), list):
        rows = value["items"]
        if all(isinstance(r, list) and r for r in rows):
            return "items", rows
        return None
    if isinstance(value, list) and all(isinstance(r, dict) for r in value):
        return "records", value
    return None
