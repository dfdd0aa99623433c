"""``virtlab check-solutions``: the instructor's safety net.

For every source in ``solutions/``:

* the notebook and the exercise definition agree (each question has a prompt,
  an answer and a check cell; the check cell's nbgrader points are the
  question's points; each manually graded question has a prompt and one
  Markdown ``reason`` cell marked as nbgrader's manually graded answer with
  the question's points);
* every question has hidden tests (for every checked seed);
* reference answers are plain data and ``solve`` is deterministic;
* ``solve`` agrees with the models (the exercise's ``crosscheck``);
* the solution scores **full marks** for many seeds, and the untouched
  student version scores **zero** on every question (a test that cannot
  fail is caught) -- both executed in-process with the grader's verdict
  code, seed pinned as in grading;
* optionally (``kernel=True``) the same two facts through the real grader
  (:func:`.runner.grade_submission`) in a fresh kernel;
* the committed ``exercises/`` equal a fresh generation.

Examples
--------
>>> import tempfile, nbformat
>>> from virtlab.grading.selftest import source_notebook
>>> d = Path(tempfile.mkdtemp())
>>> nbformat.write(source_notebook(), d / "ex00_selftest.ipynb")
>>> check_solutions(d, None, seeds=3)
[]
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from pathlib import Path

import nbformat

from . import session as _session
from ._kernel import export_answers, to_plain
from .assign import assign
from .exercise import Function, Value, get_exercise, load_private
from .notebook import cell_role, exercise_id_of, student_version
from .runner import GradeOptions, grade_submission
from .variants import variant_seed
from .verdict import evaluate

__all__ = ["check_solutions", "run_in_process", "check_exercise"]

_MAGIC = re.compile(r"^\s*[%!].*$", re.M)


def run_in_process(nb, seed: int) -> dict:
    """Execute a notebook's code cells (demos skipped) in a fresh namespace, seed pinned.

    Instructor code only (solutions and generated exercises): errors in
    answer cells are tolerated (a stub raises NotImplementedError only when
    called); errors elsewhere propagate.

    Examples
    --------
    >>> from virtlab.grading.selftest import source_notebook
    >>> run_in_process(source_notebook(), seed=0)["answer"] > 0
    True
    """
    ns: dict = {"__name__": "__main__"}
    saved = dict(_session._GRADING)
    _session._GRADING["seed"] = seed
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in nb.cells:
                if cell.cell_type != "code" or cell_role(cell) == "demo":
                    continue
                exec(compile(_MAGIC.sub("", cell.source), f"<{cell.get('id')}>", "exec"), ns)
    finally:
        _session._GRADING.clear()
        _session._GRADING.update(saved)
    return ns


def _structure(nb, exercise) -> list[str]:
    issues = []
    cells: dict = {}
    for cell in nb.cells:
        meta = cell.metadata.get("virtlab", {})
        cells.setdefault((meta.get("role"), meta.get("id")), []).append(cell)
    for q in exercise.questions:
        for role in ("prompt", "answer", "check"):
            if len(cells.get((role, q.id), [])) != 1:
                issues.append(f"{q.id}: needs exactly one {role} cell")
        for c in cells.get(("check", q.id), []):
            pts = c.metadata.get("nbgrader", {}).get("points")
            if pts != q.points:
                issues.append(f"{q.id}: check cell points {pts} != question points {q.points}")
            if f'ex.check("{q.id}")' not in c.source:
                issues.append(f"{q.id}: check cell must call ex.check(\"{q.id}\")")
            hidden = c.source.split("### BEGIN HIDDEN TESTS")[-1].split("### END HIDDEN")[0]
            if "### BEGIN HIDDEN TESTS" not in c.source or f'ex.verify("{q.id}")' not in hidden:
                issues.append(f"{q.id}: check cell needs a hidden-tests block with "
                              f"ex.verify(\"{q.id}\") (nbgrader's autograder scores it)")
        for c in cells.get(("answer", q.id), []):
            if q.name not in c.source:
                issues.append(f"{q.id}: answer cell does not mention `{q.name}`")
    for q in exercise.manual:
        for role in ("prompt", "reason"):
            if len(cells.get((role, q.id), [])) != 1:
                issues.append(f"{q.id}: needs exactly one {role} cell")
        for c in cells.get(("reason", q.id), []):
            meta = c.metadata.get("nbgrader", {})
            want = {"grade": True, "solution": True, "locked": False, "points": q.points,
                    "grade_id": f"{q.id}_reason"}
            got = {k: meta.get(k) for k in want}
            if c.cell_type != "markdown" or got != want:
                issues.append(f"{q.id}: reason cell must be a Markdown cell with nbgrader "
                              f"metadata {want}, got {c.cell_type} {got}")
    if not cells.get(("setup", None)):
        issues.append("no setup cell")
    if not cells.get(("variant", None)):
        issues.append("no variant cell")
    return issues


def check_exercise(path: str | Path, seeds: int = 25, kernel: bool = False,
                   solutions_dir: str | Path | None = None) -> list[str]:
    """All checks for one source notebook; returns a list of problems (empty = fine).

    Examples
    --------
    >>> from virtlab.paths import repo_root
    >>> check_exercise(repo_root() / "solutions" / "ex03_page_walks.ipynb", seeds=2)
    []
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    eid = exercise_id_of(nb)
    if eid != path.stem:
        return [f"{path.name}: metadata virtlab.exercise is {eid!r}, expected {path.stem!r}"]
    try:
        exercise = get_exercise(eid)
    except ValueError as exc:
        return [f"{path.name}: {exc}"]
    issues = [f"{eid}: {m}" for m in _structure(nb, exercise)]
    student = student_version(nb)
    seed_list = [0] + [variant_seed(f"student{k}", eid, b"check-solutions")
                       for k in range(max(0, seeds - 1))]
    for seed in seed_list:
        problem = exercise.make_problem(seed)
        solution = exercise.solve(problem)
        if to_plain(solution) != to_plain(exercise.solve(exercise.make_problem(seed))):
            issues.append(f"{eid} seed {seed}: make_problem/solve not deterministic")
        for q in exercise.questions:
            if isinstance(q, Value):
                ref = to_plain(solution.get(q.name, {"__unsupported__": "missing"}))
                if isinstance(ref, dict) and "__unsupported__" in ref:
                    issues.append(f"{eid} {q.id}: reference `{q.name}` is not plain data")
        hidden = exercise.hidden_cases(problem, seed, b"check-solutions")
        for q in exercise.questions:
            if isinstance(q, Function) and not hidden[q.id]:
                issues.append(f"{eid} {q.id} seed {seed}: no hidden tests")
        if exercise.crosscheck is not None:
            for msg in exercise.crosscheck(problem, solution):
                issues.append(f"{eid} seed {seed}: solve disagrees with the models: {msg}")
        spec = exercise.export_spec(problem, hidden)
        for label, book, want_full in (("solution", nb, True), ("untouched exercise",
                                                                  student, False)):
            try:
                ns = run_in_process(book, seed)
            except Exception as exc:  # instructor notebooks must run
                issues.append(f"{eid} seed {seed}: {label} raised {type(exc).__name__}: {exc}")
                continue
            verdict = evaluate(exercise, problem, solution, export_answers(ns, spec),
                               hidden, seed)
            for qv in verdict.questions:
                if not qv.hidden:
                    issues.append(f"{eid} {qv.id}: has no hidden tests")
                if want_full and qv.points != qv.max_points:
                    bad = [t.name for t in qv.tests if t.scored and not t.passed]
                    issues.append(f"{eid} {qv.id} seed {seed}: solution scores "
                                  f"{qv.points}/{qv.max_points} (failed: {', '.join(bad)})")
                if not want_full and qv.points != 0:
                    issues.append(f"{eid} {qv.id} seed {seed}: untouched exercise scores "
                                  f"{qv.points} (a test that cannot fail)")
    if kernel:
        opts = GradeOptions(solutions_dir=solutions_dir or path.parent, cell_timeout=60,
                            notebook_timeout=300)
        with tempfile.TemporaryDirectory() as tmp:
            for label, book, want in (("solution", nb, True), ("exercise", student, False)):
                target = Path(tmp) / "checker" / f"{eid}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(book, target)
                r = grade_submission(target, "checker", opts)
                ok = (r.points == r.max_points) if want else (r.points == 0)
                if not ok or r.status != "ok":
                    issues.append(f"{eid}: graded {label} in a kernel: {r.status} "
                                  f"{r.points}/{r.max_points} ({r.reason})")
    return issues


def check_solutions(solutions_dir: str | Path, exercises_dir: str | Path | None,
                    seeds: int = 25, kernel: bool = False,
                    only: list[str] | None = None) -> list[str]:
    """Run :func:`check_exercise` on every source and the assign-consistency check.

    Examples
    --------
    >>> check_solutions(Path(tempfile.mkdtemp()), None)
    ['no exercise sources in ...']
    """
    issues: list[str] = []
    load_private(solutions_dir)  # an instructor's private exercise modules, if any
    paths = sorted(Path(solutions_dir).glob("ex*.ipynb"))
    if only:
        paths = [p for p in paths if p.stem in only]
    if not paths:
        issues.append(f"no exercise sources in {solutions_dir}")
    for path in paths:
        issues += check_exercise(path, seeds=seeds, kernel=kernel, solutions_dir=solutions_dir)
    if exercises_dir is not None:
        for name in assign(solutions_dir, exercises_dir, check=True):
            issues.append(f"exercises/{name} differs from a fresh `virtlab assign`")
    return issues
