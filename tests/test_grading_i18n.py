"""Feedback by status codes: check() and the grader's feedback files in the student's language.

A test result carries a status code and parameters; its message is rendered
from them in the language shown.  Classification reads codes (never English
phrases), stored results stay language-neutral, and English output is what
it was before codes existed (literal strings below).
"""

from __future__ import annotations

import csv
import json
import re

import nbformat
import pytest

import virtlab
from virtlab import cli
from virtlab.grading import selftest, start
from virtlab.grading.report import feedback_path, feedback_text, load_results, write_reports
from virtlab.grading.verdict import (CODES, QuestionVerdict, TestResult, evaluate,
                                     question_status, render)


def _refs_not_implemented(n, m):
    raise NotImplementedError


#: Namespaces of ex00_selftest (default variant) and the status each question must get.
CASES = {
    "untouched": ({"answer": ..., "table": ...}, {"q1": "todo", "q2": "todo", "q3": "todo"}),
    "malformed": ({"answer": "x", "table": [1], "refs": _refs_not_implemented},
                  {"q1": "fail", "q2": "fail", "q3": "todo"}),
    "wrong": ({"answer": 7, "table": {"zz": 1}, "refs": lambda n, m: n * m},
              {"q1": "ok", "q2": "fail", "q3": "fail"}),
    "not_plain": ({"answer": object(), "table": {}}, {"q1": "todo", "q2": "fail",
                                                      "q3": "todo"}),
}


def _status(panel):
    (status, _text), = panel.lines
    return status


# -- English output is unchanged: the messages before status codes, literally ---------------

def test_english_messages_are_the_old_ones_literally():
    ex = start("ex00_selftest")
    assert repr(ex.check("q1", {"answer": "x"})) == (
        "q1 (2 points): 1 public test(s) failed\n"
        "  first failure: `answer` should be an int, got 'x'\n"
        "  hint: Each guest level costs m host references plus one read.\n"
        "  1/2 public tests passed; 1 hidden test runs at grading")
    assert repr(ex.check("q2", {"table": {"zz": 1}})).splitlines()[1] == (
        '  first failure: `table`: missing keys "1x3", "4x3", "5x4"; unexpected keys "zz"')
    assert repr(ex.check("q3", {"refs": _refs_not_implemented})).splitlines()[0] == (
        "q3 (5 points): not answered yet -- refs(4, 4): not implemented yet")
    assert repr(ex.check("q3", {})).splitlines()[0] == (
        "q3 (5 points): not answered yet -- `refs` is not defined: run the cell that defines it")
    assert repr(ex.check("q1", {})).splitlines()[0] == (
        "q1 (2 points): not answered yet -- `answer` is not defined: run the cell that "
        "assigns it")
    assert repr(ex.check("q1", {"answer": object()})).splitlines()[0] == (
        "q1 (2 points): not answered yet -- `answer` is not plain data (object); use numbers, "
        "strings, lists, sets or dicts")


@pytest.mark.parametrize("code, params, english", [
    ("malformed", {"variant": "number", "name": "x", "got": {"__shown__": "'a'"}},
     "`x` should be a number, got 'a'"),
    ("malformed", {"variant": "bool", "name": "x"}, "`x` should be True or False"),
    ("malformed", {"variant": "str", "name": "x"}, "`x` should be a string"),
    ("malformed", {"variant": "set", "name": "x", "got": {"__shown__": "3"}},
     "`x` should be a set, got 3"),
    ("malformed", {"variant": "list", "name": "x", "n": 4}, "`x` should be a list of 4 items"),
    ("malformed", {"variant": "dict", "name": "x", "got": {"__error__": "KeyError"}},
     "`x` should be a dict, got an error (KeyError)"),
    ("malformed", {"variant": "keys", "name": "t", "missing": ["a"], "unexpected": []},
     "`t`: missing keys a"),
    ("skipped", {}, "not checked: answer missing"),
    ("unanswered", {"name": "x"}, "`x` is still `...`"),
    ("wrong", {"variant": "value"}, "the value is not correct"),
    ("wrong", {"variant": "entry", "key": "1x3"}, "entry 1x3 is wrong or missing"),
    ("wrong", {"variant": "call", "call": "f(1)", "got": {"__unsupported__": "Liar"},
               "expected": {"__shown__": "2"}},
     "f(1) returned a value that is not plain data (Liar), expected 2"),
    ("wrong", {"variant": "hidden", "case": 2}, "hidden case 2: returned a wrong result"),
    ("error", {"variant": "hidden", "case": 1}, "hidden case 1: raised an error"),
    ("timeout", {"variant": "hidden", "case": 3}, "hidden case 3: timed out"),
    ("missing", {"variant": "hidden", "case": 4}, "hidden case 4: function not defined"),
])
def test_every_message_in_english_and_in_german(code, params, english):
    assert render(code, params, "en") == english
    german = render(code, params, "de")
    assert german != english
    # what the parameters put in stays (names, values, case numbers); only words change
    for value in re.findall(r"`\w+`|\b\d+\b|'a'|KeyError|Liar|1x3|f\(1\)", english):
        assert value in german, (value, german)


