"""Paravirtualization (*Paravirtualisierung*): a modified guest kernel calls the hypervisor.

The guest kernel is *modified* (:func:`paravirtualize`): every sensitive or
privileged instruction in its ``.kernel`` code is replaced by a
**hypercall** (``HYPERCALL name``).  The kernel runs in ring 1, the
hypervisor alone in ring 0 ("Nur Hypervisor ist privilegiert").  Application
system calls (``INT n`` in ring 3) trap into the hypervisor, which *checks*
them (is the vector registered in the guest's trap table?) and *forwards*
them to the guest kernel — the lecture's hypercall flow.  A hypercall from
ring 3 is refused (#GP reflected into the guest).

**VMI** (*Virtual Machine Interface*): the modified kernel is written against
one interface; which back end answers is a parameter: ``"xen"`` (hypercalls
into a ring-0 hypervisor), ``"vmware"`` (VMI calls into a VMM, no privilege
change) or ``"native"`` (the VMI library executes the native instruction on
bare hardware, kernel in ring 0).  The same guest binary runs on all three.

Hypercall names are modelled on Xen's (set_trap_table, mmu_update, iret,
sched_op, ...); virtlab does not reproduce Xen's numbering.

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble("MOV EAX, 0x100\\nMOV CR3, EAX\\nCLI\\nHLT")
>>> pv = paravirtualize(prog)
>>> print(pv[1])
HYPERCALL mmu_new_baseptr   ; was MOV CR3, EAX
>>> r = ParavirtMachine(pv).run()
>>> dict(r.hypercalls)
{'mmu_new_baseptr': 1, 'irq_disable': 1, 'sched_op_block': 1}
"""

from __future__ import annotations

from ..asm import Instruction, Program, check_program
from ..cpu import CPU, deliver_trap, execute_special
from ..errors import check_choice
from ..i18n import _
from .costs import cycles
from .vm import VMMMachine

__all__ = ["paravirtualize", "ParavirtMachine", "HYPERCALL_NAMES"]

#: Hypercall used for each replaced instruction (by catalogue key).
HYPERCALL_NAMES = {
    "CLI": "irq_disable", "STI": "irq_enable", "PUSHF": "save_flags",
    "POPF": "restore_flags", "HLT": "sched_op_block", "LGDT": "set_gdt",
    "LIDT": "set_trap_table", "LLDT": "set_ldt", "LTR": "set_tss",
    "SGDT": "get_gdt", "SIDT": "get_trap_table", "SLDT": "get_ldt", "STR": "get_tss",
    "SMSW": "read_cr0", "LMSW": "write_cr0", "CLTS": "fpu_taskswitch",
    "INVLPG": "mmuext_invlpg", "RDMSR": "read_msr", "WRMSR": "write_msr",
    "IN": "physdev_io_in", "OUT": "physdev_io_out", "SYSEXIT": "iret",
    "MOV DR": "set_debugreg", "INT": "software_trap", "LAR": "descriptor_query",
    "LSL": "descriptor_query", "VERR": "descriptor_query", "VERW": "descriptor_query",
    "MOV": "segment_op", "PUSH": "segment_op", "POP": "segment_op",
    "VMCALL": "vmcall",
}


def hypercall_name(ins: Instruction) -> str:
    """The hypercall that replaces ``ins`` in a paravirtualized kernel.

    Examples
    --------
    >>> from virtlab.asm import parse_instruction as P
    >>> hypercall_name(P("MOV CR3, EAX")), hypercall_name(P("MOV EAX, CR0"))
    ('mmu_new_baseptr', 'read_cr0')
    """
    if ins.key == "MOV CR":
        d, s = ins.operands
        if d[0] == "c":
            return "mmu_new_baseptr" if d[1] == 3 else f"write_cr{d[1]}"
        return f"read_cr{s[1]}"
    return HYPERCALL_NAMES.get(ins.key, ins.key.lower().replace(" ", "_"))


def paravirtualize(program: Program) -> Program:
    """The modified guest: kernel-section sensitive instructions become hypercalls.

    Application code (``.user``) is unchanged.  ``DIV`` and ordinary
    instructions stay as they are.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> p = paravirtualize(assemble(".kernel\\nCLI\\n.user\\nCLI"))
    >>> [i.mnemonic for i in p]
    ['HYPERCALL', 'CLI']
    """
    check_program(program)
    out = []
    for ins in program.instructions:
        if ins.section == "kernel" and ins.sensitive_form and ins.mnemonic != "HYPERCALL":
            out.append(Instruction("HYPERCALL", (), ins.line, "kernel", "HYPERCALL", True,
                                   None, ins, hypercall_name(ins)))
        else:
            out.append(ins)
    return program.replace_instructions(tuple(out))


