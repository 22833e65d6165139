"""Append-only spill files: where records wait while the backend is away.

One line per batch: a JSON array of complete ingest records, redacted before they reach
the disk (or, with redaction off, ``{"items": [...]}``: compact rows of JSON values, see
``_records.freeze``, that become ingest records when sent).

The files may hold personal data that redaction does not know about: the directory is
created 0700, the files 0600, and every file is opened with ``O_NOFOLLOW`` (a symlink
planted in a shared directory cannot redirect what is written, or read, elsewhere).

Each process appends to files of its own, holding an exclusive ``flock`` on each for as
long as it owns it, so several processes can share a spill directory: a file whose lock
can be taken belongs to nobody alive and is claimed for replay (at start, and whenever
the backend comes back).

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


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_append(path: Path, *, create: bool) -> IO[bytes]:
    """``path`` opened for appending, never through a symlink; created 0600 if asked."""
    flags = os.O_WRONLY | os.O_APPEND | _NOFOLLOW
    if create:
        flags |= os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, "ab")


def _private_dir(path: Path) -> None:
    """Create ``path`` (and its parent) with mode 0700; tighten ``path`` if it exists."""
    if not path.parent.exists():  # the spill base directory, when this creates it
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.is_symlink():
        raise OSError(f"spill directory {path} is a symlink")
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)


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
        _private_dir(self.dir)
        self.total_bytes = sum(p.stat().st_size for p in self.dir.glob("*.jsonl"))

    def _active(self) -> _File:
        if self.files and self.files[-1].path.name.startswith(f"spill-{self.tag}-"):
            return self.files[-1]
        self._seq += 1
        final = self.dir / f"spill-{self.tag}-{self._seq:04d}.jsonl"
        tmp = final.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # a stale one (or a planted symlink): never written through
        fh = _open_append(tmp, create=True)
        _lock(fh)
        os.replace(tmp, final)  # appears already locked to other processes
        f = _File(final, fh, 0)
        self.files.append(f)
        return f

    def append(self, records: list[Any]) -> tuple[int, int]:
        """Write compact rows (or, as :meth:`append_records`, complete records); returns
        (written, dropped because of the size cap)."""
        return self._append(records, _encode)

    def append_records(self, records: list[dict[str, Any]]) -> tuple[int, int]:
        """Write complete (redacted) ingest records; returns (written, dropped)."""
        return self._append(records, _encode_records)

    def _append(self, records: list[Any], encode: Any) -> tuple[int, int]:
        if not records:
            return 0, 0
        self._scan()
        line = encode(records)
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
        w1, d1 = self._append(records[:mid], encode)
        w2, d2 = self._append(records[mid:], encode)
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
                fh = _open_append(path, create=False)  # kept open while we own the file
            except OSError:  # gone, or a symlink
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
                with os.fdopen(os.open(f.path, os.O_RDONLY | _NOFOLLOW), "rb") as rd:
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


def _encode_records(records: list[dict[str, Any]]) -> bytes:
    text = json.dumps(
        records, ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False
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
