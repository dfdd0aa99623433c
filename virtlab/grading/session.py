"""The student's side: ``ex = start("ex01_...")``, ``ex.check("q1")``, ``ex.check_all()``.

``check`` runs only the *public* tests of a question against the names in
the notebook and returns a feedback panel: which case failed, the
instructor's hint, and honestly how many hidden tests will run at grading.
It never raises for a wrong or missing answer (an unanswered ``...`` shows
"not answered yet"), so a fresh exercise notebook runs top to bottom.

Nothing ``check`` says counts: ``virtlab grade`` recomputes everything in the
grading process.  During grading the grader's first cell hands the kernel
its variant as data (:func:`_enter_grading`): ``start`` then returns a
:class:`GradingSession` -- the problem, the statement and the hints, but no
reference solver (the sandboxed kernel cannot import the exercise modules)
-- and ignores a variant code typed into the notebook.

Reference answers (``ex.solution``) exist only for the default (practice)
variant: for a personal (graded) variant ``ex.solution`` raises.

Examples
--------
>>> from virtlab.grading import selftest  # registers the toolchain's self-test exercise
>>> ex = start("ex00_selftest")
>>> ex.seed
0
>>> answer = ...
>>> ex.check("q1")
q1 (2 points): not answered yet -- `answer` is still `...`
  0/2 public tests passed; 1 hidden test runs at grading
>>> answer = 7
>>> ex.check("q1")
q1 (2 points): all public tests passed
  2/2 public tests passed; 1 hidden test runs at grading
"""

from __future__ import annotations

import html
import sys
from typing import Any

from ..i18n import _
from ._kernel import export_answers
from .exercise import Exercise, get_exercise
from .problem_data import decode
from .variants import DEFAULT_SEED, seed_from_code
from .verdict import QuestionVerdict, evaluate, question_status

__all__ = ["start", "Panel"]

#: Set by the grader's first cell: {"seed": int, "view": dict}.  Overrides the variant code.
_GRADING: dict = {}


class Panel:
    """Feedback shown in the notebook: HTML in Jupyter, stable plain text elsewhere.

    Examples
    --------
    >>> Panel([("ok", "q1: fine")], title="ex")
    ex
    q1: fine
    """

    def __init__(self, lines: list[tuple[str, str]], title: str = ""):
        self.lines = lines  # (status, text) with status in ok/fail/todo/info
        self.title = title

    def __repr__(self) -> str:
        out = [self.title] if self.title else []
        out += [text for _, text in self.lines]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        colours = {"ok": "#1b7f3b", "fail": "#a00000", "todo": "#8a6d00", "info": "#333"}
        rows = "".join(
            f"<div style='color:{colours.get(s, '#333')};white-space:pre-wrap'>"
            f"{html.escape(t)}</div>" for s, t in self.lines)
        head = f"<b>{html.escape(self.title)}</b>" if self.title else ""
        return (f"<div style='border:1px solid #ccc;border-radius:4px;padding:6px 10px;"
                f"font-family:monospace'>{head}{rows}</div>")


def _points(p: float) -> str:
    p = int(p) if float(p).is_integer() else p
    return (_("{n} point") if p == 1 else _("{n} points")).format(n=p)


def _title(title: str) -> str:
    # an exercise's title is an N_() msgid; a title nobody translated (a private
    # exercise's) comes back unchanged, and "" is not looked up (gettext's header)
    return _(title) if title else title


def _question_lines(qv: QuestionVerdict, n_hidden: int) -> list[tuple[str, str]]:
    public = qv.public
    passed = sum(t.passed for t in public)
    failed = [t for t in public if not t.passed]
    head = f"{qv.id} ({_points(qv.max_points)}): "
    status = question_status(qv)
    if status == "todo":
        text = head + _("not answered yet -- {message}").format(message=failed[0].message)
    elif status == "fail":
        text = head + _("{n} public test(s) failed\n  first failure: {message}").format(
            n=len(failed), message=failed[0].message)
        text += "\n  " + _("hint: {hint}").format(hint=_(qv.hint) if qv.hint else "")
    else:
        text = head + _("all public tests passed")
    hidden = (_("1 hidden test runs at grading") if n_hidden == 1
              else _("{n} hidden tests run at grading").format(n=n_hidden))
    text += "\n  " + _("{passed}/{total} public tests passed; {hidden}").format(
        passed=passed, total=len(public), hidden=hidden)
    return [(status, text)]