def test_unknown_code_and_variant_are_refused():
    with pytest.raises(ValueError, match="code must be one of"):
        TestResult("q1", "answered", False, False, "visible", "broken")
    with pytest.raises(ValueError, match="no message for code 'wrong'"):
        render("wrong", {"variant": "nonsense"})
    assert set(CODES) >= {"missing", "not_implemented", "malformed", "wrong", "error"}


def test_hidden_inputs_never_reach_the_parameters():
    # a hidden case's parameters are its number only: no input, no value, no error name
    ex = selftest.EXERCISE
    p = ex.make_problem(3)
    hidden = ex.hidden_cases(p, 3)
    exported = {"values": {}, "functions": {"refs": [{"__error__": "SecretError_HIDDEN"}] * 20}}
    v = evaluate(ex, p, ex.solve(p), exported, hidden, 3)
    for t in v.by_id()["q3"].hidden:
        assert t.code == "error" and t.params == {"variant": "hidden", "case": t.params["case"]}
        assert "HIDDEN" not in t.text("en") + t.text("de")


# -- check() in German: German text and the right status, by codes --------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_status_is_the_same_in_both_languages(case):
    ns, want = CASES[case]
    ex = start("ex00_selftest")
    for lang in ("en", "de"):
        virtlab.set_language(lang)
        got = {qid: _status(ex.check(qid, dict(ns))) for qid in ("q1", "q2", "q3")}
        assert got == want, (lang, got)


def test_german_messages_defeat_english_phrase_matching(german):
    # the classification before status codes looked for "not defined", "not implemented",
    # "answer missing" in the message: none is in the German messages, and the German
    # check still calls a missing or unimplemented function "not answered yet"
    ex = start("ex00_selftest")
    for ns in ({}, {"refs": _refs_not_implemented}):
        panel = ex.check("q3", ns)
        text = repr(panel)
        assert not re.search(r"not defined|not implemented|answer missing|not answered", text)
        assert _status(panel) == "todo" and "noch nicht beantwortet" in text


def test_question_status_reads_codes_not_messages():
    ok = TestResult("q1", "answered", True, False, "visible")
    missing = TestResult("q1", "f(1)", False, True, "visible", "missing",
                         {"variant": "function", "name": "f"})
    wrong = TestResult("q1", "f(2)", False, True, "visible", "wrong", {"variant": "value"})
    hidden = TestResult("q1", "hidden case 1", False, True, "hidden", "error",
                        {"variant": "hidden", "case": 1})
    assert question_status(QuestionVerdict("q1", 0, 1, (ok,))) == "ok"
    assert question_status(QuestionVerdict("q1", 0, 1, (ok, hidden))) == "ok"  # public only
    assert question_status(QuestionVerdict("q1", 0, 1, (missing, wrong))) == "todo"
    assert question_status(QuestionVerdict("q1", 0, 1, (wrong,))) == "fail"


