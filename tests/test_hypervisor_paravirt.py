"""Paravirtualization: hypercalls, checked and forwarded system calls, VMI back ends."""

from virtlab.asm import assemble
from virtlab.hypervisor import machine, run
from virtlab.hypervisor.microbench import workload
from virtlab.hypervisor.paravirt import paravirtualize

SRC = """
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, sys
        MOV [0x280], EAX
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
sys:    POP EBX
        POP EDX
        ADD ESI, 1
        CMP ESI, 3
        JZ done
        MOV ECX, ESP
        SYSEXIT
done:   HLT
.user
app:    INT 0x80
        JMP app
"""


def test_kernel_is_modified_user_code_not():
    pv = paravirtualize(assemble(SRC))
    kinds = {(i.section, i.mnemonic) for i in pv}
    assert ("kernel", "HYPERCALL") in kinds
    assert ("user", "INT") in kinds                     # applications are unchanged
    assert all(not (i.section == "kernel" and i.sensitive_form and i.mnemonic != "HYPERCALL")
               for i in pv)


def test_syscalls_trap_are_checked_and_forwarded():
    r = run(assemble(SRC), "paravirt")
    assert r.counters["forwarded"] == 3
    assert dict(r.hypercalls) == {"set_trap_table": 1, "iret": 3, "sched_op_block": 1}
    assert r.state == run(assemble(SRC), "native").state


def test_hypercall_from_ring3_is_refused():
    prog = paravirtualize(assemble("""
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, gp
        MOV [0x20D], EAX
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
gp:     MOV EDI, 13
        HLT
app:    CLI                ; in the kernel section, but reached in ring 3
"""))
    m = machine(prog, "paravirt", paravirtualized=False)
    r = m.run()
    assert r.counters["hypercalls_refused"] == 1 and r.state.regs[7] == 13


def test_vmi_one_interface_three_back_ends():
    prog = workload(compute=100, syscalls=2, periods=3)
    res = {b: run(prog, "paravirt", backend=b) for b in ("xen", "vmware", "native")}
    assert len({r.state for r in res.values()}) == 1
    assert res["native"].cycles < res["vmware"].cycles < res["xen"].cycles
    assert res["native"].resource_control is None and res["xen"].resource_control is True


def test_step_describes_hypercall_flow():
    m = machine(assemble(SRC), "paravirt")
    whats = [m.step().what for _ in range(12)]
    assert any(w.startswith("hypercall (ring 1 → 0)") for w in whats)
    assert any("checked, forwarded" in w for w in whats)
