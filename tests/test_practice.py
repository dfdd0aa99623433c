"""Practice mode: fresh problems from a seed, worked solutions that equal the reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.grading import practice
from virtlab.grading.cli import practice_command
from virtlab.grading.exercise import Value, exercises
from virtlab.grading.variants import variant_seed

EXERCISES = sorted(e for e in exercises() if e != "ex00_selftest")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_exercise_has_a_worked_solution_equal_to_solve(exercise_id):
    ex = exercises()[exercise_id]
    assert ex.worked is not None, f"{exercise_id} has no worked solution"
    values = {q.name for q in ex.questions if isinstance(q, Value)}
    for number in range(6):
        p = practice.practice_problem(exercise_id, number)
        steps = practice.worked_solution(exercise_id, number)
        merged = {}
        for step in steps:
            assert step.title and step.text, "a step says what and how"
            assert not merged.keys() & step.answers.keys(), "each answer is established once"
            merged.update(step.answers)
        # every value question is answered, and exactly as the reference solver does
        assert merged.keys() == values, (exercise_id, number)
        reference = ex.solve(p.problem)
        assert merged == {k: reference[k] for k in values}, (exercise_id, number)


def test_practice_problems_differ_by_number():
    a = practice.practice_problem("ex03_page_walks", 0).problem
    b = practice.practice_problem("ex03_page_walks", 1).problem
    assert a != b
    assert practice.practice_problem("ex03_page_walks", 1).problem == b


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=20),
       st.sampled_from(EXERCISES), st.binary(min_size=1, max_size=16))
def test_practice_seeds_never_meet_graded_variants(student, exercise_id, secret):
    # graded seeds are below 2**62, practice seeds at or above it: disjoint by construction
    assert variant_seed(student, exercise_id, secret=secret) < practice.PRACTICE_BASE
    assert practice.practice_seed(0) >= practice.PRACTICE_BASE


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (2**70, ValueError), (1.5, TypeError),
                                      ("3", TypeError), (None, TypeError)])
def test_bad_practice_numbers(bad, exc):
    with pytest.raises(exc, match="number"):
        practice.practice_problem("ex04_credit_scheduler", bad)


def test_unknown_exercise():
    with pytest.raises(ValueError, match="exercise_id"):
        practice.practice_problem("ex99_nope", 0)


def test_cli_prints_problem_and_worked_solution(capsys):
    class Args:
        exercise, seed, solve = "ex04", 7, False
    assert practice_command(Args, []) == 0
    out = capsys.readouterr().out
    assert out.startswith("ARG exercise ex04_credit_scheduler\nARG seed 7")
    assert "Worked solution" not in out and "--solve" in out
    Args.solve = True
    assert practice_command(Args, []) == 0
    out = capsys.readouterr().out
    assert "Worked solution" in out and "(q1)" in out and "→ shares =" in out


def test_cli_refuses_unknown_exercise_and_bad_seed(capsys):
    class Args:
        exercise, seed, solve = "ex42", 0, True
    assert practice_command(Args, []) == 2
    assert "unknown exercise" in capsys.readouterr().err
    Args.exercise, Args.seed = "ex04", -3
    assert practice_command(Args, []) == 2
    assert "number" in capsys.readouterr().err


def test_virtlab_practice_command_line():
    script = Path(sys.executable).with_name("virtlab")     # the installed command
    out = subprocess.run([str(script), "practice", "ex06", "--seed", "2", "--solve"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ARG exercise ex06_live_migration" in out.stdout and "stop reason" in out.stdout
