"""Self-check blocks and predict-then-reveal moments (*Selbsttest*, *erst schätzen, dann sehen*).

The questions are data (:mod:`virtlab.selfcheck`); this module only wires
them to ipywidgets.  Two widgets:

- :func:`selfcheck` — one notebook's self-check block: each question with its
  input, a *Check* button and feedback that explains the right answer and why
  the chosen wrong answer is wrong;
- :func:`predict` — one predict-then-reveal moment: the student commits to a
  prediction first; *Reveal* then shows the model's answer beside the
  prediction, one line on why they differ, and (where the question names
  one) the widget app that shows the model's result, set up for the question.

Nothing is graded or stored outside the notebook.  Both widgets can be driven
headlessly (``answer(...)`` sets the input and presses the button).

Examples
--------
>>> box = selfcheck("12")
>>> fb = box.items[0].answer([0, 1, 2])
>>> fb.correct
True
>>> p = predict("12.nested-refs")
>>> p.app is None           # nothing is shown before the prediction
True
>>> p.answer(4).correct
False
>>> "24" in p.feedback.value and p.app is not None
True
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from .. import selfcheck as bank_
from ..errors import check_type
from ..grading.practice import format_practice, practice_problem, worked_solution
from ..i18n import N_, _
from ..selfcheck import Feedback, Question
from . import apps
from .base import error_html

__all__ = ["QuestionWidget", "SelfCheck", "Predict", "PracticeWidget", "selfcheck", "predict",
           "practice", "TOOLS"]

_OK = "#1b5e20"
_WRONG = "#a00000"


def _feedback_html(fb: Feedback, prefix: str = "") -> str:
    colour, mark = (_OK, "&#10004;") if fb.correct else (_WRONG, "&#10008;")
    parts = [f"<div style='color:{colour};font-weight:bold'>{mark} {prefix}"
             f"{html.escape(fb.why)}</div>"]
    if not fb.correct:
        label = _("Right answer:")
        parts.append(f"<div><b>{label}</b> {html.escape(fb.right_answer)}</div>")
    if fb.explanation:
        parts.append(f"<div style='color:#333'>{html.escape(fb.explanation)}</div>")
    return "".join(parts)


class QuestionWidget:
    """One question: prompt, input, a button and the feedback line.

    Attributes
    ----------
    question : Question
    widget : ipywidgets.VBox
    feedback : ipywidgets.HTML
    last : Feedback or None
    """

    button_label = N_("Check")      # translated when the button is made

    def __init__(self, question: Question):
        check_type("question", question, Question)
        self.question = question
        self.last: Feedback | None = None
        self.feedback = W.HTML()
        self.input = self._make_input(question)
        self.button = W.Button(description=_(self.button_label), button_style="info")
        self.button.on_click(lambda _b: self.submit())
        label = _("Slide:")
        slide = (f"<span style='color:#666;font-size:85%'>{label} "
                 f"{html.escape(question.slide)}</span>")
        self.widget = W.VBox([W.HTML(f"<b>{html.escape(question.prompt)}</b><br>{slide}"),
                              self.input, self.button, self.feedback])
        self.widget.add_class("virtlab-question")

    @staticmethod
    def _make_input(q: Question) -> W.Widget:
        layout = W.Layout(width="auto")
        if q.kind == "choice":
            return W.RadioButtons(options=[(o.text, i) for i, o in enumerate(q.options)],
                                  value=None, layout=layout)
        if q.kind == "multi":
            return W.VBox([W.Checkbox(value=False, description=o.text, indent=False,
                                      layout=layout) for o in q.options])
        if q.kind == "number":
            return W.FloatText(value=0.0, description=q.unit or _("answer"),
                               style={"description_width": "initial"})
        # order: one dropdown per position, the options in a fixed shuffled order
        # (reversed, so the right order is never the default)
        labels = [(o.text, i) for i, o in reversed(list(enumerate(q.options)))]
        return W.VBox([W.Dropdown(options=labels, value=labels[k][1],
                                  description=f"{k + 1}.", layout=W.Layout(width="90%"))
                       for k in range(len(labels))])

    def response(self) -> Any:
        """The current input as :func:`virtlab.selfcheck.check` expects it."""
        q = self.question
        if q.kind == "choice":
            return self.input.value
        if q.kind == "multi":
            return [i for i, box in enumerate(self.input.children) if box.value]
        if q.kind == "number":
            return self.input.value
        return [d.value for d in self.input.children]

    def set_response(self, response: Any) -> None:
        """Put ``response`` into the input (for headless use)."""
        q = self.question
        if q.kind == "choice":
            self.input.value = response
        elif q.kind == "multi":
            for i, box in enumerate(self.input.children):
                box.value = i in set(response)
        elif q.kind == "number":
            self.input.value = float(response)
        else:
            for d, value in zip(self.input.children, response):
                d.value = value

    def submit(self) -> Feedback | None:
        """Judge the current input and show the feedback."""
        response = self.response()
        if response is None:
            self.feedback.value = error_html(_("Choose an answer first."))
            return None
        try:
            fb = bank_.check(self.question, response)
        except (ValueError, TypeError) as exc:
            self.feedback.value = error_html(str(exc))
            return None
        self.last = fb
        self.feedback.value = _feedback_html(fb)
        return fb

    def answer(self, response: Any) -> Feedback | None:
        """Set the input to ``response`` and press the button."""
        self.set_response(response)
        return self.submit()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = f"<{type(self).__name__}: {self.question.id}>"
        return bundle


class Predict(QuestionWidget):
    """A predict-then-reveal moment: the model's answer appears only after a prediction.

    Attributes
    ----------
    app : WidgetApp or None
        The app named by the question's ``reveal`` entry, built on reveal.
    """

    button_label = N_("Reveal")

    def __init__(self, question: Question):
        check_type("question", question, Question)
        self.app = None
        super().__init__(question)
        self.slot = W.VBox()
        self.widget.children = tuple(self.widget.children) + (self.slot,)
        label = _("Predict first, then reveal:")
        self.widget.children[0].value = (f"<span style='color:#555'>{label}</span><br>"
                                         + self.widget.children[0].value)
        self.widget.add_class("virtlab-predict")

    def submit(self) -> Feedback | None:
        fb = super().submit()
        if fb is None:
            return None
        q = self.question
        if q.kind == "number":
            unit = f" {q.unit}" if q.unit else ""
            you = _("You predicted {mine}; the model gives {model}.").format(
                mine=f"{self.response():g}", model=f"{q.answer:g}{unit}") + " "
            self.feedback.value = _feedback_html(fb, prefix=html.escape(you))
        if q.reveal and self.app is None:
            self.app = apps()[q.reveal["app"]]()
            if q.reveal.get("settings"):
                self.app.set(**q.reveal["settings"])
            self.slot.children = (self.app.widget,)
        return fb


def selfcheck(notebook: str) -> "SelfCheck":
    """The self-check block of notebook ``notebook`` (``"00"`` … ``"14"``).

    Predict questions are left out: they have their own :func:`predict` cell.
    """
    return SelfCheck(notebook)


class SelfCheck:
    """All non-predict questions of one notebook, one under the other."""

    def __init__(self, notebook: str):
        self.notebook = notebook
        self.items = [QuestionWidget(q) for q in bank_.bank(notebook) if not q.predict]
        heading = _("Self-check")
        self.widget = W.VBox([W.HTML(f"<h4>{heading}</h4>")] + [i.widget for i in self.items])
        self.widget.add_class("virtlab-selfcheck")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = (f"<SelfCheck: notebook {self.notebook}, "
                                f"{len(self.items)} questions>")
        return bundle


def predict(qid: str) -> Predict:
    """The predict-then-reveal widget for question ``qid`` (a question with ``predict: true``)."""
    q = bank_.question(qid)
    if not q.predict:
        raise ValueError(f"qid: question {qid!r} is not a predict question")
    return Predict(q)


class PracticeWidget:
    """Practice mode in the notebook: a fresh problem per number, the worked solution on demand.

    Attributes
    ----------
    number : ipywidgets.BoundedIntText
    text : ipywidgets.HTML
        The problem (and, once shown, the worked solution).
    """

    def __init__(self, exercise_id: str, number: int = 0):
        self.exercise_id = exercise_id
        practice_problem(exercise_id, number)               # validates both arguments
        self.number = W.BoundedIntText(value=number, min=0, max=10**9, description=_("problem"))
        self.new_button = W.Button(description=_("New problem"), icon="refresh")
        self.solution_button = W.Button(description=_("Show worked solution"),
                                          button_style="info")
        self.text = W.HTML()
        self.new_button.on_click(lambda _b: self.new_problem())
        self.solution_button.on_click(lambda _b: self.show_solution())
        self.number.observe(lambda _c: self.show_problem(), names="value")
        self.widget = W.VBox([W.HBox([self.number, self.new_button, self.solution_button]),
                              self.text])
        self.widget.add_class("virtlab-practice")
        self.show_problem()

    def show_problem(self) -> None:
        """Show the current problem without its solution."""
        p = practice_problem(self.exercise_id, self.number.value)
        self.text.value = f"<pre>{html.escape(format_practice(p, [], hint=''))}</pre>"

    def new_problem(self) -> None:
        """Go to the next problem number."""
        self.number.value += 1

    def show_solution(self) -> None:
        """Add the worked solution under the problem."""
        p = practice_problem(self.exercise_id, self.number.value)
        try:
            steps = worked_solution(self.exercise_id, self.number.value)
        except ValueError as exc:
            self.text.value += error_html(str(exc))
            return
        self.text.value = f"<pre>{html.escape(format_practice(p, steps))}</pre>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = f"<PracticeWidget: {self.exercise_id}>"
        return bundle


def practice(exercise_id: str, number: int = 0) -> PracticeWidget:
    """Practice mode for exercise ``exercise_id``: "New problem" and "Show worked solution".

    Examples
    --------
    >>> w = practice("ex04_credit_scheduler", 3)
    >>> "Worked solution" in w.text.value
    False
    >>> w.show_solution(); "Worked solution" in w.text.value
    True
    >>> w.new_problem(); w.number.value, "Worked solution" in w.text.value
    (4, False)
    """
    return PracticeWidget(exercise_id, number)


#: Widget factories that take arguments (not apps): ``virtlab.widgets.selfcheck("12")``.
TOOLS = {"selfcheck": selfcheck, "predict": predict, "practice": practice}
