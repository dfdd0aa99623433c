"""German from the models: the glossary, Popek & Goldberg, containers and the dashboard.

The models keep their English texts as catalogue message ids (keys and compared
values stay English); under ``set_language("de")`` what they show or build is
German.  Expected texts are literal: the English ones as the course printed them
before the catalogue (so the English edition cannot change), the German ones as
translated.
"""

from __future__ import annotations

import re

import pytest

import virtlab
from virtlab import availability, containers as ct, glossary, isa, operations as ops
from virtlab import popek_goldberg as pg
from virtlab.consolidation import consolidate, make_servers

from test_i18n import ROOT, messages  # scripts/messages.py, loaded once


def _cloud():
    p = consolidate(make_servers(12, seed=1))
    m = ops.maintenance(p, 0, 1000, spares=1)
    return ops.dashboard(p, availability.expected_impact(p, spares=1, restart=True), m)


# -- English stays as it was ------------------------------------------------------------------

EXPLAIN_X86_32_EN = """\
X86_32: Theorem 1 does not apply: 18 sensitive instructions do not trap in user mode (critical instructions):
  CALL: far CALL through gates depends on and changes CPL
  INT: gate checks depend on CPL and the pushed CS reveals it
  JMP: far JMP checks privilege levels
  LAR: the check depends on CPL: reveals the deprivileged ring
  LSL: the check depends on CPL
  MOV: the segment-register forms read or load protection state
  POP: POP to a segment register checks the selector against CPL
  POPF: in ring 1 the IF change is silently dropped instead of trapping
  PUSH: PUSH CS stores the RPL = current ring
  PUSHF: pushes the real IF/IOPL: a deprivileged guest sees values it did not set
  RET: far RET changes and depends on CPL
  SGDT: stores the GDTR: a guest sees where the real descriptor table is, not its own
  SIDT: stores the IDTR: reveals the VMM's interrupt table (the 'red pill' test)
  SLDT: stores the LDTR: reveals the real local descriptor table
  SMSW: reads CR0 bits without trapping: reveals the host's mode bits
  STR: reveals the real task register
  VERR: the answer depends on CPL
  VERW: the answer depends on CPL
Theorem 1 is a sufficient condition: such a machine needs another technique (binary translation, paravirtualization, VT-x).
Theorem 2 (recursive, VMM without timing dependences): no.
Theorem 3 (hybrid VMM, user-sensitive ⊆ privileged): no (5 user-sensitive instructions do not trap: SGDT, SIDT, SLDT, SMSW, STR)."""

EXPLAIN_X86_VTX_EN = (
    "X86_VTX: virtualizable by Theorem 1 (all 28 sensitive instructions are privileged).\n"
    "  VT-x did not make x86's 18 critical instructions privileged: in VMX non-root mode the "
    "guest kernel has its own ring 0, where they run natively on its own state (not sensitive "
    "for the VMM; SGDT/SIDT/SLDT/STR exit only with descriptor-table exiting).\n"
    "Theorem 2 (recursive, VMM without timing dependences): yes.\n"
    "Theorem 3 (hybrid VMM, user-sensitive ⊆ privileged): yes.")


def test_english_explain_is_unchanged():
    assert pg.explain("X86_32") == EXPLAIN_X86_32_EN
    assert pg.explain("X86_VTX") == EXPLAIN_X86_VTX_EN


def test_english_tables_rows_and_dashboard_are_unchanged():
    assert isa.X86_32.table("critical").splitlines()[:2] == [
        "mnemonic  class       reason",
        "CALL      critical    far CALL through gates depends on and changes CPL"]
    assert isa.X86_VTX["CLI"].reason == isa.X86_VTX["CLI"].reason_text == (
        "masks interrupts for the whole machine; in non-root mode a VM exit or a "
        "guest-state-only effect (VMCS controls)")
    assert ct.compare(instances=10, app_mb=200, host_memory_gb=64).rows() == [
        ("memory per instance", "204 MiB", "488 MiB"), ("memory for 10", "2.0 GiB", "4.8 GiB"),
        ("start-up", "0.5 s", "20 s"), ("density on 64 GiB", "311", "130"),
        ("kernels running", "1", "11")]
    assert ct.blast_radius("container", "kernel bug").why == (
        "all containers share the host kernel: a kernel exploit or panic hits every one")
    assert [(m.area, m.metric) for m in _cloud()][-5:] == [
        ("maintenance", "VMs moved off host 0"), ("maintenance", "VMs with no room elsewhere"),
        ("maintenance", "time to empty the host"), ("maintenance", "worst downtime of one VM"),
        ("maintenance", "data sent")]
    assert glossary.lookup("Wirt").meaning == (
        "The system that provides the virtual machines; on the slides also "
        "Hostbetriebssystem, Gastgeberbetriebssystem or Hostsystem.")


