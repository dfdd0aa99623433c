"""The course's exercises: assign consistency, check-solutions, exercises run, real grading.

This is what ``make test`` runs for issue 8: committed ``exercises/`` equal a
fresh ``virtlab assign``; every solution scores full marks for many seeds and
every untouched exercise zero; every question has hidden tests; ``solve``
agrees with the models; and graded for real in fresh kernels, every solution
gets full marks while every exercise notebook runs without an error (demo cells
included) and scores zero.
"""

import pytest
import shutil
from pathlib import Path


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
    # the German edition (tests/test_german_exercises.py checks its sources)
    assert assign(SOL / "de", EXE / "de", check=True) == []


def test_check_solutions():
    assert check_solutions(SOL, EXE, seeds=8) == []


@pytest.mark.slow
def test_real_grader_full_marks_for_solutions_zero_for_exercises(tmp_path):
    """Solutions score full marks and every untouched exercise zero, graded for
    real (nbclient kernels, -j 2).  The exercises are run *with* their demo cells and
    must raise nowhere: a fresh exercise notebook runs top to bottom, its checks
    saying "not answered yet" (tests/test_grading_session.py) instead of raising."""
    # every exercise blank; two solutions (all solutions get full marks for many
    # seeds in test_check_solutions, and `virtlab check-solutions --kernel` grades
    # each one in a kernel too)
    jobs = [(eid, "blank", EXE) for eid in COURSE] + [(eid, "solver", SOL)
                                                      for eid in COURSE[2:4]]
    for eid, student, src in jobs:
        target = tmp_path / "subs" / student / f"{eid}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / f"{eid}.ipynb", target)
    opts = GradeOptions(solutions_dir=SOL, cell_timeout=60, notebook_timeout=300,
                        secret=b"course-test", run_demos=True)
    with open(tmp_path / "log", "w") as log:
        grade_many([tmp_path / "subs"], tmp_path / "out", jobs=2, options=opts, progress=log)
    rows = load_results(tmp_path / "out")
    assert len(rows) == len(jobs)
    for r in rows:
        assert r["status"] == "ok" and r["cell_errors"] == [], r
        if r["student"] == "solver":
            assert r["points"] == r["max_points"] > 0, r
        else:
            assert r["points"] == 0, r


def test_exercises_leak_no_solution_and_no_hidden_test():
    for eid in COURSE:
        text = (EXE / f"{eid}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "ex.verify",
                       '"outputs": [\n     {'):
            assert marker not in text, f"exercises/{eid}.ipynb contains {marker!r}"
