"""Exercise statements in German: ``describe()``, titles and the session's repr (issue 19 §1-2).

``ex.show()`` prints the variant's problem statement under the exercise's title;
both come from the gettext catalogue (``_()`` with named placeholders, titles
are ``N_()`` msgids translated where shown).  English stays byte-identical (the
literal statements below were taken from the output before the change); German
statements contain no English sentence and state the same numbers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import virtlab
from virtlab.grading import selftest  # noqa: F401  (registers ex00_selftest)
from virtlab.grading.exercise import exercises, get_exercise
from virtlab.grading.practice import format_practice, practice_problem
from virtlab.grading.session import GradingSession, Session, start

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_i18n  # noqa: E402  (the German-text check of the widget apps)

SEEDS = (0, 1, 2, 3, 7, 42, 2**40 + 5)
IDS = sorted(exercises())

#: Words a statement shows that are data or code in every language, beyond
#: test_i18n.UNTRANSLATED: the interrupt controller's operations (ex07), VM and VMCS control
#: names (ex08, ex10: cr3_load_exiting), namespace,
#: command and host names (ex09; "web" also inside "web3"), Python values, the stack
#: component kinds of hypervisor.stacks (ex11: identifiers such as host_app), the SEDF
#: parameter ``extratime``.
STATEMENT_DATA = frozenset("""
    mask unmask ack raise eoi
    pid net mnt ipc user uts init server nginx php fpm redis postgres cron worker sshd rsyslogd
    cpu pids web db app qa
    None True False cpl cr load store exiting
    hardware interface root non ioctl hosted Kernel Virtual Machine Typ
    extratime
