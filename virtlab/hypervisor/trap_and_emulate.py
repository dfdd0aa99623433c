"""Trap-and-emulate (*Trap-and-Emulate*): the classical VMM of Popek & Goldberg.

The guest kernel is *deprivileged*: it runs in ring 1 while the VMM owns ring
0.  A privileged instruction in ring 1 traps into the VMM, which emulates it
against the virtual CPU (``vcpu``).  Everything else runs directly.

On a virtualizable ISA (``TOY``: every sensitive instruction is privileged)
this is correct.  On ``X86_32`` the 18 critical instructions do **not** trap:
they run directly in ring 1 and see or change the *real* state — POPF
silently drops the change of IF, SGDT/SIDT/SMSW/STR leak the host's values,
PUSHF shows the real IF, MOV r, CS shows ring 1.  The guest diverges exactly
where such an instruction executes (:func:`virtlab.hypervisor.first_divergence`).

Which critical instructions diverge *in this model* (tested one by one):
SGDT, SIDT, SLDT, SMSW, STR, PUSHF, POPF, MOV r,CS/SS, PUSH CS/SS, LAR, LSL,
VERR, VERW.  Not observable here: far CALL/JMP/RET (not in the executable
subset), POP/MOV *to* a segment register (the model does not check selectors
on loads) and INT n (the VMM owns the real IDT and reflects every INT with the
guest's own CS, so it stays correct) — they remain critical in the catalogue,
as Robin & Irvine list them.

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble("SGDT EAX\\nHLT")
>>> TrapAndEmulateMachine(prog).run().state.regs[0] == 0xFFC01000   # host GDTR
True
>>> r = TrapAndEmulateMachine(assemble("CLI\\nHLT")).run()
>>> r.counters["vmm_traps"], r.state.if_
(2, False)
"""

from __future__ import annotations

from .vm import VMMMachine

__all__ = ["TrapAndEmulateMachine"]


class TrapAndEmulateMachine(VMMMachine):
    """Guest kernel in ring 1; privileged instructions trap and are emulated.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> m = TrapAndEmulateMachine(assemble("PUSHF\\nPOPF\\nHLT", isa="TOY"), isa="TOY")
    >>> m.step().what
    'trap (ring 1 → 0): VMM emulates PUSHF'
    >>> m.step().what
    'trap (ring 1 → 0): VMM emulates POPF'
    """

    mode = "trap_and_emulate"
    technique = "trap_and_emulate"
    kernel_ring = 1
