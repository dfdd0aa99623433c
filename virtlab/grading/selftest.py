"""A tiny exercise that exercises the grading toolchain itself (no model needed).

Importing this module registers ``ex00_selftest`` (see
:func:`virtlab.grading.exercise.register`); the toolchain tests build a source
notebook for it, generate the student version, and grade crafted submissions.
It uses the nested-walk formula of facts.md (n·m + n + m page-table
references) so that its reference answers are independent of any model.

Examples
--------
>>> p = make_problem(0)
>>> solve(p)["answer"] == p["n"] * p["m"] + p["n"] + p["m"]
True
"""

from __future__ import annotations

import nbformat

from ..i18n import N_, _
from ..rng import make_rng
from .exercise import Exercise, Function, Value, register
from .notebook import annotate

__all__ = ["EXERCISE", "make_problem", "walk_refs"]


def make_problem(seed: int) -> dict:
    """Guest and host paging levels plus a few level pairs for a table.

    Examples
    --------
    >>> make_problem(0) == make_problem(0)
    True
    """
    rng = make_rng(seed)
    n, m = rng.randint(2, 5), rng.randint(2, 5)
    pairs = sorted({(rng.randint(1, 5), rng.randint(1, 5)) for _ in range(3)})
    return {"n": n, "m": m, "pairs": pairs}


def walk_refs(n: int, m: int) -> int:
    """Page-table references of a 2D walk with n guest and m host levels.

    Examples
    --------
    >>> walk_refs(4, 4)
    24
    """
    return n * m + n + m


def solve(problem: dict) -> dict:
    """Reference answers: the walk cost and a table of costs by level pair.

    Examples
    --------
    >>> solve({"n": 4, "m": 4, "pairs": [(2, 2)]})
    {'answer': 24, 'table': {'2x2': 8}}
    """
    return {"answer": walk_refs(problem["n"], problem["m"]),
            "table": {f"{a}x{b}": walk_refs(a, b) for a, b in problem["pairs"]}}


def _describe(problem: dict) -> str:
    pairs = ", ".join(f"{a}x{b}" for a, b in problem["pairs"])
    return (_("A guest uses {n}-level page tables, the host {m} levels.").format(
                n=problem["n"], m=problem["m"])
            + "\n" + _("Table rows: {pairs}").format(pairs=pairs))


EXERCISE = register(Exercise(
    id="ex00_selftest",
    title=N_("Toolchain self-test: 2D page walks"),
    make_problem=make_problem,
    solve=solve,
    describe=_describe,
    questions=(
        Value("q1", 2, N_("Each guest level costs m host references plus one read."),
              name="answer", kind="int"),
        Value("q2", 3, N_("Use the same formula for every row."), name="table", kind="dict",
              per_entry=True),
        Function("q3", 5, N_("Return n*m + n + m."), name="refs",
                 public=lambda p: [(4, 4), (p["n"], p["m"])],
                 hidden=lambda p, rng: [(rng.randint(1, 6), rng.randint(1, 6))
                                        for _ in range(4)],
                 reference=lambda p, n, m: walk_refs(n, m)),
    ),
))


def source_notebook():
    """An instructor source notebook for ``ex00_selftest`` (built in code for tests).

    Examples
    --------
    >>> nb = source_notebook()
    >>> nb.metadata["virtlab"]["exercise"]
    'ex00_selftest'
    """
    def cell(kind, role, source, qid=None):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        c = make(source)
        c.metadata["virtlab"] = {"role": role, **({"id": qid} if qid else {})}
        return c

    cells = [
        cell("md", "intro", "# Self-test\nLearning goals: use the grading toolchain."),
        cell("code", "variant", "VARIANT = None  # your variant code, e.g. '3f2a...'"),
        cell("code", "setup", 'from virtlab.grading import start\n'
                              'ex = start("ex00_selftest", variant=VARIANT)\nex.show()'),
        cell("md", "prompt", "**q1** How many references for `ex.problem`?", "q1"),
        cell("code", "answer", "p = ex.problem\n### BEGIN SOLUTION\n"
                               "answer = p['n'] * p['m'] + p['n'] + p['m']\n### END SOLUTION",
             "q1"),
        cell("code", "check", '### BEGIN HIDDEN TESTS\nex.verify("q1")\n'
                              '### END HIDDEN TESTS\nex.check("q1")', "q1"),
        cell("md", "prompt", "**q2** Fill the table.", "q2"),
        cell("code", "answer", "### BEGIN SOLUTION\ntable = {f'{a}x{b}': a * b + a + b "
                               "for a, b in ex.problem['pairs']}\n### END SOLUTION", "q2"),
        cell("code", "check", '### BEGIN HIDDEN TESTS\nex.verify("q2")\n'
                              '### END HIDDEN TESTS\nex.check("q2")', "q2"),
        cell("md", "prompt", "**q3** Implement `refs(n, m)`.", "q3"),
        cell("code", "answer", "def refs(n, m):\n    ### BEGIN SOLUTION\n"
                               "    return n * m + n + m\n    ### END SOLUTION", "q3"),
        cell("code", "check", '### BEGIN HIDDEN TESTS\nex.verify("q3")\n'
                              '### END HIDDEN TESTS\nex.check("q3")', "q3"),
        cell("code", "demo", "ex.check_all()"),
        cell("md", "text", "## Summary\nDone."),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    annotate(nb, EXERCISE.id, {q.id: q.points for q in EXERCISE.questions},
             {q.id: q.name for q in EXERCISE.questions})
    return nb
