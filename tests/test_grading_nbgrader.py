"""nbgrader interop: an exercise source through nbgrader's generate_assignment and autograde.

nbgrader is an optional test extra; without it this test is skipped (with the
reason).  The source notebook in ``solutions/`` carries nbgrader metadata
(grade ids, points, locked cells, ``### BEGIN SOLUTION`` regions and a
``### BEGIN HIDDEN TESTS`` block with ``ex.verify`` in every check cell), so
nbgrader can release it and autograde submissions: the solution scores full
marks, the untouched release zero.  (nbgrader runs the tests inside the
student's kernel; ``virtlab grade`` does not trust that kernel.)  An exercise
with a manually graded *predict and justify* answer (a Markdown cell marked
``grade`` and ``solution``) goes through nbgrader as well: its points count in
nbgrader's maximum and wait for the instructor's grade, so the solver's
autograded score is exactly the exercise's autograded points.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed (optional test extra: "
                                       "pip install nbgrader)")

from virtlab.grading.exercise import get_exercise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _nbgrader(course: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}",
           "--CourseDirectory.db_url=sqlite:///" + str(course / "gradebook.db")]
    # nbgrader calls the `alembic` script of its environment
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    env = {**os.environ, "PYTHONHASHSEED": "0", "PATH": path}
    proc = subprocess.run(cmd, cwd=course, capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def _scores(course: Path, exercise: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gb:
        return {student: (gb.find_submission(exercise, student).score,
                          gb.find_submission(exercise, student).max_score,
                          gb.find_submission(exercise, student).needs_manual_grade)
                for student in ("solver", "blank")}


@pytest.mark.slow
@pytest.mark.parametrize("EXERCISE", ["ex08_partitioning"])  # values, a function, a manual answer
def test_generate_assignment_and_autograde(EXERCISE, tmp_path, monkeypatch):
    # nbgrader's Gradebook runs the `alembic` script of its environment
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep
                       + os.environ.get("PATH", ""))
    course = tmp_path / "course"
    src = course / "source" / EXERCISE
    src.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{EXERCISE}.ipynb", src / f"{EXERCISE}.ipynb")
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gb:
        for student in ("solver", "blank"):
            gb.add_student(student)
    _nbgrader(course, "generate_assignment", EXERCISE, "--force")
    release = course / "release" / EXERCISE / f"{EXERCISE}.ipynb"
    text = release.read_text()
    assert "BEGIN SOLUTION" not in text and "ex.verify" not in text

    # the solver pastes the solution's answer cells into the released notebook
    released = nbformat.read(release, as_version=4)
    solution = nbformat.read(src / f"{EXERCISE}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = "\n".join(
                line for line in answers[gid].splitlines()
                if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    for student, nb in (("solver", released), ("blank", nbformat.read(release, as_version=4))):
        target = course / "submitted" / student / EXERCISE / f"{EXERCISE}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
        (target.parent / "timestamp.txt").write_text("2026-11-24 10:00:00.000000 UTC")
    _nbgrader(course, "autograde", EXERCISE, "--force")
    scores = _scores(course, EXERCISE)
    ex = get_exercise(EXERCISE)
    assert scores["solver"][0] == ex.max_points > 0
    assert scores["solver"][1] == ex.max_points + ex.manual_points
    assert scores["solver"][2] == bool(ex.manual)     # the sentence awaits the instructor
    assert scores["blank"][0] == 0
