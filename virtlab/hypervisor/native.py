"""Native execution: the guest kernel on the bare model CPU in ring 0.

The reference for every other mode: applications run in ring 3, privileged
instructions in ring 3 trap (#GP) into the guest kernel through its own IDT,
``INT n`` enters the kernel, ``SYSEXIT`` returns.  Guest code runs as compiled
blocks (:class:`virtlab.cpu.BlockCompiler`).

Examples
--------
>>> from virtlab.asm import assemble
>>> r = NativeMachine(assemble("MOV EAX, 1\\nOUT 0x3F8, EAX\\nHLT")).run()
>>> r.status, r.state.out_log, r.resource_control
('halted', ((1016, 1),), None)
"""

from __future__ import annotations

from .vm import Machine

__all__ = ["NativeMachine"]


class NativeMachine(Machine):
    """The guest owns the real CPU: kernel in ring 0, no hypervisor.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> NativeMachine(assemble("HLT")).run().efficiency
    1.0
    """

    mode = "native"
    technique = "native"
    kernel_ring = 0
