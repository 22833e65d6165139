"""A small JSON Schema validator (the subset feature outputs need) and its scorer.

Supported keywords: type (incl. lists of types, integer vs number), enum, const,
properties, required, additionalProperties (bool or schema), items (schema),
minItems/maxItems, minLength/maxLength, pattern, minimum/maximum,
exclusiveMinimum/exclusiveMaximum, anyOf/allOf/oneOf/not. Unknown keywords (titles,
descriptions, $schema…) are ignored, as the specification says.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pilotgate.errors import ConfigError
from pilotgate.records import json_error_text
from pilotgate.scoring._base import Score, scorer

__all__ = ["validate_json"]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
    "integer": (int,),
}


def _is_type(value: Any, name: str) -> bool:
    if name not in _TYPES:
        raise ConfigError(f"json_schema: unknown type {name!r}")
    if name in ("number", "integer") and isinstance(value, bool):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[name])


def validate_json(value: Any, schema: Any, path: str = "$") -> list[str]:
    """Errors of ``value`` against ``schema`` as "path: problem" strings ([] = valid)."""
    if schema is True or schema == {}:
        return []
    if schema is False:
        return [f"{path}: no value allowed"]
    if not isinstance(schema, dict):
        raise ConfigError(f"json_schema: schema at {path} must be an object")
    errs: list[str] = []
    t = schema.get("type")
    if t is not None:
        names = [t] if isinstance(t, str) else list(t)
        if not any(_is_type(value, n) for n in names):
            return [f"{path}: expected {'/'.join(names)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in {schema['enum']!r}")
    if "const" in schema and value != schema["const"]:
        errs.append(f"{path}: must be {schema['const']!r}")
    if isinstance(value, dict):
        errs += _object(value, schema, path)
    if isinstance(value, list):
        errs += _array(value, schema, path)
    if isinstance(value, str):
        errs += _string(value, schema, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        errs += _number(value, schema, path)
    errs += _combinators(value, schema, path)
    return errs


def _object(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    errs = [f"{path}: missing {k!r}" for k in schema.get("required", []) if k not in value]
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for k, v in value.items():
        sub = f"{path}.{k}"
        if k in props:
            errs += validate_json(v, props[k], sub)
        elif extra is False:
            errs.append(f"{path}: unexpected property {k!r}")
        elif isinstance(extra, dict):
            errs += validate_json(v, extra, sub)
    return errs


def _array(value: list[Any], schema: dict[str, Any], path: str) -> list[str]:
    errs = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        errs.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append(f"{path}: more than {schema['maxItems']} items")
    if isinstance(schema.get("items"), dict | bool):
        for i, item in enumerate(value):
            errs += validate_json(item, schema["items"], f"{path}[{i}]")
    return errs


def _string(value: str, schema: dict[str, Any], path: str) -> list[str]:
    errs = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        errs.append(f"{path}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errs.append(f"{path}: longer than {schema['maxLength']}")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        errs.append(f"{path}: does not match {schema['pattern']!r}")
    return errs


def _number(value: float, schema: dict[str, Any], path: str) -> list[str]:
    errs = []
    if "minimum" in schema and not value >= schema["minimum"]:
        errs.append(f"{path}: must be >= {schema['minimum']}")
    if "maximum" in schema and not value <= schema["maximum"]:
        errs.append(f"{path}: must be <= {schema['maximum']}")
    if "exclusiveMinimum" in schema and not value > schema["exclusiveMinimum"]:
        errs.append(f"{path}: must be > {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema and not value < schema["exclusiveMaximum"]:
        errs.append(f"{path}: must be < {schema['exclusiveMaximum']}")
    return errs


def _combinators(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    errs: list[str] = []
    for sub in schema.get("allOf", []):
        errs += validate_json(value, sub, path)
    if "anyOf" in schema and not any(not validate_json(value, s, path) for s in schema["anyOf"]):
        errs.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not validate_json(value, s, path))
        if n != 1:
            errs.append(f"{path}: matches {n} of oneOf (need exactly 1)")
    if "not" in schema and not validate_json(value, schema["not"], path):
        errs.append(f"{path}: must not match the 'not' schema")
    return errs


_FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)


@scorer("json_schema")
def json_schema(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    schema: dict[str, Any] | None = None,
    extract: bool = True,
) -> Score:
    """The output is JSON valid against ``schema`` (or a dict reference); fences stripped.

    Without any schema it only checks that the output parses as JSON.
    """
    sch = schema if schema is not None else reference if isinstance(reference, dict) else True
    text = output.strip()
    if extract:
        m = _FENCE_RE.search(text)
        if m:
            text = m.group(1).strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Score.of(False, f"not JSON: {json_error_text(exc)}")
    errs = validate_json(value, sch)
    return Score.of(not errs, "; ".join(errs[:3]))
