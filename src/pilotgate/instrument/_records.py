"""Turn captured tuples into docs/formats.md ingest records (on the background thread only).

The hot path keeps references to the call's arguments and result; this module decides
what the input was, joins streamed chunks, converts to text, formats timestamps and
applies redaction, so none of that costs the application's thread anything.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pilotgate.instrument._state import FEEDBACK, INTERACTION, STEP, Meta

__all__ = [
    "RecordRedactor",
    "Redactor",
    "build_records",
    "expand",
    "freeze",
    "resolve_redactor",
]

Redactor = Callable[[str], str]
RecordRedactor = Callable[[dict[str, Any]], None]

INPUT_NAMES = ("input", "prompt", "question", "query", "messages", "text", "message")
_ISO_CACHE: dict[int, str] = {}
_PLAIN = (str, int, float, bool)


def resolve_redactor(setting: Any) -> tuple[RecordRedactor | None, str]:
    """The record redaction to apply (in place), and a word for ``stats()`` on what it is.

    ``True`` uses :class:`pilotgate.redact.Redactor` (the collector's own rules, with the
    counts kept in ``metadata["redactions"]``); a ``Redactor`` instance uses its patterns;
    a plain ``str -> str`` callable is applied to every text field.
    """
    if setting is True:
        try:
            from pilotgate.redact import Redactor
        except ImportError:
            return None, "unavailable"
        return _fail_closed(Redactor().record), "pilotgate.redact"
    if not setting:
        return None, "off"
    record = getattr(setting, "record", None)
    if callable(record):
        return _fail_closed(record), type(setting).__name__
    if callable(setting):
        return _fail_closed(_text_fields(setting)), "custom"
    return None, "off"


def _text_fields(fn: Redactor) -> Callable[[dict[str, Any]], Any]:
    """A ``str -> str`` function applied to every text a record carries: input (text or each
    message), output, error, feedback's edited output and comment, and metadata strings."""

    def deep(value: Any) -> Any:
        if isinstance(value, str):
            return fn(value)
        if isinstance(value, list):
            return [deep(v) for v in value]
        if isinstance(value, dict):
            return {k: deep(v) for k, v in value.items()}
        return value

    def redact(rec: dict[str, Any]) -> None:
        for name in ("input", "output", "error", "edited_output", "comment"):
            value = rec.get(name)
            if isinstance(value, str):
                rec[name] = fn(value)
            elif isinstance(value, list):
                for m in value:
                    if isinstance(m, dict) and isinstance(m.get("content"), str):
                        m["content"] = fn(m["content"])
        if rec.get("metadata"):
            rec["metadata"] = deep(rec["metadata"])

    return redact


def _fail_closed(fn: Callable[[dict[str, Any]], Any]) -> RecordRedactor:
    """A redactor that blanks the text fields when redaction itself fails."""

    def redact(rec: dict[str, Any]) -> None:
        try:
            fn(rec)
        except Exception:
            for name in ("input", "output", "edited_output", "comment"):
                if rec.get(name) is not None:
                    rec[name] = "[REDACTION FAILED]"
            rec["metadata"] = {"redaction_failed": True}

    return redact


def iso(ts: float) -> str:
    """RFC 3339 in UTC; the date-time part is cached per second (it dominated the cost)."""
    sec = int(ts)
    head = _ISO_CACHE.get(sec)
    if head is None:
        if len(_ISO_CACHE) > 4096:
            _ISO_CACHE.clear()
        head = _ISO_CACHE[sec] = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{head}.{int((ts - sec) * 1e6):06d}+00:00"


