"""The crafted-submission suite over every course exercise (select one with ``-k exNN``).

:mod:`tests.test_grading_crafted` drives every hostile pattern through the
toolchain's self-test exercise; here the patterns that make sense for *any*
exercise run for each exercise in ``solutions/``:

* **honest** -- the generated exercise with the solution's answers typed in,
  the manually graded answers in the student's own words and one check cell
  deleted, graded for real (``virtlab grade``'s code, fresh kernels, ``-j 2``,
  all selected exercises in one batch) for every exercise with a manually
  graded question: full autograded marks, the check cell restored, the
  Markdown answers neither "repaired" nor scored (their points are the
  instructor's, not autograded zeros).  (``check-solutions`` gives every
  solution full marks in-process for many seeds, and
  tests/test_grading_course.py grades two solutions in kernels.)
* **untouched** -- the generated exercise scores 0 (tests/test_grading_course.py
  also grades every untouched exercise in a kernel, demo cells included);
* **liar** -- every answer bound to an object whose ``__eq__`` always says
  True (and every function returning one) scores 0.

The last two run the grader's export and verdict code in-process, as
``check-solutions`` does (a kernel adds nothing to what they test).

The fast tests below check the manual-grading cells without a kernel.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from virtlab.grading._kernel import export_answers
from virtlab.grading.batch import grade_many
from virtlab.grading.checks import check_exercise, run_in_process
from virtlab.grading.exercise import Function, exercises, get_exercise
from virtlab.grading.notebook import TEXT_STUB, cell_role, rebuild, student_version
from virtlab.grading.report import load_results
from virtlab.grading.runner import GradeOptions
from virtlab.grading.variants import variant_seed
from virtlab.grading.verdict import evaluate

ROOT = Path(__file__).resolve().parent.parent
SOL, EXE = ROOT / "solutions", ROOT / "exercises"
COURSE = sorted(e for e in exercises() if e != "ex00_selftest")
MANUAL = [e for e in COURSE if get_exercise(e).manual]
SECRET = b"crafted-exercises-secret"

LIAR = ("class _Liar:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __hash__(self):\n        return 0\n")


def _cells(nb, role, qid=None):
    return [c for c in nb.cells if cell_role(c) == role
            and (qid is None or c.metadata["virtlab"].get("id") == qid)]


def honest(eid: str):
    """The generated exercise with the solution's answers typed in (markers dropped)."""
    source = nbformat.read(SOL / f"{eid}.ipynb", as_version=4)
    nb = student_version(source)
    answers = {c.id: c.source for c in _cells(source, "answer")}
    for cell in _cells(nb, "answer"):
        cell.source = "\n".join(line for line in answers[cell.id].split("\n")
                                if line.strip() not in ("### BEGIN SOLUTION",
                                                        "### END SOLUTION"))
    for cell in _cells(nb, "reason"):
        cell.source = "My own words: I predict it and say why, in one sentence."
    nb.cells.remove(_cells(nb, "check")[0])
    return nb


def liar(eid: str):
    ex = get_exercise(eid)
    nb = student_version(nbformat.read(SOL / f"{eid}.ipynb", as_version=4))
    for q in ex.questions:
        (cell,) = _cells(nb, "answer", q.id)
        if isinstance(q, Function):
            cell.source = LIAR + f"\ndef {q.name}(*args, **kwargs):\n    return _Liar()\n"
        else:
            cell.source = LIAR + f"\n{q.name} = _Liar()\n"
    return nb


@pytest.fixture(scope="module")
def graded_honest(request, tmp_path_factory):
    """Grade the honest submission of every *selected* exercise in one batch (-j 2)."""
    wanted = sorted({item.callspec.params["eid"] for item in request.session.items
                     if getattr(item, "originalname", None) == "test_honest_submission_full_marks"})
    root = tmp_path_factory.mktemp("crafted-exercises")
    for eid in wanted:
        (root / "subs" / "honest").mkdir(parents=True, exist_ok=True)
        nbformat.write(honest(eid), root / "subs" / "honest" / f"{eid}.ipynb")
    opts = GradeOptions(solutions_dir=SOL, cell_timeout=60, notebook_timeout=300,
                        secret=SECRET)
    with open(root / "log", "w") as log:
        grade_many([root / "subs"], root / "out", jobs=2, options=opts, progress=log)
    return {r["exercise"]: r for r in load_results(root / "out")}


