"""The course's exercises: assign consistency, check-solutions, exercises run, real grading.

This is what ``make test`` runs for issue 8: committed ``exercises/`` equal a
fresh ``virtlab assign``; every solution scores full marks for many seeds and
every untouched exercise zero; every question has hidden tests; ``solve``
agrees with the models; each exercise notebook runs in a kernel up to its
unanswered checks; and the real grader agrees in a fresh kernel.
"""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from virtlab.grading.assign import assign
from virtlab.grading.batch import grade_many
from virtlab.grading.checks import check_solutions
from virtlab.grading.exercise import exercises
from virtlab.grading.report import load_results
from virtlab.grading.runner import GradeOptions

ROOT = Path(__file__).resolve().parent.parent
SOL, EXE = ROOT / "solutions", ROOT / "exercises"
COURSE = sorted(e for e in exercises() if e != "ex00_selftest")


def test_at_least_one_exercise_and_files_for_each():
    assert COURSE, "no course exercises registered"
    for eid in COURSE:
        assert (SOL / f"{eid}.ipynb").is_file(), f"solutions/{eid}.ipynb missing"
        assert (EXE / f"{eid}.ipynb").is_file(), f"exercises/{eid}.ipynb missing"
    assert sorted(p.stem for p in SOL.glob("ex*.ipynb")) == COURSE


def test_exercises_equal_a_fresh_generation():
    assert assign(SOL, EXE, check=True) == []


def test_check_solutions():
    assert check_solutions(SOL, EXE, seeds=8) == []


@pytest.mark.parametrize("eid", COURSE)
def test_exercise_notebook_runs_up_to_its_unanswered_checks(eid):
    nb = nbformat.read(EXE / f"{eid}.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(EXE)}}).execute()   # raises on error
    texts = ["".join(o.get("data", {}).get("text/plain", "") for o in c.get("outputs", []))
             for c in nb.cells if c.metadata.get("virtlab", {}).get("role") == "check"]
    assert texts and all("not answered yet" in t for t in texts), texts


def test_real_grader_full_marks_for_solutions_zero_for_exercises(tmp_path):
    for eid in COURSE:
        for student, src in (("solver", SOL), ("blank", EXE)):
            target = tmp_path / "subs" / student / f"{eid}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / f"{eid}.ipynb", target)
    opts = GradeOptions(solutions_dir=SOL, cell_timeout=60, notebook_timeout=300,
                        secret=b"course-test")
    grade_many([tmp_path / "subs"], tmp_path / "out", jobs=2, options=opts,
               progress=open(tmp_path / "log", "w"))
    rows = load_results(tmp_path / "out")
    assert len(rows) == 2 * len(COURSE)
    for r in rows:
        assert r["status"] == "ok", r
        if r["student"] == "solver":
            assert r["points"] == r["max_points"] > 0, r
        else:
            assert r["points"] == 0, r
