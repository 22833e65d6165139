"""The one generator of the reference tables in ``docs/``: they are read from the code.

Every generated table sits in its page between ``<!-- generated:NAME:start -->`` and
``<!-- generated:NAME:end -->``; the prose around it is written by hand. ``TABLES`` says
which page holds which table and what produces it: the pilot plan's fields (the pydantic
models), the gate's metrics and the perturbations and scorers (their registries), and
the options of every command (click's own metadata). ``python -m pilotgate._docs``
(``make docs``) rewrites the tables; ``python -m pilotgate._docs --check`` and
``tests/test_docs_generated.py`` fail when a page is stale.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

__all__ = ["TABLES", "Table", "iter_fields", "main", "regenerate", "stale_pages"]


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _prose(text: object) -> str:
    """Prose cells: ``<step>`` would be read as an HTML tag and vanish."""
    return _cell(text).replace("<", "&lt;").replace(">", "&gt;")


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


# -- the pilot plan (docs/plan.md) -------------------------------------------------------


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


def iter_fields(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    """(key path, type, default, description) for every field of ``model``, recursively."""
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


def plan_table() -> str:
    """Every key of ``pilotgate.toml``: type, default and meaning (the models' docstrings)."""
    from pilotgate.plan import Plan
    from pilotgate.targets import TargetConfig

    rows = list(iter_fields(Plan, ""))
    rows += [(f"targets.NAME.{p}", t, d, m) for p, t, d, m in iter_fields(TargetConfig, "")]
    rows = [r for r in rows if r[0] != "targets"] + [r for r in rows if r[0] == "targets"]
    out = [
        [f"`{path}`", typ.replace("|", "\\|"), default.replace("|", "\\|"), desc]
        for path, typ, default, desc in rows
        if path not in ("feature", "pilot", "load", "store")
    ]
    return _table(["key", "type", "default", "meaning"], out)


# -- registries (docs/gate.md, docs/robustness.md, docs/evaluate.md) ----------------------


def metrics_table() -> str:
    """One row per registered metric pattern: pattern, example, unit, source, meaning."""
    from pilotgate.gate import catalogue

    rows = [
        [f"`{_cell(e['pattern'])}`", f"`{_cell(e['example'])}`", _cell(e["unit"])]
        + [_prose(e["source"]), _prose(e["description"])]
        for e in catalogue()
    ]
    return _table(["metric pattern", "example", "unit", "read from", "meaning"], rows)


def perturbations_table() -> str:
    """One row per perturbation: name, family, default severity, expectation, meaning."""
    from pilotgate.perturb import list_perturbations

    rows = []
    for p in list_perturbations():
        tags = f" *({', '.join(p.tags)})*" if p.tags else ""
        if p.applies_when:
            tags += f" Changes only {_cell(p.applies_when)}."
        severity = _cell(p.fn.__doc__ or "") if p.fn is not None else ""
        rows.append(
            [f"`{p.name}`", p.family, f"{p.default_severity:g}", p.expectation]
            + [f"{_cell(p.description)}{tags}", severity]
        )
    head = ["name", "family", "default severity", "expects", "what it does", "severity means"]
    return _table(head, rows)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ours(obj: Any) -> bool:
    """Whether a registered component is defined by pilotgate itself (not a plug-in)."""
    return str(getattr(obj, "__module__", "") or "").startswith("pilotgate.")


def scorers_table() -> str:
    """One row per registered scorer: its options (keyword arguments) and what it checks."""
    from pilotgate.scoring import SCORERS, list_scorers

    rows = []
    for s in list_scorers():
        fn = SCORERS.get(s["name"]).obj
        if not _ours(fn):  # a plug-in's (or a test's) scorer is not pilotgate's to document
            continue
        sig = inspect.signature(fn)
        opts = [
            f"`{p.name}={_cell(_short(p.default))}`"
            for p in sig.parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name != "input"
        ]
        rows.append([f"`{s['name']}`", ", ".join(opts) or "—", _prose(s["description"])])
    return _table(["scorer", "options (defaults)", "what it checks"], rows)


# -- the command line (docs/cli.md) -----------------------------------------------------


def _commands() -> Iterator[tuple[str, click.Command]]:
    """``("pilotgate eval run", command)`` for every command and subcommand, sorted."""
    from pilotgate._cli import cli

    ctx = click.Context(cli)

    def walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
        if not isinstance(cmd, click.Group):
            yield path, cmd
            return
        yield path, cmd
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, f"{path} {name}")

    yield from walk(cli, "pilotgate")


