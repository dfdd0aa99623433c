"""Self-check questions (*Selbsttest*): a question bank per notebook, as data.

Every notebook ends its sections with a few questions a student answers
before reading on: multiple choice, several correct choices, a number with a
tolerance, or an ordering.  Each question is tied to a slide of the lecture
(by its German title) and explains the right answer *and* why each wrong
option is wrong — the wrong options are the misconceptions students really
have ("VT-x makes critical instructions privileged").  Some questions are
*predict* moments: the student commits to an answer before the model's result
is shown (:func:`virtlab.widgets.predict`).

The questions are data: ``virtlab/data/selfcheck/NN.yaml``, one file per
notebook, reviewable in a diff and translatable without touching code.  Where
the answer is a number the models compute, the file names a model answer
(``answer: {model: nested_walk_refs_4_4}``) and :data:`MODEL_ANSWERS`
computes it, so the bank cannot drift from the models.

Examples
--------
>>> q = question("12.nested-refs")
>>> q.kind, q.answer
('number', 24)
>>> check(q, 24).correct
True
>>> check(q, 4).correct
False
>>> fb = check(question("06.vtx-misconception"), 0)
>>> fb.correct, fb.why[:30]
(False, 'No: VT-x does not make POPF or')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from . import isa, migration, popek_goldberg
from .scheduler import VM, CreditScheduler, simulate
from .course import TOPICS
from .errors import check_str
from .i18n import _, language
from .mmu.nested import nested_walk_refs

__all__ = ["KINDS", "MODEL_ANSWERS", "Feedback", "Option", "Question", "TryIt", "bank",
           "check", "notebooks", "question", "questions", "try_it_tasks"]

#: The kinds of question the bank holds.
KINDS = ("choice", "multi", "number", "order")


#: Numbers the questions take from the models, by name (zero-argument functions).
MODEL_ANSWERS: dict[str, Callable[[], float]] = {
    "nested_walk_refs_4_4": lambda: nested_walk_refs(4, 4),
    "nested_walk_refs_5_5": lambda: nested_walk_refs(5, 5),
    "x86_32_critical_count": lambda: len(popek_goldberg.classify(isa.X86_32).critical),
    "toy_is_virtualizable": lambda: int(popek_goldberg.is_virtualizable(isa.TOY)),
    "x86_hybrid_offenders": lambda: len(popek_goldberg.theorems(isa.X86_32).offending_user_mode),
    "credit_share_512_vs_256": lambda: simulate(
        CreditScheduler(), [VM("light", weight=256), VM("heavy", weight=512)],
        pcpus=1, duration_ms=3000).share("heavy"),
    "stop_and_copy_2gb_1gbit_s": lambda: migration.stop_and_copy(2048, 1000).total_time_s,
}


@dataclass(frozen=True)
class Option:
    """One answer option: its text, whether it is right, and why (or why not)."""

    text: str
    correct: bool
    why: str


@dataclass(frozen=True)
class Question:
    """One self-check question.

    Attributes
    ----------
    id : str
        ``"NN.short-name"``, unique across the course.
    notebook : str
        Two-digit notebook id.
    slide : str
        The German title of the lecture slide it belongs to.
    kind : str
        One of :data:`KINDS`.
    prompt : str
        The question (may contain inline HTML/markdown-like emphasis).
    options : tuple of Option
        For ``choice``, ``multi`` and ``order`` (in the right order for ``order``).
    answer : float or None
        For ``number``: the right value (computed from the models where named so).
    tolerance : float
        For ``number``: accepted absolute deviation.
    unit : str
        For ``number``: the unit shown beside the input.
    explanation : str
        Why the right answer is right.
    predict : bool
        A predict-then-reveal moment: the answer is shown only after a prediction.
    reveal : dict or None
        For predictions: ``{"app": name, "settings": {...}}`` — the widget app
        that shows the model's result on reveal.
    too_low, too_high : str
        For ``number``: one line on why a prediction below / above is off.
    """

    id: str
    notebook: str
    slide: str
    kind: str
    prompt: str
    options: tuple[Option, ...] = ()
    answer: float | None = None
    tolerance: float = 0.0
    unit: str = ""
    explanation: str = ""
    predict: bool = False
    reveal: Mapping | None = None
    too_low: str = ""
    too_high: str = ""


@dataclass(frozen=True)
class TryIt:
    """A concrete "Try it" task for one widget app, with its expected observation."""

    notebook: str
    app: str
    task: str
    settings: Mapping
    expected: str


@dataclass(frozen=True)
class Feedback:
    """The verdict on one response.

    Attributes
    ----------
    correct : bool
    why : str
        For a wrong response: why it is wrong (the misconception named);
        for a right one: a confirmation.
    explanation : str
        Why the right answer is right (always given).
    right_answer : str
        The right answer in words.
    """

    correct: bool
    why: str
    explanation: str
    right_answer: str


def _parse_question(notebook: str, raw: Mapping) -> Question:
    qid = f"{notebook}.{raw['id']}"
    kind = raw.get("kind", "choice")
    if kind not in KINDS:
        raise ValueError(f"question {qid}: kind must be one of {KINDS}, got {kind!r}")
    options = tuple(Option(str(o["text"]), bool(o.get("correct", False)), str(o.get("why", "")))
                    for o in raw.get("options", ()))
    answer = raw.get("answer")
    if isinstance(answer, Mapping):
        name = answer.get("model")
        if name not in MODEL_ANSWERS:
            raise ValueError(f"question {qid}: unknown model answer {name!r}")
        answer = MODEL_ANSWERS[name]()
    q = Question(id=qid, notebook=notebook, slide=str(raw["slide"]), kind=kind,
                 prompt=str(raw["prompt"]).strip(), options=options,
                 answer=None if answer is None else float(answer) if not float(answer).is_integer()
                 else int(answer),
                 tolerance=float(raw.get("tolerance", 0.0)), unit=str(raw.get("unit", "")),
                 explanation=str(raw.get("explanation", "")).strip(),
                 predict=bool(raw.get("predict", False)), reveal=raw.get("reveal"),
                 too_low=str(raw.get("too_low", "")).strip(),
                 too_high=str(raw.get("too_high", "")).strip())
    if kind == "number" and q.answer is None:
        raise ValueError(f"question {qid}: a number question needs an answer")
    if kind in ("choice", "multi") and not any(o.correct for o in options):
        raise ValueError(f"question {qid}: no option is marked correct")
    if kind == "choice" and sum(o.correct for o in options) != 1:
        raise ValueError(f"question {qid}: a choice question has exactly one right option")
    return q


_TEXT_FIELDS = ("prompt", "explanation", "too_low", "too_high", "unit")


def _overlay(raw: dict, lang: str, notebook: str) -> dict:
    # A translation file (data/selfcheck/<lang>/NN.yaml) replaces the texts of
    # questions by id; everything else (kinds, answers, settings) stays shared.
    path = resources.files(__package__).joinpath("data", "selfcheck", lang, f"{notebook}.yaml")
    if lang == "en" or not path.is_file():
        return raw
    texts = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("questions", {})
    out = []
    for q in raw.get("questions", ()):
        t = texts.get(q["id"])
        if t is None:
            out.append(q)
            continue
        q = dict(q, **{k: t[k] for k in _TEXT_FIELDS if k in t})
        if "options" in t:
            if len(t["options"]) != len(q.get("options", ())):
                raise ValueError(f"question {notebook}.{q['id']}: the {lang} translation has "
                                 f"{len(t['options'])} options, the question "
                                 f"{len(q.get('options', ()))}")
            q["options"] = [dict(o, **{k: v for k, v in tr.items() if k in ("text", "why")})
                            for o, tr in zip(q["options"], t["options"])]
        out.append(q)
    return dict(raw, questions=out)


@cache
def _load(notebook: str, lang: str = "en") -> tuple[tuple[Question, ...], tuple[TryIt, ...]]:
    path = resources.files(__package__).joinpath("data", "selfcheck", f"{notebook}.yaml")
    if not path.is_file():
        return (), ()
    raw = _overlay(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, lang, notebook)
    qs = tuple(_parse_question(notebook, q) for q in raw.get("questions", ()))
    tasks = tuple(TryIt(notebook, str(t["app"]), str(t["task"]).strip(),
                        dict(t.get("settings", {})), str(t["expected"]).strip())
                  for t in raw.get("try_it", ()))
    return qs, tasks


def notebooks() -> tuple[str, ...]:
    """The notebook ids of the course, in order."""
    return tuple(t.id for t in TOPICS)


def _check_notebook(notebook: str) -> str:
    check_str("notebook", notebook)
    if notebook not in notebooks():
        raise ValueError(f"notebook must be one of {', '.join(notebooks())}; got {notebook!r}")
    return notebook


def bank(notebook: str) -> tuple[Question, ...]:
    """The self-check questions of one notebook, in order.

    Examples
    --------
    >>> len(bank("12")) >= 3
    True
    """
    return _load(_check_notebook(notebook), language())[0]


def try_it_tasks(notebook: str) -> tuple[TryIt, ...]:
    """The "Try it" tasks of one notebook's widgets.

    Examples
    --------
    >>> [t.app for t in try_it_tasks("11")][:1]
    ['scheduler_lab']
    """
    return _load(_check_notebook(notebook))[1]


def questions() -> tuple[Question, ...]:
    """Every question of the course, in notebook order."""
    return tuple(q for nb in notebooks() for q in bank(nb))


def question(qid: str) -> Question:
    """The question with id ``qid`` (``"NN.name"``).

    Examples
    --------
    >>> question("12.nested-refs").notebook
    '12'
    >>> question("99.x")
    Traceback (most recent call last):
    ...
    ValueError: qid: no question '99.x'; ids look like '12.nested-refs'
    """
    check_str("qid", qid)
    for q in bank(qid[:2]) if qid[:2] in notebooks() else ():
        if q.id == qid:
            return q
    raise ValueError(f"qid: no question {qid!r}; ids look like '12.nested-refs'")


def _right_answer(q: Question) -> str:
    if q.kind == "number":
        return f"{q.answer:g}" + (f" {q.unit}" if q.unit else "")
    if q.kind == "order":
        return " → ".join(o.text for o in q.options)
    return "; ".join(o.text for o in q.options if o.correct)


def check(q: Question, response) -> Feedback:
    """Judge ``response`` to question ``q``.

    ``response`` is an option index (``choice``), a collection of indices
    (``multi``), a number (``number``) or the option indices in the order the
    student put them (``order``; ``q.options`` holds the right order).

    Examples
    --------
    >>> q = question("06.critical-count")
    >>> check(q, 18).correct, check(q, 17).correct
    (True, False)
    >>> check(q, "many")
    Traceback (most recent call last):
    ...
    TypeError: response must be a number for question 06.critical-count, got str
    """
    if not isinstance(q, Question):
        raise TypeError(f"q must be a Question, got {type(q).__name__}")
    right = _right_answer(q)
    if q.kind == "number":
        if isinstance(response, bool) or not isinstance(response, (int, float)):
            raise TypeError(f"response must be a number for question {q.id}, "
                            f"got {type(response).__name__}")
        if not math.isfinite(response):
            raise ValueError(f"response must be finite, got {response!r}")
        ok = abs(response - q.answer) <= q.tolerance + 1e-9 * abs(q.answer)
        if ok:
            why = _("Right.")
        elif response < q.answer:
            why = q.too_low or _("Too low.")
        else:
            why = q.too_high or _("Too high.")
        return Feedback(ok, why, q.explanation, right)
    n = len(q.options)
    if q.kind == "choice":
        if isinstance(response, bool) or not isinstance(response, int):
            raise TypeError(f"response must be an option index for question {q.id}, "
                            f"got {type(response).__name__}")
        if not 0 <= response < n:
            raise ValueError(f"response must be an option index 0..{n - 1}, got {response}")
        chosen = q.options[response]
        return Feedback(chosen.correct, chosen.why or (_("Right.") if chosen.correct else _("No.")),
                        q.explanation, right)
    chosen_idx = _indices(q, response, n)
    if q.kind == "multi":
        picked = set(chosen_idx)
        wrong = [q.options[i] for i in sorted(picked) if not q.options[i].correct]
        missed = [o for i, o in enumerate(q.options) if o.correct and i not in picked]
        ok = not wrong and not missed
        lines = [f"“{o.text}”: {o.why}" for o in wrong]
        lines += [_("Missing “{option}”: {why}").format(option=o.text, why=o.why) for o in missed]
        return Feedback(ok, _("Right.") if ok else " ".join(lines), q.explanation, right)
    # order
    if sorted(chosen_idx) != list(range(n)):
        raise ValueError(f"response must list every option index 0..{n - 1} once")
    ok = list(chosen_idx) == list(range(n))
    first_wrong = next((i for i, c in enumerate(chosen_idx) if c != i), None)
    why = _("Right.") if ok else _("Position {n} should be “{option}”: {why}").format(
        n=first_wrong + 1, option=q.options[first_wrong].text, why=q.options[first_wrong].why)
    return Feedback(ok, why, q.explanation, right)


def _indices(q: Question, response, n: int) -> tuple[int, ...]:
    if isinstance(response, (str, bytes)) or not isinstance(response, Sequence | set | frozenset):
        raise TypeError(f"response must be a collection of option indices for question {q.id}, "
                        f"got {type(response).__name__}")
    out = []
    for i in response:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"response must hold option indices (int), got {type(i).__name__}")
        if not 0 <= i < n:
            raise ValueError(f"response: option index must be 0..{n - 1}, got {i}")
        out.append(i)
    return tuple(out)
