"""Guest programs for the real machine: x86 bytes with their listing.

Each guest is 32-bit protected-mode code (flat segments, no paging), loaded at
guest-physical :data:`LOAD_ADDRESS`.  The same bytes run under ``/dev/kvm``
(:mod:`virtlab.host.vmm`) and under QEMU's TCG (:mod:`virtlab.host.tcg`).
Every guest is written as (bytes, listing line) pairs, and a test
disassembles the bytes with capstone and demands exactly the listed
instructions — so the listing shown in the notebook is what the CPU runs.

The guests mirror the course's own notation: :data:`HELLO` is
:data:`virtlab.hypervisor.kvm.HELLO_GUEST` (the KVM model's guest) in real
x86, :func:`compute` is :func:`virtlab.hypervisor.microbench.compute_loop`.
The model's memory is word-addressed, so the model's word address ``w`` is
byte address ``4*w`` here (the model's ``MOV [0x100], EBX`` is
``mov dword ptr [0x400], ebx``).

Examples
--------
>>> HELLO.code[:5].hex()
'be00040000'
>>> HELLO.listing()[0]
'0x1000  be 00 04 00 00         mov esi, 0x400'
>>> compute(10).instructions
53
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from virtlab.errors import check_int, check_str

__all__ = ["Guest", "LOAD_ADDRESS", "RAM_SIZE", "MMIO_BASE", "SERIAL_PORT", "HELLO",
           "HALT", "MMIO", "GUESTS", "compute", "native_compute", "out_loop"]

#: Where the guest's code is loaded (guest-physical).
LOAD_ADDRESS = 0x1000
#: Guest RAM: one memory slot from guest-physical 0.
RAM_SIZE = 0x10000
#: First address above RAM; accesses there are MMIO (as in the KVM model).
MMIO_BASE = 0x100000
#: The serial port the guests print through (COM1, as in the KVM model).
SERIAL_PORT = 0x3F8


@dataclass(frozen=True)
class Guest:
    """A guest program: x86 code, its listing, data and the exits it should cause.

    Attributes
    ----------
    name : str
    code : bytes
        Machine code loaded at :data:`LOAD_ADDRESS`.
    lines : tuple of (bytes, str)
        One (encoding, assembly text in capstone's syntax) pair per instruction.
    data : dict of int to bytes
        Initial RAM contents (guest-physical address → bytes).
    expected_exits : tuple of str
        The KVM exit reasons, in order, a correct run produces.
    description : str
    instructions : int
        Instructions executed by a run to the final ``hlt``.
    """

    name: str
    lines: tuple
    data: dict = field(default_factory=dict)
    expected_exits: tuple = ()
    description: str = ""
    instructions: int = 0

    @property
    def code(self) -> bytes:
        return b"".join(enc for enc, _ in self.lines)

    def listing(self) -> list[str]:
        """Address, bytes and instruction per line, as a disassembler prints them."""
        out, addr = [], LOAD_ADDRESS
        for enc, text in self.lines:
            out.append(f"{addr:#06x}  {enc.hex(' '):<22} {text}")
            addr += len(enc)
        return out


def _u32(v: int) -> bytes:
    return struct.pack("<I", v & 0xFFFFFFFF)


#: Prints "Hello!" through port 0x3F8 (one KVM_EXIT_IO per character), reads
#: the device register at MMIO_BASE and writes it to MMIO_BASE+4 (two
#: KVM_EXIT_MMIO), then halts (KVM_EXIT_HLT): the KVM model's HELLO_GUEST.
HELLO = Guest(
    name="hello",
    lines=(
        (b"\xbe" + _u32(0x400), "mov esi, 0x400"),
        (b"\x66\xba" + struct.pack("<H", SERIAL_PORT), "mov dx, 0x3f8"),
        (b"\x8a\x06", "mov al, byte ptr [esi]"),             # next: (0x1009)
        (b"\x84\xc0", "test al, al"),
        (b"\x74\x04", "je 0x1013"),
        (b"\xee", "out dx, al"),                              # KVM_EXIT_IO
        (b"\x46", "inc esi"),
        (b"\xeb\xf6", "jmp 0x1009"),
        (b"\x8b\x1d" + _u32(MMIO_BASE), "mov ebx, dword ptr [0x100000]"),   # MMIO read
        (b"\x89\x1d" + _u32(MMIO_BASE + 4), "mov dword ptr [0x100004], ebx"),  # MMIO write
        (b"\xf4", "hlt"),
    ),
    data={0x400: b"Hello!\0"},
    expected_exits=("IO",) * 6 + ("MMIO", "MMIO", "HLT"),
    description="prints Hello! on the serial port, reads and writes a device register, halts",
    instructions=2 + 6 * 6 + 3 + 3,
)

#: The smallest guest: one HLT.
HALT = Guest(name="halt", lines=((b"\xf4", "hlt"),), expected_exits=("HLT",),
             description="halts at once", instructions=1)

#: Touches memory that no slot maps: a read and a write become KVM_EXIT_MMIO.
MMIO = Guest(
    name="mmio",
    lines=(
        (b"\xb8" + _u32(0x2A), "mov eax, 0x2a"),
        (b"\xa3" + _u32(MMIO_BASE + 8), "mov dword ptr [0x100008], eax"),   # MMIO write
        (b"\x8b\x0d" + _u32(MMIO_BASE + 8), "mov ecx, dword ptr [0x100008]"),  # MMIO read
        (b"\xf4", "hlt"),
    ),
    expected_exits=("MMIO", "MMIO", "HLT"),
    description="writes 42 to an unmapped address, reads it back (the VMM answers), halts",
    instructions=4,
)

#: The three guests of the VMM demonstration.
GUESTS = {g.name: g for g in (HELLO, HALT, MMIO)}


def compute(iterations: int) -> Guest:
    """The compute-bound loop of :func:`virtlab.hypervisor.microbench.compute_loop` in x86.

    ``2 + 5*iterations + 1`` instructions; no exit until the final ``hlt``.

    Examples
    --------
    >>> g = compute(3)
    >>> g.listing()[2].split(None, 1)[0], g.lines[2][1]
    ('0x100a', 'add eax, ecx')
    """
    n = check_int("iterations", iterations, minimum=1, maximum=0xFFFFFFFF)
    return Guest(
        name="compute",
        lines=(
            (b"\xb9" + _u32(n), f"mov ecx, {n:#x}" if n > 9 else f"mov ecx, {n}"),
            (b"\xbb" + _u32(0), "mov ebx, 0"),
            (b"\x01\xc8", "add eax, ecx"),                           # loop: (0x100a)
            (b"\x31\xc3", "xor ebx, eax"),
            (b"\x89\x1d" + _u32(0x400), "mov dword ptr [0x400], ebx"),
            (b"\x49", "dec ecx"),
            (b"\x75\xf3", "jne 0x100a"),
            (b"\xf4", "hlt"),
        ),
        expected_exits=("HLT",),
        description="the compute loop of the cost-model benchmark (5 instructions per iteration)",
        instructions=2 + 5 * n + 1,
    )


def out_loop(iterations: int) -> Guest:
    """A loop of ``OUT`` instructions to port 0x80: one KVM_EXIT_IO per iteration.

    What an exit round trip to user space costs (VM exit, return from ``KVM_RUN``,
    the VMM's dispatch, ``KVM_RUN`` again, VM entry) is its time per exit.

    Examples
    --------
    >>> out_loop(3).expected_exits
    ('IO', 'IO', 'IO', 'HLT')
    """
    n = check_int("iterations", iterations, minimum=1, maximum=10_000_000)
    return Guest(
        name="out_loop",
        lines=(
            (b"\xb9" + _u32(n), f"mov ecx, {n:#x}" if n > 9 else f"mov ecx, {n}"),
            (b"\x66\xba\x80\x00", "mov dx, 0x80"),
            (b"\xee", "out dx, al"),                                # loop: (0x1009)
            (b"\x49", "dec ecx"),
            (b"\x75\xfc", "jne 0x1009"),
            (b"\xf4", "hlt"),
        ),
        expected_exits=("IO",) * n + ("HLT",),
        description="writes to port 0x80 in a loop: one exit to the VMM per iteration",
        instructions=2 + 3 * n + 1,
    )


def native_compute() -> tuple[bytes, list[str]]:
    """The same loop as an x86-64 function ``uint32 f(uint32 n, uint32 *mem)`` for ctypes.

    The loop body is the guest's five instructions; the store goes through
    ``rsi`` (the ``mem`` argument) instead of an absolute address, and the
    prologue saves ``rbx`` (callee-saved in the System V ABI).

    Examples
    --------
    >>> code, text = native_compute()
    >>> text[4:9]
    ['add eax, ecx', 'xor ebx, eax', 'mov dword ptr [rsi], ebx', 'dec ecx', 'jne 7']
    """
    lines = [(b"\x53", "push rbx"), (b"\x89\xf9", "mov ecx, edi"), (b"\x31\xc0", "xor eax, eax"),
             (b"\x31\xdb", "xor ebx, ebx"),
             (b"\x01\xc8", "add eax, ecx"), (b"\x31\xc3", "xor ebx, eax"),
             (b"\x89\x1e", "mov dword ptr [rsi], ebx"), (b"\xff\xc9", "dec ecx"),
             (b"\x75\xf6", "jne 7"), (b"\x5b", "pop rbx"), (b"\xc3", "ret")]
    return b"".join(e for e, _ in lines), [t for _, t in lines]


def _check_name(name: str) -> Guest:
    check_str("name", name)
    if name not in GUESTS:
        raise ValueError(f"name must be one of {sorted(GUESTS)}, got {name!r}")
    return GUESTS[name]
