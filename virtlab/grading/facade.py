"""The student-facing part of an exercise module, for the grading sandbox.

An exercise module holds both what a notebook's locked cells use (the
``Problem`` class, helpers such as ``ex05_ballooning.vm_specs``) and the
reference solver.  The sandboxed kernel must not reach the solver, so it
does not see the exercise modules at all; instead the grader writes a
*facade* for the one exercise being graded: the names the exercise's own
notebook cells import from its module, with the module-level code they
depend on -- never ``solve``, ``crosscheck``, ``EXERCISE``, the questions'
reference helpers, or the functions a student must write.  A name whose
code would need one of those is left out.

Examples
--------
>>> from virtlab.grading.exercises import ex05_ballooning as m
>>> text = facade_source(m, ["vm_specs"])
>>> "def vm_specs" in text, "def solve" in text, "EXERCISE" in text
(True, False, False)
"""

from __future__ import annotations

import ast
import inspect
import re

__all__ = ["facade_source", "imported_names", "FORBIDDEN"]

#: Module names a facade never contains.
FORBIDDEN = frozenset({"solve", "crosscheck", "EXERCISE"})


def imported_names(cells, exercise_id: str) -> list[str]:
    """Names the given code cells import from ``virtlab.grading.exercises.<exercise_id>``.

    Examples
    --------
    >>> imported_names(["from virtlab.grading.exercises.ex05_x import a, b as c"], "ex05_x")
    ['a', 'b']
    """
    module = f"virtlab.grading.exercises.{exercise_id}"
    names: list[str] = []
    for text in cells:
        for m in re.finditer(rf"from\s+{re.escape(module)}\s+import\s+\(?([^)\n]+)", text):
            for part in m.group(1).split(","):
                name = part.strip().split(" as ")[0].strip()
                if name.isidentifier() and name not in names:
                    names.append(name)
    return names


def _defined(node) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def _absolute(node: ast.ImportFrom, package: str) -> ast.ImportFrom:
    if not node.level:
        return node
    parts = package.split(".")
    base = ".".join(parts[:len(parts) - node.level + 1])
    module = f"{base}.{node.module}" if node.module else base
    return ast.ImportFrom(module=module, names=node.names, level=0)


def facade_source(module, wanted: list[str], student_names=()) -> str:
    """Source of a module holding ``wanted`` and what they need, without any solver.

    ``student_names`` are functions the student writes (never included).
    """
    tree = ast.parse(inspect.getsource(module))
    banned = set(FORBIDDEN) | set(student_names)
    defs: dict[str, ast.stmt] = {}
    imports: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                imports.append(_absolute(node, module.__package__)
                               if isinstance(node, ast.ImportFrom) else node)
        for name in _defined(node):
            defs[name] = node
    keep: dict[int, ast.stmt] = {}

    def needs(name: str, seen: set) -> set | None:
        """Names ``name`` depends on (transitively), or None when it needs a banned one."""
        if name in banned:
            return None
        if name in seen or name not in defs:
            return seen
        seen.add(name)
        for sub in ast.walk(defs[name]):
            if isinstance(sub, ast.Name) and sub.id != name and sub.id in defs:
                if needs(sub.id, seen) is None:
                    return None
        return seen

    for name in wanted:
        closure = needs(name, set())
        if closure is None:
            continue
        for dep in closure:
            keep[id(defs[dep])] = defs[dep]
    body = imports + [n for n in tree.body if id(n) in keep]
    out = ast.Module(body=body, type_ignores=[])
    header = (f'"""Grading facade of {module.__name__}: student-facing names only."""\n'
              "from __future__ import annotations\n")
    return header + ast.unparse(ast.fix_missing_locations(out)) + "\n"
