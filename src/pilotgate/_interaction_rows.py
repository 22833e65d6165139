"""Interaction records checked and turned into store rows, shared by the store and ingest.

Pydantic's validation of an :class:`~pilotgate.records.InteractionRecord` costs ~8 µs, the
largest share of ingest time. Well-formed records (the SDK's, most files') are checked here
with plain type tests in ~1–2 µs. Anything this path is not sure about returns ``None`` and
goes through pydantic, so what is accepted and the error messages stay pydantic's.

What it returns is a :class:`CheckedInteraction`: the store trusts that type and writes it
without checking it a second time (the collector and ``pilotgate ingest`` validate, redact,
then store the same dicts). :func:`sqlite_interaction_row` and :func:`pg_copy_line` turn one
into SQLite parameters or a PostgreSQL ``COPY`` line where it is validated (``pilotgate
ingest``'s worker processes), so the writing process only passes them on. Plain Python, no
SQLAlchemy: the store's per-table row builders are in ``store/_fast.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pilotgate._time import to_utc
from pilotgate.records import InteractionRecord

__all__ = [
    "FEEDBACK_COLUMNS",
    "INTERACTION_COLUMNS",
    "CheckedInteraction",
    "FeedbackLine",
    "copy_text",
    "derive_id",
    "feedback_key",
    "json_text",
    "normalise_interaction",
    "pg_copy_line",
    "pg_feedback_line",
    "sqlite_dt",
    "sqlite_interaction_row",
]

# the fields an interaction record may carry: the model's, so the two cannot drift apart
_FIELDS = frozenset(InteractionRecord.model_fields)

_isfinite = math.isfinite
_fromisoformat = datetime.fromisoformat


class CheckedInteraction(dict[str, Any]):
    """An interaction record with every field present and of its declared type.

    Only :func:`normalise_interaction` makes these; the store skips re-validating them.
    Replacing a value with another of the same type (as redaction does) keeps it valid.
    """

    __slots__ = ("ts_text",)
    ts_text: tuple[datetime, str] | None
    """``(ts, its SQLite text)`` when the text could be cut from the RFC 3339 input, which
    saves formatting the datetime (~1 µs); used only while ``self["ts"]`` is that ts."""


def _ms(v: Any) -> float | None | bool:
    """A non-negative finite number as float, None for None, False when not acceptable."""
    if v is None:
        return None
    t = type(v)
    if t is float:
        return v if v >= 0 and _isfinite(v) else False
    if t is int:
        return float(v) if v >= 0 else False
    return False


def _utc_text(v: str) -> str | None:
    """The SQLite text of an RFC 3339 UTC timestamp, cut from the string, or None.

    Only for the usual shapes (``YYYY-MM-DDTHH:MM:SS`` with no, 3 or 6 fraction digits and
    ``Z`` or ``+00:00``) of a string ``datetime.fromisoformat`` has accepted, so every
    field is where the slices expect it; anything else is formatted from the datetime.
    """
    if v[-1:] == "Z":
        core = v[:-1]
    elif v[-6:] == "+00:00":
        core = v[:-6]
    else:
        return None
    n = len(core)
    if n == 26:
        frac = core[19:]
    elif n == 23:
        frac = core[19:] + "000"
    elif n == 19:
        frac = ".000000"
    else:
        return None
    if (
        core[4] != "-"
        or core[7] != "-"
        or core[10] not in "T "
        or core[13] != ":"
        or core[16] != ":"
        or (n > 19 and core[19] != ".")
    ):
        return None
    return core[:10] + " " + core[11:19] + frac


def _ts(v: Any) -> datetime | None:
    if type(v) is str:
        try:
            dt = _fromisoformat(v)
        except ValueError:
            return None
    elif isinstance(v, datetime):
        dt = v
    else:
        return None
    tz = dt.tzinfo
    if tz is UTC:
        return dt
    if tz is None:
        return None
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # near year 1 or 9999: pydantic's path explains the refusal
        return None


def normalise_interaction(obj: Mapping[str, Any]) -> CheckedInteraction | None:
    """The record as a dict with every field (ts an aware UTC datetime), or None.

    None means "not certainly valid": validate with pydantic to accept it or to learn why not.
    """
    if not _FIELDS.issuperset(obj.keys()):
        return None
    g = obj.get
    if g("kind", "interaction") != "interaction":
        return None
    rid = g("id")
    feature = g("feature")
    version = g("version", "")
    if type(rid) is not str or not 0 < len(rid) <= 200:
        return None
    if type(feature) is not str or not feature or type(version) is not str:
        return None
    ts = _ts(g("ts"))
    if ts is None:
        return None
    inp = g("input")
    if type(inp) is not str:
        if type(inp) is not list or not all(type(m) is dict for m in inp):
            return None
    session_id = g("session_id")
    user_id = g("user_id")
    output = g("output")
    error = g("error")
    if not (
        (session_id is None or type(session_id) is str)
        and (user_id is None or type(user_id) is str)
        and (output is None or type(output) is str)
        and (error is None or type(error) is str)
    ):
        return None
    latency = _ms(g("latency_ms"))
    ttft = _ms(g("ttft_ms"))
    if latency is False or ttft is False:
        return None
    tokens_in = g("tokens_in")
    tokens_out = g("tokens_out")
    if not (
        (tokens_in is None or (type(tokens_in) is int and tokens_in >= 0))
        and (tokens_out is None or (type(tokens_out) is int and tokens_out >= 0))
    ):
        return None
    metadata = g("metadata")
    if metadata is None:
        if "metadata" in obj:
            return None
        metadata = {}
    elif type(metadata) is not dict:
        return None
    checked = CheckedInteraction(
        kind="interaction",
        id=rid,
        ts=ts,
        feature=feature,
        version=version,
        session_id=session_id,
        user_id=user_id,
        input=inp,
        output=output,
        latency_ms=latency,
        ttft_ms=ttft,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        error=error,
        metadata=metadata,
    )
    raw_ts = obj["ts"]
    text = _utc_text(raw_ts) if type(raw_ts) is str else None
    checked.ts_text = None if text is None else (ts, text)
    return checked


# ------------------------------------------------------------------ SQLite parameters

INTERACTION_COLUMNS = (
    "id",
    "ts",
    "feature",
    "version",
    "session_id",
    "user_id",
    "input",
    "input_messages",
    "output",
    "latency_ms",
    "ttft_ms",
    "tokens_in",
    "tokens_out",
    "error",
    "metadata",
    "ingested_at",
)
"""The interactions table's columns: :func:`sqlite_interaction_row`'s, then ``ingested_at``."""


def sqlite_dt(v: Any) -> Any:
    """A timestamp as the text SQLAlchemy's SQLite DateTime writes, so reads and filters agree."""
    if v is None:
        return None
    if type(v) is datetime and v.tzinfo is UTC:
        return v.isoformat(" ", "microseconds")[:26]
    if isinstance(v, str):
        v = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if v.tzinfo is not UTC:
        v = to_utc(v)
    return v.replace(tzinfo=None).isoformat(" ", "microseconds")


