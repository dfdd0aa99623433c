"""Graded exercises: per-student variants, immediate feedback, batch grading.

Students use :func:`start` (``ex = start("ex01_popek_goldberg")``) and
``ex.check("q1")``; instructors use the ``virtlab assign``, ``virtlab grade``
and ``virtlab check-solutions`` commands (:mod:`virtlab.grading.cli`).
Verdicts are computed by the grading process from plain exported answers
(:mod:`virtlab.grading.verdict`), never inside the student's kernel.

Examples
--------
>>> from virtlab.grading import start, exercises
>>> callable(start)
True
"""

from .exercise import Exercise, Function, Manual, Value, exercises, get_exercise, register
from .session import Session, start

__all__ = ["Exercise", "Function", "Manual", "Value", "exercises", "get_exercise",
           "register", "start"]
