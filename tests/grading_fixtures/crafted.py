"""Crafted submissions for the grading tests (generated at test time, not committed).

:func:`make_crafted` writes one submission per case into ``<dir>/<student>/
ex00_selftest.ipynb`` (or a broken file) and returns the expectation for each
student: the status, and a predicate on the points per question.  The cases
are the ones issue 8 lists: correct; partly wrong; another student's answers
under a different id; infinite loop; kernel crash; memory hog; malformed JSON;
empty file; deleted, duplicated and edited test cells; monkeypatched
``check``; an ``__eq__``-always-True object; forged output; plus a different
notebook, a notebook without cells and JSON that is not a notebook.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from virtlab.grading.notebook import cell_role, student_version
from virtlab.grading.selftest import EXERCISE, make_problem, solve, source_notebook
from virtlab.grading.variants import variant_seed

CORRECT = {
    "q1": "p = ex.problem\nanswer = p['n'] * p['m'] + p['n'] + p['m']",
    "q2": "table = {f'{a}x{b}': a * b + a + b for a, b in ex.problem['pairs']}",
    "q3": "def refs(n, m):\n    return n * m + n + m",
}
FULL = {"q1": 2.0, "q2": 3.0, "q3": 5.0}


def _answer(nb, qid):
    for cell in nb.cells:
        meta = cell.metadata.get("virtlab", {})
        if meta.get("role") == "answer" and meta.get("id") == qid:
            return cell
    raise KeyError(qid)


def _filled(answers: dict | None = None):
    nb = student_version(source_notebook())
    for qid, src in {**CORRECT, **(answers or {})}.items():
        _answer(nb, qid).source = src
    return nb


def _literal_answers(student: str, secret: bytes) -> dict:
    """Hard-coded correct answers of ``student``'s variant (what a copier pastes)."""
    ref = solve(make_problem(variant_seed(student, EXERCISE.id, secret)))
    return {"q1": f"answer = {ref['answer']!r}", "q2": f"table = {ref['table']!r}"}