""".split())


def _statement(eid: str, seed: int, lang: str) -> str:
    previous = virtlab.set_language(lang)
    try:
        ex = get_exercise(eid)
        return ex.describe(ex.make_problem(seed))
    finally:
        virtlab.set_language(previous)


def _english_words(text: str) -> list[str]:
    patterns = test_i18n._german_patterns()
    words = []
    for line in text.splitlines():
        words += [w for w in test_i18n._foreign_words(line, patterns)
                  if w not in STATEMENT_DATA]
    return words


def _numbers(text: str) -> list[str]:
    # digit runs: "20,000" and "20.000", "8.388608" and "8,388608" count alike
    return sorted(re.findall(r"\d+", text))


# -- English: unchanged, literally -------------------------------------------------------------

def test_english_statements_are_the_old_ones_literally():
    assert _statement("ex04_credit_scheduler", 0, "en") == (
        "Three CPU-bound VMs with one vCPU each share ONE pCPU under Xen's Credit scheduler:\n"
        "  web    weight  512  cap none\n"
        "  db     weight  512  cap 40%\n"
        "  batch  weight  128  cap none\n"
        "Situations of a vCPU:\n"
        "  s1: credit +0, is runnable, waiting in the run queue\n"
        "  s2: credit -129, is runnable, waiting in the run queue\n"
        "  s3: credit +0, was BOOSTed and a 10 ms tick now finds it running\n"
        "  s4: (no runnable vCPU on this pCPU at all)")
    assert _statement("ex07_interrupt_routing", 0, "en") == (
        "Interrupt controller with 8 lines, all unmasked, nothing pending; line 0 is most "
        "urgent.\n"
        "Operations: mask 5, ack, unmask 7, ack, raise 0, raise 6, raise 7, ack, eoi, raise 3, "
        "ack, ack\n"
        "Platform: hypervisor (timer), dom0 (driver domain: nic, disk), domU1, domU2; nic is "
        "passed through to domU1 (IOMMU).\n"
        "Device interrupts:\n"
        "  e1: nic interrupt for data of domU1\n"
        "  e2: nic interrupt for data of domU1\n"
        "  e3: nic interrupt for data of domU1\n"
        "  e4: timer interrupt")
    assert _statement("ex03_page_walks", 0, "en").splitlines()[-1] == (
        "Workload: 20,000 guest page-table updates/s, other rates as in "
        "virtlab.mmu.costs.Workload().")
    assert _statement("ex08_partitioning", 0, "en").splitlines()[1:4] == [
        "Partitions (accepted by the firmware):",
        "  prod    8 GiB, 2 channel(s), 3 dedicated CPU(s)",
        "  db     12 GiB, 2 channel(s), 1 dedicated CPU(s)"]
    assert _statement("ex13_coscheduling", 0, "en").splitlines()[-2:] == [
        "  web: 2 vCPUs, may run on pCPUs [0, 1]", "  app: 3 vCPUs, may run on pCPUs [0, 1, 2]"]


def test_english_session_repr_and_title_are_the_old_ones():
    ex = start("ex00_selftest")
    assert repr(ex) == ("<exercise ex00_selftest: Toolchain self-test: 2D page walks "
                        "(default variant)>")
    assert repr(ex.show()) == ("Toolchain self-test: 2D page walks\n"
                               "A guest uses 5-level page tables, the host 5 levels.\n"
                               "Table rows: 1x3, 4x3, 5x4")
    assert repr(Session(get_exercise("ex13_coscheduling"), 5)) == (
        "<exercise ex13_coscheduling: Exercise 13: co-scheduling -- skew, co-stop, strict vs "
        "relaxed (variant 0000000000000005)>")
    g = GradingSession({"exercise": "ex05_ballooning", "seed": 3, "problem": 0,
                        "title": "Exercise 5: ballooning and overcommit"})
    assert repr(g) == ("<exercise ex05_ballooning: Exercise 5: ballooning and overcommit "
                       "(graded variant)>")


# -- German: no English sentence, the same numbers ---------------------------------------------

@pytest.mark.parametrize("eid", IDS)
def test_german_statement_has_no_english_sentence(eid):
    for seed in SEEDS:
        assert _english_words(_statement(eid, seed, "de")) == [], (eid, seed)


@pytest.mark.parametrize("eid", IDS)
def test_the_check_finds_english_in_the_english_statement(eid):
    # the check above can fail: the untranslated statement is caught
    assert _english_words(_statement(eid, 0, "en")), eid


@pytest.mark.parametrize("eid", IDS)
def test_german_statement_states_the_same_numbers(eid):
    for seed in SEEDS:
        en, de = _statement(eid, seed, "en"), _statement(eid, seed, "de")
        assert de != en, (eid, seed)
        assert _numbers(de) == _numbers(en), (eid, seed)
        assert len(de.splitlines()) == len(en.splitlines()), (eid, seed)


def test_german_thousands_and_decimals(german):
    # "20,000" would read as twenty in German: grouped with a point there
    assert "Arbeitslast: 20.000 Änderungen an Seitentabellen" in _statement("ex03_page_walks", 0, "de")
    assert "1 MiB = 8,388608 Mbit." in _statement("ex06_live_migration", 0, "de")


# -- German: titles, show(), repr -------------------------------------------------------------

@pytest.mark.parametrize("eid", IDS)
def test_german_show_has_a_german_title(eid, german):
    ex = start(eid)
    english = get_exercise(eid).title
    panel = ex.show()
    assert panel.title != english
    assert not _english_words(panel.title), panel.title
    assert _numbers(panel.title) == _numbers(english)
    if eid != "ex00_selftest":
        assert re.match(r"Übung \d+: ", panel.title), panel.title
    assert panel.title in repr(ex) and "(Standardvariante)>" in repr(ex)


def test_german_repr_of_a_personal_and_a_graded_variant(german):
    ex = Session(get_exercise("ex12_sedf"), 0xab)
    assert repr(ex) == ("<Übung ex12_sedf: Übung 12: SEDF — Zulassung, garantierte Anteile, "
                        "Zusatzzeit (Variante 00000000000000ab)>")
    g = GradingSession({"exercise": "ex05_ballooning", "seed": 3, "problem": 0,
                        "title": "Exercise 5: ballooning and overcommit"})
    assert repr(g) == ("<Übung ex05_ballooning: Übung 5: Ballooning und Überbuchung "
                       "(bewertete Variante)>")
    assert g.show().title == "Übung 5: Ballooning und Überbuchung"
    # a title nobody translated (a private exercise's) and an empty one stay as they are
    assert GradingSession({"exercise": "ex90", "seed": 1, "problem": 0,
                           "title": "My own"}).show().title == "My own"
    assert GradingSession({"exercise": "ex90", "seed": 1, "problem": 0}).show().title == ""


def test_german_show_prints_the_german_statement(german):
    text = repr(start("ex06_live_migration").show())
    assert text.splitlines()[0] == "Übung 6: Runden der Live-Migration"
    assert ("Eine VM mit 2048 MiB Speicher (Seiten zu 4 KiB) wird über eine Verbindung mit "
            "1000 Mbit/s live migriert.") in text
    assert "live-migrated" not in text


def test_practice_frame_shows_the_german_title(german):
    practice = practice_problem("ex05_ballooning", 0)
    text = format_practice(practice, [], hint="")
    assert "Übung 5: Ballooning und Überbuchung" in text
    assert "Der Hypervisor fordert jede VM auf" in text


def test_the_grading_kernel_gets_the_statement_of_the_submissions_edition():
    # the sandboxed kernel cannot build the statement: the grader words it in the
    # submission's edition and leaves its own language as it was
    from virtlab.grading.runner import kernel_view
    ex = get_exercise("ex06_live_migration")
    problem = ex.make_problem(4)
    de = kernel_view(ex, problem, 4, "de")
    assert de["describe"] == _statement("ex06_live_migration", 4, "de")
    assert virtlab.language() == "en"
    assert kernel_view(ex, problem, 4, "en")["describe"] == _statement("ex06_live_migration", 4,
                                                                       "en")
    assert kernel_view(ex, problem, 4, "xx")["describe"] == _statement("ex06_live_migration", 4,
                                                                       "en")
    assert de["title"] == ex.title  # the msgid; the kernel translates it
    virtlab.set_language("de")
    assert GradingSession(de).show().title == "Übung 6: Runden der Live-Migration"
    assert repr(GradingSession(de).show()).splitlines()[1].startswith("Eine VM mit ")


def test_ex01_descriptions_stay_english_data_in_every_edition(german):
    # p.descriptions() is what a solution searches for phrases ("runs without a trap"),
    # and the German solution runs the same code: English in every edition; the
    # statement shows the same descriptions in German
    from virtlab.grading.exercises.ex01_popek_goldberg import make_problem
    p = make_problem(0)
    virtlab.set_language("en")
    english = p.descriptions()
    virtlab.set_language("de")
    assert p.descriptions() == english
    shown = _statement("ex01_popek_goldberg", 0, "de")
    assert all(f"  {m}: {t}." not in shown for m, t in english.items())
    from virtlab.grading.exercises.ex01_popek_goldberg import shown_descriptions
    german = shown_descriptions(p)
    assert german.keys() == english.keys() and german != english
    assert all(f"  {m}: {t}." in shown for m, t in german.items())
    assert shown.splitlines()[-1] == ("Dieselben Beschreibungen liefert p.descriptions(), auf "
                                      "Englisch (Dict Mnemonic -> Text).")
