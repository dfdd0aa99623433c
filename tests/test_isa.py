"""ISA catalogues: entries are data with reasons and sources; variants leave originals alone."""

import pytest

from virtlab.isa import ISA, ISAS, SOURCES, TOY, X86_32, X86_VTX, InstructionSpec, get_isa


@pytest.mark.parametrize("isa", [TOY, X86_32, X86_VTX])
def test_every_entry_has_reason_source_and_upper_case(isa):
    for m, spec in isa.items():
        assert m == spec.mnemonic == m.upper()
        assert spec.reason.strip() and spec.semantics.strip()
        assert spec.source in SOURCES


def test_same_executable_subset_in_x86_catalogues():
    ex32 = X86_32.mnemonics(lambda s: s.executable)
    assert ex32 <= X86_VTX.mnemonics(lambda s: s.executable)
    assert X86_VTX.mnemonics(lambda s: s.executable) - ex32 == {"VMCALL"}
    assert TOY.mnemonics(lambda s: s.executable) == ex32


def test_vmx_instructions_only_in_vtx():
    vmx = {"VMXON", "VMXOFF", "VMLAUNCH", "VMRESUME", "VMPTRLD", "VMPTRST", "VMCLEAR",
           "VMREAD", "VMWRITE", "VMCALL"}
    assert vmx <= set(X86_VTX) and not (vmx & set(X86_32))
    assert all(X86_VTX[m].privileged for m in vmx)


def test_forms_documented_for_multi_form_mnemonics():
    for m in ("MOV", "PUSH", "POP", "CALL", "JMP", "RET"):
        assert X86_32[m].sensitive_forms != "all"
    assert X86_32["MOV CR"].privileged and not X86_32["MOV"].privileged


def test_with_privileged_is_a_copy():
    fixed = X86_32.with_privileged("POPF")
    assert fixed["POPF"].privileged and not X86_32["POPF"].privileged
    assert fixed.name == "X86_32*"
    with pytest.raises(ValueError, match="mnemonics"):
        X86_32.with_privileged("FROB")
    with pytest.raises(TypeError, match="mnemonics"):
        X86_32.with_privileged(3)


def test_lookup_errors_name_the_problem():
    with pytest.raises(ValueError, match="not in ISA X86_32"):
        X86_32["VMXON"]
    with pytest.raises(TypeError, match="mnemonic"):
        X86_32[5]
    assert "popf" in X86_32 and 5 not in X86_32
    assert get_isa("toy") is TOY and set(ISAS) == {"TOY", "X86_32", "X86_VTX"}


def test_bad_specs_rejected():
    with pytest.raises(ValueError, match="upper case"):
        InstructionSpec("mov", "", "", False, False, False, "r", "SDM")
    with pytest.raises(ValueError, match="source"):
        InstructionSpec("X", "", "", False, False, False, "r", "WIKI")
    spec = TOY["ADD"]
    with pytest.raises(ValueError, match="duplicate"):
        ISA("D", "dup", (spec, spec))
