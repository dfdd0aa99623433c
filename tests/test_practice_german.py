"""Practice mode in German: the worked solutions and the practice frame come from the catalogue.

Every step of every exercise's ``worked()`` is checked under ``set_language("de")`` for a few
practice numbers: its title and text contain no English (the msgstr-pattern word check of
``tests/test_i18n.py``, made line by line, plus English function words), they state exactly
the numbers of the English step, and they establish the same answers; so does the problem
statement (``describe``) with the exercise's title.  The English text stays as it was
(pinned literally for one exercise).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import virtlab
from virtlab.grading import practice
from virtlab.grading.exercise import exercises
from virtlab.grading.exercises import ex01_popek_goldberg as ex01
from virtlab.grading.exercises import ex08_partitioning as ex08
from virtlab.hypervisor.stacks import get_stack
from virtlab.widgets.quiz import PracticeWidget

from test_i18n import _WORD, UNTRANSLATED, messages

EXERCISES = sorted(e for e in exercises() if e != "ex00_selftest")
NUMBERS = tuple(range(6))

#: English words that no German sentence of ours contains; any of them in a German step
#: means an English sentence (or fragment) got through.
ENGLISH = frozenset("""the and of is are with for by which that its from at on than it not
    this has have each every when into one all no only if then there their""".split())

#: Words of the problem's data that are names in every language (single-word values:
#: VM, partition, process and host names, namespaces) and Python values a step shows.
_DATA_TOKEN = re.compile(r"'([\w.-]+)'")
_LETTERS = re.compile(r"[A-Za-zÄÖÜäöüß]+")
ALWAYS = {"True", "False", "None", "cpl", "init", "server"}

#: Step titles that German courses say in the same words.
SAME_IN_GERMAN = {"Theorem 1", "Theorem 3"}

def _model_names(exercise_id, problem):
    """Names a step quotes from a model: identifiers and glossary headwords."""
    if exercise_id == "ex11_hypervisor_types":
        stacks = [get_stack(kind) for kind in problem.stacks]
        # component kinds are identifiers; stack titles are the glossary's German headwords;
        # component labels and privilege levels are the model's names
        return ({c.kind for s in stacks for c in s.components}
                | {w for s in stacks for w in _LETTERS.findall(s.title)}
                | {w for s in stacks for c in s.components
                   for w in _LETTERS.findall(f"{c.label} {c.privilege}")})
    return set()


def _numbers(text):
    # digit runs: "20,000" and the German "20.000" (or "8.388608" and "8,388608") agree
    return Counter(re.findall(r"\d+", text))


def _english_in(text, allowed, patterns):
    """English words in ``text``: function words, and words neither German nor allowed."""
    words = re.findall(r"[A-Za-zÄÖÜäöüß]+(?:-[A-Za-zÄÖÜäöüß]+)*", text)   # compounds whole:
    # "Trap-and-Emulate" is a German course term, its "and" no English sentence
    found = {w for w in words if w.lower() in ENGLISH and not w.isupper() and w not in allowed}
    found |= {w for w in _foreign_words(text, patterns) if w not in allowed}
    return sorted(found)


@pytest.fixture(scope="module")
def patterns():
    """test_i18n's msgstr patterns, made for multi-line text: one pattern per line of a msgstr.

    A step is checked line by line, and a placeholder matches within one line only, so
    a msgstr cannot explain (and remove) English text on other lines; a leading
    placeholder is dropped for the same reason (and it cost quadratic time).
    """
    pats = []
    for msg in messages.load_po("de"):
        if not (msg.id and msg.string):
            continue
        text = msg.string if isinstance(msg.string, str) else msg.string[0]
        for piece in text.split("\n"):
            parts = re.split(r"\{[^{}]*\}", piece.strip())
            while parts and not _LETTERS.search(parts[0]):     # "{key}: {x} in einer VM"
                parts.pop(0)
            if parts:
                pats.append(re.compile(".*?".join(re.escape(p) for p in parts)))
    return sorted(pats, key=lambda p: -len(p.pattern))


def _foreign_words(text, patterns):
    """Letter words of ``text`` that neither a German msgstr line nor the allowlist explains."""
    for line in text.splitlines():
        for pat in patterns:
            if not _WORD.search(line):
                break
            line = pat.sub(" ", line)
        yield from _WORD.findall(UNTRANSLATED.sub(" ", line))


def _steps(exercise_id, number, lang):
    previous = virtlab.set_language(lang)
    try:
        return practice.worked_solution(exercise_id, number)
    finally:
        virtlab.set_language(previous)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_worked_steps_are_german_with_the_english_numbers(exercise_id, patterns):
    for number in NUMBERS:
        problem = practice.practice_problem(exercise_id, number).problem
        allowed = _allowed(exercise_id, problem)
        en, de = _steps(exercise_id, number, "en"), _steps(exercise_id, number, "de")
        assert len(de) == len(en)
        for e, d in zip(en, de):
            where = (exercise_id, number, e.title)
            assert d.answers == e.answers, where
            assert d.text != e.text, (where, "not translated")
            assert d.title != e.title or d.title in SAME_IN_GERMAN, (where, "not translated")
            assert _numbers(d.title) == _numbers(e.title), where
            assert _numbers(d.text) == _numbers(e.text), where
            for part in (d.title, d.text):
                assert _english_in(part, allowed, patterns) == [], (where, part)


def _allowed(exercise_id, problem):
    names = set(_DATA_TOKEN.findall(repr(problem))) | _model_names(exercise_id, problem)
    return ALWAYS | names | {w for n in names for w in _LETTERS.findall(n)}


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_problem_statement_and_title_are_german(exercise_id, patterns):
    # what `virtlab practice` and the practice widget show before the solution
    for number in NUMBERS:
        p = practice.practice_problem(exercise_id, number)
        previous = virtlab.set_language("de")
        try:
            de = practice.format_practice(p, [])
        finally:
            virtlab.set_language(previous)
        en = practice.format_practice(p, [])
        assert de != en
        de_lines, en_lines = de.splitlines(), en.splitlines()
        # the ARG lines name the parameters, as OSTEP's simulators do: never translated
        assert [ln for ln in de_lines if ln.startswith("ARG ")] == en_lines[:2]
        assert de_lines[3].startswith("Übung ") and en_lines[3].startswith("Exercise ")
        text = "\n".join(ln for ln in de_lines if not ln.startswith("ARG "))
        assert _english_in(text, _allowed(exercise_id, p.problem), patterns) == [], text
        assert _numbers(de) == _numbers(en), exercise_id


def test_the_check_finds_an_english_step(patterns):
    # the check can fail: an English step (as before the catalogue) is caught
    en = _steps("ex04_credit_scheduler", 3, "en")
    assert "the" in _english_in(en[1].text, set(), patterns)
    assert "by" in _english_in("Die Anteile werden by weight verteilt", set(), patterns)
    # a German sentence around an English placeholder value does not hide it
    assert {"kernel", "bug"} <= set(_english_in("Vorfälle: i1: kernel bug in einer VM", set(),
                                                patterns))
    assert _english_in("Vorfälle: i1: Kernel-Fehler in einer VM", set(), patterns) == []


def test_english_steps_are_unchanged():
    # pinned from the output before the catalogue; the values follow from credit.c's rule:
    # ⌈300 · 768 / 1792⌉ = ⌈128.57⌉ = 129 credits for web
    steps = _steps("ex04_credit_scheduler", 3, "en")
    assert [s.title for s in steps] == ["long-run shares of the pCPU",
                                        "credits per accounting period", "priorities"]
    assert steps[1].text == ("Every 30 ms the pCPU hands out 300 credits in proportion to "
                             "weight, rounded up: ⌈300 · 768 / 1792⌉ = 129 for web.")
    assert steps[0].text.startswith(
        "By weight alone: web 768/1792 = 0.429, db 256/1792 = 0.143, batch 768/1792 = 0.429. "
        "Caps: db (cap 20 % = 0.20); a VM whose part exceeds its cap is fixed at the cap")


def test_english_problem_statement_is_unchanged():
    p = practice.practice_problem("ex04_credit_scheduler", 3)
    text = practice.format_practice(p, [])
    assert "\n\nExercise 4: Credit scheduler shares, caps and BOOST\n\n" in text
    assert ("Three CPU-bound VMs with one vCPU each share ONE pCPU under Xen's Credit "
            "scheduler:\n  web    weight  768  cap none\n  db     weight  256  cap 20%\n") in text
    assert text.endswith("\n\n(add --solve for the worked solution)")


def test_ex01_descriptions_are_english_data_and_shown_in_german():
    # p.descriptions() is what the student's code reads (the same code in both editions,
    # and the model solution matches its English wording); what is shown is German
    p = ex01.make_problem(0)
    english = p.descriptions()
    previous = virtlab.set_language("de")
    try:
        assert p.descriptions() == english
        shown = ex01.shown_descriptions(p)
        text = ex01.describe(p)
    finally:
        virtlab.set_language(previous)
    assert shown.keys() == english.keys()
    assert all("im Usermodus" in t and "user mode" in english[m] for m, t in shown.items())
    assert all(f"  {m}: {t}." in text for m, t in shown.items())
    assert ex01.shown_descriptions(p) == english      # in English again


def test_german_step_pinned():
    steps = _steps("ex04_credit_scheduler", 3, "de")
    assert steps[1].title == "Credits pro Abrechnungsperiode"
    assert steps[1].text == ("Alle 30 ms verteilt die pCPU 300 Credits im Verhältnis der "
                             "Gewichte, aufgerundet: ⌈300 · 768 / 1792⌉ = 129 für web.")


def test_format_practice_frame_is_german():
    p = practice.practice_problem("ex06_live_migration", 1)
    previous = virtlab.set_language("de")
    try:
        text = practice.format_practice(p, practice.worked_solution("ex06_live_migration", 1))
        hint = practice.format_practice(p, [])
    finally:
        virtlab.set_language(previous)
    # the ARG lines and the answer lines name parameters and answers: the same in every language
    assert text.splitlines()[:2] == ["ARG exercise ex06_live_migration", "ARG seed 1"]
    assert "\nLösungsweg\n" in text and "Worked solution" not in text
    assert "→ stop_reason = " in text
    assert hint.endswith("(mit --solve erscheint der Lösungsweg)")


def test_practice_widget_is_german():
    previous = virtlab.set_language("de")
    try:
        w = PracticeWidget("ex04_credit_scheduler", 3)
        assert w.solution_button.description == "Lösungsweg zeigen"
        assert "Lösungsweg" not in w.text.value
        w.show_solution()
        assert "Lösungsweg" in w.text.value and "Credits pro Abrechnungsperiode" in w.text.value
    finally:
        virtlab.set_language(previous)


def test_virtlab_practice_prints_german_with_virtlab_lang():
    script = Path(sys.executable).with_name("virtlab")     # the installed command
    env = dict(os.environ, VIRTLAB_LANG="de")
    out = subprocess.run([str(script), "practice", "ex04_credit_scheduler", "--seed", "3",
                          "--solve"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "\nLösungsweg\n" in out.stdout
    assert "2. Credits pro Abrechnungsperiode (q2)" in out.stdout
    assert "⌈300 · 768 / 1792⌉ = 129 für web." in out.stdout
    assert "Worked solution" not in out.stdout and "rounded up" not in out.stdout
    assert "\nÜbung 4: Credit-Scheduler — Anteile, Caps und BOOST\n" in out.stdout
    assert "  db     Gewicht  256  Cap 20%\n" in out.stdout


def test_every_firmware_refusal_has_a_german_wording():
    # ex08 words the firmware's refusals by the message's form; a new form would stay English
    seen = set()
    for seed in range(150):
        p = ex08.make_problem(seed)
        for _key, act, row in p.requests:
            why = ex08._refusal(p, act, row)
            if why:
                match = [text for pattern, text in ex08._REFUSALS if pattern.match(why)]
                assert match, why
                seen.add(match[0])
    assert len(seen) >= 3, "the variants exercise most refusal forms"
