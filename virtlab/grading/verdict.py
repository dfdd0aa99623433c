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

from ..errors import check_choice
from ..i18n import N_, translations
from ._kernel import plain_key, to_plain
from .exercise import Exercise, Function, Value

__all__ = ["TestResult", "QuestionVerdict", "Verdict", "plain_equal",
           "describe_plain", "render", "question_status", "CODES", "TODO_CODES"]

#: The status codes of a test: what happened, independent of the language shown.
#: ``passed``; the answer is ``missing`` (name not defined), ``unanswered`` (still
#: ``...``), ``not_plain`` data, ``malformed`` (wrong type, length or keys), or
#: ``skipped`` (form not checked, nothing answered); a function is
#: ``not_implemented``; the value or result is ``wrong``; a hidden case raised an
#: ``error`` or hit its ``timeout``.
CODES = ("passed", "missing", "unanswered", "not_plain", "malformed", "skipped",
         "not_implemented", "wrong", "error", "timeout")

#: Failures that mean "not answered yet" (not a wrong answer): check() says so.
TODO_CODES = frozenset({"missing", "unanswered", "not_plain", "skipped", "not_implemented"})


@dataclass(frozen=True)
class TestResult:
    """One test of one question (``visibility`` is "visible" or "hidden").

    ``code`` (one of :data:`CODES`) and ``params`` say what happened;
    :attr:`message` renders them in the current language (:func:`render`).

    Examples
    --------
    >>> t = TestResult("q1", "answered", False, False, "visible", "unanswered",
    ...                {"name": "answer"})
    >>> t.message
    '`answer` is still `...`'
    >>> t.text("de")
    '`answer` ist noch `...`'
    """

    __test__ = False  # not a pytest test class

    question: str
    name: str
    passed: bool
    scored: bool
    visibility: str
    code: str = "passed"
    params: dict = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"code must be one of {', '.join(CODES)}; got {self.code!r}")

    @property
    def message(self) -> str:
        """The human message in the current language ("" for a passed test)."""
        return render(self.code, self.params)

    def text(self, lang: str | None = None) -> str:
        """The human message in ``lang`` (default: the current language)."""
        return render(self.code, self.params, lang)


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


def question_status(qv: QuestionVerdict) -> str:
    """``"todo"`` (not answered yet), ``"fail"`` (a wrong answer) or ``"ok"``, by codes.

    Read from the public tests' status codes, never from their messages, so it
    is the same in every language.

    Examples
    --------
    >>> t = TestResult("q1", "well formed", False, False, "visible", "malformed",
    ...                {"variant": "bool", "name": "ok"})
    >>> question_status(QuestionVerdict("q1", 0.0, 1.0, (t,)))
    'fail'
    """
    if not isinstance(qv, QuestionVerdict):
        raise TypeError(f"qv must be a QuestionVerdict, got {type(qv).__name__}")
    failed = [t for t in qv.public if not t.passed]
    if not failed:
        return "ok"
    # a missing, unanswered or unimplemented part: the student is not done yet
    return "todo" if any(t.code in TODO_CODES for t in failed) else "fail"


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


def describe_plain(value: Any, limit: int = 80, lang: str | None = None) -> str:
    """Short human text for a plain value or marker (for feedback messages).

    Markers (an error, a value that is not plain data) are described in
    ``lang`` (default: the current language).

    Examples
    --------
    >>> describe_plain({"__set__": ["A", "B"]})
    "{'A', 'B'}"
    >>> describe_plain({"__error__": "KeyError"})
    'an error (KeyError)'
    >>> describe_plain({"__error__": "KeyError"}, lang="de")
    'ein Fehler (KeyError)'
    """
    gettext = translations(lang).gettext
    if isinstance(value, dict):
        if set(value) == {"__set__"}:
            text = "{" + ", ".join(describe_plain(v, limit, lang)
                                   for v in value["__set__"]) + "}"
            return text if len(text) <= limit else text[:limit - 3] + "...}"
        if set(value) == {"__error__"}:
            return gettext(N_("an error ({error})")).format(error=value["__error__"])
        if set(value) == {"__unsupported__"}:
            return gettext(N_("a value that is not plain data ({what})")).format(
                what=value["__unsupported__"])
        if set(value) == {"__float__"}:
            return value["__float__"]
        if set(value) == {"__dict__"}:
            try:
                value = {repr(k): v for k, v in value["__dict__"]}
            except (TypeError, ValueError):
                return gettext(N_("a malformed value"))
        if set(value) == {"__shown__"}:  # already described (see _shown)
            return str(value["__shown__"])
        if set(value) == {"__malformed__"}:
            return gettext(N_("a malformed value"))
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shown(value: Any, limit: int = 80) -> Any:
    """A value as a test's parameter: small and language-neutral, described at display.

    A marker (an error, a value that is not plain data) stays a marker, so
    :func:`describe_plain` words it in the language shown; any other value is
    kept as its description (``{"__shown__": text}``), so a huge answer never
    reaches a stored result.

    Examples
    --------
    >>> _shown({"__error__": "KeyError"}), _shown([1, 2])
    ({'__error__': 'KeyError'}, {'__shown__': '[1, 2]'})
    """
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key in ("__error__", "__unsupported__") and isinstance(inner, str):
            return {key: inner}
        if key == "__dict__" and describe_plain(value, limit, "en") == "a malformed value":
            return {"__malformed__": True}
        if key == "__set__" and isinstance(inner, list) and any(
                isinstance(v, dict) and len(v) == 1
                and next(iter(v)) in ("__error__", "__unsupported__") for v in inner):
            kept, length = [], 1
            for v in inner:  # enough members to fill the shown text, no more
                if length > limit:
                    break
                kept.append(_shown(v, limit))
                length += len(describe_plain(kept[-1], limit, "en")) + 2
            return {"__set__": kept}
    return {"__shown__": describe_plain(value, limit, lang="en")}