_STD_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _make_json_text() -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=False).encode`` without its per-call Python layers.

    The C encoder it ends in, called directly, takes ~0.7 µs for a small dict instead of
    ~1.7 µs. Same text, same errors: anything it cannot finish (a circular or too deeply
    nested value) is handed to the standard encoder, which raises as it always did.
    """
    from json import encoder as enc

    c_make = getattr(enc, "c_make_encoder", None)
    c_str = getattr(enc, "c_encode_basestring", None)
    if c_make is None or c_str is None:  # pragma: no cover - CPython has both
        return _STD_ENCODE
    default = json.JSONEncoder().default
    c_encode = c_make(None, default, c_str, None, ": ", ", ", False, False, True)
    join = "".join

    def json_text(value: Any) -> str:
        if type(value) is str:
            return c_str(value)  # type: ignore[no-any-return]
        try:
            return join(c_encode(value, 0))
        except RecursionError:
            return _STD_ENCODE(value)

    return json_text


json_text = _make_json_text()
"""A value as the JSON text the store keeps (non-ASCII kept, NaN allowed, like SQLAlchemy)."""


def sqlite_interaction_row(c: Mapping[str, Any]) -> tuple[Any, ...]:
    """A checked interaction (see :func:`normalise_interaction`) as SQLite parameters.

    In the order of :data:`INTERACTION_COLUMNS` without ``ingested_at``, which the store
    adds to the statement when it writes. Chat inputs are kept twice, as messages and as
    their JSON text (the ``input`` column that text analyses read); it is the same text,
    so it is encoded once. Plain values only: cheap to pickle to another process.
    """
    inp = c["input"]
    if type(inp) is str:
        msgs = None
    else:
        inp = msgs = json_text(inp)
    md = c["metadata"]
    ts = c["ts"]
    cut = c.ts_text if type(c) is CheckedInteraction else None
    if cut is not None and cut[0] is ts:
        ts_text = cut[1]
    elif type(ts) is datetime and ts.tzinfo is UTC:
        ts_text = ts.isoformat(" ", "microseconds")[:26]
    else:
        ts_text = sqlite_dt(ts)
    return (
        c["id"],
        ts_text,
        c["feature"],
        c["version"],
        c["session_id"],
        c["user_id"],
        inp,
        msgs,
        c["output"],
        c["latency_ms"],
        c["ttft_ms"],
        c["tokens_in"],
        c["tokens_out"],
        c["error"],
        json_text(md) if md else None,
    )


# ------------------------------------------------------------ PostgreSQL COPY text

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(s: str) -> str:
    """``s`` as a field of ``COPY``'s text format (backslash, newline, CR and tab escaped)."""
    if "\\" in s or "\n" in s or "\r" in s or "\t" in s:
        return s.translate(_COPY_ESCAPES)
    return s


