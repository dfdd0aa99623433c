"""The hypervisor models speak German (issue 19): stacks, guests, microbenchmarks, step log.

Expected texts are written out: the English ones are the sentences the notebooks print
today (they must not change), the German ones the catalogue's translations.
"""

from __future__ import annotations

import pytest
from test_i18n import _foreign_words, _german_patterns, _untranslated

import virtlab
from virtlab.hypervisor import guests
from virtlab.hypervisor.guests import GUESTS
from virtlab.hypervisor.microbench import MICROBENCHMARKS, compare_bt_vt
from virtlab.hypervisor.stacks import STACK_KINDS, all_stacks, get_stack, io_cost, vmi_stacks
from virtlab.i18n import _
from virtlab.viz.hypervisor import stack_diagram
from virtlab.widgets.debugger import TECHNIQUES, make_machine, snapshot, step_debugger
from virtlab.widgets.hardware import hardware_lab
from virtlab.widgets.hypervisor_types import hypervisor_types_lab


@pytest.fixture(scope="module")
def patterns():
    return _german_patterns()


def _is_german(text, patterns):
    return list(_foreign_words(text, patterns)) == []


# -- hypervisor.stacks ---------------------------------------------------------------------

def test_a_stack_speaks_the_current_language(german):
    t2 = get_stack("type2")
    step = t2.io_path[4]
    assert (step.actor, step.category) == ("vmm", "world_switch")
    assert step.action == "World Switch: VMM-Welt -> Host-Welt"
    assert t2.component("guest1").privilege == "Ring 1 (übersetzt)"
    assert t2.title == "Typ-2-Hypervisor (hosted)"
    assert get_stack("native").title == "Ohne Virtualisierung (nativ)"
    assert get_stack("kvm").summary.startswith(
        "KVM ist ein Modul des Linux-Kerns, also ist Linux der Hypervisor; ")
    assert vmi_stacks()[2].summary == ("VMI Linux auf Xen: Hypervisor-Aufrufe statt sensitiver "
                                       "Befehle.")
    # the same call in English afterwards: the cache keeps one stack per language
    virtlab.set_language("en")
    t2 = get_stack("type2")
    assert t2.io_path[4].action == "world switch: VMM world -> host world"
    assert t2.component("guest1").privilege == "ring 1 (translated)"
    assert get_stack("native").title == "Ohne Virtualisierung (native)"
    assert get_stack("kvm").summary == (
        "KVM is a module of the Linux kernel, so Linux is the hypervisor; each VM is a QEMU "
        "process that talks to /dev/kvm and handles I/O exits in user space.")
    assert vmi_stacks()[2].summary == ("VMI Linux on Xen: hypervisor calls instead of "
                                       "sensitive instructions.")
    assert vmi_stacks()[1].component("hyp").note == "VMware hypervisor"


def _structure(stack):
    return (stack.kind, [(c.name, c.label, c.kind, c.runs_on) for c in stack.components],
            [(s.actor, s.category, s.count) for s in stack.io_path], stack.examples,
            stack.full_virtualization, stack.needs_hw_support,
            io_cost(stack).total if stack.io_path else None)


def test_names_kinds_and_prices_do_not_depend_on_the_language(german):
    de = [_structure(s) for s in all_stacks() + vmi_stacks()]
    de_texts = [s.summary for s in all_stacks()]
    virtlab.set_language("en")
    assert [_structure(s) for s in all_stacks() + vmi_stacks()] == de
    assert [s.summary for s in all_stacks()] != de_texts


def test_every_stack_text_is_german(german, patterns):
    for s in all_stacks() + vmi_stacks():
        texts = [s.summary, *(c.note for c in s.components), *(s.action for s in s.io_path),
                 # "ioctl" is the system call's name
                 *(c.privilege for c in s.components if c.privilege != "ioctl")]
        if s.kind in STACK_KINDS:   # the VMI titles are the slide's library names
            texts.append(s.title)
        for text in texts:
            assert _is_german(text, patterns), (s.kind, text)


def test_the_stack_diagrams_are_german(german, patterns):
    import matplotlib.pyplot as plt
    import matplotlib.text
    for s in all_stacks() + vmi_stacks():
        fig = stack_diagram(s)
        labels = {c.label for c in s.components} | {s.title}   # the lecture's box labels
        for t in fig.findobj(matplotlib.text.Text):
            text = t.get_text()
            if text and text not in labels and text != "ioctl":
                assert _is_german(text, patterns), (s.kind, text)
        plt.close(fig)


def test_german_io_steps_fit_notebook_09s_column(german):
    # notebook 09 prints each step's action in a 62-character column (type 2)
    de = {(s.kind, i): len(step.action) for s in all_stacks() for i, step in enumerate(s.io_path)}
    virtlab.set_language("en")
    for s in all_stacks():
        for i, step in enumerate(s.io_path):
            assert de[s.kind, i] <= max(61, len(step.action)), (s.kind, i)


def test_hypervisor_types_lab_speaks_german_for_every_stack(german):
    app = hypervisor_types_lab()
    for label, value in app.controls["stack"].options:
        app.controls["stack"].value = value
        assert app.error is None, app.error
        assert _untranslated(app) == [], label
    assert "<td>Kontextwechsel</td>" in app.describe(app.compute("type2", 4, 6000, 2000))


def test_hypervisor_types_lab_english_table_is_unchanged():
    app = hypervisor_types_lab(stack="type2")
    html = app.describe(app.result)
    assert ("<td>5</td><td>vmm</td><td>world switch: VMM world -&gt; host world</td>"
            "<td>world_switch</td>") in html
    assert "<td>copy_kib</td>" in html and "<td>vm_exit ×4</td>" in html