#: (code, variant) -> message.  ``variant`` tells messages of one code apart: the
#: kind a malformed answer should have, a value or a function that is missing.
_MESSAGES = {
    ("missing", "value"): N_("`{name}` is not defined: run the cell that assigns it"),
    ("missing", "function"): N_("`{name}` is not defined: run the cell that defines it"),
    ("missing", "hidden"): N_("hidden case {case}: function not defined"),
    ("unanswered", ""): N_("`{name}` is still `...`"),
    ("not_plain", ""): N_("`{name}` is not plain data ({what}); use numbers, strings, "
                          "lists, sets or dicts"),
    ("malformed", "int"): N_("`{name}` should be an int, got {got}"),
    ("malformed", "number"): N_("`{name}` should be a number, got {got}"),
    ("malformed", "bool"): N_("`{name}` should be True or False"),
    ("malformed", "str"): N_("`{name}` should be a string"),
    ("malformed", "set"): N_("`{name}` should be a set, got {got}"),
    ("malformed", "list"): N_("`{name}` should be a list of {n} items"),
    ("malformed", "dict"): N_("`{name}` should be a dict, got {got}"),
    ("malformed", "missing_keys"): N_("missing keys {keys}"),
    ("malformed", "unexpected_keys"): N_("unexpected keys {keys}"),
    ("skipped", ""): N_("not checked: answer missing"),
    ("not_implemented", ""): N_("{call}: not implemented yet"),
    ("wrong", "value"): N_("the value is not correct"),
    ("wrong", "entry"): N_("entry {key} is wrong or missing"),
    ("wrong", "call"): N_("{call} returned {got}, expected {expected}"),
    ("wrong", "hidden"): N_("hidden case {case}: returned a wrong result"),
    ("error", "hidden"): N_("hidden case {case}: raised an error"),
    ("timeout", "hidden"): N_("hidden case {case}: timed out"),
}


def render(code: str, params: dict | None = None, lang: str | None = None) -> str:
    """The message of a test result in ``lang`` (default: the current language).

    Parameters
    ----------
    code : str
        One of :data:`CODES`.
    params : dict, optional
        The result's parameters (names, values described by :func:`_shown`);
        ``params["variant"]`` selects among the messages of one code.
    lang : str, optional
        ``"en"`` or ``"de"``.

    Examples
    --------
    >>> render("wrong", {"variant": "call", "call": "refs(4, 4)",
    ...                  "got": {"__shown__": "16"}, "expected": {"__shown__": "24"}})
    'refs(4, 4) returned 16, expected 24'
    >>> render("not_implemented", {"call": "refs(1, 2)"}, lang="de")
    'refs(1, 2): noch nicht implementiert'
    >>> render("passed")
    ''
    """
    check_choice("code", code, CODES)
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict or None, got {type(params).__name__}")
    gettext = translations(lang).gettext
    if code == "passed":
        return ""
    params = dict(params or {})
    if code == "malformed" and params.get("variant") == "keys":
        parts = [gettext(_MESSAGES["malformed", f"{k}_keys"]).format(
            keys=", ".join(map(str, params[k]))) for k in ("missing", "unexpected")
            if isinstance(params.get(k), (list, tuple)) and params[k]]
        return f"`{params.get('name', '')}`: " + "; ".join(parts)
    template = _MESSAGES.get((code, params.get("variant", "")))
    if template is None:
        raise ValueError(f"no message for code {code!r} with variant "
                         f"{params.get('variant', '')!r}")
    for key in ("got", "expected"):
        if key in params:
            params[key] = describe_plain(params[key], lang=lang)
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError) as exc:
        raise ValueError(f"params lacks {exc} for code {code!r}") from None