@pytest.mark.slow
@pytest.mark.parametrize("eid", MANUAL)
def test_honest_submission_full_marks(eid, graded_honest):
    ex = get_exercise(eid)
    r = graded_honest[eid]
    assert r["status"] == "ok" and r["cell_errors"] == [], r
    # autograded points only: manual questions are neither scored nor zeros
    assert r["points"] == r["max_points"] == ex.max_points > 0, r
    assert set(r["questions"]) == {q.id for q in ex.questions}
    first_check = [c for c in nbformat.read(EXE / f"{eid}.ipynb", as_version=4).cells
                   if cell_role(c) == "check"][0].metadata["nbgrader"]["grade_id"]
    assert r["reason"] == f"graded; repaired: {first_check}: deleted, restored from source"


@pytest.mark.parametrize("eid", COURSE)
@pytest.mark.parametrize("who", ["untouched", "liar"])
def test_untouched_and_liar_score_zero(eid, who):
    """The grader's export and verdict code, run in-process (as check-solutions does)."""
    ex = get_exercise(eid)
    nb = liar(eid) if who == "liar" else nbformat.read(EXE / f"{eid}.ipynb", as_version=4)
    seed = variant_seed(who, eid, SECRET)
    problem = ex.make_problem(seed)
    hidden = ex.hidden_cases(problem, seed, SECRET)
    ns = run_in_process(nb, seed)
    verdict = evaluate(ex, problem, ex.solve(problem), export_answers(ns, ex.export_spec(
        problem, hidden)), hidden, seed)
    assert verdict.points == 0 and verdict.max_points == ex.max_points, verdict


# -- manual-grading cells, without a kernel ----------------------------------------------

def test_every_new_exercise_asks_for_reasoning():
    for eid in COURSE:
        if eid >= "ex08":
            assert get_exercise(eid).manual, f"{eid} has no manually graded question"


@pytest.mark.parametrize("eid", MANUAL)
def test_reason_cells_are_nbgrader_manual_answers_and_stubbed(eid):
    ex = get_exercise(eid)
    source = nbformat.read(SOL / f"{eid}.ipynb", as_version=4)
    student = nbformat.read(EXE / f"{eid}.ipynb", as_version=4)
    for q in ex.manual:
        (src,) = _cells(source, "reason", q.id)
        (stu,) = _cells(student, "reason", q.id)
        assert src.cell_type == stu.cell_type == "markdown"
        meta = stu.metadata["nbgrader"]
        assert (meta["grade"], meta["solution"], meta["locked"]) == (True, True, False)
        assert meta["points"] == q.points and meta["grade_id"] == f"{q.id}_reason"
        assert meta["schema_version"] == 3
        assert stu.source == TEXT_STUB
        assert len(src.source) > len(TEXT_STUB)           # the model answer stays private
        assert _cells(student, "prompt", q.id)


@pytest.mark.parametrize("eid", MANUAL)
def test_rebuild_keeps_quiet_about_manual_answers(eid):
    student = nbformat.read(EXE / f"{eid}.ipynb", as_version=4)
    sub = copy.deepcopy(student)
    for cell in _cells(sub, "reason"):
        cell.source = "Because the pool is shared."
    assert rebuild(sub, student).notes == []
    deleted = copy.deepcopy(student)
    deleted.cells = [c for c in deleted.cells if cell_role(c) != "reason"]
    assert rebuild(deleted, student).notes == []         # an empty answer is the grader's call


def test_check_solutions_catches_a_wrong_manual_cell(tmp_path):
    eid = MANUAL[0]
    nb = nbformat.read(SOL / f"{eid}.ipynb", as_version=4)
    (cell,) = _cells(nb, "reason")
    cell.metadata["nbgrader"]["points"] += 1
    nbformat.write(nb, tmp_path / f"{eid}.ipynb")
    issues = check_exercise(tmp_path / f"{eid}.ipynb", seeds=1)
    assert any("reason cell" in msg for msg in issues), issues
    nb.cells.remove(cell)
    nbformat.write(nb, tmp_path / f"{eid}.ipynb")
    assert any("needs exactly one reason cell" in msg
               for msg in check_exercise(tmp_path / f"{eid}.ipynb", seeds=1))
