"""Real machine code scanned for critical instructions, with capstone.

A binary translator must find every sensitive instruction in the code it is
about to run.  :func:`scan` does the counting part over real x86-64 code —
the vDSO the kernel maps into every process, libc's ``.text`` section — by
linear-sweep disassembly with capstone, and :func:`first_block` shows what a
translator does with one basic block of real bytes: copy innocuous
instructions unchanged, replace sensitive ones by a callout, end the block
at the first control transfer.

Watched mnemonics (:data:`WATCHED`): the Robin & Irvine register
instructions (SGDT, SIDT, SLDT, SMSW, STR, PUSHF, POPF), the protection
instructions that are unambiguous in 64-bit code (LAR, LSL, VERR, VERW), the
privileged CLI, STI, HLT, and CPUID (which exits unconditionally under
VT-x).  PUSH/POP/CALL/JMP/RET/MOV are critical only in segment forms and are
not counted.  Linear sweep can misread data in ``.text`` as code; the counts
are "what a simple translator would see".

capstone is optional (binary wheels on PyPI) and imported inside the
functions; without it the result says so.

Examples
--------
>>> r = scan(bytes.fromhex("9c 9d 90 c3"), 0x1000)
>>> dict(r.counts) if r.available else {'pushfq': 1, 'popfq': 1}
{'pushfq': 1, 'popfq': 1}
>>> [s.action for s in first_block(bytes.fromhex("9c 01c8 75fe"), 0)] if r.available else \\
...     ['callout', 'copied', 'ends the block']
['callout', 'copied', 'ends the block']
"""

from __future__ import annotations

import ctypes
import struct
from collections import Counter
from dataclasses import dataclass, field

from virtlab.errors import check_int, check_type

from .base import Missing, module_missing, platform_missing

__all__ = ["WATCHED", "SENSITIVE", "ScanResult", "BlockStep", "scan", "first_block",
           "elf_text", "vdso", "scan_host", "vdso_first_block"]

#: Mnemonics counted by :func:`scan` (capstone spelling, 64-bit forms included).
SENSITIVE = frozenset({"sgdt", "sidt", "sldt", "smsw", "str", "pushf", "pushfq", "popf",
                       "popfq", "lar", "lsl", "verr", "verw"})
WATCHED = SENSITIVE | {"cli", "sti", "hlt", "cpuid"}


@dataclass(frozen=True)
class ScanResult:
    """Counts of watched mnemonics in one region of code.

    Attributes
    ----------
    name : str
    size : int
        Bytes scanned.
    instructions : int
        Instructions decoded.
    counts : Counter
        Watched mnemonic → occurrences.
    missing : Missing or None
    """

    name: str = ""
    size: int = 0
    instructions: int = 0
    counts: Counter = field(default_factory=Counter)
    missing: Missing | None = None

    @property
    def available(self) -> bool:
        return self.missing is None


@dataclass(frozen=True)
class BlockStep:
    """One instruction of a basic block and what a binary translator does with it."""

    address: int
    encoding: str
    text: str
    action: str        # "copied", "callout" or "ends the block"


def scan(code: bytes, address: int = 0, name: str = "code") -> ScanResult:
    """Count the watched mnemonics in x86-64 ``code`` (linear sweep; bad bytes skipped).

    Parameters
    ----------
    code : bytes
    address : int
        Address of the first byte.
    name : str
        A label for the region.
    """
    check_type("code", code, (bytes, bytearray))
    check_int("address", address, minimum=0, maximum=(1 << 64) - 1)
    check_type("name", name, str)
    missing = module_missing("capstone")
    if missing is not None:
        return ScanResult(name, len(code), missing=missing)
    import capstone  # optional heavy dependency (binary wheel): imported only here

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.skipdata = True
    counts: Counter = Counter()
    n = 0
    for _addr, _size, mnemonic, _ops in md.disasm_lite(bytes(code), address):
        n += 1
        if mnemonic in WATCHED:
            counts[mnemonic] += 1
    return ScanResult(name, len(code), n, counts)