def test_check_all_is_german_throughout(german):
    ex = start("ex00_selftest")
    text = repr(ex.check_all({"answer": "x", "table": {"zz": 1},
                              "refs": lambda n, m: n * m}))
    assert "`answer` soll ein int sein, ist aber 'x'" in text
    assert '`table`: fehlende Schlüssel "1x3", "4x3", "5x4"; unerwartete Schlüssel "zz"' in text
    assert "refs(4, 4) ergab 16, erwartet war 24" in text
    assert "Hinweis: Verwenden Sie für jede Zeile dieselbe Formel." in text   # the hint too
    for english in ("should be", "missing keys", "returned", "expected", "public test",
                    "hidden test", "points", "hint", "Use the same formula"):
        assert english not in text, english
    assert ex.hint("q3") == "Geben Sie n*m + n + m zurück."


def test_every_exercise_hint_has_a_german_translation():
    # a new exercise whose hints nobody marked with N_() or translated fails here
    from virtlab.grading.exercise import Function, Value, exercises, get_exercise
    from virtlab.i18n import translations
    german = translations("de")
    untranslated = [(eid, q.id) for eid in sorted(exercises())
                    for q in get_exercise(eid).questions
                    if isinstance(q, (Value, Function)) and german.gettext(q.hint) == q.hint]
    assert untranslated == []


def test_the_grading_kernel_shows_hints_in_its_language(german):
    from virtlab.grading.session import GradingSession
    g = GradingSession({"exercise": "ex00_selftest", "seed": 1, "problem": 0,
                        "hints": {"q2": "Use the same formula for every row."}})
    assert g.hint("q2") == "Verwenden Sie für jede Zeile dieselbe Formel."
    assert g.hint("q9") == ""


# -- the grader's feedback files ------------------------------------------------------------

def _stored(**more):
    r = {"student": "ann", "exercise": "ex00_selftest", "variant": "0a", "status": "ok",
         "gradable": True, "points": 0.0, "max_points": 5.0, "questions": {"q3": 0.0},
         "question_max": {"q3": 5.0}, "hints": {"q3": "Return n*m + n + m."}, "tests": [
             {"question": "q3", "name": "q3: refs(4, 4)", "code": "wrong",
              "params": {"variant": "call", "call": "refs(4, 4)", "got": {"__shown__": "16"},
                         "expected": {"__shown__": "24"}}, "max_points": 0.83,
              "visibility": "visible"},
             {"question": "q3", "name": "q3: hidden case 1", "code": "timeout",
              "params": {"variant": "hidden", "case": 1}, "max_points": 0.83,
              "visibility": "hidden"}]}
    return {**r, **more}


def test_feedback_text_in_both_languages():
    assert feedback_text(_stored(), "en") == (
        "ex00_selftest -- ann, variant 0a\npoints: 0/5\nq3: 0/5 points\n"
        "  - refs(4, 4) returned 16, expected 24\n  - hidden case 1: timed out\n"
        "  hint: Return n*m + n + m.\n")
    assert feedback_text(_stored(), "de") == (
        "ex00_selftest -- ann, Variante 0a\nPunkte: 0/5\nq3: 0/5 Punkte\n"
        "  - refs(4, 4) ergab 16, erwartet war 24\n  - verdeckter Fall 1: Zeitlimit "
        "überschritten\n  Hinweis: Geben Sie n*m + n + m zurück.\n")
    late = feedback_text(_stored(status="timeout"), "de").splitlines()[2]
    assert late.startswith("Anmerkung: bei der Bewertung wurde das Zeitlimit überschritten")
    assert feedback_text(_stored(status="empty", gradable=False), "de").splitlines()[1] == (
        "nicht bewertet: die Datei ist leer")
    # a result stored before status codes keeps its English messages
    old = _stored(tests=[{"question": "q3", "name": "q3: x", "message": "old text"}])
    assert "  - old text" in feedback_text(old, "de")
    with pytest.raises(ValueError, match="lang"):
        feedback_text(_stored(), "fr")
    # parameters that do not render (a damaged or foreign result): the stored messages
    bad = _stored()
    bad["tests"][0] = {**bad["tests"][0], "params": {"variant": "call"}, "message": "kept"}
    assert "  - kept" in feedback_text(bad, "de")


