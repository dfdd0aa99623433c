"""The variant handed to a grading kernel as data: every exercise's problem survives the
trip (fields, public zero-argument methods and properties), for several seeds."""

import dataclasses
import inspect
import json

import pytest

from virtlab.grading.exercise import exercises
from virtlab.grading.problem_data import decode, encode


@pytest.mark.parametrize("eid", sorted(exercises()))
def test_problem_round_trip(eid):
    ex = exercises()[eid]
    for seed in (0, 1, 12345):
        p = ex.make_problem(seed)
        back = decode(json.loads(json.dumps(encode(p))))
        if dataclasses.is_dataclass(p):
            for f in dataclasses.fields(p):
                assert getattr(back, f.name) == getattr(p, f.name), (eid, f.name)
            for name, attr in inspect.getmembers(type(p)):
                if name.startswith("_") or not inspect.isfunction(attr):
                    continue
                if len(inspect.signature(attr).parameters) == 1:
                    assert getattr(back, name)() == getattr(p, name)(), (eid, name)
        else:
            assert back == p


def test_derived_results_are_fresh_copies():
    @dataclasses.dataclass(frozen=True)
    class Problem:
        n: int

        def rows(self):
            return {"a": [self.n]}

    back = decode(encode(Problem(3)))
    back.rows()["a"].append(99)
    assert back.rows() == {"a": [3]}


@pytest.mark.parametrize("eid", sorted(e for e in exercises() if e != "ex00_selftest"))
def test_sandbox_facade_holds_no_solver(eid):
    """The exercise module as a grading kernel sees it: what the notebook imports, no solver."""
    import ast

    from virtlab.grading.exercise import Function
    from virtlab.grading.runner import exercise_facade, source_notebook, solutions_dir_of
    from virtlab.grading.runner import GradeOptions
    ex = exercises()[eid]
    files = exercise_facade(ex, source_notebook(eid, solutions_dir_of(GradeOptions())))
    students = {q.name for q in ex.questions if isinstance(q, Function)}
    for name, text in files.items():
        defined = {n.name for n in ast.parse(text).body
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assigned = {t.id for n in ast.parse(text).body if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name)}
        assert not (defined | assigned) & ({"solve", "crosscheck", "EXERCISE"} | students), name
        compile(text, name, "exec")
