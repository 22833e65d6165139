"""The import contract, read from the source with ``ast`` (nothing is imported).

1. No module imports another package's private module (``pilotgate.<pkg>._x``) from outside
   ``<pkg>``, except the pairs in ``ALLOWED`` below, each with the reason it is still there.
   The list only shrinks: a pair that no longer occurs must be deleted from it. The CLI
   (``pilotgate._cli``) and the web app (``pilotgate._web``) are private to themselves, so no
   capability imports them; top-level private modules (``pilotgate._stats``) are shared.
2. The import graph has no cycles, imports deferred into a function body included (deferring
   an import hides a cycle from Python, not from the design): a shared piece moves to a
   lower module instead.

Implicit imports of parent packages are not edges: ``from pilotgate.x import _y`` is an edge
to ``pilotgate.x._y`` only. Imports under ``if TYPE_CHECKING:`` count for rule 1, not rule 2.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# (importer, private module) -> why it is still allowed. Fixing one: import the public name
# (or make it public, or move a piece two packages share to a top-level ``pilotgate._x``) and
# delete the line. What is left is structural: the CLI and the web app are the top layer,
# and only these import them.
ALLOWED: dict[tuple[str, str], str] = {
    ("pilotgate._docs", "pilotgate._cli"): "docs/cli.md is generated from click's metadata",
    ("pilotgate.__main__", "pilotgate._cli"): "`python -m pilotgate` runs the CLI",
    ("pilotgate._cli.serve_cmd", "pilotgate._web"): "`pilotgate serve` starts the web app",
    ("pilotgate.demo._services", "pilotgate._web"): "the demo serves the dashboard it shows",
}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int
    kind: str  # "module" (runs on import), "deferred" (in a function) or "typing"


def _modules(src: Path) -> dict[str, tuple[Path, bool]]:
    mods = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return mods


def _targets(
    node: ast.Import | ast.ImportFrom, mod: str, is_pkg: bool, mods: set[str]
) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        here = here[: len(here) - node.level + 1]
        base = ".".join(here + ([node.module] if node.module else []))
    subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
    others = [a for a in node.names if f"{base}.{a.name}" not in mods]
    return subs + ([base] if others else [])


def _walk(node: ast.AST, kind: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, kind
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from _walk(child, "typing")
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, "typing" if kind == "typing" else "deferred")
        else:
            yield from _walk(child, kind)


def imports(src: Path) -> list[Import]:
    mods = _modules(src)
    names = set(mods)
    found = []
    for mod, (path, is_pkg) in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _walk(tree, "module"):
            for target in _targets(node, mod, is_pkg, names):
                if target in names and target != mod:
                    found.append(Import(mod, target, node.lineno, kind))
    return found


def _private_owner(module: str, packages: set[str]) -> str | None:
    """Who may import a private module: ``a.b._c.d`` -> ``a.b``; None if it is public.

    Top-level private modules (``pilotgate._stats``) are shared helpers: everyone may. A
    top-level private package (``pilotgate._cli``, ``pilotgate._web``) is private to itself.
    """
    parts = module.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part.startswith("_"):
            if i == 1 and ".".join(parts[:2]) in packages:
                return ".".join(parts[:2])
            return None if i == 1 else ".".join(parts[:i])
    return None


def reaching_in(found: list[Import]) -> dict[tuple[str, str], list[int]]:
    """(importer, private module) -> lines, for imports of another package's private module."""
    names = {imp.importer for imp in found} | {imp.target for imp in found}
    packages = {name.rsplit(".", 1)[0] for name in names if "." in name}
    out: dict[tuple[str, str], list[int]] = {}
    for imp in found:
        owner = _private_owner(imp.target, packages)
        if owner is None:
            continue
        if imp.importer == owner or imp.importer.startswith(owner + "."):
            continue
        out.setdefault((imp.importer, imp.target), []).append(imp.line)
    return out


def cycles(found: list[Import], kinds: set[str]) -> list[frozenset[str]]:
    """Strongly connected groups (more than one module) of the graph of ``kinds`` imports."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        graph.setdefault(imp.importer, set())
        graph.setdefault(imp.target, set())
        if imp.kind in kinds:
            graph[imp.importer].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[frozenset[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(frozenset(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


FOUND = imports(SRC)


def test_no_import_of_another_packages_private_module() -> None:
    found = reaching_in(FOUND)
    new = {
        f"{a} -> {b} (line {lines[0]})" for (a, b), lines in found.items() if (a, b) not in ALLOWED
    }
    assert not new, f"import the public name instead: {sorted(new)}"


def test_allowlist_has_no_stale_entries() -> None:
    stale = sorted(f"{a} -> {b}" for (a, b) in ALLOWED if (a, b) not in reaching_in(FOUND))
    assert not stale, f"fixed: delete these lines from ALLOWED: {stale}"


def test_no_import_cycles_deferred_imports_included() -> None:
    # An import deferred into a function body still makes the two modules depend on each
    # other: move the shared piece to a lower module instead.
    found = cycles(FOUND, {"module", "deferred"})
    assert not found, [sorted(c) for c in found]


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    # A small tree with one reach-in, one module-level cycle and one deferred cycle.
    files = {
        "p/__init__.py": "",
        "p/a/__init__.py": "from p.a._x import X\n",
        "p/a/_x.py": "from p.b import Y\nX = 1\n",
        "p/b/__init__.py": "from p.a._x import X\nfrom . import _z\nY = 2\n",
        "p/b/_z.py": "def f():\n    from p.b import Y\n",
        "p/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.a import X\n",
        "p/_shared.py": "",
        "p/_top/__init__.py": "from p import _shared\n",
        "p/_top/_impl.py": "from p._top import _shared\n",
        "p/d.py": "from p import _shared, _top\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = imports(tmp_path)
    # p.d may use the shared helper p._shared, not the private package p._top.
    assert reaching_in(found) == {("p.b", "p.a._x"): [1], ("p.d", "p._top"): [1]}
    assert cycles(found, {"module"}) == [frozenset({"p.a._x", "p.b"})]
    # p.b._z imports p.b inside a function: a cycle only once deferred imports count.
    assert cycles(found, {"module", "deferred"}) == [frozenset({"p.a._x", "p.b", "p.b._z"})]
    assert Import("p.c", "p.a", 3, "typing") in found
