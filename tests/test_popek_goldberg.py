"""Popek & Goldberg: classification, the three theorems, explain()."""

import pytest
from hypothesis import given, strategies as st

from virtlab.isa import TOY, X86_32, X86_VTX
from virtlab.popek_goldberg import (classify, explain, hybrid_vmm_possible,
                                    is_recursively_virtualizable, is_virtualizable, theorems)

# facts.md "Conventions": the Robin & Irvine list as usually quoted (18 names).
ROBIN_IRVINE = {"SGDT", "SIDT", "SLDT", "SMSW", "PUSHF", "POPF", "LAR", "LSL", "VERR",
                "VERW", "POP", "PUSH", "CALL", "JMP", "INT", "RET", "STR", "MOV"}
# The privileged instructions the issue names for X86_32.
ISSUE_PRIVILEGED = {"LGDT", "LIDT", "LLDT", "LTR", "LMSW", "CLTS", "MOV CR", "MOV DR", "HLT",
                    "CLI", "STI", "IN", "OUT", "INVLPG", "RDMSR", "WRMSR"}


def test_x86_32_critical_is_exactly_robin_irvine():
    c = classify(X86_32)
    assert c.critical == frozenset(ROBIN_IRVINE)
    assert len(c.critical) == 18


def test_contract_types_and_case():
    for isa in (TOY, X86_32, X86_VTX):
        c = classify(isa)
        for name in ("privileged", "sensitive", "innocuous", "critical"):
            s = getattr(c, name)
            assert isinstance(s, frozenset)
            assert all(m == m.upper() for m in s)


def test_theorem1_verdicts():
    assert is_virtualizable(TOY) is True
    assert is_virtualizable(X86_VTX) is True
    assert is_virtualizable(X86_32) is False


def test_issue_privileged_set_present():
    assert ISSUE_PRIVILEGED <= classify(X86_32).privileged


def test_partition_and_critical_definition():
    for isa in (TOY, X86_32, X86_VTX):
        c = classify(isa)
        assert c.sensitive | c.innocuous == frozenset(isa)
        assert not (c.sensitive & c.innocuous)
        assert c.critical == c.sensitive - c.privileged


def test_toy_has_no_critical_and_vtx_none_either():
    assert classify(TOY).critical == frozenset()
    assert classify(X86_VTX).critical == frozenset()


def test_theorem2_needs_no_timing_dependence():
    assert is_recursively_virtualizable(TOY)
    assert not is_recursively_virtualizable(TOY, timing_dependent=True)
    assert not is_recursively_virtualizable(X86_32)
    with pytest.raises(TypeError, match="timing_dependent"):
        is_recursively_virtualizable(TOY, timing_dependent=1)


def test_theorem3_hybrid():
    assert hybrid_vmm_possible(TOY)
    assert not hybrid_vmm_possible(X86_32)
    # An ISA where a kernel-only instruction is critical but user mode is clean
    # admits a hybrid VMM but not a full one (Theorem 3 weaker than Theorem 1).
    from dataclasses import replace
    specs = tuple(replace(s, user_sensitive=False) if s.mnemonic == "SMSW" else s
                  for s in TOY.with_privileged("SMSW", privileged=False).instructions)
    hybrid = replace(TOY, name="HYB", instructions=specs)
    assert not is_virtualizable(hybrid)
    assert hybrid_vmm_possible(hybrid)


def test_explain_names_offenders():
    text = explain(X86_32)
    for m in ROBIN_IRVINE:
        assert f"  {m}:" in text
    assert "virtualizable by Theorem 1" in explain(TOY)
    t = theorems(X86_32)
    assert set(t.offending) == ROBIN_IRVINE


@given(st.sets(st.sampled_from(sorted(ROBIN_IRVINE))))
def test_making_critical_privileged_fixes_exactly_those(fixed):
    isa = X86_32.with_privileged(*fixed)
    c = classify(isa)
    assert c.critical == frozenset(ROBIN_IRVINE - fixed)
    assert is_virtualizable(isa) == (fixed == ROBIN_IRVINE)


def test_classify_rejects_bad_input():
    with pytest.raises(TypeError, match="isa"):
        classify(42)
    with pytest.raises(ValueError, match="isa"):
        classify("MIPS")


# Theorem 3 on x86 (issue 12): a hybrid VMM runs virtual user mode at real CPL 3,
# where the CPL-dependent instructions behave as natively; only the five that
# reveal the VMM's registers remain user-sensitive and unprivileged.
REVEAL_REGISTERS = {"SGDT", "SIDT", "SLDT", "SMSW", "STR"}


def test_theorem3_x86_fails_only_because_of_the_register_readers():
    t = theorems(X86_32)
    assert set(t.offending_user_mode) == REVEAL_REGISTERS
    assert not t.theorem3_hybrid
    assert "5 user-sensitive instructions do not trap: SGDT, SIDT, SLDT, SMSW, STR" in \
        explain(X86_32)
    # Making exactly those five privileged is enough for a hybrid VMM, not for a full one.
    fixed = X86_32.with_privileged(*REVEAL_REGISTERS)
    assert hybrid_vmm_possible(fixed) and not is_virtualizable(fixed)


def test_vtx_does_not_make_critical_instructions_privileged():
    # facts.md section 12: in VMX non-root mode the guest has its own ring 0; the
    # critical instructions run natively on guest state and neither trap nor exit.
    for m in ROBIN_IRVINE:
        spec = X86_VTX[m]
        assert not spec.privileged, m
        assert spec.innocuous, m
    for m in ("SGDT", "SIDT", "SLDT", "STR"):
        assert "descriptor-table exiting" in X86_VTX[m].reason
    assert classify(X86_32).critical & classify(X86_VTX).innocuous == frozenset(ROBIN_IRVINE)


def test_vtx_catalogue_agrees_with_the_vmcs_exit_model():
    # The catalogue's "no exit" must be what the VT-x machine does with default controls,
    # and descriptor-table exiting must be the only switch that makes SGDT/SIDT exit.
    from virtlab.asm import parse_instruction
    from virtlab.hypervisor.vtx import DEFAULT_CONTROLS, exit_for
    for text in ("SGDT EAX", "SIDT EAX", "SLDT EAX", "STR EAX", "SMSW EAX", "POPF", "PUSHF"):
        assert exit_for(parse_instruction(text), DEFAULT_CONTROLS, 0) is None, text
    dt = dict(DEFAULT_CONTROLS, descriptor_table_exiting=True)
    assert exit_for(parse_instruction("SGDT EAX"), dt, 0)[0] == "GDTR_IDTR"
    assert exit_for(parse_instruction("STR EAX"), dt, 0)[0] == "LDTR_TR"


def test_explain_says_what_vtx_did_and_did_not_do():
    text = explain(X86_VTX)
    assert "VT-x did not make x86's 18 critical instructions privileged" in text
    assert "descriptor-table exiting" in text
    assert "VT-x" not in explain(TOY)