class Session:
    """One student's working session on one exercise (their variant).

    Attributes
    ----------
    exercise : Exercise
    seed : int
        The variant seed (0 = default variant).
    problem : object
        ``exercise.make_problem(seed)``.

    Examples
    --------
    >>> from virtlab.grading import selftest
    >>> ex = start("ex00_selftest")
    >>> ex.hint("q3")
    'Return n*m + n + m.'
    >>> print(repr(ex.show()).splitlines()[0])
    Toolchain self-test: 2D page walks
    >>> ex.check_all({"answer": ..., "table": ...}).title.startswith("ex00_selftest")
    True
    """

    def __init__(self, exercise: Exercise, seed: int):
        self.exercise = exercise
        self.seed = seed
        self.problem = exercise.make_problem(seed)
        self._solution = None

    def __repr__(self) -> str:
        variant = (_("default variant") if self.seed == 0
                   else _("variant {code}").format(code=f"{self.seed:016x}"))
        return _("<exercise {exercise}: {title} ({variant})>").format(
            exercise=self.exercise.id, title=_title(self.exercise.title), variant=variant)

    @property
    def solution(self) -> dict:
        """Reference answers of the default (practice) variant only.

        Raises RuntimeError for a personal (graded) variant and while grading.
        """
        if "seed" in _GRADING:
            raise RuntimeError("reference answers are not available while grading")
        if self.seed != DEFAULT_SEED:
            raise RuntimeError("reference answers are available for the default (practice) "
                               "variant only: start(exercise_id) without a variant")
        return self._reference()

    def _reference(self) -> dict:
        # computed only to run the *public* tests (form, public cases)
        if self._solution is None:
            self._solution = self.exercise.solve(self.problem)
        return self._solution

    def show(self) -> Panel:
        """The problem statement of this variant."""
        text = (self.exercise.describe(self.problem) if self.exercise.describe
                else repr(self.problem))
        return Panel([("info", line) for line in text.splitlines()],
                     title=_title(self.exercise.title))

    def hint(self, qid: str) -> str:
        """The instructor's hint for question ``qid`` (in the current language)."""
        hint = self.exercise.question(qid).hint
        return _(hint) if hint else hint

    def _verdict(self, namespace: dict, hidden: bool = False):
        ex = self.exercise
        cases = ex.hidden_cases(self.problem, self.seed) if hidden else None
        exported = export_answers(namespace, ex.export_spec(self.problem, cases or False))
        return evaluate(ex, self.problem, self._reference(), exported, cases, self.seed)

    def _n_hidden(self, qid: str) -> int:
        # counts only; no hidden input is computed or shown here
        q = self.exercise.question(qid)
        if hasattr(q, "per_entry"):
            ref = self._reference()[q.name]
            return len(ref) if q.per_entry and isinstance(ref, dict) else 1
        rng_cases = self.exercise.hidden_cases(self.problem, self.seed)
        return len(rng_cases[qid])

    def check(self, qid: str, namespace: dict | None = None) -> Panel:
        """Run the public tests of question ``qid``; never raises for wrong answers.

        ``namespace`` defaults to the caller's globals (the notebook).
        """
        self.exercise.question(qid)  # validates the id
        if "seed" in _GRADING:
            return Panel([("info", _("{qid}: checked by the grader").format(qid=qid))])
        ns = namespace if namespace is not None else sys._getframe(1).f_globals
        qv = self._verdict(ns).by_id()[qid]
        return Panel(_question_lines(qv, self._n_hidden(qid)))

    def check_all(self, namespace: dict | None = None) -> Panel:
        """Run the public tests of every question."""
        if "seed" in _GRADING:
            return Panel([("info", _("checked by the grader"))])
        ns = namespace if namespace is not None else sys._getframe(1).f_globals
        verdict = self._verdict(ns)
        lines: list[tuple[str, str]] = []
        for qv in verdict.questions:
            lines += _question_lines(qv, self._n_hidden(qv.id))
        title = _("{exercise}: public tests (points are given only by `virtlab grade`)")
        return Panel(lines, title=title.format(exercise=self.exercise.id))

    def verify(self, qid: str, namespace: dict | None = None) -> None:
        """Assert that ``qid`` passes public *and* hidden tests (nbgrader interop only).

        nbgrader's autograder scores a test cell by whether it raises; this
        runs in the student's kernel, which ``virtlab grade`` never trusts.
        """
        if "seed" in _GRADING:
            return None
        ns = namespace if namespace is not None else sys._getframe(1).f_globals
        qv = self._verdict(ns, hidden=True).by_id()[qid]
        if qv.points < qv.max_points:
            failed = [t for t in qv.tests if t.scored and not t.passed]
            raise AssertionError(_("{qid}: {n} test(s) failed").format(qid=qid, n=len(failed)))