# -- hypervisor.guests and hypervisor.microbench --------------------------------------------

def test_guest_descriptions(german, patterns):
    assert guests.description("popf") == "der Kernel sperrt Interrupts mit PUSH 0 / POPF"
    for name in GUESTS:
        assert _is_german(guests.description(name), patterns), name
    app = step_debugger("trap_and_emulate", "popf_restore")
    assert app.describe(app.result).startswith(
        "<p>Das POPF-Problem: Der Kernel stellt die Flags mit IF=1 per POPF wieder her. "
        "In Ring 1 (Trap and Emulate auf X86_32) geht die Änderung von IF stillschweigend "
        "verloren.</p>")
    virtlab.set_language("en")
    assert guests.description("popf") == "the kernel disables interrupts with PUSH 0 / POPF"
    assert GUESTS["loop"][1] == "A compute loop: innocuous instructions only, plus the final HLT."
    with pytest.raises(ValueError, match="name"):
        guests.description("nope")


def test_microbenchmark_descriptions(german, patterns):
    assert _(MICROBENCHMARKS["in"]) == "Port-Eingabe im Kernel (IN)"
    assert all(_is_german(_(d), patterns) for d in MICROBENCHMARKS.values())
    app = hardware_lab()
    assert "<td>in</td><td>Port-Eingabe im Kernel (IN)</td>" in app.describe(app.result)
    assert {r.name: r.description for r in compare_bt_vt(iterations=5)}["divzero"] == (
        "Ausnahme Division durch null, vom Gastkernel behandelt")
    virtlab.set_language("en")
    assert MICROBENCHMARKS["in"] == "port input in the kernel (IN)"
    assert {r.name: r.description for r in compare_bt_vt(iterations=5)}["divzero"] == (
        "divide-by-zero exception handled by the guest kernel")
    assert "<td>in</td><td>port input in the kernel (IN)</td>" in hardware_lab().describe(
        hardware_lab().result)


# -- the machines' step log (the debugger, notebooks 06-09) --------------------------------

POPF_RESTORE_LOG = {
    "en": ["   0  MOV EAX, 0x202           executed directly (ring 1)",
           "   1  PUSH EAX                 executed directly (ring 1)",
           "   2  POPF                     critical POPF ran directly in ring 1: no trap, "
           "the VMM never sees it",
           "   3  PUSHF                    critical PUSHF ran directly in ring 1: no trap, "
           "the VMM never sees it",
           "   4  POP EBX                  executed directly (ring 1)",
           "   5  CLI                      trap (ring 1 → 0): VMM emulates CLI",
           "   6  HLT                      trap (ring 1 → 0): VMM emulates HLT"],
    "de": ["   0  MOV EAX, 0x202           direkt ausgeführt (Ring 1)",
           "   1  PUSH EAX                 direkt ausgeführt (Ring 1)",
           "   2  POPF                     kritischer Befehl POPF lief direkt in Ring 1: "
           "kein Trap, der VMM bemerkt ihn nie",
           "   3  PUSHF                    kritischer Befehl PUSHF lief direkt in Ring 1: "
           "kein Trap, der VMM bemerkt ihn nie",
           "   4  POP EBX                  direkt ausgeführt (Ring 1)",
           "   5  CLI                      Trap (Ring 1 → 0): VMM emuliert CLI",
           "   6  HLT                      Trap (Ring 1 → 0): VMM emuliert HLT"],
}


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_step_log_in_both_languages(lang):
    virtlab.set_language(lang)
    m = make_machine("trap_and_emulate", "popf_restore")
    while m.step().status == "running":
        pass
    assert m.log == POPF_RESTORE_LOG[lang]
    app = step_debugger("trap_and_emulate", "popf_restore")
    app.step(4)
    assert app.state.last_exit == " ".join(POPF_RESTORE_LOG[lang][3].split()[1:])
    hw = step_debugger("hardware", "port_io")
    hw.run()
    assert hw.state.last_exit == {"en": "VM exit HLT (#12)", "de": "VM Exit HLT (#12)"}[lang]


@pytest.mark.parametrize("technique", sorted(TECHNIQUES))
def test_every_step_of_every_guest_is_described_in_german(technique, german, patterns):
    seen = set()
    for name in GUESTS:
        m = make_machine(technique, name)
        for _i in range(300):
            ev = m.step()
            seen.add(ev.what)
            if ev.status != "running":
                break
        if getattr(m, "vmcs", None) is not None:   # else it is a log line, code included
            seen.add(snapshot(m, technique, name).last_exit)
    assert [w for w in sorted(seen) if not _is_german(w, patterns)] == []


def _last_exits(technique, name):
    m = make_machine(technique, name)
    out = []
    for _i in range(300):
        ev = m.step()
        # which step the debugger shows as the last trap / exit / hypercall
        out.append((snapshot(m, technique, name).last_exit.split() or [""])[0])
        out.append(m.last_vmm_step)
        if ev.status != "running":
            break
    return out


def test_the_debugger_picks_the_same_last_event_in_every_language(german):
    # the machines mark their VMM events; a search for English words would miss them in German
    de = {(t, n): _last_exits(t, n) for t in TECHNIQUES for n in GUESTS}
    virtlab.set_language("en")
    en = {(t, n): _last_exits(t, n) for t in TECHNIQUES for n in GUESTS}
    assert de == en
    assert sum(x is not None for v in de.values() for x in v[1::2]) > 100
