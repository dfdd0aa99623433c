"""German from the library: gettext catalogues complete, compiled, and switched by set_language."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import virtlab
from virtlab import i18n, selfcheck
from virtlab.widgets.quiz import PracticeWidget, Predict, QuestionWidget

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
messages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(messages)


@pytest.fixture
def german():
    previous = virtlab.set_language("de")
    yield
    virtlab.set_language(previous)


def test_every_marked_string_has_a_german_translation():
    assert messages.missing("de") == [], "scripts/messages.py update, translate, compile"


def test_compiled_catalogue_is_current():
    assert messages.compiled_is_current("de"), "run scripts/messages.py compile"


def test_placeholders_survive_translation():
    for msg in messages.load_po("de"):
        if msg.id and msg.string:
            fields = set(re.findall(r"\{(\w*)\}", msg.id))
            assert set(re.findall(r"\{(\w*)\}", msg.string)) == fields, msg.id


def test_the_extractor_sees_a_marked_string():
    # the check can fail: a new _() string shows up as missing until translated
    ids = {m.id for m in messages.extract()}
    assert "Show worked solution" in ids and "Right answer:" in ids


def test_widgets_speak_german_after_set_language(german):
    w = QuestionWidget(selfcheck.question("06.popf"))
    assert w.button.description == "Prüfen"
    assert w.submit() is None and "Wählen Sie zuerst" in w.feedback.value
    p = Predict(selfcheck.question("12.nested-refs"))
    assert p.button.description == "Auflösen"
    p.answer(4)
    assert "Ihre Schätzung: 4; das Modell ergibt 24." in p.feedback.value
    assert PracticeWidget("ex04_credit_scheduler").new_button.description == "Neue Aufgabe"


def test_english_stays_the_default_and_the_fallback(german):
    virtlab.set_language("en")
    assert QuestionWidget(selfcheck.question("06.popf")).button.description == "Check"
    virtlab.set_language("de")
    assert i18n._("no catalogue has this sentence") == "no catalogue has this sentence"


def test_environment_variable_selects_the_language(monkeypatch):
    monkeypatch.setattr(i18n, "_current", None)
    monkeypatch.setenv("VIRTLAB_LANG", "de_DE.UTF-8")
    assert virtlab.language() == "de"
    monkeypatch.setenv("VIRTLAB_LANG", "xx")
    assert virtlab.language() == "en"


@pytest.mark.parametrize("bad, exc", [(None, TypeError), (3, TypeError), ("", ValueError),
                                      ("klingon", ValueError)])
def test_bad_language(bad, exc):
    before = virtlab.language()
    with pytest.raises(exc, match="language"):
        virtlab.set_language(bad)
    assert virtlab.language() == before


def test_german_question_texts_replace_the_english(german):
    for nb in selfcheck.notebooks():
        de_qs = selfcheck.bank(nb)
        virtlab.set_language("en")
        en_qs = selfcheck.bank(nb)
        virtlab.set_language("de")
        assert [q.id for q in de_qs] == [q.id for q in en_qs]
        for d, e in zip(de_qs, en_qs):
            # same question, translated: answers, kinds and option truth are shared
            assert (d.kind, d.answer, [o.correct for o in d.options]) == (
                e.kind, e.answer, [o.correct for o in e.options])
            assert d.prompt != e.prompt, f"{d.id} has no German prompt"
            assert not e.explanation or d.explanation != e.explanation, f"{d.id}: explanation"
            assert [o.why != "" for o in d.options] == [o.why != "" for o in e.options]


def test_a_translation_with_other_options_is_refused(tmp_path, monkeypatch):
    raw = {"questions": [{"id": "x", "options": [{"text": "a"}, {"text": "b"}]}]}
    trans = tmp_path / "de"
    trans.mkdir()
    (trans / "99.yaml").write_text("questions:\n  x:\n    options: [{text: A}]\n")

    class Files:
        def joinpath(self, *parts):
            return tmp_path.joinpath(*parts[2:])
    monkeypatch.setattr(selfcheck.resources, "files", lambda pkg: Files())
    with pytest.raises(ValueError, match="1 options, the question 2"):
        selfcheck._overlay(raw, "de", "99")
