"""Source notebooks → student versions; rebuilding submissions from the source."""

import copy

import nbformat
import pytest

from virtlab.grading.notebook import (cell_role, exercise_id_of, rebuild, strip_hidden_tests,
                                      stub_solution, student_version)
from virtlab.grading.selftest import source_notebook


def _by_role(nb, role, qid=None):
    return [c for c in nb.cells if cell_role(c) == role
            and (qid is None or c.metadata["virtlab"].get("id") == qid)]


def test_student_version_hides_solutions_and_hidden_tests():
    src = source_notebook()
    stu = student_version(src)
    text = nbformat.writes(stu)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "ex.verify", "n * m + n + m"):
        assert marker not in text
    assert "answer = ...  # YOUR ANSWER HERE" in text
    assert "raise NotImplementedError()" in text
    assert [c.id for c in stu.cells] == [c.id for c in src.cells]   # stable ids
    assert nbformat.writes(student_version(src)) == text              # deterministic


def test_nbgrader_metadata():
    src = source_notebook()
    check = _by_role(src, "check", "q3")[0].metadata["nbgrader"]
    assert check == {"grade": True, "grade_id": "q3_check", "locked": True, "points": 5,
                     "schema_version": 3, "solution": False, "task": False}
    answer = _by_role(src, "answer", "q1")[0].metadata["nbgrader"]
    assert answer["solution"] and not answer["locked"] and not answer["grade"]
    assert "nbgrader" not in _by_role(src, "variant")[0].metadata
    assert _by_role(src, "demo")[0].metadata["tags"] == ["demo"]


def test_stub_rules():
    assert stub_solution("### BEGIN SOLUTION\nx = 1\ny = 2\n### END SOLUTION") == (
        "x = ...  # YOUR ANSWER HERE\ny = ...  # YOUR ANSWER HERE")
    assert stub_solution("### BEGIN SOLUTION\nh = 1\nx = h\n### END SOLUTION", "x") == (
        "x = ...  # YOUR ANSWER HERE")
    assert strip_hidden_tests("a\n    ### BEGIN HIDDEN TESTS\n    z\n    ### END HIDDEN TESTS") == "a"
    for bad in ("### BEGIN SOLUTION\nx", "### END SOLUTION",
                "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(ValueError):
            stub_solution(bad)


def test_exercise_id_from_metadata_or_setup_cell():
    nb = student_version(source_notebook())
    assert exercise_id_of(nb) == "ex00_selftest"
    del nb.metadata["virtlab"]
    assert exercise_id_of(nb) == "ex00_selftest"
    assert exercise_id_of(nbformat.v4.new_notebook()) is None


def test_rebuild_restores_locked_cells_and_keeps_answers():
    src = student_version(source_notebook())
    sub = copy.deepcopy(src)
    _by_role(sub, "answer", "q1")[0].source = "answer = 42"
    _by_role(sub, "check", "q1")[0].source = "print('10/10')"
    sub.cells.remove(_by_role(sub, "check", "q2")[0])
    sub.cells.insert(5, nbformat.v4.new_code_cell("helper = 1"))   # after q1's answer
    r = rebuild(sub, src)
    sources = [c.source for c in r.cells]
    assert "answer = 42" in sources and "print('10/10')" not in sources
    assert sources.count('ex.check("q1")') == 1 and sources.count('ex.check("q2")') == 1
    assert sources.index("helper = 1") == sources.index("answer = 42") + 1
    assert "ex.check_all()" not in sources                     # demo skipped
    assert any("q1_check: edited" in n for n in r.notes)
    assert any("q2_check: deleted" in n for n in r.notes)
    assert "ex.check_all()" in [c.source for c in rebuild(sub, src, run_demos=True).cells]


def test_own_cells_above_the_first_answer_run_after_setup():
    src = student_version(source_notebook())
    sub = copy.deepcopy(src)
    sub.cells.insert(0, nbformat.v4.new_code_cell("import math"))
    r = rebuild(sub, src)
    sources = [c.source for c in r.cells]
    setup = next(i for i, c in enumerate(r.cells) if c.metadata["virtlab_origin"] == "setup")
    assert sources[setup + 1] == "import math"
    assert setup + 1 in r.student_cells
