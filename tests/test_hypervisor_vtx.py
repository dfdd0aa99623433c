"""VT-x: VMX life cycle, VMCS, exits by reason, the lecture's sensitive-instruction flow."""

import pytest

from virtlab.asm import assemble
from virtlab.errors import VirtlabError
from virtlab.hypervisor import machine, run
from virtlab.hypervisor.vtx import EXIT_REASONS, VMCS, VMX, HardwareMachine

KERNEL_AND_APP = """
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, gp
        MOV [0x20D], EAX
        MOV EAX, 0x300
        MOV CR3, EAX          ; exits only without EPT
        OUT 0x3F8, EAX        ; I/O: always exits (unconditional I/O exiting)
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
gp:     POP EBX
        POP EDX
        HLT
.user
app:    CLI                   ; application: #GP inside the guest, no exit
"""


def test_application_vs_guest_os_flow():
    r = run(assemble(KERNEL_AND_APP), "hardware")
    assert dict(r.exits) == {"IO_INSTRUCTION": 1, "HLT": 1}
    assert r.counters["guest_traps"] == 1           # the app's CLI went to the guest OS
    assert r.state.cpl == 0 and r.status == "halted"
    assert r.resource_control is True


def test_no_ept_adds_cr3_exit():
    r = run(assemble(KERNEL_AND_APP), "hardware", hardware="first_gen_vt")
    assert dict(r.exits) == {"CR_ACCESS": 1, "IO_INSTRUCTION": 1, "HLT": 1}


def test_vmcs_exit_information_and_log():
    m = machine(assemble("MOV EAX, 7\nOUT 0x60, EAX\nHLT"), "hardware")
    m.step()
    ev = m.step()
    assert ev.what.startswith("VM exit IO_INSTRUCTION (#30)")
    assert m.vmcs.exit_reason == EXIT_REASONS["IO_INSTRUCTION"] == 30
    assert m.vmcs.exit_qualification["port"] == 0x60
    assert m.vmcs.exit_qualification["value"] == 7
    assert m.vmcs.guest["rip"] == 1
    assert m.vmcs.host["rip"] == "vmm_exit_handler"
    assert m.vmx.log[:4] == ["VMXON", "VMCLEAR", "VMPTRLD", "VMLAUNCH"]
    m.run()
    assert m.vmx.log[-1] == "VMXOFF" and m.vmx_mode == "off"


def test_vmx_sequence_errors():
    vmx, v = VMX(), VMCS()
    with pytest.raises(VirtlabError, match="VMXON first"):
        vmx.vmptrld(v)
    vmx.vmxon()
    with pytest.raises(VirtlabError, match="VMXON in VMX operation"):
        vmx.vmxon()
    with pytest.raises(VirtlabError, match="without a current VMCS"):
        vmx.vmlaunch()
    vmx.vmclear(v)
    vmx.vmptrld(v)
    with pytest.raises(VirtlabError, match="clear VMCS"):
        vmx.vmresume()
    vmx.vmlaunch()
    assert vmx.mode == "non-root"
    with pytest.raises(VirtlabError, match="non-root"):
        vmx.vmxoff()


def test_descriptor_table_exiting_control():
    prog = assemble("SGDT EAX\nLGDT EAX\nHLT")
    assert "GDTR_IDTR" not in run(prog, "hardware").exits
    r = run(prog, "hardware", controls={"descriptor_table_exiting": True})
    assert r.exits["GDTR_IDTR"] == 2


def test_vmcall_hypercall():
    prog = assemble("MOV EAX, 3\nVMCALL\nHLT", isa="X86_VTX")
    r = run(prog, "hardware")
    assert r.exits["VMCALL"] == 1 and r.state.regs[0] == 0
    assert dict(r.hypercalls) == {"vmcall_3": 1}
    n = run(prog, "native")            # no VMM: #UD, no handler -> fault
    assert n.status == "fault"


