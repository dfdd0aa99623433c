"""Manually graded answers (nbgrader ``grade`` + ``solution`` cells without tests):
collected as text for the instructor, listed as pending points, never scored or run."""

import csv
import sys
from pathlib import Path

import nbformat
import pytest

from virtlab.grading.batch import grade_many
from virtlab.grading.report import load_results
from virtlab.grading.runner import GradeOptions
from virtlab.grading.selftest import source_notebook

sys.path.insert(0, str(Path(__file__).parent / "grading_fixtures"))
from crafted import _filled, require_bwrap  # noqa: E402


def _manual(cell, gid, points):
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False,
                                 "points": points, "grade_id": gid, "schema_version": 3}
    return cell


def _with_manual(nb, why="YOUR ANSWER HERE", code="# YOUR CODE HERE"):
    nb.cells.append(_manual(nbformat.v4.new_markdown_cell(why), "why_nested", 2))
    nb.cells.append(_manual(nbformat.v4.new_code_cell(code), "sketch_walk", 1))
    return nb


@pytest.mark.slow
def test_manual_answers_are_collected_not_scored(tmp_path):
    require_bwrap()
    sol = tmp_path / "solutions"
    sol.mkdir()
    nbformat.write(_with_manual(source_notebook(), "Model answer."), sol / "ex00_selftest.ipynb")
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    nbformat.write(_with_manual(_filled(), "=cmd|' /C calc'!A0 because the walk is 2D",
                                "answer = -1  # must never run"),
                   subs / "ann" / "ex00_selftest.ipynb")
    (subs / "ben").mkdir()
    nbformat.write(_filled(), subs / "ben" / "ex00_selftest.ipynb")  # manual cells deleted
    opts = GradeOptions(solutions_dir=sol, cell_timeout=20, secret=b"manual")
    with open(tmp_path / "log", "w") as log:
        s = grade_many([subs], tmp_path / "out", jobs=1, options=opts, progress=log)
    rows = {r["student"]: r for r in load_results(tmp_path / "out")}
    assert rows["ann"]["points"] == rows["ann"]["max_points"] == 10  # the code cell never ran
    assert "3 point(s) of manually graded answers pending" in rows["ann"]["reason"]
    assert s["manual_pending"]["ex00_selftest"] == {"answers": 4, "points": 6.0}
    with open(tmp_path / "out" / "manual" / "ex00_selftest.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    got = {(r["student"], r["grade_id"]): r for r in table}
    assert set(got) == {("ann", "why_nested"), ("ann", "sketch_walk"),
                        ("ben", "why_nested"), ("ben", "sketch_walk")}
    assert got[("ann", "why_nested")]["answer"].startswith("'=cmd")  # escaped formula
    assert got[("ann", "why_nested")]["points_available"] == "2.0"
    assert got[("ann", "sketch_walk")]["answer"] == "answer = -1  # must never run"
    assert got[("ben", "why_nested")]["answer"] == ""
    with open(tmp_path / "out" / "grades.csv", newline="") as fh:
        grades = {r["student"]: r for r in csv.DictReader(fh)}
    assert grades["ann"]["manual_pending"] == "3.0"
    assert "manually graded" in (tmp_path / "out" / "summary.txt").read_text()


def test_manual_cells_are_not_restored_as_locked():
    from virtlab.grading.notebook import rebuild, student_version
    src = student_version(_with_manual(source_notebook()))
    sub = _with_manual(_filled(), "mine", "x = 1")
    r = rebuild(sub, src)
    assert not any("why_nested" in n or "sketch_walk" in n for n in r.notes)
    assert not any("x = 1" == c.source for c in r.cells)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
