"""Trap-and-emulate: correct on TOY, breaks on X86_32 exactly at critical instructions."""

import pytest

from virtlab.asm import assemble
from virtlab.cpu import HOST_STATE
from virtlab.hypervisor import first_divergence, machine, run

PROLOGUE = """
        MOV EAX, 0x123
        LGDT EAX            ; guest GDTR = 0x123 (privileged: trapped and emulated)
        MOV EAX, 0x0C
        MOV [0x125], EAX    ; GDT[2]: present, DPL 0 (word: limit 0, P=4, W=8)
        MOV ESP, 0x700
        STI
"""

# critical instruction -> (code, fields that must differ from native right after it)
CASES = {
    "SGDT": ("SGDT EBX", {"EBX"}),
    "SIDT": ("SIDT EBX", {"EBX"}),
    "SLDT": ("SLDT EBX", {"EBX"}),
    "SMSW": ("SMSW EBX", {"EBX"}),
    "STR": ("STR EBX", {"EBX"}),
    "PUSHF": ("CLI\nPUSHF", {"mem[1791]"}),
    "POPF": ("PUSH 0x2\nPOPF", {"if_"}),          # IF := 0 requested, silently dropped
    "MOV": ("MOV EBX, CS", {"EBX"}),
    "PUSH": ("PUSH CS", {"mem[1791]"}),
    "LAR": ("MOV EDX, 0x10\nLAR EBX, EDX", {"EBX", "zf"}),
    "LSL": ("MOV EDX, 0x10\nLSL EBX, EDX", {"zf"}),
    "VERR": ("MOV EDX, 0x10\nMOV EBX, 1\nCMP EBX, 0\nVERR EDX", {"zf"}),
    "VERW": ("MOV EDX, 0x10\nMOV EBX, 1\nCMP EBX, 0\nVERW EDX", {"zf"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_diverges_exactly_at_the_critical_instruction(name):
    code, fields = CASES[name]
    prog = assemble(PROLOGUE + code + "\nHLT")
    d = first_divergence(prog, "trap_and_emulate")
    assert d is not None
    assert prog[d.pc].key == name, d
    assert fields <= set(d.fields), d
    # binary translation and VT-x execute the same kernel correctly
    for mode in ("binary_translation", "hardware", "paravirt"):
        assert first_divergence(prog, mode) is None, mode


def test_popf_silently_drops_if_in_ring_1():
    prog = assemble("MOV ESP, 0x700\nSTI\nPUSH 0\nPOPF\nHLT")
    native = run(prog, "native")
    te = run(prog, "trap_and_emulate")
    assert native.state.if_ is False          # the kernel disabled interrupts
    assert te.state.if_ is True               # ... but under T&E they stay enabled
    assert te.counters.get("critical_direct") == 1
    assert te.status == "halted"              # no trap, no error: silent


def test_sgdt_smsw_leak_host_values():
    prog = assemble("SGDT EAX\nSMSW EBX\nHLT")
    r = run(prog, "trap_and_emulate")
    assert r.state.regs[0] == HOST_STATE["gdtr"]
    assert r.state.regs[3] == HOST_STATE["cr0"] & 0xFFFF
    n = run(prog, "native")
    assert n.state.regs[0] == 0 and n.state.regs[3] == 0x11


def test_toy_is_virtualizable_so_trap_and_emulate_is_exact():
    src = "MOV ESP, 0x700\nMOV EAX, 5\nLGDT EAX\nSTI\nPUSH 0\nPOPF\nSGDT EBX\nSMSW ECX\nHLT"
    prog = assemble(src, isa="TOY")
    assert first_divergence(prog, "trap_and_emulate", isa="TOY") is None
    r = run(prog, "trap_and_emulate", isa="TOY")
    assert r.counters["vmm_traps"] == 6          # LGDT STI POPF SGDT SMSW HLT
    assert r.state.regs[3] == 5 and r.state.if_ is False


def test_privileged_instruction_traps_and_is_emulated():
    m = machine(assemble("MOV EAX, 0x300\nMOV CR3, EAX\nHLT"), "trap_and_emulate")
    m.step()
    ev = m.step()
    assert ev.what.startswith("trap (ring 1 → 0)")
    assert ev.ring == 1 and ev.guest_ring == 0
    assert m.state().cr3 == 0x300
    assert m.cpu.real.cr[3] == HOST_STATE["cr3"]       # resource control
    assert m.run().resource_control is True


def test_application_privileged_instruction_goes_to_guest_kernel():
    prog = assemble("""
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, gp
        MOV [0x20D], EAX
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
gp:     MOV ESI, 99
        HLT
.user
app:    CLI
""")
    for mode in ("native", "trap_and_emulate", "binary_translation", "hardware", "paravirt"):
        r = run(prog, mode)
        assert r.state.regs[6] == 99 and r.state.cpl == 0, mode


# -- property: wherever the critical instruction sits, that is where T&E diverges --------
from hypothesis import given, settings, strategies as st  # noqa: E402

_SAFE = ["ADD EAX, 3", "XOR EDX, EAX", "MOV [0x400], EAX", "CLI", "STI", "OUT 0x60, EAX",
         "MOV EDI, CR3", "MOV CR4, EDX", "INC ESI", "IN EBP, 0x61", "NOP", "PUSH EAX\nPOP EDX"]
_CRIT = ["SGDT EBX", "SIDT EBX", "STR EBX", "SLDT EBX", "MOV EBX, CS", "PUSH CS\nPOP EBX",
         "STI\nPUSH 0\nPOPF", "SMSW EBX"]


@settings(max_examples=40)
@given(st.lists(st.sampled_from(_SAFE), max_size=8), st.sampled_from(_CRIT),
       st.lists(st.sampled_from(_SAFE), max_size=8))
def test_divergence_is_at_the_critical_instruction_wherever_it_is(pre, crit, post):
    src = "MOV ESP, 0x700\n" + "\n".join(pre) + "\n" + crit + "\n" + "\n".join(post) + "\nHLT"
    prog = assemble(src)
    d = first_divergence(prog, "trap_and_emulate")
    assert d is not None
    assert prog[d.pc].key in ("SGDT", "SIDT", "STR", "SLDT", "MOV", "PUSH", "POPF", "SMSW")
    assert prog[d.pc].sensitive_form
    assert first_divergence(prog, "binary_translation") is None
