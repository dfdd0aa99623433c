"""QEMU's dynamic binary translator, for real: the guests under TCG through unicorn.

unicorn is QEMU's CPU emulator as a library: its TCG (Tiny Code Generator)
translates each guest basic block into host code once, keeps it in a
translation cache and chains blocks — the binary translation of notebook 07
on real x86 bytes.  :func:`run_tcg` runs a :mod:`virtlab.host.guests`
program in 32-bit mode with the same memory layout as the KVM VMM (RAM at 0,
serial port 0x3F8 through an ``OUT`` hook, the device register at
``MMIO_BASE`` through ``mmio_map``).  With ``count_blocks=True`` a
``UC_HOOK_BLOCK`` hook counts every block *execution*; each distinct block
start was translated exactly once (nothing evicts the cache in such a short
run), so executions − translations are translation-cache hits.  The hook
costs a call into Python per block, so speed is measured without it.

unicorn is optional (a binary wheel on PyPI for Linux, macOS and Windows, x86-64
and arm64) and imported inside the functions; without it the result says so.

Examples
--------
>>> from virtlab.host.guests import HELLO, compute
>>> r = run_tcg(HELLO)
>>> r.output if r.available else "Hello!"
'Hello!'
>>> r = run_tcg(compute(100), count_blocks=True)
>>> (r.translated_blocks, r.block_executions) if r.available else (2, 100)
(2, 100)

Two blocks: TCG translates from the entry straight through the loop body to
``jne`` (a block ends at a jump, not at a jump *target*), then the loop body
alone; the second is executed 99 times from the cache.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from virtlab.errors import check_int, check_type

from .base import Missing, module_missing
from .guests import LOAD_ADDRESS, MMIO_BASE, RAM_SIZE, SERIAL_PORT, Guest

__all__ = ["TcgRun", "run_tcg"]


@dataclass(frozen=True)
class TcgRun:
    """A guest run under QEMU's TCG.

    Attributes
    ----------
    guest : str
    output : str
        Serial-port output.
    regs : dict
        ``eax`` ... ``edi``, ``eip`` after the run.
    memory : bytes
        Guest RAM after the run.
    mmio : tuple
        ``(offset, is_write, value)`` per device-register access.
    seconds : float
        Wall-clock time of ``emu_start``.
    instructions : int
        Guest instructions executed (from the program).
    translated_blocks, block_executions : int or None
        With ``count_blocks=True``: distinct blocks translated, and block executions.
    blocks : tuple
        With ``count_blocks=True``: ``(address, instructions, bytes)`` of each
        translated block, as the translation cache reports it (``ctl_request_cache``).
    missing : Missing or None
    """

    guest: str
    output: str = ""
    regs: dict = field(default_factory=dict)
    memory: bytes = b""
    mmio: tuple = ()
    seconds: float = 0.0
    instructions: int = 0
    translated_blocks: int | None = None
    block_executions: int | None = None
    blocks: tuple = ()
    missing: Missing | None = None

    @property
    def available(self) -> bool:
        return self.missing is None

    def dword(self, address: int) -> int:
        """The 32-bit little-endian word at guest-physical ``address``."""
        return int.from_bytes(self.memory[address:address + 4], "little")


def run_tcg(guest: Guest, *, count_blocks: bool = False, mmio_value: int = 0x55AA) -> TcgRun:
    """Run ``guest`` under unicorn (QEMU TCG) until its final ``hlt`` (never raises for the host).

    Parameters
    ----------
    guest : Guest
    count_blocks : bool
        Count translated blocks and block executions (slower: a hook per block).
    mmio_value : int
        What a read of the device register returns.
    """
    check_type("guest", guest, Guest)
    check_type("count_blocks", count_blocks, bool)
    check_int("mmio_value", mmio_value, minimum=0, maximum=0xFFFFFFFF)
    missing = module_missing("unicorn")
    if missing is not None:
        return TcgRun(guest.name, instructions=guest.instructions, missing=missing)
    # Optional heavy dependency (QEMU's TCG as a binary wheel): imported only here.
    import unicorn
    from unicorn import x86_const as X

    uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_32)
    uc.mem_map(0, RAM_SIZE)
    uc.mem_write(LOAD_ADDRESS, guest.code)
    for addr, blob in guest.data.items():
        uc.mem_write(addr, blob)
    uc.reg_write(X.UC_X86_REG_ESP, RAM_SIZE)
    output: list[str] = []
    mmio: list[tuple] = []

    def on_out(uc_, port, size, value, user):
        if port == SERIAL_PORT:
            output.append(chr(value & 0xFF))

    def on_in(uc_, port, size, user):
        return 0

    def mmio_read(uc_, offset, size, user):
        mmio.append((offset, False, mmio_value))
        return mmio_value

    def mmio_write(uc_, offset, size, value, user):
        mmio.append((offset, True, value))

    uc.hook_add(unicorn.UC_HOOK_INSN, on_out, None, 1, 0, X.UC_X86_INS_OUT)
    uc.hook_add(unicorn.UC_HOOK_INSN, on_in, None, 1, 0, X.UC_X86_INS_IN)
    if "MMIO" in guest.expected_exits:     # an MMIO mapping slows every memory access a bit
        uc.mmio_map(MMIO_BASE, 0x1000, mmio_read, None, mmio_write, None)
    executions: Counter = Counter()
    if count_blocks:
        def on_block(uc_, address, size, user):
            executions[address] += 1
        uc.hook_add(unicorn.UC_HOOK_BLOCK, on_block)
    end = LOAD_ADDRESS + len(guest.code) - 1        # the final hlt: stop before it
    t0 = time.perf_counter()
    uc.emu_start(LOAD_ADDRESS, end)
    seconds = time.perf_counter() - t0
    names = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip")
    regs = {n: uc.reg_read(getattr(X, f"UC_X86_REG_{n.upper()}")) for n in names}
    regs["eip"] = end + 1                           # as if the hlt had executed
    blocks = ()
    if count_blocks:
        blocks = tuple(tuple(tb)[:3] for tb in
                       (uc.ctl_request_cache(a) for a in sorted(executions)))
    return TcgRun(guest.name, output="".join(output), regs=regs,
                  memory=bytes(uc.mem_read(0, RAM_SIZE)), mmio=tuple(mmio), seconds=seconds,
                  instructions=guest.instructions,
                  translated_blocks=len(executions) if count_blocks else None,
                  block_executions=sum(executions.values()) if count_blocks else None,
                  blocks=blocks)