def to_text(value: Any) -> str | None:
    """Best-effort text of a value (answers are usually str; objects get JSON or str())."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    content = getattr(value, "content", None)
    if isinstance(content, str):
        return content
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _chunk_text(chunk: Any) -> str:
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, bytes):
        return chunk.decode("utf-8", "replace")
    if isinstance(chunk, Mapping):
        choices = chunk.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            delta = choices[0].get("delta") or choices[0].get("message") or {}
            if isinstance(delta, Mapping):
                return str(delta.get("content") or "")
        for key in ("content", "text", "delta"):
            if isinstance(chunk.get(key), str):
                return str(chunk[key])
    choices = getattr(chunk, "choices", None)
    if isinstance(choices, list) and choices:
        delta = getattr(choices[0], "delta", None)
        text = getattr(delta, "content", None)
        if text is None or isinstance(text, str):
            return text or ""
    text = getattr(chunk, "content", None) or getattr(chunk, "text", None)
    return text if isinstance(text, str) else str(chunk)


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, Mapping) for m in value)


class _Plan:
    """Where a call site's input, session and user live among its arguments."""

    __slots__ = ("sig", "names", "input", "session", "user")

    def __init__(self, meta: Meta) -> None:
        self.sig: inspect.Signature | None = None
        self.names: list[str] = []
        try:
            if meta.func is not None:
                self.sig = inspect.signature(meta.func)
        except (TypeError, ValueError):
            self.sig = None
        if self.sig is not None:
            pos = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            self.names = [n for n, p in self.sig.parameters.items() if p.kind in pos]
        params = set(self.sig.parameters) if self.sig is not None else set()
        self.input = meta.input_arg or next((n for n in INPUT_NAMES if n in params), None)
        self.session = meta.session_arg
        self.user = meta.user_arg

    def get(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name in kwargs:
            return kwargs[name]
        try:
            i = self.names.index(name)
        except ValueError:
            return None
        return args[i] if i < len(args) else None

    def pick_input(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.input is not None:
            value = self.get(self.input, args, kwargs)
            if value is not None:
                return value
        skip = 1 if self.names[:1] in (["self"], ["cls"]) else 0
        for value in (*args[skip:], *kwargs.values()):
            if isinstance(value, str) or _is_messages(value):
                return value
        if not args[skip:] and not kwargs:
            return ""
        return self.bound(args, kwargs)

    def bound(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """All arguments by name (the input when no single argument stands out)."""
        if self.sig is not None:
            try:
                ba = self.sig.bind_partial(*args, **kwargs)
            except TypeError:
                ba = None
            if ba is not None:
                out: dict[str, Any] = {}
                for name, value in ba.arguments.items():
                    kind = self.sig.parameters[name].kind
                    if kind is inspect.Parameter.VAR_KEYWORD and isinstance(value, dict):
                        out.update(value)
                    elif kind is inspect.Parameter.VAR_POSITIONAL:
                        out.update({f"{name}{i}": v for i, v in enumerate(value)})
                    elif name not in ("self", "cls"):
                        out[name] = value
                return out
        return {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}


def _input_value(value: Any) -> str | list[dict[str, Any]]:
    if _is_messages(value):
        return _jsonable([dict(m) for m in value])  # type: ignore[no-any-return]
    return to_text(value) or ""


def _jsonable(value: Any) -> Any:
    """Metadata as plain JSON values (unknown objects become their str())."""
    if value is None or type(value) in _PLAIN:
        return value
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))


def _str_or(value: Any, default: str | None) -> str | None:
    return default if value is None else str(value)


def _freeze_interaction(
    item: tuple[Any, ...], default_feature: str | None, default_version: str
) -> list[Any]:
    _, iid, ts, dt, ttft, meta, sess, args, kwargs, out, err, *rest = item
    extra = rest[0] if rest else None  # the inline hot path leaves it off
    if extra and "sdk" in extra:  # a provider SDK call: its parser reads the SDK's objects
        extra = extra["sdk"].resolve()
        out = extra.get("output")
        ttft = extra.get("ttft_s", ttft)
    sid, uid = sess if sess is not None else (None, None)
    sid = meta.session_id or sid
    uid = meta.user_id or uid
    if args is not None:
        plan = meta.plan
        if plan is None:
            plan = meta.plan = _Plan(meta)
        raw_input = plan.pick_input(args, kwargs)
        if plan.session is not None:
            sid = _str_or(plan.get(plan.session, args, kwargs), sid)
        if plan.user is not None:
            uid = _str_or(plan.get(plan.user, args, kwargs), uid)
    else:
        raw_input = extra.get("input") if extra else None
    tokens_in = tokens_out = None
    metadata: Any = None
    if extra:
        sid = extra.get("session_id") or sid
        uid = extra.get("user_id") or uid
        tokens_in, tokens_out = extra.get("tokens_in"), extra.get("tokens_out")
    if extra and extra.get("stream"):
        output: str | None = "".join(_chunk_text(c) for c in out)
    else:
        output = to_text(out)
    if meta.metadata or (extra and extra.get("metadata")):
        metadata = dict(meta.metadata or {})
        if extra and extra.get("metadata"):
            metadata.update(extra["metadata"])
        metadata = _jsonable(metadata)
    feature = meta.feature or default_feature or meta.name or "default"
    version = meta.version if meta.version is not None else default_version
    return [
        INTERACTION,
        iid,
        ts,
        dt * 1000.0,
        None if ttft is None else ttft * 1000.0,
        feature,
        version,
        sid,
        uid,
        _input_value(raw_input),
        output,
        err,
        _jsonable(tokens_in),
        _jsonable(tokens_out),
        metadata,
    ]


def _expand_interaction(row: list[Any]) -> dict[str, Any]:
    _, iid, ts, latency, ttft, feature, version, sid, uid, inp, out, err, t_in, t_out, md = row
    rec: dict[str, Any] = {
        "kind": "interaction",
        "id": iid,
        "ts": iso(ts),
        "feature": feature,
        "version": version,
        "input": inp,
        "latency_ms": latency,
    }
    # absent rather than null: smaller request bodies
    if out is not None:
        rec["output"] = out
    if sid is not None:
        rec["session_id"] = sid
    if uid is not None:
        rec["user_id"] = uid
    if ttft is not None:
        rec["ttft_ms"] = ttft
    if t_in is not None:
        rec["tokens_in"] = t_in
    if t_out is not None:
        rec["tokens_out"] = t_out
    if err is not None:
        rec["error"] = err
    if md:
        rec["metadata"] = md
    return rec


def _expand_feedback(row: list[Any]) -> dict[str, Any]:
    _, fid, ts, iid, accepted, score, edited, dwell, comment = row
    return {
        "kind": "feedback",
        "id": fid,
        "interaction_id": iid,
        "ts": iso(ts),
        "accepted": accepted,
        "score": score,
        "edited_output": edited,
        "dwell_ms": dwell,
        "comment": comment,
    }


def _expand_step(row: list[Any]) -> dict[str, Any]:
    _, sid, ts, session_id, name, metadata = row
    return {
        "kind": "step",
        "id": sid,
        "session_id": session_id,
        "ts": iso(ts),
        "name": name,
        "metadata": metadata or {},
    }


def freeze(
    items: Iterable[tuple[Any, ...]], *, feature: str | None, version: str
) -> tuple[list[list[Any]], int]:
    """Compact rows of JSON values for captured items (live references resolved to text).

    This is all that must happen before a record can wait on disk: cheap, no timestamps
    formatted, no redaction. Returns the rows and how many items could not be frozen.
    """
    rows: list[list[Any]] = []
    failed = 0
    for item in items:
        try:
            kind = item[0]
            if kind == INTERACTION:
                rows.append(_freeze_interaction(item, feature, version))
            elif kind == FEEDBACK:
                rows.append([_jsonable(v) for v in item])
            elif kind == STEP:
                _, sid, ts, session_id, name, metadata = item
                md = _jsonable(metadata) if metadata else None
                rows.append([STEP, sid, ts, _jsonable(session_id), _jsonable(name), md])
            else:
                failed += 1
        except Exception:
            failed += 1
    return rows, failed


def expand(
    rows: Iterable[list[Any]], *, redact: RecordRedactor | None
) -> tuple[list[dict[str, Any]], int]:
    """Ingest records (docs/formats.md) for compact rows, redacted; and how many rows were bad."""
    records: list[dict[str, Any]] = []
    failed = 0
    for row in rows:
        try:
            kind = row[0]
            if kind == INTERACTION:
                rec = _expand_interaction(row)
            elif kind == FEEDBACK:
                rec = _expand_feedback(row)
            elif kind == STEP:
                rec = _expand_step(row)
            else:
                failed += 1
                continue
            if redact is not None:
                redact(rec)
            records.append(rec)
        except Exception:
            failed += 1
    return records, failed


def build_records(
    items: Iterable[tuple[Any, ...]],
    *,
    feature: str | None,
    version: str,
    redact: RecordRedactor | None,
) -> tuple[list[dict[str, Any]], int]:
    """Records for captured items (freeze, then expand), and how many failed."""
    rows, failed = freeze(items, feature=feature, version=version)
    records, failed2 = expand(rows, redact=redact)
    return records, failed + failed2
