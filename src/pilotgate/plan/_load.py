"""Reading and validating ``pilotgate.toml`` with errors that name the key path."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pilotgate.errors import ConfigError
from pilotgate.plan._model import Plan

__all__ = ["find_plan", "load_plan", "plan_hash", "validate_plan_text"]

DEFAULT_PLAN = "pilotgate.toml"


def find_plan(path: str | Path | None = None) -> Path | None:
    """The plan to use: the given path, else ./pilotgate.toml if it exists."""
    if path is not None:
        return Path(path)
    p = Path(DEFAULT_PLAN)
    return p if p.exists() else None


def load_plan(path: str | Path) -> Plan:
    p = Path(path)
    if not p.exists():
        raise ConfigError(
            "plan file not found", where=str(p), fix="run `pilotgate init` or pass --plan PATH"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start})", where=str(p), fix="save the plan as UTF-8"
        ) from None
    return validate_plan_text(text, where=str(p))


def validate_plan_text(text: str, *, where: str = "pilotgate.toml") -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"malformed TOML: {exc}", where=where, fix="fix the TOML syntax at that line"
        ) from None
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise _plan_error(exc, where) from None


def _plan_error(exc: ValidationError, where: str) -> ConfigError:
    err = exc.errors()[0]
    loc = _key_path(err["loc"])
    kind = err["type"]
    msg = err["msg"]
    fix = "see the commented template from `pilotgate init`"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(err["loc"][:-1])
        msg = "unknown key"
        if allowed:
            fix = f"allowed keys here: {', '.join(allowed)}"
    elif kind == "literal_error":
        ctx = err.get("ctx") or {}
        msg = f"invalid value {err.get('input')!r}"
        fix = f"allowed values: {ctx.get('expected', '')}"
    elif kind == "missing":
        msg = "required key is missing"
    others = [f"{_key_path(e['loc'])}: {e['msg']}" for e in exc.errors()[1:]]
    more = ""
    if others:
        shown = "; ".join(others[:5]) + ("; …" if len(others) > 5 else "")
        more = f" (and {len(others)} more: {shown})"
    return ConfigError(f"{loc}: {msg}{more}", where=where, fix=fix)


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] | None = Plan
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            # a dict key (targets.NAME): step into the dict's value model
            if model is Plan:
                return []
            continue
        ann = field.annotation
        model = _inner_model(ann)
    return sorted(model.model_fields) if model is not None else []


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def plan_hash(plan: Plan) -> str:
    """A stable hash of the plan's content (criteria, targets, dates), for locking."""
    doc = plan.model_dump(mode="json")
    for c in doc.get("criteria", []):
        # added after plans were first locked: an unset version must not change old hashes
        if c.get("version") is None:
            c.pop("version", None)
    # sections and fields added after plans were first locked leave the hash of a plan that
    # does not use them unchanged (a locked pilot keeps its hash across upgrades)
    from pilotgate.plan._model import SignalsSection

    if doc.get("signals") == SignalsSection().model_dump(mode="json"):
        doc.pop("signals", None)
    if not doc.get("prices"):
        doc.pop("prices", None)
    store = doc.get("store")
    if isinstance(store, dict) and store.get("retention_days") is None:
        store.pop("retention_days", None)
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
