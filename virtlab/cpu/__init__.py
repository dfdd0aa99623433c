"""The model CPU (*Prozessor*): state, reference semantics, interpreter, block compiler.

The package is split by responsibility: :mod:`~virtlab.cpu.state` (constants,
traps, privileged and guest state, :class:`CPU`), :mod:`~virtlab.cpu.semantics`
(:func:`execute`, the reference meaning of every instruction, trap delivery
and the reference engine :func:`interpret_step`), :mod:`~virtlab.cpu.interpreter`
(the threaded-code engine) and :mod:`~virtlab.cpu.compiler` (the block
compiler, :func:`run_blocks`, :func:`run_native`).  Everything public is
re-exported here.

State
-----
Registers, flags, rings, control and descriptor-table registers, memory, ports,
an interrupt line and counters: see :mod:`virtlab.cpu.state`.  A hypervisor
keeps its own :class:`PrivState` per virtual CPU and applies the same
:func:`execute` to it.

Two execution engines
---------------------
* :func:`interpret` — an interpreter: fetch, decode (dispatch on the
  mnemonic, read the operand kinds — cached per address, as Bochs caches
  decoded instructions: each address becomes a specialised handler),
  execute, one instruction at a time; the arithmetic flags are computed
  lazily, only when something reads them.  This is *emulation* (Bochs, QEMU
  without acceleration).
* :class:`BlockCompiler` — each basic block is translated once into Python
  source, compiled with ``compile``/``exec`` into a function and cached.
  Registers become local variables, flags are computed only where a later
  instruction (or the block exit) can read them.  This is how virtlab lets
  native, binary-translated and hardware-assisted runs execute guest code
  "directly": at the speed of compiled code, with *special* instructions
  (privileged, sensitive, or able to fault) handed to a mode-specific
  handler.

Traps
-----
A privileged instruction in ring > 0 raises :class:`GuestTrap` with vector 13
(#GP); DIV by zero vector 0 (#DE); VMCALL outside VMX non-root vector 6
(#UD).  ``INT n`` and delivered traps push the return EIP and the caller's
CS, switch to ring 0 and jump to ``mem[IDTR + vector]`` (an IDT entry 0
means "not present").  A memory access outside guest memory stops the
machine (there is no paging in this model).  A raised interrupt line is
delivered before the next instruction once IF = 1 — in the interpreter and in
compiled blocks alike (a block is left as soon as an interrupt is pending).

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble("MOV ECX, 5\\nloop: ADD EAX, ECX\\nDEC ECX\\nJNZ loop\\nHLT")
>>> cpu = CPU(prog)
>>> interpret(cpu)                       # emulation: one by one
'halted'
>>> cpu.regs[0], cpu.icount
(15, 17)
>>> cpu2 = CPU(prog)
>>> run_native(cpu2)                     # compiled blocks
'halted'
>>> cpu2.state() == cpu.state()
True
"""

from .compiler import BlockCompiler, run_blocks, run_native
from .interpreter import interpret
from .semantics import (deliver_irq, deliver_trap, execute, execute_special, interpret_step,
                        is_plain, mmio_complete, mmio_decode, native_special)
from .state import (CPU, HOST_STATE, MEMORY_WORDS, PT_WORDS, VECTOR_DE, VECTOR_GP, VECTOR_UD,
                    GuestState, GuestTrap, PrivState, flags_word, run_status)

__all__ = ["CPU", "PrivState", "GuestState", "GuestTrap", "interpret", "interpret_step",
           "BlockCompiler", "run_native", "MEMORY_WORDS", "HOST_STATE", "VECTOR_DE",
           "VECTOR_UD", "VECTOR_GP", "PT_WORDS"]