def test_kvm_style_io_and_mmio_exits():
    prog = assemble("IN EAX, 0x71\nOUT 0x70, EAX\nMOV EBX, [0xFEE00000]\n"
                    "MOV [0xFEE00010], EBX\nHLT")
    m = HardwareMachine(prog, stop_on={"IO_INSTRUCTION", "EPT_VIOLATION", "HLT"})
    seen = []
    values = {"in": 41, "mmio": 1234}
    for _ in range(10):
        r = m.run()
        if r.status != "exit":
            break
        reason, q = m.pending_exit
        seen.append((reason, q.get("direction"), q.get("is_write")))
        if reason == "IO_INSTRUCTION":
            m.complete_exit(values["in"] if q["direction"] == "in" else None)
        elif reason == "EPT_VIOLATION":
            m.complete_exit(None if q["is_write"] else values["mmio"])
        else:
            break
    assert seen == [("IO_INSTRUCTION", "in", None), ("IO_INSTRUCTION", "out", None),
                    ("EPT_VIOLATION", None, False), ("EPT_VIOLATION", None, True),
                    ("HLT", None, None)]
    assert m.cpu.regs[0] == 41 and m.cpu.regs[3] == 1234
    with pytest.raises(VirtlabError, match="pending"):
        m.run()


def test_io_and_mmio_handlers():
    log = []
    prog = assemble("IN EAX, 0x71\nOUT 0x70, EAX\nMOV EBX, [0xFEE00000]\nHLT")
    m = HardwareMachine(prog, io_handler=lambda p, s, w, v: log.append((p, w, v)) or 5,
                        mmio_handler=lambda a, s, w, v: 77)
    r = m.run()
    assert r.status == "halted" and r.state.regs[0] == 5 and r.state.regs[3] == 77
    assert log == [(0x71, False, None), (0x70, True, 5)]


def test_exit_reasons_one_number_per_vmx_instruction():
    # Intel SDM 3C appendix C: 18 VMCALL, 19 VMCLEAR, 20 VMLAUNCH, 21 VMPTRLD,
    # 22 VMPTRST, 23 VMREAD, 24 VMRESUME, 25 VMWRITE, 26 VMXOFF, 27 VMXON.
    sdm = ["VMCALL", "VMCLEAR", "VMLAUNCH", "VMPTRLD", "VMPTRST", "VMREAD", "VMRESUME",
           "VMWRITE", "VMXOFF", "VMXON"]
    assert {name: EXIT_REASONS[name] for name in sdm} == dict(zip(sdm, range(18, 28)))
    assert "VMX_INSTRUCTION" not in EXIT_REASONS
    assert len(set(EXIT_REASONS.values())) == len(EXIT_REASONS)   # numbers are unique


def test_step_notes_name_the_ring_after_the_instruction():
    """SYSEXIT runs in non-root mode and leaves the guest in ring 3: the log says so."""
    from virtlab.hypervisor import machine
    from virtlab.hypervisor.guests import source
    m = machine(assemble(source("syscall"), isa="X86_VTX"), "hardware")
    while m.program[m.cpu.pc].mnemonic != "SYSEXIT":
        m.step()
    assert m.step().what == "executed in VMX non-root ring 3 on guest state (no exit)"
    n = machine(assemble("MOV ECX, 9\nMOV EDX, 3\nSYSEXIT\nHLT"), "native")
    n.step(), n.step()
    assert n.step().what == "executed directly (ring 3)"


def test_stepping_an_mmio_load_moves_to_the_next_instruction():
    """The debugger's single step (interpret_step) completes an MMIO load like a run does."""
    prog = assemble("MOV EAX, [0xFEE00000]\nHLT", isa="X86_VTX")
    stepped = HardwareMachine(prog, mmio_handler=lambda addr, size, write, value: 42)
    stepped.step()
    assert stepped.cpu.pc == 1 and stepped.cpu.regs[0] == 42
    ran = HardwareMachine(prog, mmio_handler=lambda addr, size, write, value: 42).run()
    assert ran.state.regs[0] == 42 and stepped.run().state == ran.state
