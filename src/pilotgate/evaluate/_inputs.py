"""What an eval run consumes: cases (file, eval set or list) and scorers (specs or objects)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pilotgate.errors import ConfigError, InputError
from pilotgate.records import Case, format_validation_error, read_cases
from pilotgate.scoring import BoundScorer, get_scorer, python_scorer_key

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["CaseSource", "case_cluster", "load_cases", "parse_scorer_spec", "resolve_scorers"]

CasesArg = str | Path | Sequence[Case | Mapping[str, Any]]


@dataclass(frozen=True)
class CaseSource:
    """Where the cases came from, as recorded with the run."""

    kind: str  # "file", "eval_set" or "inline"
    ref: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref}


def _to_case(obj: Case | Mapping[str, Any], index: int) -> Case:
    if isinstance(obj, Case):
        return obj
    try:
        return Case.model_validate(dict(obj))
    except ValidationError as exc:
        raise InputError(
            format_validation_error(exc), where=f"case #{index + 1}", fix="cases need id and input"
        ) from None


def load_cases(
    cases: CasesArg | None = None,
    *,
    eval_set: str | None = None,
    store: Store | None = None,
) -> tuple[list[Case], CaseSource]:
    """The cases of a run, from a JSONL file, a stored eval set (``name@3``) or a list.

    Raises:
        InputError: no cases, both sources, an unreadable file or duplicate case ids.
    """
    if (cases is None) == (eval_set is None):
        raise InputError(
            "give either cases or an eval set, not both and not neither",
            fix="use --cases FILE or --eval-set NAME[@VERSION]",
        )
    if eval_set is not None:
        if store is None:
            raise ConfigError("an eval set needs a store to read it from")
        meta, rows = store.get_eval_set(eval_set)
        loaded = [_to_case(r, i) for i, r in enumerate(rows)]
        source = CaseSource("eval_set", f"{meta['name']}@{meta['version']}")
    elif isinstance(cases, str | Path):
        loaded, _ = read_cases(cases)
        source = CaseSource("file", str(cases))
    else:
        assert cases is not None
        loaded = [_to_case(c, i) for i, c in enumerate(cases)]
        source = CaseSource("inline", f"{len(loaded)} cases")
    if not loaded:
        raise InputError("no cases to evaluate", where=source.ref)
    seen: set[str] = set()
    for c in loaded:
        if c.id in seen:
            raise InputError(
                f"duplicate case id {c.id!r}", where=source.ref, fix="case ids must be unique"
            )
        seen.add(c.id)
    return loaded, source


def case_cluster(case: Case) -> str | None:
    """A case's cluster: its ``cluster`` field, ``origin.cluster`` or a ``cluster:X`` tag."""
    extra = case.model_extra or {}
    for value in (extra.get("cluster"), (case.origin or {}).get("cluster")):
        if value is not None and value != "":
            return str(value)
    for tag in case.tags:
        if tag.startswith("cluster:"):
            return tag[len("cluster:") :]
    return None


_KEY_START = re.compile(r",\s*(?=[A-Za-z_]\w*=)")


def parse_scorer_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name:k=v,k2=v2"`` -> ``("name", {k: v, k2: v2})``.

    Values are JSON when they parse (``repeats=3``, ``scale=[1,10]``, ``cache=false``),
    text otherwise. A comma splits options only when a ``key=`` follows it, so URLs
    and rubrics may contain commas and colons: ``judge:target=openai:http://h/v1,
    rubric=Polite, short and correct``.
    """
    if spec.strip().startswith("python:"):  # python:FILE.py:fn[,key=value,…]
        ref, sep, rest = spec.strip().partition(",")
        name = ref
    else:
        name, sep, rest = spec.strip().partition(":")
    if not name:
        raise ConfigError(f"bad scorer {spec!r}", fix="write NAME or NAME:key=value,key=value")
    kwargs: dict[str, Any] = {}
    if sep and rest.strip():
        for part in _KEY_START.split(rest):
            key, eq, raw = part.partition("=")
            if not eq or not key.strip():
                raise ConfigError(
                    f"scorer option {part!r} is not key=value",
                    where=f"--scorer {spec!r}",
                    fix="e.g. --scorer numeric:tolerance=0.5",
                )
            try:
                kwargs[key.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                kwargs[key.strip()] = raw
    return name.strip(), kwargs


def resolve_scorers(
    scorers: Sequence[str | BoundScorer] | Mapping[str, str | BoundScorer] | None,
) -> dict[str, BoundScorer]:
    """Scorers by result key. A list gets keys from names (``label``, ``label#2``…)."""
    if scorers is None or len(scorers) == 0:
        raise ConfigError(
            "an eval run needs at least one scorer",
            fix="e.g. --scorer label, --scorer exact or --scorer judge:target=...",
        )
    items: list[tuple[str | None, str | BoundScorer]]
    if isinstance(scorers, Mapping):
        items = list(scorers.items())
    else:
        items = [(None, s) for s in scorers]
    out: dict[str, BoundScorer] = {}
    for key, spec in items:
        if isinstance(spec, BoundScorer):
            bound = spec
        else:
            name, kwargs = parse_scorer_spec(spec)
            bound = get_scorer(name, **kwargs)
        base = key or (
            python_scorer_key(bound.name) if bound.name.startswith("python:") else bound.name
        )
        k = base
        n = 2
        while k in out:
            k = f"{base}#{n}"
            n += 1
        out[k] = bound
    return out