class ParavirtMachine(VMMMachine):
    """A paravirtualized guest kernel in ring 1 (ring 0 with ``backend="native"``).

    Parameters
    ----------
    program : Program
        Usually ``paravirtualize(original)``; an unmodified kernel still
        works through trap-and-emulate fallbacks (and breaks on critical
        instructions just as trap-and-emulate does).
    backend : str
        ``"xen"`` (default), ``"vmware"`` or ``"native"`` — the VMI idea.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> src = '''
    ...     MOV EAX, 0x200
    ...     LIDT EAX
    ...     MOV EAX, syscall
    ...     MOV [0x280], EAX       ; IDT[0x80] = syscall handler
    ...     MOV EDX, app
    ...     MOV ECX, 1000
    ...     SYSEXIT                ; to the application (ring 3)
    ... syscall:
    ...     ADD EBX, 1
    ...     HLT
    ... .user
    ... app: INT 0x80
    ... '''
    >>> r = ParavirtMachine(paravirtualize(assemble(src))).run()
    >>> r.counters["forwarded"], r.state.regs[3], sorted(r.hypercalls)
    (1, 1, ['iret', 'sched_op_block', 'set_trap_table'])
    """

    mode = "paravirt"
    technique = "paravirt"
    kernel_ring = 1

    def __init__(self, program: Program, *, backend: str = "xen", **kw):
        self.backend = check_choice("backend", backend, ("xen", "vmware", "native"))
        if backend == "native":
            self.kernel_ring = 0
        super().__init__(program, **kw)

    def _setup(self) -> None:
        super()._setup()
        if self.backend == "native":
            self.cpu.real = self.vcpu       # no hypervisor: the guest owns the CPU
            self.host_snapshot = None

    def sync(self) -> None:
        if self.backend == "native":
            return
        super().sync()

    def special(self, c: CPU, ins: Instruction, pc: int) -> int:
        v = self.vcpu
        if ins.mnemonic == "HYPERCALL":
            if v.cpl != 0:
                # The hypervisor checks the caller: only the guest kernel may call.
                c.count("hypercalls_refused")
                c.count("reflections")
                if self.tracing:
                    self.note = _("hypercall from ring 3 refused: #GP into the guest kernel")
                    self.note_event = True
                npc = deliver_trap(c, v, 13, pc)
                self.sync()
                return npc
            c.count("hypercalls")
            name = ins.name
            self.hypercalls[name] = self.hypercalls.get(name, 0) + 1
            if self.tracing:
                template = {
                    "xen": _("hypercall (ring 1 → 0) into the hypervisor: {name} (was "
                             "{instruction})"),
                    "vmware": _("VMI call into the VMM: {name} (was {instruction})"),
                    "native": _("VMI native library executes: {name} (was "
                                "{instruction})")}[self.backend]
                self.note = template.format(name=name, instruction=ins.inner.text)
                self.note_event = self.backend != "native"    # native: no VMM involved
            note = self.note
            npc = self.emulate(c, ins.inner, pc)
            if self.tracing and note != self.note and self.note.startswith("; "):
                self.note = note + self.note
            return npc
        if self.backend == "native":
            return super(VMMMachine, self).special(c, ins, pc)
        if ins.mnemonic == "INT" and v.cpl == 3:
            # System call: traps to the hypervisor, which checks and forwards it.
            vec = ins.operands[0][1] & 0xFF
            handler_ok = v.idtr and v.idtr + vec < c.memory_words and \
                0 < c.mem[v.idtr + vec] < len(c.program)
            c.count("forwarded" if handler_ok else "refused_syscalls")
            if self.tracing:
                self.note = (_("system call INT {vector}: trap to the hypervisor, checked, "
                               "forwarded to the guest kernel (ring 1)") if handler_ok else
                             _("system call INT {vector} without a registered handler")
                             ).format(vector=f"{vec:#x}")
                self.note_event = bool(handler_ok)
            npc, _trap = execute_special(c, ins, pc, v, trap_events=())   # INT always traps
            self.sync()
            return npc
        return self.direct(c, ins, pc)

    def _cycles(self, counters):
        return cycles("paravirt", counters, self.costs, backend=self.backend)

    def counters(self):
        ev = super().counters()
        if self.backend == "native":
            # VMI calls on bare hardware are ordinary calls: count them as direct.
            ev["vmi_native_calls"] = ev.get("hypercalls", 0)
        return ev

    def resource_control(self):
        if self.backend == "native":
            return None
        return super().resource_control()