class GradingSession:
    """What ``start`` returns inside a grading kernel: the variant as data, no solver.

    The grader computes the problem and passes it (with the statement and the
    hints) in its first cell; checks say "checked by the grader".

    Examples
    --------
    >>> g = GradingSession({"exercise": "ex00_selftest", "title": "T", "seed": 5,
    ...                     "problem": {"__dict__": [["n", 2]]}, "describe": "Two.",
    ...                     "hints": {"q1": "Think."}})
    >>> g.problem, g.seed, g.hint("q1"), g.check("q1")
    ({'n': 2}, 5, 'Think.', q1: checked by the grader)
    >>> g.solution
    Traceback (most recent call last):
    ...
    RuntimeError: reference answers are not available while grading
    """

    def __init__(self, view: dict):
        self.exercise_id = str(view["exercise"])
        self.title = str(view.get("title", ""))
        self.seed = int(view["seed"])
        self.problem = decode(view["problem"])
        self._describe = str(view.get("describe", ""))
        self._hints = dict(view.get("hints", {}))

    def __repr__(self) -> str:
        return _("<exercise {exercise}: {title} ({variant})>").format(
            exercise=self.exercise_id, title=_title(self.title), variant=_("graded variant"))

    @property
    def solution(self):
        raise RuntimeError("reference answers are not available while grading")

    def show(self) -> Panel:
        return Panel([("info", line) for line in self._describe.splitlines()],
                     title=_title(self.title))

    def hint(self, qid: str) -> str:
        hint = str(self._hints.get(qid, ""))
        return _(hint) if hint else hint

    def check(self, qid: str, namespace: dict | None = None) -> Panel:
        return Panel([("info", _("{qid}: checked by the grader").format(qid=qid))])

    def check_all(self, namespace: dict | None = None) -> Panel:
        return Panel([("info", _("checked by the grader"))])

    def verify(self, qid: str, namespace: dict | None = None) -> None:
        return None


def _enter_grading(view: dict) -> None:
    """Called by the grader's first cell: pin this kernel to the graded variant."""
    _GRADING["seed"] = int(view["seed"])
    _GRADING["view"] = view


def start(exercise_id: str, variant: Any = None) -> Session:
    """Open an exercise: the student's variant (or the default variant).

    Parameters
    ----------
    exercise_id : str
        E.g. ``"ex01_popek_goldberg"``.
    variant : str, optional
        Your personal variant code (16 hex digits from the course page).
        None gives the documented default variant (seed 0).  During grading
        the grader's variant is used instead.

    Examples
    --------
    >>> start("ex00_selftest", variant="zz")
    Traceback (most recent call last):
    ...
    ValueError: variant must be a code of 1-16 hex digits, got 'zz'
    >>> start("ex00_selftest", variant="00000000000000ff").solution
    Traceback (most recent call last):
    ...
    RuntimeError: reference answers are available for the default (practice) variant only: start(exercise_id) without a variant
    """
    view = _GRADING.get("view")
    if view is not None:
        return GradingSession(view)  # the variant typed into the notebook is ignored
    exercise = get_exercise(exercise_id)
    seed = seed_from_code(variant)
    if "seed" in _GRADING:
        seed = _GRADING["seed"]
    return Session(exercise, seed)