# -- German: Popek & Goldberg -------------------------------------------------------------------

def test_german_explain_names_the_critical_instructions_with_german_reasons(german):
    text = pg.explain(isa.X86_32)
    lines = text.splitlines()
    assert lines[0] == ("X86_32: Theorem 1 ist nicht anwendbar: 18 sensitive Befehle lösen im "
                        "Usermodus keinen Trap aus (kritische Befehle):")
    assert "  POPF: in Ring 1 wird die Änderung von IF stillschweigend verworfen, statt einen " \
           "Trap auszulösen" in lines
    assert "  SGDT: speichert das GDTR: Ein Gast sieht, wo die reale Deskriptortabelle liegt, " \
           "nicht seine eigene" in lines
    offending = [ln.split(":")[0].strip() for ln in lines[1:19]]
    assert offending == sorted(pg.classify(isa.X86_32).critical)
    for line, m in zip(lines[1:19], offending):
        reason = line.split(": ", 1)[1]
        assert reason == isa.X86_32[m].reason_text != isa.X86_32[m].reason, m
    # no English sentence left: none of the English explanation's lines survives
    assert not set(lines) & set(EXPLAIN_X86_32_EN.splitlines())
    assert lines[-2:] == ["Theorem 2 (rekursiv, VMM ohne Zeitabhängigkeiten): nein.",
                          "Theorem 3 (hybrider VMM, im Usermodus sensitiv ⊆ privilegiert): nein "
                          "(5 im Usermodus sensitive Befehle lösen keinen Trap aus: SGDT, SIDT, "
                          "SLDT, SMSW, STR)."]


def test_german_explain_of_virtualizable_catalogues(german):
    assert pg.explain("TOY").splitlines() == [
        "TOY: virtualisierbar nach Theorem 1 (alle 29 sensitiven Befehle sind privilegiert).",
        "Theorem 2 (rekursiv, VMM ohne Zeitabhängigkeiten): ja.",
        "Theorem 3 (hybrider VMM, im Usermodus sensitiv ⊆ privilegiert): ja."]
    assert pg.explain("X86_VTX").splitlines()[1].startswith(
        "  VT-x hat die 18 kritischen Befehle von x86 nicht privilegiert gemacht")


def test_german_isa_table_translates_labels_not_keys(german):
    rows = isa.X86_32.table("critical").splitlines()
    assert rows[0] == "Befehl    Klasse       Begründung"
    assert rows[1] == "CALL      kritisch     ein Far-CALL durch Gates hängt vom CPL ab und ändert ihn"
    assert isa.X86_32["POPF"].classification == "critical"        # a key: stays English
    assert isa.X86_32["POPF"].reason.startswith("in ring 1")        # the data: stays English
    privileged = isa.X86_32.table("privileged").splitlines()
    assert privileged[1].split()[1] == "privilegiert"


def test_german_reason_of_a_composed_vtx_reason(german):
    assert isa.X86_VTX["CLI"].reason_text == (
        "maskiert Interrupts für die ganze Maschine; im Non-Root-Modus ein VM Exit oder eine "
        "Wirkung nur auf den Gastzustand (Steuerfelder der VMCS)")
    assert isa.reason_text("a student's own reason") == "a student's own reason"


def test_every_catalogue_reason_has_a_german_text(german):
    for cat in isa.ISAS.values():
        for m, spec in cat.items():
            assert spec.reason_text != spec.reason, (cat.name, m)


# -- German: containers and the dashboard -------------------------------------------------------

def test_reach_why_is_german_and_the_scope_stays_a_key(german):
    r = ct.blast_radius("container", "fork bomb", limits=False)
    assert r.scope == "host" and r.kind == "container" and r.incident == "fork bomb"
    assert r.why == "ohne pids-Limit füllt die Bombe die Prozesstabelle des gemeinsamen Kernels"
    assert ct.scope_label(r.scope) == "Wirt"
    assert ct.scope_label("instance") == "Instanz"
    assert {ct.blast_radius(k, i, limits=lim).why for k in ct.KINDS for i in ct.INCIDENTS
            for lim in (True, False)} <= {virtlab.i18n._(w) for _, w in ct._REACH.values()}


