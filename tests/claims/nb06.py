"""Claims of notebook 06 (sensitive instructions, Popek & Goldberg, x86, VT-x)."""

from virtlab import hypervisor, isa
from virtlab import popek_goldberg as pg
from virtlab.asm import parse_instruction
from virtlab.hypervisor import guests
from virtlab.hypervisor.vtx import DEFAULT_CONTROLS, exit_for

from . import claim, cite

SLIDE = "lecture, slide 'Virtualisierung bei x86-Prozessoren (1)'"
REGISTER_READERS = ("SGDT", "SIDT", "SLDT", "SMSW", "STR")
USER_MODE_NATIVE = {"LAR", "LSL", "VERR", "VERW", "PUSHF", "POPF", "CALL", "JMP", "RET",
                    "INT", "PUSH", "POP", "MOV"}

cite("06", "*\"17 Befehle von ca. 250 sind kritisch\"*", SLIDE)
cite("06", "Popek & Goldberg (CACM 1974)", "facts.md section 1: CACM 17(7):412-421, 1974")
cite("06", "Robin & Irvine (USENIX Security 2000) analysed \"approximately 250 instructions\"",
     "facts.md section 2: Robin & Irvine, USENIX Security 2000, abstract [P]")
cite("06", "The lecture — and the paper's text as usually quoted — says **17**",
     SLIDE + "; facts.md section 2 (count conflict)")
cite("06", "18 critical mnemonics (the lecture's \"17\")", SLIDE)


@claim("06", "A *privileged* instruction is, by definition, one that traps in user mode — a "
             "privileged instruction that does not trap cannot exist")
def _():
    for catalogue in (isa.TOY, isa.X86_32, isa.X86_VTX):
        for m, spec in catalogue.items():
            if m in ("VMXON", "VMXOFF", "VMLAUNCH", "VMRESUME", "VMPTRLD", "VMPTRST",
                     "VMCLEAR", "VMREAD", "VMWRITE", "VMCALL"):
                continue
            assert catalogue.traps_in_user_mode(m) == spec.privileged, (catalogue.name, m)
    # the critical ones are exactly the sensitive ones that do not trap
    c = pg.classify(isa.X86_32)
    assert c.critical == c.sensitive - c.privileged
    assert not any(isa.X86_32.traps_in_user_mode(m) for m in c.critical)


@claim("06", "in user mode (ring 3) they cause a **trap** into the operating system (#GP, "
             "vector 13)")
def _():
    m = hypervisor.machine(guests.program("app_cli"), "native")
    while m.step().status == "running":
        pass
    assert any("CLI" in line and "trap vector 13" in line for line in m.log)


@claim("06", "There LAR, LSL, VERR, VERW, PUSHF, POPF, far CALL/JMP/RET, INT n and the "
             "segment-register forms of PUSH/POP/MOV behave exactly as on the real machine")
def _():
    for m in USER_MODE_NATIVE:
        assert isa.X86_32[m].critical and not isa.X86_32[m].is_user_sensitive, m


@claim("06", "The verdict is still \"no\", because of the 5 instructions that read a system "
             "register without trapping — SGDT, SIDT, SLDT, SMSW and STR")
def _():
    t = pg.theorems(isa.X86_32)
    assert not t.theorem3_hybrid
    assert t.offending_user_mode == REGISTER_READERS
    assert len(t.offending_user_mode) == 5


@claim("06", "`X86_VTX` passes Theorem 1, but **not** because VT-x made the critical "
             "instructions trap: it did not")
def _():
    assert pg.is_virtualizable(isa.X86_VTX)
    critical = pg.classify(isa.X86_32).critical
    assert not any(isa.X86_VTX[m].privileged for m in critical)
    # and the VT-x machine agrees: with default controls none of them exits
    for text in ("POPF", "PUSHF", "SGDT EAX", "SIDT EAX", "SMSW EAX"):
        assert exit_for(parse_instruction(text), DEFAULT_CONTROLS, 0) is None, text