def _passed() -> tuple[str, dict]:
    return "passed", {}  # a fresh dict each time: results never share their parameters


def _answered(name: str, value: Any) -> tuple[str, dict]:
    if isinstance(value, dict):
        if "__missing__" in value:
            return "missing", {"variant": "value", "name": name}
        if "__unanswered__" in value:
            return "unanswered", {"name": name}
        if "__unsupported__" in value:
            return "not_plain", {"name": name, "what": str(value["__unsupported__"])}
    return _passed()


def _form(q: Value, value: Any, ref: Any) -> tuple[str, dict]:
    kind = q.kind
    if kind in ("int", "number", "set"):
        ok = {"int": lambda v: type(v) is int, "number": _is_num,
              "set": lambda v: _as_set(v) is not None}[kind](value)
        return _passed() if ok else ("malformed", {"variant": kind, "name": q.name,
                                                 "got": _shown(value)})
    if kind in ("bool", "str"):
        ok = type(value) is (bool if kind == "bool" else str)
        return _passed() if ok else ("malformed", {"variant": kind, "name": q.name})
    if kind == "list":
        n = len(ref) if isinstance(ref, list) else None
        ok = isinstance(value, list) and (n is None or len(value) == n)
        return _passed() if ok else ("malformed", {"variant": kind, "name": q.name, "n": n})
    # dict: the keys are part of the problem statement, so name them
    ans, refp = _as_pairs(value), _as_pairs(ref)
    if ans is None:
        return "malformed", {"variant": "dict", "name": q.name, "got": _shown(value)}
    missing = sorted(set(refp) - set(ans))
    extra = sorted(set(ans) - set(refp))
    if missing or extra:
        return "malformed", {"variant": "keys", "name": q.name, "missing": missing,
                             "unexpected": extra}
    return _passed()


def _value_tests(q: Value, value: Any, ref: Any, hidden: bool) -> list[TestResult]:
    tests = []
    code, params = _answered(q.name, value)
    tests.append(TestResult(q.id, "answered", code == "passed", False, "visible", code, params))
    if code == "passed":
        code, params = _form(q, value, ref)
    else:
        code, params = "skipped", {}
    tests.append(TestResult(q.id, "well formed", code == "passed", False, "visible", code,
                            params))
    if hidden:
        if q.per_entry and _as_pairs(ref) is not None:
            refp = _as_pairs(ref)
            ans = _as_pairs(value) or {}
            for key in sorted(refp):
                good = key in ans and plain_equal(ans[key], refp[key], q.rel_tol)
                tests.append(TestResult(q.id, f"entry {key}", good, True, "hidden",
                                        *(_passed() if good else
                                          ("wrong", {"variant": "entry", "key": key}))))
        else:
            good = plain_equal(value, ref, q.rel_tol)
            tests.append(TestResult(q.id, "correct value", good, True, "hidden",
                                    *(_passed() if good else ("wrong", {"variant": "value"}))))
    return tests


def _call_text(name: str, args: list) -> str:
    inner = ", ".join(describe_plain(a, 40, lang="en") for a in args)
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
            code, params = _passed()
        elif isinstance(got, dict) and got.get("__error__") == "NotImplementedError":
            code, params = "not_implemented", {"call": call}
        elif isinstance(got, dict) and "__missing__" in got:
            code, params = "missing", {"variant": "function", "name": q.name}
        else:
            code, params = "wrong", {"variant": "call", "call": call, "got": _shown(got),
                                     "expected": _shown(ref)}
        tests.append(TestResult(q.id, call, ok, True, "visible", code, params))
    if hidden_refs is not None:
        offset = len(public)
        for j, ref in enumerate(hidden_refs):
            got = results[offset + j] if offset + j < len(results) else {"__missing__": q.name}
            ok = plain_equal(got, ref, q.rel_tol)
            if ok:
                code = "passed"
            elif isinstance(got, dict) and "__error__" in got:
                # the exception's type name is the student's text and may carry
                # the hidden input: never shown for a hidden case
                code = "timeout" if got["__error__"] == "timeout" else "error"
            elif isinstance(got, dict) and "__missing__" in got:
                code = "missing"
            else:
                code = "wrong"
            params = {} if ok else {"variant": "hidden", "case": j + 1}
            tests.append(TestResult(q.id, f"hidden case {j + 1}", ok, True, "hidden",
                                    code, params))
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