def _default(opt: click.Option) -> str:
    d = opt.default
    if d is None or callable(d) or type(d).__name__ == "Sentinel" or (opt.is_flag and not d):
        return ""
    if isinstance(d, list | tuple) and not d:
        return ""
    return f"`{_cell(d)}`"


def _type(opt: click.Option) -> str:
    if opt.is_flag:
        return "flag"
    if isinstance(opt.type, click.Choice):
        return " \\| ".join(f"`{c}`" for c in opt.type.choices)
    name = opt.type.name.replace(" range", "")
    return name + (" (repeatable)" if opt.multiple else "")


def cli_options_table() -> str:
    """Every command's usage line and its options: names, type, default and help."""
    parts = []
    for path, cmd in _commands():
        ctx = click.Context(cmd, info_name=path)
        usage = " ".join(cmd.collect_usage_pieces(ctx))
        rows = [
            [", ".join(f"`{o}`" for o in p.opts + p.secondary_opts), _type(p), _default(p)]
            + [_prose(p.help or "")]
            for p in cmd.params
            if isinstance(p, click.Option) and not p.hidden
        ]
        parts.append(f"### `{path}`\n\n{_prose(cmd.get_short_help_str(200))}\n\n")
        parts.append(f"Usage: `{path} {usage}`\n\n")
        if rows:
            parts.append(_table(["option", "type", "default", "meaning"], rows) + "\n")
    return "".join(parts).rstrip("\n") + "\n"


# -- pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A generated table: its marker name, the page (under docs/) and its generator."""

    name: str
    page: str
    make: Callable[[], str]

    @property
    def start(self) -> str:
        return f"<!-- generated:{self.name}:start -->"

    @property
    def end(self) -> str:
        return f"<!-- generated:{self.name}:end -->"

    def apply(self, text: str) -> str:
        """``text`` with this table's region replaced by a fresh table."""
        head, found, rest = text.partition(self.start + "\n")
        body, found_end, tail = rest.partition(self.end)
        if not found or not found_end:
            raise ValueError(f"docs/{self.page}: no {self.start} … {self.end} region")
        return f"{head}{self.start}\n{self.make()}{self.end}{tail}"


TABLES: tuple[Table, ...] = (
    Table("plan", "plan.md", plan_table),
    Table("metrics", "gate.md", metrics_table),
    Table("perturbations", "robustness.md", perturbations_table),
    Table("scorers", "evaluate.md", scorers_table),
    Table("cli-options", "cli.md", cli_options_table),
)


def _fresh(docs: Path) -> dict[Path, tuple[str, str]]:
    """page -> (text on disk, text with every table regenerated)."""
    out: dict[Path, tuple[str, str]] = {}
    for table in TABLES:
        path = docs / table.page
        old = out[path][0] if path in out else path.read_text(encoding="utf-8")
        new = table.apply(out[path][1] if path in out else old)
        out[path] = (old, new)
    return out


def stale_pages(docs: Path) -> list[str]:
    """Pages whose generated tables differ from what the code generates now."""
    return sorted(p.name for p, (old, new) in _fresh(docs).items() if old != new)


def regenerate(docs: Path) -> list[str]:
    """Rewrite every stale page under ``docs``; returns the pages rewritten."""
    changed = []
    for path, (old, new) in _fresh(docs).items():
        if old != new:
            path.write_text(new, encoding="utf-8")
            changed.append(path.name)
    return sorted(changed)


def main(argv: list[str] | None = None) -> int:
    """``python -m pilotgate._docs [--check] [DOCS_DIR]`` (default ``docs``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    docs = Path(rest[0] if rest else "docs")
    if check:
        stale = stale_pages(docs)
        for page in stale:
            print(f"stale: docs/{page} (run: python -m pilotgate._docs)", file=sys.stderr)
        return 1 if stale else 0
    for page in regenerate(docs):
        print(f"rewrote docs/{page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