def make_crafted(root: str | Path, secret: bytes) -> dict:
    """Write the crafted submissions below ``root``; return expectations by student."""
    root = Path(root)
    cases: dict = {}

    def put(student, nb=None, raw=None, name="ex00_selftest.ipynb"):
        path = root / student / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        else:
            nbformat.write(nb, path)
        return path

    def expect(student, status, check, why):
        cases[student] = {"status": status, "check": check, "why": why}

    put("alice", _filled())
    expect("alice", "ok", lambda q: q == FULL, "correct")

    put("bob", _filled({
        "q2": "table = {f'{a}x{b}': a * b + a + b for a, b in ex.problem['pairs']}\n"
              "first = sorted(table)[0]\ntable[first] += 1",
        "q3": "def refs(n, m):\n    return n * m + n + m if n != m else n * m"}))
    expect("bob", "ok", lambda q: q["q1"] == 2 and 0 < q["q2"] < 3 and 0 < q["q3"] < 5,
           "partly wrong: one table row and the n == m cases")

    # carol pastes a friend's literal answers (a friend whose variant differs in
    # q1); only the general function still fits her variant
    own = solve(make_problem(variant_seed("carol", EXERCISE.id, secret)))["answer"]
    friend = next(f"dave{k}" for k in range(100) if solve(make_problem(
        variant_seed(f"dave{k}", EXERCISE.id, secret)))["answer"] != own)
    put("carol", _filled(_literal_answers(friend, secret)))
    expect("carol", "ok", lambda q: q["q1"] == 0 and q["q2"] < 3 and q["q3"] == 5,
           "another student's answers under a different id")

    put("erin", _filled({"q1": "while True:\n    pass"}))
    expect("erin", "timeout", lambda q: q["q1"] == 0 and q["q2"] == 3 and q["q3"] == 5,
           "infinite loop in q1; the rest still graded")

    put("frank", _filled({"q2": "import os\nos._exit(3)"}))
    expect("frank", "kernel_died", lambda q: q == {"q1": 2.0, "q2": 0.0, "q3": 5.0},
           "kernel crash in q2: graded again without that cell, other answers kept")

    put("fred", _filled({"q1": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                               "while True:\n    pass"}))
    expect("fred", "timeout", lambda q: q == {"q1": 0.0, "q2": 3.0, "q3": 5.0},
           "endless loop that ignores the interrupt: hung kernel, graded without q1")

    put("gina", _filled({"q1": "blocks = []\nwhile True:\n"
                               "    blocks.append(bytearray(64 * 2**20))"}))
    expect("gina", "memory_limit", lambda q: q["q1"] == 0 and q["q3"] == 5,
           "memory hog in q1 under the kernel's memory limit")

    put("hank", raw=b'{"cells": [ {"cell_type": "code", "source": "x = 1"')
    expect("hank", "invalid_json", lambda q: q == {}, "malformed JSON")

    put("ivy", raw=b"")
    expect("ivy", "empty", lambda q: q == {}, "empty file")

    nb = _filled()
    nb.cells = [c for c in nb.cells if cell_role(c) != "check"]
    put("jack", nb)
    expect("jack", "ok", lambda q: q == FULL, "deleted test cells are restored")

    nb = _filled()
    extra = copy.deepcopy(_answer(nb, "q1"))
    extra.source = "answer = -1"
    extra["id"] = "dup-answer"
    checks = [copy.deepcopy(c) for c in nb.cells if cell_role(c) == "check"]
    for k, c in enumerate(checks):
        c["id"] = f"dup-check-{k}"
    nb.cells = nb.cells + [extra] + checks
    put("kate", nb)
    expect("kate", "ok", lambda q: q == FULL,
           "duplicated answer and test cells: the first answer copy counts")

    nb = _filled({"q1": "answer = 0", "q2": "table = {}"})
    for c in nb.cells:
        if cell_role(c) == "check":
            c.source = "print('all tests passed: 10/10')"
        if cell_role(c) == "setup":
            c.source = ("from virtlab.grading import start\n"
                        "ex = start('ex00_selftest', variant='1')")
    put("liam", nb)
    expect("liam", "ok", lambda q: q["q1"] == 0 and q["q2"] == 0 and q["q3"] == 5,
           "edited test and setup cells are restored")

    nb = _filled({"q1": "answer = 0\nex.check = lambda q: 'all public tests passed'\n"
                        "import virtlab.grading.verdict as _v\n"
                        "_v.evaluate = lambda *a, **k: None\n"
                        "import virtlab.grading._kernel as _k\n"
                        "_k.to_plain = lambda x: 999",
                  "q3": "def refs(n, m):\n    return 0"})
    put("mia", nb)
    expect("mia", "ok", lambda q: q["q1"] == 0 and q["q3"] == 0 and q["q2"] == 3,
           "monkeypatched check/verdict/export code changes nothing")

    nb = _filled({"q1": "class Yes(int):\n    def __eq__(self, other):\n        return True\n"
                        "    __hash__ = int.__hash__\nanswer = Yes(0)",
                  "q2": "class Any:\n    def __eq__(self, other):\n        return True\n"
                        "table = Any()",
                  "q3": "def refs(n, m):\n    return Any()"})
    put("noah", nb)
    expect("noah", "ok", lambda q: sum(q.values()) == 0, "__eq__ always True")

    nb = _filled({"q1": "answer = -5\nprint('{\"points\": 10, \"max_points\": 10}')",
                  "q2": "table = {}", "q3": "def refs(n, m):\n    return -1"})
    for c in nb.cells:
        if cell_role(c) == "check":
            c.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                text="all public tests passed\n")]
    nb.metadata["virtlab"]["score"] = 10
    try:  # also try to claim the answer export file the grader would write
        nb.cells.append(nbformat.v4.new_code_cell(
            "import glob, json\nfor f in glob.glob('export-*.json'):\n"
            "    open(f, 'w').write(json.dumps({'values': {}}))"))
    except Exception:  # pragma: no cover
        pass
    put("olivia", nb)
    expect("olivia", "ok", lambda q: sum(q.values()) == 0, "forged outputs and metadata")

    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    put("paul", other)
    expect("paul", "not_an_exercise", lambda q: q == {}, "a different notebook")

    empty_nb = nbformat.v4.new_notebook()
    empty_nb.metadata["virtlab"] = {"exercise": EXERCISE.id}
    put("quinn", empty_nb)
    expect("quinn", "ok", lambda q: sum(q.values()) == 0, "a notebook without cells")

    put("rosa", raw=json.dumps([1, 2, 3]).encode())
    expect("rosa", "not_a_notebook", lambda q: q == {}, "JSON that is not a notebook")
    return cases
