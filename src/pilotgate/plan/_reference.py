"""The plan reference in docs/plan.md is generated from the models, so it cannot drift."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from pilotgate.plan._model import Plan
from pilotgate.targets import TargetConfig

__all__ = ["plan_reference", "iter_fields"]


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(ann))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(ann))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(ann))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if ann is type(None):
        return "none"
    return getattr(ann, "__name__", str(ann))


def iter_fields(model: type[BaseModel], prefix: str) -> typing.Iterator[tuple[str, str, str, str]]:
    """(key path, type, default, description) for every field, recursively."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        ann = field.annotation
        default = (
            "required"
            if field.is_required()
            else repr(field.get_default(call_default_factory=True))
        )
        yield path, _type_name(ann), default, field.description or ""
        sub = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if sub is not None:
            yield from iter_fields(sub, path)
        elif typing.get_origin(ann) is list:
            (item,) = typing.get_args(ann)
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield from iter_fields(item, path + "[]")


def plan_reference() -> str:
    lines = [
        "# Pilot plan reference (`pilotgate.toml`)",
        "",
        "Generated from the models by `python -m pilotgate.plan._reference > docs/plan.md`;",
        "a test fails when this page and the code disagree. `pilotgate init` writes a commented",
        "example. Precedence: command line > `PILOTGATE_*` environment > this file",
        "(`PILOTGATE_STORE`, `PILOTGATE_PLAN`).",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    rows = list(iter_fields(Plan, ""))
    rows += [(f"targets.NAME.{p}", t, d, m) for p, t, d, m in iter_fields(TargetConfig, "")]
    rows = [r for r in rows if r[0] != "targets"] + [r for r in rows if r[0] == "targets"]
    for path, typ, default, desc in rows:
        if path in ("feature", "pilot", "load", "store"):
            continue
        typ = typ.replace("|", "\\|")
        default = default.replace("|", "\\|")
        lines.append(f"| `{path}` | {typ} | {default} | {desc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(plan_reference(), end="")
