"""The import graph of a package, read from its source (used by tests/test_layers.py).

Every ``import`` and ``from ... import`` statement counts, wherever it stands — at
module level, inside a function, under ``if TYPE_CHECKING`` — and so does
``importlib.import_module("literal.name")``, because a
function-local import is still a dependency: it only hides it.  Edges go from a
module to the modules it makes Python import: ``from .pkg import name`` is an
edge to ``pkg.name`` if that is a module, else to ``pkg``; importing ``a.b.c``
also imports the packages ``a.b`` and ``a`` first, so those are edges too,
except for packages that contain the importing module (Python is already
initialising them; that is how a package imports its own submodules) — but a
name imported *from* a package's ``__init__`` is always an edge to it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImportGraph:
    """``edges[module]`` = modules it imports; ``names[module]`` = (module, name) pairs."""

    root: str
    edges: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)


def module_name(path: Path, src_dir: Path) -> str:
    parts = path.relative_to(src_dir).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def build(pkg_dir: Path) -> ImportGraph:
    """Parse every ``*.py`` below ``pkg_dir`` (a package folder)."""
    src_dir = pkg_dir.parent
    files = {module_name(p, src_dir): p for p in sorted(pkg_dir.rglob("*.py"))}
    g = ImportGraph(pkg_dir.name)
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        package = mod if is_pkg else mod.rpartition(".")[0]
        targets: set[str] = set()
        names: set[tuple[str, str]] = set()
        external: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "import_module" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                node = ast.Import([ast.alias(node.args[0].value)])   # a literal dynamic import
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == g.root:
                        targets.add(a.name)
                    else:
                        external.add(a.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != g.root:
                    external.add(target)
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in files:
                        targets.add(sub)
                    else:
                        targets.add(target)
                        names.add((target, a.name))
        edges = {t for t in targets if t in files and t != mod}
        for t in targets:
            parts = t.split(".")
            for k in range(1, len(parts)):
                parent = ".".join(parts[:k])
                if parent in files and parent != mod and not _contains(parent, mod):
                    edges.add(parent)
        g.edges[mod] = edges
        g.names[mod] = names
        g.external[mod] = external
    return g


def _contains(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def private_imports(g: ImportGraph) -> list[str]:
    """``module imports other._name`` for every private name imported across modules."""
    return sorted(f"{mod} imports {src}.{name}" for mod, pairs in g.names.items()
                  for src, name in pairs
                  if name.startswith("_") and not name.startswith("__") and src != mod
                  and name != "_")       # gettext's marker (virtlab.i18n._) is public by convention


def local_imports(pkg_dir: Path) -> list[str]:
    """``module:line imports target`` for every function-local import of the package itself."""
    src_dir = pkg_dir.parent
    out = []
    for path in sorted(pkg_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if id(node) in top or not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.ImportFrom):
                own = node.level > 0 or (node.module or "").split(".")[0] == pkg_dir.name
                what = "." * node.level + (node.module or "")
            else:
                own = any(a.name.split(".")[0] == pkg_dir.name for a in node.names)
                what = ", ".join(a.name for a in node.names)
            if own:
                out.append(f"{module_name(path, src_dir)}:{node.lineno} imports {what}")
    return out
