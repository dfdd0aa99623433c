"""Practice mode (*Übungsmodus*), as OSTEP's ``-s SEED`` / ``-c``: fresh problems, worked solutions.

A practice problem is ``make_problem(practice_seed(n))`` for a small number
``n`` the student picks; its worked solution is the exercise's ``worked``
function: the reference answers derived step by step, each step saying what
is computed and why, with the values it produces.  The tests check that the
values of the steps equal :func:`solve`'s answers for many seeds, so the
explanation cannot drift from the reference.

Practice seeds are disjoint from graded variants *by construction*: graded
variant seeds are below ``2**62`` (:func:`virtlab.grading.variants.variant_seed`),
practice seeds are ``2**62 + n``.  Solving practice problems therefore never
reveals a graded variant's answers.

Examples
--------
>>> p = practice_problem("ex04_credit_scheduler", 7)
>>> p.seed == PRACTICE_BASE + 7
True
>>> steps = worked_solution("ex04_credit_scheduler", 7)
>>> steps[-1].answers.keys() <= set(p.exercise.solve(p.problem))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import check_int, check_sequence, check_str, check_type
from ..i18n import _
from ..rng import MAX_SEED
from .exercise import Exercise, get_exercise

__all__ = ["PRACTICE_BASE", "Practice", "Step", "format_practice", "practice_problem",
           "practice_seed", "worked_solution"]

#: First practice seed; graded variant seeds lie below it.
PRACTICE_BASE = 2**62


@dataclass(frozen=True)
class Step:
    """One step of a worked solution.

    Attributes
    ----------
    title : str
        What this step finds ("q2: credits per period").
    text : str
        How, with the numbers of this problem.
    answers : mapping
        The reference answers this step establishes, by answer name.
    """

    title: str
    text: str
    answers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Practice:
    """A practice problem: the exercise, the practice number, the seed and the problem."""

    exercise: Exercise
    number: int
    seed: int
    problem: Any


def practice_seed(number: int) -> int:
    """The problem seed of practice problem ``number`` (0 … 2**62 − 1).

    Examples
    --------
    >>> practice_seed(0) == 2**62
    True
    >>> practice_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: number must be an integer in [0, 4611686018427387903], got -1
    """
    return PRACTICE_BASE + check_int("number", number, minimum=0,
                                     maximum=MAX_SEED - PRACTICE_BASE)


def practice_problem(exercise_id: str, number: int = 0) -> Practice:
    """Practice problem ``number`` of exercise ``exercise_id``."""
    ex = get_exercise(exercise_id)
    seed = practice_seed(number)
    return Practice(ex, number, seed, ex.make_problem(seed))


def worked_solution(exercise_id: str, number: int = 0) -> list[Step]:
    """The worked solution of practice problem ``number``.

    Raises ``ValueError`` for an exercise without a worked solution.
    """
    p = practice_problem(exercise_id, number)
    if p.exercise.worked is None:
        raise ValueError(f"exercise_id: {exercise_id} has no worked solutions yet")
    return list(p.exercise.worked(p.problem))


def format_practice(practice: Practice, steps: list[Step], *,
                    hint: str = "(add --solve for the worked solution)") -> str:
    """The practice problem and worked steps as plain text (CLI and widget).

    Echoes its parameters first (``ARG exercise …``), as OSTEP's simulators do.

    Examples
    --------
    >>> text = format_practice(practice_problem("ex06_live_migration", 1),
    ...                        worked_solution("ex06_live_migration", 1))
    >>> text.splitlines()[:2]
    ['ARG exercise ex06_live_migration', 'ARG seed 1']
    >>> "Worked solution" in text and "(q1)" in text
    True
    """
    check_type("practice", practice, Practice)
    check_sequence("steps", steps, Step)
    check_str("hint", hint, nonempty=False)
    ex = practice.exercise
    lines = [f"ARG exercise {ex.id}", f"ARG seed {practice.number}", "", _(ex.title), ""]
    lines.append(ex.describe(practice.problem) if ex.describe else repr(practice.problem))
    if steps:
        by_name = {q.name: q.id for q in ex.questions}
        lines += ["", "Worked solution"]
        for k, step in enumerate(steps, 1):
            qids = ", ".join(by_name[n] for n in step.answers if n in by_name)
            lines += ["", f"{k}. {step.title}" + (f" ({qids})" if qids else ""),
                      "   " + step.text.replace("\n", "\n   ")]
            for name, value in step.answers.items():
                lines.append(f"   → {name} = {value!r}")
    elif hint:
        lines += ["", hint]
    return "\n".join(lines)