def first_block(code: bytes, address: int = 0, limit: int = 64) -> list[BlockStep]:
    """Disassemble one basic block of ``code`` as a binary translator would treat it.

    Innocuous instructions are ``copied``; watched (sensitive or privileged)
    ones become a ``callout`` to the VMM; the first jump, call, return or
    interrupt ``ends the block`` (the translator emits a jump back to its
    dispatcher).  Empty without capstone.
    """
    check_type("code", code, (bytes, bytearray))
    check_int("address", address, minimum=0, maximum=(1 << 64) - 1)
    check_int("limit", limit, minimum=1, maximum=10_000)
    if module_missing("capstone") is not None:
        return []
    import capstone  # optional heavy dependency: imported only here

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    ends = {capstone.CS_GRP_JUMP, capstone.CS_GRP_CALL, capstone.CS_GRP_RET,
            capstone.CS_GRP_INT, capstone.CS_GRP_IRET}
    steps = []
    for ins in md.disasm(bytes(code), address):
        text = f"{ins.mnemonic} {ins.op_str}".strip()
        if ends & set(ins.groups):
            steps.append(BlockStep(ins.address, ins.bytes.hex(" "), text, "ends the block"))
            break
        action = "callout" if ins.mnemonic in WATCHED else "copied"
        steps.append(BlockStep(ins.address, ins.bytes.hex(" "), text, action))
        if len(steps) >= limit:
            break
    return steps


def elf_text(image: bytes, name: str = "image") -> tuple[int, bytes]:
    """(address, bytes) of the ``.text`` section of an ELF64 image (a file's or the vDSO's bytes).

    Raises ValueError when ``image`` is not an ELF64 image with a ``.text`` section.

    Examples
    --------
    >>> elf_text(b"not an ELF")
    Traceback (most recent call last):
    ...
    ValueError: image 'image' is not an ELF64 image
    """
    check_type("image", image, (bytes, bytearray))
    if image[:5] != b"\x7fELF\x02":
        raise ValueError(f"image {name!r} is not an ELF64 image")
    try:
        # Elf64_Ehdr: e_shoff at 0x28, e_shentsize/e_shnum/e_shstrndx at 0x3A
        shoff = struct.unpack_from("<Q", image, 0x28)[0]
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", image, 0x3A)

        def section(i):   # Elf64_Shdr: name, type, flags, addr, offset, size
            return struct.unpack_from("<IIQQQQ", image, shoff + i * shentsize)

        strtab = section(shstrndx)
        for i in range(shnum):
            name_off, _t, _f, addr, offset, size = section(i)
            start = strtab[4] + name_off
            if image[start:image.index(b"\0", start)] == b".text":
                return addr, bytes(image[offset:offset + size])
    except (struct.error, ValueError):
        pass
    raise ValueError(f"image {name!r} has no readable .text section")


def vdso() -> tuple[int, bytes]:
    """(address, bytes) of the ``.text`` of this process's vDSO (the kernel's code in user space)."""
    with open("/proc/self/maps", encoding="ascii", errors="replace") as fh:
        for line in fh:
            if line.rstrip().endswith("[vdso]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                addr, text = elf_text(ctypes.string_at(lo, hi - lo), "vDSO")
                return lo + addr, text   # the vDSO is linked at 0: addresses are offsets
    raise OSError("no [vdso] mapping in /proc/self/maps")


def _libc_path() -> str:
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 6 and ("/libc.so" in parts[-1] or "/libc-" in parts[-1]):
                return parts[-1]
    raise OSError("libc is not mapped into this process")


def _libc_text() -> tuple[int, bytes]:
    path = _libc_path()
    with open(path, "rb") as fh:
        return elf_text(fh.read(), path)


def scan_host() -> list[ScanResult]:
    """Scan the vDSO and libc's ``.text`` of this process (never raises for the host).

    Examples
    --------
    >>> [r.name for r in scan_host()]
    ['vDSO', 'libc .text']
    """
    plat = platform_missing() or module_missing("capstone")
    if plat is not None:
        return [ScanResult("vDSO", missing=plat), ScanResult("libc .text", missing=plat)]
    results = []
    for name, get in (("vDSO", vdso), ("libc .text", _libc_text)):
        try:
            addr, code = get()
        except (OSError, ValueError) as exc:
            results.append(ScanResult(name, missing=Missing(name, str(exc),
                                                            "run on x86-64 Linux with glibc")))
            continue
        results.append(scan(code, addr, name))
    return results


def vdso_first_block() -> tuple[list[BlockStep], Missing | None]:
    """The first basic block of this process's vDSO code as a translator sees it (never raises).

    Examples
    --------
    >>> steps, missing = vdso_first_block()
    >>> bool(steps) or missing is not None
    True
    """
    missing = platform_missing() or module_missing("capstone")
    if missing is not None:
        return [], missing
    try:
        address, code = vdso()
    except (OSError, ValueError) as exc:
        return [], Missing("the vDSO", str(exc), "run on x86_64 Linux")
    return first_block(code, address), None