def test_scope_label_rejects_unknown_scopes():
    with pytest.raises(ValueError, match="scope"):
        ct.scope_label("planet")


def test_comparison_rows_and_namespace_rows_in_german(german):
    assert ct.compare(instances=10, app_mb=200, host_memory_gb=64).rows() == [
        ("Speicher pro Instanz", "204 MiB", "488 MiB"), ("Speicher für 10", "2.0 GiB", "4.8 GiB"),
        ("Startzeit", "0.5 s", "20 s"), ("Dichte bei 64 GiB", "311", "130"),
        ("laufende Kernel", "1", "11")]
    assert ct.namespace_rows({}) == [
        ("Namensräume", "hier nicht verfügbar (kein Linux, oder /proc ist nicht lesbar)")]
    assert ct.namespace_rows({"pid": "pid:[1]"})[1] == ("net", "nicht verfügbar")


def test_dashboard_metric_labels_in_german_areas_stay_keys(german):
    rows = _cloud()
    assert [m.area for m in rows][-1] == "maintenance"
    assert rows[-1].area_label == "Wartung"
    assert [m.metric for m in rows][-5:] == [
        "von Wirt 0 verschobene VMs", "VMs ohne Platz auf anderen Wirten",
        "Zeit, bis der Wirt leer ist", "längste Ausfallzeit einer VM", "gesendete Daten"]
    assert rows[0].metric == "genutzte Wirte" and rows[0].area_label == "Kapazität"


# -- German: the glossary ------------------------------------------------------------------------

def test_every_glossary_definition_has_a_german_meaning(german):
    for t in glossary.TERMS:
        assert t.meaning != t.definition, t.de
    assert glossary.lookup("Kritischer Befehl").meaning.startswith(
        "Ein sensitiver Befehl, der nicht privilegiert ist")


def _numbers(text):
    return sorted(re.findall(r"\d+", text))


def test_german_texts_state_the_same_numbers():
    # a translation may not change a fact: every German msgstr of the models' texts
    # names exactly the numbers of its English msgid
    ids = {t.definition for t in glossary.TERMS}
    ids |= {s.reason for c in isa.ISAS.values() for s in c.values()}
    ids |= {w for _, w in ct._REACH.values()}
    po = {m.id: m.string for m in messages.load_po("de") if m.id}
    for msgid in ids:
        if msgid in po:
            assert _numbers(po[msgid]) == _numbers(msgid), msgid


def test_search_finds_words_of_the_german_definition_only_in_german():
    # "Seitenrahmen" stands only in German definitions (Freispeicherliste, ...)
    assert glossary.search("Seitenrahmen") == []
    virtlab.set_language("de")
    try:
        hits = [t.de for t in glossary.search("Seitenrahmen")]
        assert "Freispeicherliste" in hits
        assert glossary.search("kritische Befehle")[0].de == "Kritischer Befehl"
        assert glossary.search("trap")[0].de == "Trap (Unterbrechung)"
    finally:
        virtlab.set_language("en")


def test_glossary_app_shows_german_meanings_and_both_names(german):
    app = virtlab.widgets.glossary_search("Wirt")
    html = app.html.value
    assert "Das System, das die virtuellen Maschinen bereitstellt" in html
    assert "<td lang='en'>host (host operating system)</td>" in html
    assert "The system that provides" not in html


def test_an_english_definition_in_a_marked_cell_is_still_caught(german):
    # the lang= exemption covers glossary names only: marked prose is still checked
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    import test_i18n
    app = virtlab.widgets.glossary_search("Wirt")
    assert test_i18n._untranslated(app) == []
    app.html.value += "<table><tr><td lang='en'>The system that provides VMs</td></tr></table>"
    words = {w for _, w, _ in test_i18n._untranslated(app)}
    assert {"system", "provides"} <= words


def test_a_traps_reason_speaks_the_students_language(german):
    # notebook 06: the guest application's CLI in ring 3 traps to its kernel; the
    # machine's log said "(CLI in ring 3)" inside a German sentence
    from virtlab import hypervisor
    from virtlab.hypervisor import guests

    m = hypervisor.machine(guests.program("app_cli"), "native")
    while m.step().status == "running":
        pass
    (line,) = [entry for entry in m.log if "CLI" in entry and "13" in entry]
    assert "(CLI in Ring 3)" in line and "in ring" not in line
