"""Verdicts: compare exported plain answers with the reference, in the grader.

Everything here works on plain JSON data produced by
:func:`virtlab.grading._kernel.to_plain`, so nothing the student's kernel
computed about correctness is ever trusted; an object with a rigged
``__eq__`` never reaches this module (it arrives as ``{"__unsupported__": ...}``).

Scoring: a question's points are ``points * passed / total`` over its
*scored* tests -- the hidden tests, plus the public cases of function
questions.  The public form tests of value questions ("answered", "well
formed") give feedback but no points, so a well-formed wrong answer earns
nothing.  Messages of hidden tests never contain hidden inputs or expected
values.

Examples
--------
>>> plain_equal(0.1 + 0.2, 0.3, rel_tol=1e-9)
True
>>> plain_equal(True, 1)
False
>>> plain_equal(["B", "A", "A"], {"__set__": ["A", "B"]})
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ._kernel import plain_key, to_plain
from .exercise import Exercise, Function, Value

__all__ = ["TestResult", "QuestionVerdict", "Verdict", "plain_equal",
           "describe_plain"]


@dataclass(frozen=True)
class TestResult:
    """One test of one question (``visibility`` is "visible" or "hidden")."""

    __test__ = False  # not a pytest test class

    question: str
    name: str
    passed: bool
    scored: bool
    visibility: str
    message: str = ""


@dataclass(frozen=True)
class QuestionVerdict:
    """Points of one question and its tests.

    Examples
    --------
    >>> t = TestResult("q1", "correct value", True, True, "hidden")
    >>> QuestionVerdict("q1", 2.0, 2.0, (t,)).hidden == (t,)
    True
    """

    id: str
    points: float
    max_points: float
    tests: tuple = ()
    hint: str = ""

    @property
    def public(self) -> tuple:
        return tuple(t for t in self.tests if t.visibility == "visible")

    @property
    def hidden(self) -> tuple:
        return tuple(t for t in self.tests if t.visibility == "hidden")


@dataclass(frozen=True)
class Verdict:
    """A whole submission's verdict (points per question).

    Examples
    --------
    >>> Verdict("ex00_selftest", 0, (QuestionVerdict("q1", 1.5, 2.0),)).points
    1.5
    """

    exercise: str
    seed: int
    questions: tuple = field(default=())

    @property
    def points(self) -> float:
        return round(sum(q.points for q in self.questions), 4)

    @property
    def max_points(self) -> float:
        return round(sum(q.max_points for q in self.questions), 4)

    def by_id(self) -> dict:
        return {q.id: q for q in self.questions}


def _is_num(x: Any) -> bool:
    return type(x) in (int, float)


def _as_set(x: Any) -> Any:
    if isinstance(x, dict) and set(x) == {"__set__"} and isinstance(x["__set__"], list):
        return x["__set__"]
    if isinstance(x, list):  # a list given for a set: compare its distinct members
        unique = {plain_key(v): v for v in x}
        return [unique[k] for k in sorted(unique)]
    return None


def _as_pairs(x: Any) -> dict | None:
    if isinstance(x, dict) and set(x) == {"__dict__"}:
        try:
            return {plain_key(k): v for k, v in x["__dict__"]}
        except (TypeError, ValueError):
            return None
    if isinstance(x, dict) and not any(k.startswith("__") for k in x):
        return {plain_key(k): v for k, v in x.items()}
    return None


def plain_equal(answer: Any, reference: Any, rel_tol: float = 1e-6) -> bool:
    """Compare two plain values; numbers with tolerance, sets ignoring order.

    ``reference`` decides the shape: where it is a set, a list answer is
    accepted as the set of its members.  Booleans are not numbers.

    Examples
    --------
    >>> plain_equal([1, 2.0000001], [1, 2])
    True
    >>> plain_equal({"__dict__": [[1, "a"]]}, {"__dict__": [[1, "a"]]})
    True
    >>> plain_equal({"__unsupported__": "Liar"}, 3)
    False
    """
    if type(reference) is bool or type(answer) is bool:
        return type(answer) is type(reference) and answer == reference
    if _is_num(reference):
        return _is_num(answer) and math.isclose(answer, reference, rel_tol=rel_tol,
                                                abs_tol=1e-9)
    if reference is None or type(reference) is str:
        return type(answer) is type(reference) and answer == reference
    if isinstance(reference, list):
        return (isinstance(answer, list) and len(answer) == len(reference)
                and all(plain_equal(a, r, rel_tol) for a, r in zip(answer, reference)))
    if isinstance(reference, dict):
        if set(reference) == {"__set__"}:
            members = _as_set(answer)
            ref = reference["__set__"]
            return (members is not None and len(members) == len(ref)
                    and all(plain_equal(a, r, rel_tol) for a, r in zip(members, ref)))
        if set(reference) == {"__float__"}:
            return answer == reference
        ref_pairs, ans_pairs = _as_pairs(reference), _as_pairs(answer)
        if ref_pairs is None or ans_pairs is None or set(ref_pairs) != set(ans_pairs):
            return False
        return all(plain_equal(ans_pairs[k], ref_pairs[k], rel_tol) for k in ref_pairs)
    return False


def describe_plain(value: Any, limit: int = 80) -> str:
    """Short human text for a plain value or marker (for feedback messages).

    Examples
    --------
    >>> describe_plain({"__set__": ["A", "B"]})
    "{'A', 'B'}"
    >>> describe_plain({"__error__": "KeyError"})
    'an error (KeyError)'
    """
    if isinstance(value, dict):
        if set(value) == {"__set__"}:
            text = "{" + ", ".join(describe_plain(v, limit) for v in value["__set__"]) + "}"
            return text if len(text) <= limit else text[:limit - 3] + "...}"
        if set(value) == {"__error__"}:
            return f"an error ({value['__error__']})"
        if set(value) == {"__unsupported__"}:
            return f"a value that is not plain data ({value['__unsupported__']})"
        if set(value) == {"__float__"}:
            return value["__float__"]
        if set(value) == {"__dict__"}:
            try:
                value = {repr(k): v for k, v in value["__dict__"]}
            except (TypeError, ValueError):
                return "a malformed value"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _answered(name: str, value: Any) -> tuple[bool, str]:
    if isinstance(value, dict):
        if "__missing__" in value:
            return False, f"`{name}` is not defined: run the cell that assigns it"
        if "__unanswered__" in value:
            return False, f"`{name}` is still `...`"
        if "__unsupported__" in value:
            return False, (f"`{name}` is not plain data ({value['__unsupported__']}); "
                           "use numbers, strings, lists, sets or dicts")
    return True, ""


def _form(q: Value, value: Any, ref: Any) -> tuple[bool, str]:
    kind = q.kind
    if kind == "int":
        ok = type(value) is int
        return ok, "" if ok else f"`{q.name}` should be an int, got {describe_plain(value)}"
    if kind == "number":
        ok = _is_num(value)
        return ok, "" if ok else f"`{q.name}` should be a number, got {describe_plain(value)}"
    if kind == "bool":
        ok = type(value) is bool
        return ok, "" if ok else f"`{q.name}` should be True or False"
    if kind == "str":
        ok = type(value) is str
        return ok, "" if ok else f"`{q.name}` should be a string"
    if kind == "set":
        ok = _as_set(value) is not None
        return ok, "" if ok else f"`{q.name}` should be a set, got {describe_plain(value)}"
    if kind == "list":
        n = len(ref) if isinstance(ref, list) else None
        ok = isinstance(value, list) and (n is None or len(value) == n)
        return ok, "" if ok else f"`{q.name}` should be a list of {n} items"
    # dict: the keys are part of the problem statement, so name them
    ans, refp = _as_pairs(value), _as_pairs(ref)
    if ans is None:
        return False, f"`{q.name}` should be a dict, got {describe_plain(value)}"
    missing = sorted(set(refp) - set(ans))
    extra = sorted(set(ans) - set(refp))
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing keys " + ", ".join(missing))
        if extra:
            parts.append("unexpected keys " + ", ".join(extra))
        return False, f"`{q.name}`: " + "; ".join(parts)
    return True, ""


def _value_tests(q: Value, value: Any, ref: Any, hidden: bool) -> list[TestResult]:
    tests = []
    ok, msg = _answered(q.name, value)
    tests.append(TestResult(q.id, "answered", ok, False, "visible", msg))
    if ok:
        ok, msg = _form(q, value, ref)
    else:
        msg = "not checked: answer missing"
    tests.append(TestResult(q.id, "well formed", ok, False, "visible", msg))
    if hidden:
        if q.per_entry and _as_pairs(ref) is not None:
            refp = _as_pairs(ref)
            ans = _as_pairs(value) or {}
            for key in sorted(refp):
                good = key in ans and plain_equal(ans[key], refp[key], q.rel_tol)
                tests.append(TestResult(q.id, f"entry {key}", good, True, "hidden",
                                        "" if good else f"entry {key} is wrong or missing"))
        else:
            good = plain_equal(value, ref, q.rel_tol)
            tests.append(TestResult(q.id, "correct value", good, True, "hidden",
                                    "" if good else "the value is not correct"))
    return tests


def _call_text(name: str, args: list) -> str:
    inner = ", ".join(describe_plain(a, 40) for a in args)
    return f"{name}({inner})"


def _function_tests(q: Function, results: list, public: list, public_refs: list,
                    hidden_refs: list | None) -> list[TestResult]:
    tests = []
    results = list(results) if isinstance(results, list) else []
    for i, (args, ref) in enumerate(zip(public, public_refs)):
        got = results[i] if i < len(results) else {"__missing__": q.name}
        call = _call_text(q.name, args)
        if any(t.name == call for t in tests):
            call += f" #{i + 1}"
        ok = plain_equal(got, ref, q.rel_tol)
        if ok:
            msg = ""
        elif isinstance(got, dict) and got.get("__error__") == "NotImplementedError":
            msg = f"{call}: not implemented yet"
        elif isinstance(got, dict) and "__missing__" in got:
            msg = f"`{q.name}` is not defined: run the cell that defines it"
        else:
            msg = f"{call} returned {describe_plain(got)}, expected {describe_plain(ref)}"
        tests.append(TestResult(q.id, call, ok, True, "visible", msg))
    if hidden_refs is not None:
        offset = len(public)
        for j, ref in enumerate(hidden_refs):
            got = results[offset + j] if offset + j < len(results) else {"__missing__": q.name}
            ok = plain_equal(got, ref, q.rel_tol)
            if ok:
                msg = ""
            elif isinstance(got, dict) and "__error__" in got:
                # the exception's type name is the student's text and may carry
                # the hidden input: never shown for a hidden case
                msg = "timed out" if got["__error__"] == "timeout" else "raised an error"
            elif isinstance(got, dict) and "__missing__" in got:
                msg = "function not defined"
            else:
                msg = "returned a wrong result"
            tests.append(TestResult(q.id, f"hidden case {j + 1}", ok, True, "hidden",
                                    f"hidden case {j + 1}: {msg}" if msg else ""))
    return tests


def _score(q, tests: list[TestResult]) -> float:
    scored = [t for t in tests if t.scored]
    if not scored:
        return 0.0
    return round(q.points * sum(t.passed for t in scored) / len(scored), 4)


def evaluate(exercise: Exercise, problem: Any, solution: dict, exported: dict,
             hidden_cases: dict | None = None, seed: int = 0) -> Verdict:
    """Compute the verdict of exported answers (public tests only without ``hidden_cases``).

    Parameters
    ----------
    exercise : Exercise
    problem : object
        ``exercise.make_problem(seed)`` as recomputed by the grader.
    solution : dict
        ``exercise.solve(problem)``.
    exported : dict
        Plain data from :func:`~._kernel.export_answers` (untrusted).
    hidden_cases : dict, optional
        From :meth:`Exercise.hidden_cases`; None runs public tests only.
    seed : int
        Recorded in the verdict.

    Examples
    --------
    >>> from virtlab.grading.selftest import EXERCISE as ex
    >>> p = ex.make_problem(0)
    >>> exported = {"values": {"answer": ex.solve(p)["answer"], "table": {}}}
    >>> v = evaluate(ex, p, ex.solve(p), exported, ex.hidden_cases(p, 0), 0)
    >>> [(q.id, q.points) for q in v.questions]
    [('q1', 2.0), ('q2', 0.0), ('q3', 0.0)]
    """
    exported = exported if isinstance(exported, dict) else {}
    values = exported.get("values") if isinstance(exported.get("values"), dict) else {}
    functions = (exported.get("functions")
                 if isinstance(exported.get("functions"), dict) else {})
    verdicts = []
    for q in exercise.questions:
        if isinstance(q, Value):
            ref = to_plain(solution[q.name])
            value = values.get(q.name, {"__missing__": q.name})
            try:
                tests = _value_tests(q, value, ref, hidden_cases is not None)
            except Exception:  # a malformed (forged) export: every test fails
                tests = _value_tests(q, {"__unsupported__": "malformed"}, ref,
                                     hidden_cases is not None)
        else:
            public = [list(a) for a in q.public(problem)]
            public_refs = [to_plain(q.reference(problem, *a)) for a in public]
            hidden_refs = None
            if hidden_cases is not None:
                hidden_refs = [to_plain(q.reference(problem, *a)) for a in hidden_cases[q.id]]
            try:
                tests = _function_tests(q, functions.get(q.name, []), to_plain(public),
                                        public_refs, hidden_refs)
            except Exception:  # a malformed (forged) export: every test fails
                tests = _function_tests(q, [], to_plain(public), public_refs, hidden_refs)
        verdicts.append(QuestionVerdict(q.id, _score(q, tests), float(q.points),
                                        tuple(tests), q.hint))
    return Verdict(exercise.id, seed, tuple(verdicts))
