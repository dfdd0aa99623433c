"""Exercise definitions: ``make_problem(seed)``, ``solve(problem)`` and questions.

An exercise (the OSTEP pattern) is a seeded problem generator plus a reference
solver that uses the virtlab models, and a tuple of questions.  Each question
has a stable id, points and a hint, and declares the *names* its answer is
read from in the student's notebook:

* :class:`Value` -- a computed answer (number, set, list, dict/table) bound
  to a name; public tests check that it is answered and well-formed, hidden
  tests compare it with the reference (one hidden test per table row when
  ``per_entry=True``).
* :class:`Function` -- a small implementation the grader calls on public
  cases (shown to the student) and on hidden cases drawn with a secret-keyed
  seed (never written anywhere a student can see).

An exercise may also have :class:`Manual` questions (``Exercise.manual``):
"predict and justify in a sentence" answers written in a Markdown cell that
nbgrader marks as *manually graded* (``grade`` and ``solution`` true).  They
are kept apart from ``questions``: the autograder neither runs nor scores
them, so their points never count as autograded zeros; ``max_points`` is the
autograded total and ``manual_points`` the instructor's part.

Exercise modules live in :mod:`virtlab.grading.exercises` and define
``EXERCISE``; :func:`exercises` discovers them (no central list).

Examples
--------
>>> from virtlab.grading.exercise import Exercise, Value, Function
>>> ex = Exercise(
...     id="ex00_demo", title="Squares",
...     make_problem=lambda seed: {"n": 2 + seed % 5},
...     solve=lambda p: {"square": p["n"] ** 2},
...     questions=(
...         Value("q1", 1, "Multiply n by itself.", name="square", kind="int"),
...         Function("q2", 2, "Return x * x.", name="sq",
...                  public=lambda p: [(3,)], hidden=lambda p, rng: [(rng.randrange(99),)],
...                  reference=lambda p, x: x * x),
...     ))
>>> ex.question("q2").points
2
>>> ex.export_spec(ex.make_problem(0))["functions"]
{'sq': {'cases': [[3]]}}
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import check_choice, check_number, check_sequence, check_str, check_type
from ..rng import make_rng
from . import _kernel
from .variants import hidden_seed

__all__ = ["Question", "Value", "Function", "Manual", "Exercise", "exercises", "get_exercise",
           "register", "VALUE_KINDS"]

VALUE_KINDS = ("int", "number", "bool", "str", "set", "list", "dict")


@dataclass(frozen=True)
class Question:
    """Common fields of every question.

    Parameters
    ----------
    id : str
        Stable id (``"q1"``); also the nbgrader ``grade_id`` of its cells.
    points : int or float
        Maximum points.
    hint : str
        The instructor's hint, shown by ``check()`` when a test fails.

    Examples
    --------
    >>> Question("q1", 2, "Think.").points
    2
    """

    id: str
    points: float
    hint: str

    def __post_init__(self):
        check_str("id", self.id)
        if not self.id.isidentifier():
            raise ValueError(f"id must be an identifier such as 'q1', got {self.id!r}")
        check_number("points", self.points, minimum=0, strict_minimum=True)
        check_str("hint", self.hint)


@dataclass(frozen=True)
class Value(Question):
    """A computed answer bound to ``name``; compared with ``solve(problem)[name]``.

    Parameters
    ----------
    name : str
        Variable the student assigns.
    kind : {"int", "number", "bool", "str", "set", "list", "dict"}
        Expected shape (checked by a public test).
    rel_tol : float
        Relative tolerance for numbers (default 1e-6; also 1e-9 absolute).
    per_entry : bool
        For dicts: one hidden test per key (partial credit per table row).

    Examples
    --------
    >>> Value("q1", 1, "h", name="x", kind="tuple")
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'int', 'number', 'bool', 'str', 'set', 'list', 'dict'; got 'tuple'
    """

    name: str = ""
    kind: str = "number"
    rel_tol: float = 1e-6
    per_entry: bool = False

    def __post_init__(self):
        super().__post_init__()
        check_str("name", self.name)
        check_choice("kind", self.kind, VALUE_KINDS)
        check_number("rel_tol", self.rel_tol, minimum=0)


@dataclass(frozen=True)
class Function(Question):
    """A function ``name`` the grader calls on public and hidden argument tuples.

    Parameters
    ----------
    name : str
        Function the student defines.
    public : callable
        ``public(problem) -> list of argument tuples`` (shown by ``check``).
    hidden : callable
        ``hidden(problem, rng) -> list of argument tuples`` (at least one);
        ``rng`` is seeded with the secret-keyed :func:`~.variants.hidden_seed`.
    reference : callable
        ``reference(problem, *args)`` → the expected result.
    rel_tol : float
        Relative tolerance for numeric results.

    Examples
    --------
    >>> f = Function("q2", 3, "Square it.", name="sq", public=lambda p: [(2,)],
    ...              hidden=lambda p, rng: [(rng.randrange(9),)],
    ...              reference=lambda p, x: x * x)
    >>> f.reference(None, 4)
    16
    """

    name: str = ""
    public: Callable[..., list] = field(default=lambda p: [], repr=False)
    hidden: Callable[..., list] = field(default=lambda p, rng: [], repr=False)
    reference: Callable[..., Any] = field(default=lambda p, *a: None, repr=False)
    rel_tol: float = 1e-6

    def __post_init__(self):
        super().__post_init__()
        check_str("name", self.name)
        check_number("rel_tol", self.rel_tol, minimum=0)


@dataclass(frozen=True)
class Manual(Question):
    """A manually graded answer: a sentence in a Markdown cell, graded by the instructor.

    ``hint`` is the grading rubric (what a full-marks answer says).  The
    notebook has a ``prompt`` cell and a ``reason`` cell for it (nbgrader
    grade id ``<id>_reason``); ``virtlab grade`` does not score it.

    Examples
    --------
    >>> Manual("q6", 2, "Names the cause and the consequence.").points
    2
    """


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: problem generator, reference solver, questions.

    Parameters
    ----------
    id : str
        ``exNN_topic``; the notebooks are ``solutions/<id>.ipynb`` and
        ``exercises/<id>.ipynb``.
    title : str
    make_problem : callable
        ``make_problem(seed) -> problem`` (deterministic).
    solve : callable
        ``solve(problem) -> dict`` of reference answers by name (value
        questions), computed with the virtlab models.
    questions : tuple of Question
    describe : callable, optional
        ``describe(problem) -> str`` (Markdown-ish plain text shown by
        ``ex.show()``).
    crosscheck : callable, optional
        ``crosscheck(problem, solution) -> list of str`` problems found when
        comparing ``solve`` with an independent model run (empty = agrees).
    worked : callable, optional
        ``worked(problem) -> list of practice.Step``: the reference answers
        derived step by step, for practice mode (:mod:`.practice`).
    manual : tuple of Manual, optional
        Manually graded questions (not in ``questions``, not autograded).

    Examples
    --------
    >>> from virtlab.grading.selftest import EXERCISE as ex
    >>> ex.max_points, ex.question("q3").name
    (10, 'refs')
    >>> p = ex.make_problem(0)
    >>> ex.hidden_cases(p, 0, b"k") == ex.hidden_cases(p, 0, b"k") != ex.hidden_cases(p, 0, b"j")
    True
    """

    id: str
    title: str
    make_problem: Callable[[int], Any] = field(repr=False)
    solve: Callable[[Any], dict] = field(repr=False)
    questions: tuple = ()
    describe: Callable[[Any], str] | None = field(default=None, repr=False)
    crosscheck: Callable[[Any, dict], list] | None = field(default=None, repr=False)
    worked: Callable[[Any], list] | None = field(default=None, repr=False)
    manual: tuple = ()

    def __post_init__(self):
        check_str("id", self.id)
        check_str("title", self.title)
        check_type("make_problem", self.make_problem, Callable)
        check_type("solve", self.solve, Callable)
        for name in ("describe", "crosscheck", "worked"):
            if getattr(self, name) is not None:
                check_type(name, getattr(self, name), Callable)
        check_sequence("questions", self.questions)
        check_sequence("manual", self.manual)
        if not self.questions:
            raise ValueError("questions must not be empty")
        for q in self.questions:
            if not isinstance(q, (Value, Function)):
                raise TypeError(f"questions must be Value or Function, got {type(q).__name__}")
        for q in self.manual:
            if not isinstance(q, Manual):
                raise TypeError(f"manual must hold Manual questions, got {type(q).__name__}")
        ids = [q.id for q in self.questions] + [q.id for q in self.manual]
        if len(set(ids)) != len(ids):
            raise ValueError(f"questions must have unique ids, got {ids}")

    @property
    def max_points(self) -> float:
        """Sum of the autograded questions' points (manual questions excluded)."""
        return sum(q.points for q in self.questions)

    @property
    def manual_points(self) -> float:
        """Sum of the manually graded questions' points."""
        return sum(q.points for q in self.manual)

    def question(self, qid: str) -> Question:
        """The question with id ``qid`` (ValueError naming the known ids otherwise)."""
        for q in self.questions:
            if q.id == qid:
                return q
        known = ", ".join(q.id for q in self.questions)
        raise ValueError(f"question must be one of {known}; got {qid!r}")

    def hidden_cases(self, problem: Any, seed: int, secret=None) -> dict:
        """Hidden argument tuples per function question (secret-keyed, never shown)."""
        cases = {}
        for q in self.questions:
            if isinstance(q, Function):
                rng = make_rng(hidden_seed(f"{self.id}:{q.id}", seed, secret))
                cases[q.id] = [tuple(args) for args in q.hidden(problem, rng)]
        return cases

    def export_spec(self, problem: Any, hidden: bool | dict = False,
                    call_timeout: float = 2.0) -> dict:
        """The spec :func:`~._kernel.export_answers` needs: names and argument lists.

        ``hidden`` is False (public cases only) or the dict from
        :meth:`hidden_cases` (public cases followed by hidden ones).
        """
        spec: dict = {"values": [], "functions": {}, "call_timeout": call_timeout}
        for q in self.questions:
            if isinstance(q, Value):
                spec["values"].append(q.name)
            else:
                cases = [list(a) for a in q.public(problem)]
                if hidden:
                    cases += [list(a) for a in hidden[q.id]]
                spec["functions"][q.name] = {"cases": _kernel.to_plain(cases)}
        return spec


