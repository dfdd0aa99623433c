"""The student's side: start(), check(), check_all(), verify()."""

import json

import pytest

from virtlab.grading import session, start
from virtlab.grading.selftest import make_problem, solve


def _correct_ns(ex):
    ref = solve(ex.problem)
    return {"answer": ref["answer"], "table": dict(ref["table"]),
            "refs": lambda n, m: n * m + n + m}


def test_unanswered_exercise_does_not_raise():
    ex = start("ex00_selftest")
    panel = ex.check_all({"answer": ..., "table": ...})
    text = repr(panel)
    assert text.count("not answered yet") == 3
    assert "hidden tests run at grading" in text
    assert "<div" in panel._repr_html_()


def test_correct_and_wrong_feedback():
    ex = start("ex00_selftest")
    ns = _correct_ns(ex)
    assert "all public tests passed" in repr(ex.check("q3", ns))
    assert "2/2 public tests passed; 4 hidden tests run at grading" in repr(ex.check("q3", ns))
    ns["refs"] = lambda n, m: n * m
    text = repr(ex.check("q3", ns))
    assert "refs(4, 4) returned 16, expected 24" in text
    assert "hint: Return n*m + n + m." in text
    ex.verify("q1", ns)
    with pytest.raises(AssertionError):
        ex.verify("q3", ns)


def test_check_reads_the_callers_globals():
    ex = start("ex00_selftest")
    globals()["answer"] = solve(ex.problem)["answer"]
    try:
        assert "all public tests passed" in repr(ex.check("q1"))
    finally:
        del globals()["answer"]


def test_variants_and_grading_pin():
    assert start("ex00_selftest").problem == make_problem(0)
    assert start("ex00_selftest", variant="ff").problem == make_problem(255)
    session._GRADING["seed"] = 7
    try:
        ex = start("ex00_selftest", variant="ff")             # the typed code is ignored
        assert ex.seed == 7
        with pytest.raises(RuntimeError, match="not available while grading"):
            ex.solution
        assert "checked by the grader" in repr(ex.check("q1", {}))
    finally:
        session._GRADING.clear()


def test_unknown_question_and_exercise():
    ex = start("ex00_selftest")
    with pytest.raises(ValueError, match="question must be one of q1, q2, q3"):
        ex.check("q9", {})
    with pytest.raises(ValueError, match="exercise_id"):
        start("ex77_nope")


def test_finding_11_no_reference_answers_for_a_personal_variant():
    """Issue 14, finding 11: start(ex, variant=code).solution handed out the answers."""
    from virtlab.grading.variants import variant_code
    code = variant_code("alice", "ex00_selftest", secret=b"course")
    ex = start("ex00_selftest", variant=code)
    with pytest.raises(RuntimeError, match="default .practice. variant only"):
        ex.solution
    assert start("ex00_selftest").solution == solve(make_problem(0))  # practice: allowed
    # public checks of the personal variant still work
    globals()["answer"] = -1
    try:
        assert "public test" in repr(ex.check("q1"))
    finally:
        del globals()["answer"]


def test_grading_session_gets_the_variant_as_data():
    from virtlab.grading.runner import kernel_view
    from virtlab.grading.selftest import EXERCISE
    view = json.loads(json.dumps(kernel_view(EXERCISE, make_problem(9), 9)))
    session._enter_grading(view)
    try:
        ex = start("ex00_selftest", variant="zz")  # a broken code typed in: ignored
        assert ex.problem == make_problem(9) and ex.seed == 9
        assert ex.hint("q3") == EXERCISE.question("q3").hint
        with pytest.raises(RuntimeError, match="not available while grading"):
            ex.solution
    finally:
        session._GRADING.clear()