def _copy_opt(v: str | None) -> str:
    return "\\N" if v is None else copy_text(v)


def _copy_num(v: float | int | None) -> str:
    return "\\N" if v is None else repr(v)


def pg_copy_line(c: Mapping[str, Any]) -> str:
    """A checked interaction (see :func:`normalise_interaction`) as one line of ``COPY``
    text (without its newline) for the columns of :data:`INTERACTION_COLUMNS` without
    ``ingested_at``: the store appends that and the project, the same for the whole batch.

    The PostgreSQL twin of :func:`sqlite_interaction_row`: made where records are
    validated (the import's worker process), so the writing process only joins lines.
    Text is escaped for the format and nothing else is checked: what PostgreSQL refuses
    (a NUL, a lone surrogate, a value too long for its column) fails the ``COPY``, and the
    caller isolates the record (``pilotgate.ingest._fate``).
    """
    inp = c["input"]
    if type(inp) is str:
        inp_text = copy_text(inp)
        msgs = "\\N"
    else:
        inp_text = msgs = copy_text(json_text(inp))
    md = c["metadata"]
    ts = c["ts"]
    cut = c.ts_text if type(c) is CheckedInteraction else None
    if cut is not None and cut[0] is ts:
        ts_text = cut[1] + "+00"
    elif type(ts) is datetime and ts.tzinfo is UTC:
        ts_text = ts.isoformat(" ", "microseconds")
    else:
        ts_text = to_utc(ts).isoformat(" ", "microseconds")
    latency = c["latency_ms"]
    return "\t".join(
        (
            copy_text(c["id"]),
            ts_text,
            copy_text(c["feature"]),
            copy_text(c["version"]),
            _copy_opt(c["session_id"]),
            _copy_opt(c["user_id"]),
            inp_text,
            msgs,
            _copy_opt(c["output"]),
            "\\N" if latency is None else repr(latency),
            _copy_num(c["ttft_ms"]),
            _copy_num(c["tokens_in"]),
            _copy_num(c["tokens_out"]),
            _copy_opt(c["error"]),
            copy_text(json_text(md)) if md else "\\N",
        )
    )


def derive_id(*parts: Any) -> str:
    """A deterministic id for records that arrive without one (feedback, steps)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


FEEDBACK_COLUMNS = (
    "id",
    "interaction_id",
    "ts",
    "accepted",
    "score",
    "edited_output",
    "dwell_ms",
    "comment",
)
"""The feedback table's columns a :class:`FeedbackLine` holds, in order (the store appends
the project)."""


def feedback_key(rec: Mapping[str, Any]) -> Any:
    """What makes two feedback records of a batch the same one (the last copy is kept)."""
    if rec.get("id"):
        return rec["id"]
    return (rec.get("interaction_id"), rec.get("session_id"), str(rec["ts"]), rec.get("name"))


class FeedbackLine(NamedTuple):
    """A validated feedback record as one line of PostgreSQL ``COPY`` text.

    Made where records are validated (the import's worker process, see
    :func:`pg_feedback_line`), so the writing process neither validates the record again
    nor adapts its values one by one.
    """

    key: Any
    """:func:`feedback_key` of the record."""
    interaction_id: str
    line: str
    """The :data:`FEEDBACK_COLUMNS` as ``COPY`` text, without the newline."""


def pg_feedback_line(rec: Mapping[str, Any]) -> FeedbackLine:
    """A validated feedback record (``ingest.validate_record``) as a :class:`FeedbackLine`.

    The same row the store's ``add_feedback`` writes: ``ts`` in UTC, and an id derived
    from the interaction, the time and the verdict when the record has none. Text is only
    escaped: what PostgreSQL refuses fails the ``COPY`` and the record is isolated.
    """
    ts = to_utc(rec["ts"])
    acc = rec.get("accepted")
    iid = rec["interaction_id"]
    fid = rec.get("id") or derive_id("fb", iid, ts.isoformat(), acc)
    line = "\t".join(
        (
            copy_text(fid),
            copy_text(iid),
            ts.isoformat(" ", "microseconds"),
            "\\N" if acc is None else ("t" if acc else "f"),
            _copy_num(rec.get("score")),
            _copy_opt(rec.get("edited_output")),
            _copy_num(rec.get("dwell_ms")),
            _copy_opt(rec.get("comment")),
        )
    )
    return FeedbackLine(feedback_key(rec), iid, line)
