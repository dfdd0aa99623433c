"""Emulation (*Emulation*): an interpreter executes every guest instruction in software.

Like Bochs or QEMU without acceleration: the emulator keeps the whole guest
machine as data and, for every instruction, *fetches* it, *decodes* it
(dispatch on the mnemonic and operand kinds) and *executes* it.  Nothing
runs directly on the (model) hardware, so the guest cannot escape — but
every instruction costs tens of host instructions (the lecture:
"Komplette Nachbildung der Hardware in Software").  Like Bochs, virtlab's
interpreter keeps a decoded-instruction cache (each address is decoded once
into a handler); fetch and execute still happen instruction by instruction,
nothing is compiled into blocks.

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble("MOV ECX, 3\\nl: DEC ECX\\nJNZ l\\nHLT")
>>> r = EmulationMachine(prog).run()
>>> r.counters["interpreted"], r.efficiency, r.resource_control
(8, 0.0, True)
"""

from __future__ import annotations

from ..cpu import interpret
from ..i18n import _
from .vm import Machine

__all__ = ["EmulationMachine"]


class EmulationMachine(Machine):
    """The interpreter: the emulated machine's state is the guest's state.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> m = EmulationMachine(assemble("CLI\\nHLT"))
    >>> m.step().what
    'interpreted (fetch, decode, execute in software)'
    """

    mode = "emulation"
    technique = "emulation"
    kernel_ring = 0

    def special(self, c, ins, pc):
        npc = super().special(c, ins, pc)
        if self.tracing and not self.note_event:    # no trap: the interpreter did it
            self.note = _("interpreted (fetch, decode, execute in software)")
        return npc

    def _run(self, max_steps: int) -> str:
        return interpret(self.cpu, max_steps, self.special)

    def resource_control(self) -> bool:
        """The guest only ever touches the emulator's data: always True."""
        return True