_REGISTRY: dict[str, Exercise] | None = None
_EXTRA: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add an exercise defined outside :mod:`virtlab.grading.exercises` (tests, courses).

    Examples
    --------
    >>> from virtlab.grading.selftest import EXERCISE
    >>> register(EXERCISE) is EXERCISE
    True
    """
    if not isinstance(exercise, Exercise):
        raise TypeError(f"exercise must be an Exercise, got {type(exercise).__name__}")
    _EXTRA[exercise.id] = exercise
    return exercise


def load_private(folder) -> list[str]:
    """Register the exercise modules ``folder/ex*.py`` (an instructor's private solvers).

    A course can keep graded exercises out of the public package: their
    module (``make_problem``, ``solve``, ``EXERCISE``, written with absolute
    ``from virtlab import ...`` imports) sits beside the source notebooks in a
    private solutions folder, which ``virtlab assign/grade --solutions`` name.
    They replace a packaged exercise of the same id.  Returns the ids loaded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "ex90_private.py").write_text(
    ...     "from virtlab.grading.exercise import Exercise, Value\\n"
    ...     "EXERCISE = Exercise(id='ex90_private', title='P', make_problem=lambda s: s,\\n"
    ...     "    solve=lambda p: {'x': p}, questions=(Value('q1', 1, 'h', name='x'),))\\n")
    >>> load_private(d), get_exercise("ex90_private").solve(3)
    (['ex90_private'], {'x': 3})
    >>> _ = _EXTRA.pop("ex90_private")  # (keep this example out of other tests)
    """
    import importlib.util
    from pathlib import Path

    loaded = []
    for path in sorted(Path(folder).glob("ex*.py")):
        name = f"virtlab_private_exercises.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ex = getattr(module, "EXERCISE", None)
        if not isinstance(ex, Exercise):
            raise ValueError(f"{path} defines no EXERCISE = Exercise(...)")
        register(ex)
        loaded.append(ex.id)
    return loaded


def exercises() -> dict[str, Exercise]:
    """All exercises by id, discovered from :mod:`virtlab.grading.exercises`.

    Includes the toolchain's ``ex00_selftest`` (:mod:`virtlab.grading.selftest`)
    and anything added with :func:`register`.

    Examples
    --------
    >>> all(eid.startswith("ex") for eid in exercises())
    True
    """
    global _REGISTRY
    if _REGISTRY is None:
        pkg = importlib.import_module(f"{__package__}.exercises")
        importlib.import_module(f"{__package__}.selftest")  # registers ex00_selftest
        found: dict[str, Exercise] = {}
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            ex = getattr(module, "EXERCISE", None)
            if isinstance(ex, Exercise):
                if ex.id in found:
                    raise RuntimeError(f"exercise {ex.id!r} is defined twice")
                found[ex.id] = ex
        _REGISTRY = found
    return {**_REGISTRY, **_EXTRA}


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with id ``exercise_id``.

    Examples
    --------
    >>> get_exercise("ex99_nothing")
    Traceback (most recent call last):
    ...
    ValueError: exercise_id must be one of the known exercises (...); got 'ex99_nothing'
    """
    check_str("exercise_id", exercise_id)
    if exercise_id in _EXTRA:  # registered (also private, see load_private) wins
        return _EXTRA[exercise_id]
    if _REGISTRY is None and not exercise_id.startswith("_") and exercise_id.isidentifier():
        # fast path: import only this exercise's module (a grading kernel needs one)
        try:
            module = importlib.import_module(f"{__package__}.exercises.{exercise_id}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.exercises.{exercise_id}":
                raise
        else:
            ex = getattr(module, "EXERCISE", None)
            if isinstance(ex, Exercise) and ex.id == exercise_id:
                return ex
    if exercise_id in _EXTRA:
        return _EXTRA[exercise_id]
    known = exercises()
    if exercise_id not in known:
        raise ValueError(f"exercise_id must be one of the known exercises "
                         f"({', '.join(sorted(known))}); got {exercise_id!r}")
    return known[exercise_id]