def test_feedback_follows_the_edition_unless_a_language_is_given(tmp_path):
    from virtlab.grading.report import write_result
    write_result(tmp_path, _stored(edition="de"))
    write_result(tmp_path, _stored(student="bob", edition="en"))
    write_reports(tmp_path)
    ann = feedback_path(tmp_path, "ann", "ex00_selftest").read_text()
    bob = feedback_path(tmp_path, "bob", "ex00_selftest").read_text()
    assert "Punkte: 0/5" in ann and "points: 0/5" in bob
    write_reports(tmp_path, lang="en")
    assert "points: 0/5" in feedback_path(tmp_path, "ann", "ex00_selftest").read_text()
    # a damaged result still gets a feedback file, and the reports are still written
    write_result(tmp_path, _stored(student="cy", points="many", message="0/5 points"))
    write_reports(tmp_path)
    assert feedback_path(tmp_path, "cy", "ex00_selftest").read_text() == (
        "ex00_selftest -- cy\n0/5 points\n")
    with pytest.raises(ValueError, match="lang"):
        write_reports(tmp_path, lang="xx")


def test_feedback_language_from_option_and_environment(monkeypatch):
    import argparse

    from virtlab.grading.cli import feedback_language
    monkeypatch.delenv("VIRTLAB_LANG", raising=False)
    assert feedback_language(argparse.Namespace(lang=None)) is None
    monkeypatch.setenv("VIRTLAB_LANG", "de")
    assert feedback_language(argparse.Namespace(lang=None)) == "de"
    assert feedback_language(argparse.Namespace(lang="en")) == "en"


def test_a_real_grading_run_writes_german_feedback(tmp_path, capsys):
    """One submission graded for real (sandboxed kernel) with --lang de: German feedback,
    language-neutral results and CSV (re-rendering in English changes only the feedback)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent / "grading_fixtures"))
    from crafted import _filled, require_bwrap
    require_bwrap()
    sol = tmp_path / "solutions"
    sol.mkdir()
    nbformat.write(selftest.source_notebook(), sol / "ex00_selftest.ipynb")
    nb = _filled({"q2": "table = ...", "q3": "def refs(n, m):\n    return n * m"})
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "ann" / "ex00_selftest.ipynb")
    out = tmp_path / "out"
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(out), "--solutions",
                     str(sol), "--cell-timeout", "20", "--lang", "de"]) == 0
    (r,) = load_results(out)
    assert r["status"] == "ok" and r["edition"] == "en", r["reason"]
    n_hidden = len([t for t in r["tests"] if t["question"] == "q3"
                    and t["visibility"] == "hidden"])
    text = feedback_path(out, "ann", "ex00_selftest").read_text()
    lines = text.splitlines()
    assert lines[0] == f"ex00_selftest -- ann, Variante {r['variant']}"
    assert lines[1:4] == ["Punkte: 2/10", "q1: 2/2 Punkte",
                          "q2: 0/3 Punkte -- nicht beantwortet: `table` ist noch `...`"]
    assert lines[4] == "q3: 0/5 Punkte"
    assert lines[-1] == "  Hinweis: Geben Sie n*m + n + m zurück."
    assert len([x for x in lines if re.fullmatch(
        r"  - refs\(\d+, \d+\) ergab \d+, erwartet war \d+", x)]) == 2
    assert [x for x in lines if "verdeckter Fall" in x] == [
        f"  - verdeckter Fall {i}: falsches Ergebnis" for i in range(1, n_hidden + 1)]
    # stored: codes plus the English messages, whatever --lang said
    hidden = [t for t in r["tests"] if t["visibility"] == "hidden" and t["question"] == "q3"]
    assert {t["code"] for t in hidden} == {"wrong"}
    assert hidden[0]["message"] == "hidden case 1: returned a wrong result"
    with open(out / "grades.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["student", "exercise", "variant", "status", "q1", "q2", "q3", "points",
                      "max_points", "manual_pending", "runtime_s", "submission", "reason"]
    before = {p.name: p.read_bytes() for p in
              [out / "grades.csv", out / "summary.json", *(out / "results").iterdir()]}
    write_reports(out, lang="en")
    after = {p.name: p.read_bytes() for p in
             [out / "grades.csv", out / "summary.json", *(out / "results").iterdir()]}
    assert after == before
    english = feedback_path(out, "ann", "ex00_selftest").read_text().splitlines()
    assert english[3] == "q2: 0/3 points -- not answered: `table` is still `...`"
    assert json.loads((out / "results" / "ann__ex00_selftest.json").read_text()) == r