@claim("06", "POPF, PUSHF, LAR, VERR, ... run there natively *and correctly*")
def _():
    # correctly: the POPF guest ends as on the real machine under VT-x
    assert hypervisor.first_divergence(guests.program("popf"), "hardware") is None
    assert guests.interrupt_in_critical_section("hardware") == 0
    for m in ("POPF", "PUSHF", "LAR", "VERR"):
        assert isa.X86_VTX[m].innocuous and "natively" in isa.X86_VTX[m].reason


@claim("06", "SGDT/SIDT/SLDT/STR cause a VM exit only if the VMM asks for it with the control "
             "\"descriptor-table exiting\"")
def _():
    on = dict(DEFAULT_CONTROLS, descriptor_table_exiting=True)
    for m in ("SGDT", "SIDT", "SLDT", "STR"):
        ins = parse_instruction(f"{m} EAX")
        assert exit_for(ins, DEFAULT_CONTROLS, 0) is None
        assert exit_for(ins, on, 0) is not None


cite("06", "which first-generation VT-x did not have",
     "facts.md section 12: Intel SDM vol. 3C, secondary control 'descriptor-table exiting'")


@claim("06", "so virtlab marks exactly these 18 mnemonics as critical")
def _():
    assert pg.classify(isa.X86_32).critical == {
        "SGDT", "SIDT", "SLDT", "SMSW", "PUSHF", "POPF", "LAR", "LSL", "VERR", "VERW", "POP",
        "PUSH", "CALL", "JMP", "INT", "RET", "STR", "MOV"}


@claim("06", "`POPF` in ring 1, however, does **not** trap: it loads the flags — except the "
             "interrupt flag IF, whose change it *silently drops*")
def _():
    d = hypervisor.first_divergence(guests.program("popf"), "trap_and_emulate")
    assert d.text == "POPF" and d.fields == ("if_",)


@claim("06", "an interrupt that arrives in the \"critical section\" is *delivered* under "
             "trap-and-emulate, but held back natively")
def _():
    assert guests.interrupt_in_critical_section("native") == 0
    assert guests.interrupt_in_critical_section("trap_and_emulate") == 0xBAD


@claim("06", "Binary translation replaces POPF in kernel code by a callout to the VMM, which "
             "updates the virtual IF")
def _():
    assert guests.interrupt_in_critical_section("binary_translation") == 0
    r = hypervisor.run(guests.program("popf"), "binary_translation")
    assert r.counters["callouts"] >= 1
    assert hypervisor.first_divergence(guests.program("popf"), "binary_translation") is None


@claim("06", "On `TOY`, where POPF is privileged, plain trap-and-emulate is already exact")
def _():
    assert isa.TOY["POPF"].privileged
    assert hypervisor.first_divergence(guests.program("popf_toy"), "trap_and_emulate",
                                       isa="TOY") is None


@claim("06", "SGDT and SMSW fail differently: they *leak* the real machine's values")
def _():
    d = hypervisor.first_divergence(guests.program("leak"), "trap_and_emulate")
    assert d.text.startswith("SGDT")


@claim("06", "it is the other way to satisfy Theorem 1")
def _():
    redesigned = isa.X86_32.with_privileged(*pg.classify(isa.X86_32).critical)
    assert pg.is_virtualizable(redesigned)


@claim("06", "`TOY` and `X86_VTX` satisfy it, `X86_32` does not")
def _():
    assert pg.is_virtualizable(isa.TOY) and pg.is_virtualizable(isa.X86_VTX)
    assert not pg.is_virtualizable(isa.X86_32)


@claim("06", "**Theorem 3** (hybrid VMM) fails on x86 only because of SGDT, SIDT, SLDT, SMSW "
             "and STR")
def _():
    assert pg.theorems(isa.X86_32).offending_user_mode == REGISTER_READERS


@claim("06", "the divergence starts exactly at the critical instruction")
def _():
    assert hypervisor.first_divergence(guests.program("popf"), "trap_and_emulate").text == \
        "POPF"
    assert hypervisor.first_divergence(guests.program("leak"),
                                       "trap_and_emulate").text.startswith("SGDT")

cite("06", "section 4 discusses the \"17\"", SLIDE)
cite("06", "explain honestly why \"17\" and the usual list of 18 names disagree",
     SLIDE + "; facts.md section 2 and 'Conventions' (18 mnemonics)")
