"""Hostile input to the grading entry points: clear ValueError/TypeError, never a crash."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.grading import Function, Value, get_exercise, start
from virtlab.grading.batch import grade_many, parse_shard
from virtlab.grading.runner import GradeOptions, grade_submission
from virtlab.grading.selftest import EXERCISE, make_problem, solve
from virtlab.grading.variants import load_secret, seed_from_code, variant_seed
from virtlab.grading.verdict import evaluate

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=15)


@given(json_values)
def test_evaluate_never_raises_on_forged_exports(forged):
    """Whatever the kernel exports (it is untrusted), the verdict is well defined."""
    problem = make_problem(0)
    for exported in (forged, {"values": forged, "functions": forged},
                     {"values": {"answer": forged, "table": forged},
                      "functions": {"refs": forged}}):
        v = evaluate(EXERCISE, problem, solve(problem), exported,
                     EXERCISE.hidden_cases(problem, 0, b"k"), 0)
        assert 0 <= v.points <= v.max_points == 10


def test_forged_correct_looking_export_needs_the_right_values():
    problem = make_problem(0)
    forged = {"values": {"answer": {"__set__": []}, "table": {"__dict__": "x"}},
              "functions": {"refs": [{"__error__": "x"}, True, None]}}
    v = evaluate(EXERCISE, problem, solve(problem), forged,
                 EXERCISE.hidden_cases(problem, 0, b"k"), 0)
    assert v.points == 0


@pytest.mark.parametrize("bad, exc", [
    (3.5, TypeError), (True, TypeError), ("xyz", ValueError), (-1, ValueError),
    ("1" * 17, ValueError), (2**64, ValueError), ([1], TypeError),
])
def test_bad_variant_codes(bad, exc):
    with pytest.raises(exc, match="variant"):
        seed_from_code(bad)
    with pytest.raises(exc, match="variant"):
        start("ex00_selftest", variant=bad)


@pytest.mark.parametrize("bad", [None, 3, b"", ""])
def test_bad_exercise_ids_and_secrets(bad):
    with pytest.raises((TypeError, ValueError), match="exercise_id"):
        get_exercise(bad)
    if bad in (b"", ""):
        with pytest.raises(ValueError, match="secret"):
            load_secret(bad)


def test_bad_student_id_type():
    with pytest.raises(TypeError, match="student_id"):
        variant_seed(42, "ex01")


def test_bad_question_definitions():
    with pytest.raises(ValueError, match="points"):
        Value("q1", 0, "h", name="x")
    with pytest.raises(ValueError, match="points"):
        Value("q1", math.nan, "h", name="x")
    with pytest.raises(TypeError, match="points"):
        Value("q1", "2", "h", name="x")
    with pytest.raises(ValueError, match="id"):
        Value("q 1", 1, "h", name="x")
    with pytest.raises(ValueError, match="hint"):
        Function("q1", 1, " ", name="f")
    with pytest.raises(ValueError, match="kind"):
        Value("q1", 1, "h", name="x", kind="matrix")


def test_bad_question_ids_in_check():
    ex = start("ex00_selftest")
    for bad in ("q4", "", "Q1"):
        with pytest.raises(ValueError, match="question"):
            ex.check(bad, {})


@pytest.mark.parametrize("text", ["", "1", "0/2", "3/2", "a/b", "1/2/3", "-1/2"])
def test_bad_shards(text):
    with pytest.raises(ValueError, match="shard"):
        parse_shard(text)


def test_grade_many_bad_jobs(tmp_path):
    for bad, exc in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(exc, match="jobs"):
            grade_many([], tmp_path, jobs=bad)
    with pytest.raises(ValueError, match="shard"):
        grade_many([], tmp_path, shard=(3, 2))


def test_grade_submission_on_odd_paths(tmp_path):
    """Missing files, folders and weird student ids give a row, not an exception."""
    opts = GradeOptions(solutions_dir=tmp_path)
    r = grade_submission(tmp_path / "nope.ipynb", "s1", opts)
    assert r.status == "unreadable" and r.points == 0
    r = grade_submission(tmp_path, "s1", opts)
    assert r.status == "unreadable"
    (tmp_path / "x.ipynb").write_text("{}")
    r = grade_submission(tmp_path / "x.ipynb", "../../etc", opts)
    assert r.status == "bad_student_id" and "student_id" in r.reason
    (tmp_path / "y.ipynb").write_bytes(b"\xff\xfe\x00garbage")
    assert grade_submission(tmp_path / "y.ipynb", "s1", opts).status == "invalid_json"
    (tmp_path / "z.ipynb").write_text(json.dumps({"cells": [{"no": "type"}]}))
    assert grade_submission(tmp_path / "z.ipynb", "s1", opts).status == "not_a_notebook"
    (tmp_path / "w.ipynb").write_text(json.dumps({"cells": [], "metadata": {
        "virtlab": {"exercise": "ex99_unknown"}}}))
    assert grade_submission(tmp_path / "w.ipynb", "s1", opts).status == "not_an_exercise"


def test_wrong_exercise_is_reported(tmp_path):
    (tmp_path / "a.ipynb").write_text(json.dumps({"cells": [], "metadata": {
        "virtlab": {"exercise": "ex00_selftest"}}}))
    r = grade_submission(tmp_path / "a.ipynb", "s1", GradeOptions(solutions_dir=tmp_path),
                         exercise_id="ex03_page_walks")
    assert r.status == "wrong_exercise" and "ex03_page_walks" in r.reason


def test_assign_and_checks_on_bad_sources(tmp_path):
    import nbformat

    from virtlab.grading.assign import assign
    from virtlab.grading.checks import check_solutions
    from virtlab.grading.notebook import rebuild, student_version
    from virtlab.grading.selftest import source_notebook

    sol = tmp_path / "solutions"
    sol.mkdir()
    nb = source_notebook()
    nbformat.write(nb, sol / "ex01_wrong_name.ipynb")          # metadata names ex00_selftest
    with pytest.raises(ValueError, match="virtlab.exercise"):
        assign(sol, tmp_path / "exercises")
    assert "metadata virtlab.exercise" in check_solutions(sol, None, seeds=1)[0]
    assert check_solutions(tmp_path / "nothing", None) == [
        f"no exercise sources in {tmp_path / 'nothing'}"]
    broken = source_notebook()
    broken.cells[4].source += "\n### BEGIN SOLUTION"            # never closed
    with pytest.raises(ValueError, match="never closed"):
        student_version(broken)
    # a submission that is a notebook only in name: rebuild still yields the source cells
    src = student_version(nb)
    r = rebuild({"cells": [None, 3, {"cell_type": "code"}, {"metadata": "x"}]}, src)
    assert len(r.cells) == sum(1 for c in src.cells
                               if c.cell_type == "code" and "demo" not in c.metadata.get(
                                   "tags", []))


@given(json_values)
def test_grade_submission_never_raises_on_random_json(tmp_path_factory, value):
    folder = tmp_path_factory.mktemp("rand")
    path = folder / "s1" / "ex00_selftest.ipynb"
    path.parent.mkdir()
    for doc in (value, {"cells": value, "metadata": value},
                {"cells": [value], "metadata": {"virtlab": value}}):
        path.write_text(json.dumps(doc))
        r = grade_submission(path, options=GradeOptions(solutions_dir=folder))
        assert r.status in ("not_a_notebook", "not_an_exercise", "invalid_json", "empty")
        assert r.points == 0
