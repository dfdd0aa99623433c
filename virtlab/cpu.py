"""The model CPU (*Prozessor*): state, reference semantics, interpreter, block compiler.

State
-----
General registers EAX..EDI (ESP is the stack pointer), EIP (``pc``, a code
address), the arithmetic flags ZF SF CF OF, the interrupt flag IF and IOPL,
the privilege ring (*Ring*) 0-3, control state the lecture names — CR0 (its
low 16 bits are the machine status word MSW), CR2, CR3 (page-table base),
CR4, GDTR, IDTR, LDTR, TR — debug registers, model-specific registers, data
segment registers DS/ES (CS and SS carry the current ring in their low two
bits, as on x86), word-addressed memory, I/O ports (reads from a port map,
writes go to ``out_log``), an interrupt line (:meth:`CPU.raise_irq`) and
counters (retired instructions, traps, events).

The privileged part of the state lives in a :class:`PrivState`.  A CPU owns
one (``cpu.real``, the real machine); a hypervisor keeps another one per
virtual CPU (``vcpu``) and emulates privileged instructions against it —
the same :func:`execute` semantics, applied to a different PrivState.

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

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from itertools import repeat
from operator import length_hint
from typing import Any, Callable

from .asm import MASK, REGS, Instruction, Program, check_program
from .errors import check_int, check_type
from .isa import ISA, X86_32, get_isa

__all__ = ["CPU", "PrivState", "GuestState", "GuestTrap", "execute", "interpret",
           "interpret_step", "BlockCompiler", "run_blocks", "run_native", "native_special",
           "is_plain", "deliver_trap", "flags_word", "MEMORY_WORDS", "HOST_STATE",
           "VECTOR_DE", "VECTOR_UD", "VECTOR_GP", "mmio_decode", "mmio_complete", "PT_WORDS"]

M = MASK
MEMORY_WORDS = 4096
#: Words of guest page table watched for writes (from CR3).
PT_WORDS = 64
MAX_MEMORY_WORDS = 1 << 20
VECTOR_DE, VECTOR_UD, VECTOR_GP = 0, 6, 13
ES, CS, SS, DS = 0, 1, 2, 3
IOPL_SENSITIVE = frozenset({"CLI", "STI", "IN", "OUT"})
_LOAD_DT = {"LGDT": "gdtr", "LIDT": "idtr", "LLDT": "ldtr", "LTR": "tr"}

#: CR0 after boot: PE (protected mode) | ET.
CR0_BOOT = 0x11
#: What the real machine holds while a hypervisor runs a guest deprivileged.
HOST_STATE = {"gdtr": 0xFFC0_1000, "idtr": 0xFFC0_2000, "ldtr": 0x30, "tr": 0x28,
              "cr0": 0x8005_003B, "cr3": 0x0070_0000, "cr4": 0x0000_06F0,
              "if_": True, "iopl": 0}


class GuestTrap(Exception):
    """A trap/exception raised by an instruction (vector, faulting EIP)."""

    def __init__(self, vector: int, pc: int, reason: str = ""):
        super().__init__(vector, pc, reason)
        self.vector = vector
        self.pc = pc
        self.reason = reason


class PrivState:
    """Privileged CPU state: ring, IF/IOPL, CRs, DRs, descriptor-table registers, MSRs.

    Examples
    --------
    >>> p = PrivState()
    >>> p.cpl, p.if_, p.cr[0] == CR0_BOOT
    (0, False, True)
    >>> q = p.copy(); q.cr[3] = 7; p.cr[3]
    0
    """

    __slots__ = ("cpl", "if_", "iopl", "cr", "dr", "gdtr", "idtr", "ldtr", "tr", "msrs")

    def __init__(self):
        self.cpl = 0
        self.if_ = False
        self.iopl = 0
        self.cr = {0: CR0_BOOT, 2: 0, 3: 0, 4: 0}
        self.dr = [0] * 8
        self.gdtr = 0
        self.idtr = 0
        self.ldtr = 0
        self.tr = 0
        self.msrs: dict[int, int] = {}

    def copy(self) -> PrivState:
        """An independent copy."""
        q = PrivState()
        q.cpl, q.if_, q.iopl = self.cpl, self.if_, self.iopl
        q.cr, q.dr, q.msrs = dict(self.cr), list(self.dr), dict(self.msrs)
        q.gdtr, q.idtr, q.ldtr, q.tr = self.gdtr, self.idtr, self.ldtr, self.tr
        return q

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for GuestState and the debugger)."""
        return {"cpl": self.cpl, "if_": bool(self.if_), "iopl": self.iopl,
                "cr0": self.cr[0], "cr2": self.cr[2], "cr3": self.cr[3], "cr4": self.cr[4],
                "dr": tuple(self.dr), "gdtr": self.gdtr, "idtr": self.idtr,
                "ldtr": self.ldtr, "tr": self.tr, "msrs": tuple(sorted(self.msrs.items()))}

    @classmethod
    def host(cls) -> PrivState:
        """The state the real CPU has while a VMM runs a guest deprivileged."""
        p = cls()
        for k in ("gdtr", "idtr", "ldtr", "tr", "iopl"):
            setattr(p, k, HOST_STATE[k])
        p.if_ = HOST_STATE["if_"]
        p.cr[0], p.cr[3], p.cr[4] = HOST_STATE["cr0"], HOST_STATE["cr3"], HOST_STATE["cr4"]
        return p


@dataclass(frozen=True)
class GuestState:
    """Everything a guest can observe about itself, for equivalence checks.

    ``diff(other)`` names the fields that differ (``"EAX"``, ``"if_"``,
    ``"mem[260]"``, ...).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> a = CPU(assemble("HLT")).state()
    >>> a.diff(a)
    []
    """

    regs: tuple
    pc: int
    zf: int
    sf: int
    cf: int
    of: int
    if_: bool
    iopl: int
    cpl: int
    ds: int
    es: int
    cr0: int
    cr2: int
    cr3: int
    cr4: int
    dr: tuple
    gdtr: int
    idtr: int
    ldtr: int
    tr: int
    msrs: tuple
    memory: tuple = field(repr=False)
    out_log: tuple
    halted: bool
    fault: str | None
    icount: int

    def diff(self, other: GuestState) -> list[str]:
        """Names of the fields that differ from ``other``."""
        check_type("other", other, GuestState)
        out = []
        for i, (a, b) in enumerate(zip(self.regs, other.regs)):
            if a != b:
                out.append(REGS[i])
        for name in ("pc", "zf", "sf", "cf", "of", "if_", "iopl", "cpl", "ds", "es", "cr0",
                     "cr2", "cr3", "cr4", "dr", "gdtr", "idtr", "ldtr", "tr", "msrs",
                     "out_log", "halted", "fault", "icount"):
            if getattr(self, name) != getattr(other, name):
                out.append(name)
        if self.memory != other.memory:
            diffs = [i for i, (a, b) in enumerate(zip(self.memory, other.memory)) if a != b]
            out += [f"mem[{i}]" for i in diffs[:8]]
            if len(self.memory) != len(other.memory):
                out.append("memory size")
        return out

    def registers(self) -> dict[str, int]:
        """General registers by name."""
        return dict(zip(REGS, self.regs))


class CPU:
    """One processor with its memory, ports and counters.

    Parameters
    ----------
    program : Program
        The guest code (code addresses 0..len-1).
    isa : ISA or str
        Which instructions trap in user mode (default: the program's ISA).
    memory_words : int
        Size of guest memory in 32-bit words (default 4096).
    ports : mapping of int to int, optional
        Values returned by ``IN`` per port (default: the port number & 0xFF).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("MOV EAX, 1\\nHLT"), memory_words=64)
    >>> len(c.mem), c.pc, c.real.cpl
    (64, 0, 0)
    """

    def __init__(self, program: Program, *, isa: ISA | str | None = None,
                 memory_words: int = MEMORY_WORDS, ports: dict | None = None):
        self.program = check_program(program)
        self.isa = get_isa(isa if isa is not None else program.isa)
        check_int("memory_words", memory_words, minimum=16, maximum=MAX_MEMORY_WORDS)
        for addr in program.data:
            if addr >= memory_words:
                raise ValueError(f"memory_words ({memory_words}) is too small for the "
                                 f"program's .word data at address {addr}")
        if ports is None:
            ports = {}
        check_type("ports", ports, dict)
        for k, v in ports.items():
            check_int("ports key", k, minimum=0, maximum=0xFFFF)
            check_int(f"ports[{k}]", v, minimum=0, maximum=M)
        self.ports = dict(ports)
        self.memory_words = memory_words
        self.regs = [0] * 8
        self.regs[4] = memory_words  # ESP: stack at the top of memory, grows down
        self.pc = program.entry
        self.zf = self.sf = self.cf = self.of = 0
        self.sregs = [0x10, 0x08, 0x10, 0x10]
        self.real = PrivState()
        #: Where descriptor lookups (LAR/LSL/VERR/VERW) find the guest's GDT.
        self.gdt_owner: PrivState = self.real
        self.mem = [0] * memory_words
        #: Write-watch map: 1 for words of the guest page table (CR3 .. CR3+PT_WORDS).
        self.wp = bytearray(memory_words)
        for addr, v in program.data.items():
            self.mem[addr] = v
        self.out_log: list[tuple[int, int]] = []
        self.halted = False
        self.fault: str | None = None
        self.irq: int | None = None
        #: Optional MMIO hook ``mmio(cpu, pc, addr) -> next pc`` (see memfault).
        self.mmio: Callable | None = None
        self.icount = 0
        #: Instruction budget of the current run (self-loop blocks stop at it).
        self.limit = 1 << 62
        self.ev: dict[str, int] = {}
        # Which instructions trap in rings 1-3.  VT-x does not change what traps
        # in user mode, so X86_VTX uses the X86_32 protection rules (plus VMX).
        ring_isa = X86_32 if self.isa.vmx else self.isa
        self._privileged = frozenset(m for m in ring_isa if ring_isa[m].privileged) | (
            frozenset({"VMCALL"}) if self.isa.vmx else frozenset())
        #: The interpreter's decoded program (built on the first interpret()).
        self._interp: tuple | None = None

    # -- helpers ------------------------------------------------------------
    def count(self, event: str, n: int = 1) -> None:
        """Add ``n`` to the event counter ``event``."""
        self.ev[event] = self.ev.get(event, 0) + n

    def traps_at(self, ins: Instruction, p: PrivState) -> bool:
        """Whether ``ins`` traps (#GP) when executed with privileged state ``p``."""
        if not ins.sensitive_form or ins.key not in self._privileged:
            return False
        if ins.key in IOPL_SENSITIVE:
            return p.cpl > p.iopl
        return p.cpl > 0

    def set_pt_base(self, base: int) -> None:
        """Move the watched page-table region to ``base`` (on a CR3 write)."""
        self.wp[:] = bytes(self.memory_words)
        if 0 < base < self.memory_words:
            end = min(base + PT_WORDS, self.memory_words)
            self.wp[base:end] = b"\x01" * (end - base)

    def raise_irq(self, vector: int) -> None:
        """Raise the interrupt line with ``vector`` (delivered when IF = 1).

        Examples
        --------
        >>> from virtlab.asm import assemble
        >>> c = CPU(assemble("HLT")); c.raise_irq(32); c.irq
        32
        """
        self.irq = check_int("vector", vector, minimum=0, maximum=255)

    def memfault(self, pc: int, addr: int) -> int:
        """An access outside guest RAM: MMIO if ``self.mmio`` is set, else stop (-1).

        ``self.mmio(cpu, pc, addr)`` (set by a hypervisor) handles the
        instruction at ``pc`` as memory-mapped I/O and returns the next EIP.
        """
        if self.mmio is not None and 0 <= pc < len(self.program):
            return self.mmio(self, pc, addr)
        self.fault = f"memory access at address {addr} outside guest memory (pc {pc})"
        self.pc = pc
        return -1

    def flags_word(self, p: PrivState) -> int:
        """EFLAGS as PUSHF stores it (CF bit 0, ZF 6, SF 7, IF 9, OF 11, IOPL 12-13)."""
        return flags_word(self, p)

    def state(self, priv: PrivState | None = None, cpl: int | None = None) -> GuestState:
        """The guest-visible state; ``priv`` = the guest's privileged state."""
        p = self.real if priv is None else priv
        d = p.as_dict()
        return GuestState(
            regs=tuple(self.regs), pc=self.pc, zf=int(bool(self.zf)), sf=int(bool(self.sf)),
            cf=int(bool(self.cf)), of=int(bool(self.of)), if_=d["if_"], iopl=d["iopl"],
            cpl=d["cpl"] if cpl is None else cpl, ds=self.sregs[DS], es=self.sregs[ES],
            cr0=d["cr0"], cr2=d["cr2"], cr3=d["cr3"], cr4=d["cr4"], dr=d["dr"],
            gdtr=d["gdtr"], idtr=d["idtr"], ldtr=d["ldtr"], tr=d["tr"], msrs=d["msrs"],
            memory=tuple(self.mem), out_log=tuple(self.out_log), halted=self.halted,
            fault=self.fault, icount=self.icount)


def flags_word(c: CPU, p: PrivState) -> int:
    """EFLAGS from the arithmetic flags in ``c`` and IF/IOPL in ``p``.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("HLT")); c.zf = 1; c.real.if_ = True
    >>> hex(flags_word(c, c.real))
    '0x242'
    """
    return (2 | (1 if c.cf else 0) | (0x40 if c.zf else 0) | (0x80 if c.sf else 0)
            | (0x200 if p.if_ else 0) | (0x800 if c.of else 0) | ((p.iopl & 3) << 12))


def _cs(p: PrivState) -> int:
    return (0x08 if p.cpl < 3 else 0x18) | p.cpl


def _ss(p: PrivState) -> int:
    return (0x10 if p.cpl < 3 else 0x20) | p.cpl


def _push(c: CPU, value: int, pc: int) -> None:
    a = (c.regs[4] - 1) & M
    if a >= c.memory_words:
        raise _MemFault(pc, a)
    c.mem[a] = value & M
    c.regs[4] = a


def _pop(c: CPU, pc: int) -> int:
    a = c.regs[4]
    if a >= c.memory_words:
        raise _MemFault(pc, a)
    c.regs[4] = (a + 1) & M
    return c.mem[a]


class _MemFault(Exception):
    def __init__(self, pc, addr):
        super().__init__(pc, addr)
        self.pc, self.addr = pc, addr


def _addr(c: CPU, op: tuple, pc: int) -> int:
    a = ((c.regs[op[1]] if op[1] >= 0 else 0) + op[2]) & M
    if a >= c.memory_words:
        raise _MemFault(pc, a)
    return a


def _read(c: CPU, op: tuple, pc: int) -> int:
    k = op[0]
    if k == "r":
        return c.regs[op[1]]
    if k == "i" or k == "l":
        return op[1]
    if k == "m":
        return c.mem[_addr(c, op, pc)]
    raise AssertionError(op)  # pragma: no cover - the assembler checks forms


def _descriptor(c: CPU, p: PrivState, sel: int):
    """(present, dpl, writable, limit, word) of GDT entry ``sel`` or None."""
    idx = (sel & 0xFFFF) >> 3
    if idx == 0:
        return None
    a = c.gdt_owner.gdtr + idx
    if c.gdt_owner.gdtr == 0 or a >= c.memory_words:
        return None
    w = c.mem[a]
    return bool(w & 4), w & 3, bool(w & 8), w >> 8, w


def _accessible(c: CPU, p: PrivState, sel: int):
    d = _descriptor(c, p, sel)
    if d is None or not d[0]:
        return None
    if d[1] < max(p.cpl, sel & 3):
        return None
    return d


def _set_logic_flags(c: CPU, res: int) -> None:
    c.zf = res == 0
    c.sf = res >> 31
    c.cf = 0
    c.of = 0


def _alu(c: CPU, mn: str, a: int, b: int) -> int | None:
    """Reference ALU; returns the result (None for CMP/TEST) and sets flags."""
    if mn == "ADD":
        t = a + b
        r = t & M
        c.cf, c.of = t >> 32, ((a ^ r) & (b ^ r)) >> 31
    elif mn in ("SUB", "CMP"):
        r = (a - b) & M
        c.cf, c.of = int(a < b), ((a ^ b) & (a ^ r)) >> 31
    elif mn in ("AND", "TEST"):
        r = a & b
        c.cf = c.of = 0
    elif mn == "OR":
        r = a | b
        c.cf = c.of = 0
    elif mn == "XOR":
        r = a ^ b
        c.cf = c.of = 0
    elif mn == "IMUL":
        sa = a - (1 << 32) if a >> 31 else a
        sb = b - (1 << 32) if b >> 31 else b
        full = sa * sb
        r = full & M
        sr = r - (1 << 32) if r >> 31 else r
        c.cf = c.of = int(full != sr)
    elif mn == "SHL":
        n = b & 31
        if n == 0:
            return a
        r = (a << n) & M
        c.cf, c.of = (a >> (32 - n)) & 1, 0
    elif mn == "SHR":
        n = b & 31
        if n == 0:
            return a
        r = a >> n
        c.cf, c.of = (a >> (n - 1)) & 1, 0
    else:  # pragma: no cover
        raise AssertionError(mn)
    c.zf = r == 0
    c.sf = r >> 31
    return None if mn in ("CMP", "TEST") else r


_COND = {
    "JZ": lambda c: c.zf, "JNZ": lambda c: not c.zf,
    "JL": lambda c: bool(c.sf) != bool(c.of), "JGE": lambda c: bool(c.sf) == bool(c.of),
    "JG": lambda c: not c.zf and bool(c.sf) == bool(c.of),
    "JLE": lambda c: c.zf or bool(c.sf) != bool(c.of),
}


def deliver_trap(c: CPU, p: PrivState, vector: int, return_pc: int) -> int:
    """Deliver a trap/interrupt through the IDT of ``p``; return the handler EIP.

    Pushes the return EIP and the interrupted CS, switches ``p`` to ring 0.
    If the IDT has no entry the machine stops (a "triple fault") and -1 is
    returned.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("HLT")); deliver_trap(c, c.real, 13, 0)
    -1
    >>> c.fault
    'no IDT entry for vector 13 (triple fault) at pc 0'
    """
    handler = c.mem[p.idtr + vector] if p.idtr and p.idtr + vector < c.memory_words else 0
    if not 0 < handler < len(c.program):
        c.fault = f"no IDT entry for vector {vector} (triple fault) at pc {return_pc}"
        c.pc = return_pc
        return -1
    try:
        _push(c, return_pc, return_pc)
        _push(c, _cs(p), return_pc)
    except _MemFault as f:
        return c.memfault(f.pc, f.addr)
    p.cpl = 0
    return handler


def execute(c: CPU, ins: Instruction, pc: int, p: PrivState) -> int:
    """Reference semantics of one instruction; return the next EIP (-1 = stop).

    Privileged state is read and written in ``p`` (the real CPU's state, or
    a VMM's virtual CPU).  Raises :class:`GuestTrap` for #GP/#DE/#UD and for
    ``INT n`` (vector n, return EIP = pc + 1): the caller decides who
    handles it.  Memory faults stop the machine.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> prog = assemble("POPF")
    >>> c = CPU(prog); c.regs[4] = 10; c.mem[10] = 0x200   # IF set in the image
    >>> p = c.real; p.cpl = 1                             # deprivileged kernel
    >>> execute(c, prog[0], 0, p), p.if_                  # IF change dropped
    (1, False)
    >>> p.cpl = 0; c.regs[4] = 10
    >>> execute(c, prog[0], 0, p), p.if_
    (1, True)
    """
    try:
        return _execute(c, ins, pc, p)
    except _MemFault as f:
        return c.memfault(f.pc, f.addr)


def _execute(c: CPU, ins: Instruction, pc: int, p: PrivState) -> int:
    mn = ins.mnemonic
    ops = ins.operands
    regs = c.regs
    nxt = pc + 1
    if c.traps_at(ins, p):
        raise GuestTrap(VECTOR_GP, pc, f"{ins.key} in ring {p.cpl}")
    if mn == "MOV":
        d, s = ops
        kd, ks = d[0], s[0]
        if kd == "r":
            if ks == "s":
                v = _cs(p) if s[1] == CS else _ss(p) if s[1] == SS else c.sregs[s[1]]
            elif ks == "c":
                v = p.cr[s[1]]
            elif ks == "d":
                v = p.dr[s[1]]
            else:
                v = _read(c, s, pc)
            regs[d[1]] = v
        elif kd == "m":
            v = _read(c, s, pc)
            a = _addr(c, d, pc)
            c.mem[a] = v
            if c.wp[a]:
                c.count("pt_writes")
        elif kd == "s":
            c.sregs[d[1]] = regs[s[1]] & 0xFFFF
        elif kd == "c":
            v = regs[s[1]]
            p.cr[d[1]] = v
            c.count("cr_writes")
            if d[1] == 3:
                c.set_pt_base(v)
        elif kd == "d":
            p.dr[d[1]] = regs[s[1]]
        return nxt
    if mn in ("ADD", "SUB", "AND", "OR", "XOR", "CMP", "TEST", "IMUL", "SHL", "SHR"):
        d, s = ops
        r = _alu(c, mn, regs[d[1]], _read(c, s, pc))
        if r is not None:
            regs[d[1]] = r
        return nxt
    if mn in ("INC", "DEC"):
        a = regs[ops[0][1]]
        r = (a + 1) & M if mn == "INC" else (a - 1) & M
        c.of = r == (0x80000000 if mn == "INC" else 0x7FFFFFFF)
        c.zf, c.sf = r == 0, r >> 31
        regs[ops[0][1]] = r
        return nxt
    if mn == "NEG":
        a = regs[ops[0][1]]
        r = (-a) & M
        c.cf, c.of, c.zf, c.sf = int(a != 0), a == 0x80000000, r == 0, r >> 31
        regs[ops[0][1]] = r
        return nxt
    if mn == "NOT":
        regs[ops[0][1]] = ~regs[ops[0][1]] & M
        return nxt
    if mn == "DIV":
        b = regs[ops[0][1]]
        if b == 0:
            raise GuestTrap(VECTOR_DE, pc, "divide by zero")
        a = regs[0]
        regs[0], regs[2] = a // b, a % b
        return nxt
    if mn == "NOP":
        return nxt
    if mn in _COND:
        return ops[0][1] if _COND[mn](c) else nxt
    if mn == "JMP":
        return ops[0][1]
    if mn == "CALL":
        _push(c, nxt, pc)
        return ops[0][1]
    if mn == "RET":
        return _pop(c, pc)
    if mn == "PUSH":
        op = ops[0]
        if op[0] == "s":
            v = _cs(p) if op[1] == CS else _ss(p) if op[1] == SS else c.sregs[op[1]]
        else:
            v = _read(c, op, pc)
        _push(c, v, pc)
        return nxt
    if mn == "POP":
        op = ops[0]
        v = _pop(c, pc)
        if op[0] == "s":
            c.sregs[op[1]] = v & 0xFFFF
        else:
            regs[op[1]] = v
        return nxt
    if mn == "PUSHF":
        _push(c, flags_word(c, p), pc)
        return nxt
    if mn == "POPF":
        v = _pop(c, pc)
        c.cf, c.zf, c.sf, c.of = v & 1, (v >> 6) & 1, (v >> 7) & 1, (v >> 11) & 1
        if p.cpl <= p.iopl:          # otherwise the IF change is silently dropped
            p.if_ = bool(v & 0x200)
        if p.cpl == 0:
            p.iopl = (v >> 12) & 3
        return nxt
    if mn == "CLI":
        p.if_ = False
        return nxt
    if mn == "STI":
        p.if_ = True
        return nxt
    if mn == "HLT":
        c.halted = True
        c.pc = nxt
        return -1
    if mn == "IN":
        c.count("io")
        port = ops[1][1] & 0xFFFF
        regs[ops[0][1]] = c.ports.get(port, port & 0xFF)
        return nxt
    if mn == "OUT":
        c.count("io")
        c.out_log.append((ops[0][1] & 0xFFFF, regs[ops[1][1]]))
        return nxt
    if mn in _LOAD_DT:
        setattr(p, _LOAD_DT[mn], regs[ops[0][1]] & (M if mn in ("LGDT", "LIDT") else 0xFFFF))
        return nxt
    if mn in ("SGDT", "SIDT"):
        regs[ops[0][1]] = p.gdtr if mn == "SGDT" else p.idtr
        return nxt
    if mn == "SLDT":
        regs[ops[0][1]] = p.ldtr
        return nxt
    if mn == "STR":
        regs[ops[0][1]] = p.tr
        return nxt
    if mn == "SMSW":
        regs[ops[0][1]] = p.cr[0] & 0xFFFF
        return nxt
    if mn == "LMSW":
        p.cr[0] = (p.cr[0] & ~0xF) | (regs[ops[0][1]] & 0xF) | (p.cr[0] & 1)
        return nxt
    if mn == "CLTS":
        p.cr[0] &= ~0x8
        return nxt
    if mn == "INVLPG":
        return nxt
    if mn == "RDMSR":
        regs[0] = p.msrs.get(regs[1], 0)
        return nxt
    if mn == "WRMSR":
        p.msrs[regs[1]] = regs[0]
        return nxt
    if mn in ("LAR", "LSL"):
        d = _accessible(c, p, regs[ops[1][1]])
        if d is None:
            c.zf = False
        else:
            c.zf = True
            regs[ops[0][1]] = ((d[4] & 0xFF) << 8) if mn == "LAR" else d[3]
        return nxt
    if mn in ("VERR", "VERW"):
        d = _accessible(c, p, regs[ops[0][1]])
        c.zf = d is not None and (mn == "VERR" or d[2])
        return nxt
    if mn == "INT":
        raise GuestTrap(ops[0][1] & 0xFF, nxt, "INT")
    if mn == "SYSEXIT":
        p.cpl = 3
        c.regs[4] = regs[1]
        return regs[2]
    if mn == "VMCALL":
        raise GuestTrap(VECTOR_UD, pc, "VMCALL outside VMX non-root operation")
    raise AssertionError(f"no semantics for {mn}")  # pragma: no cover


def is_plain(ins: Instruction) -> bool:
    """True for instructions the block compiler translates inline.

    Plain = not sensitive/privileged in form, cannot trap (DIV can) and is
    not a paravirtual HYPERCALL.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> [is_plain(i) for i in assemble("ADD EAX, 1\\nDIV EBX\\nCLI")]
    [True, False, False]
    """
    return not ins.sensitive_form and ins.mnemonic not in ("DIV", "HYPERCALL")


def mmio_decode(c: CPU, ins: Instruction) -> tuple[int, bool, int | None] | None:
    """(address, is_write, data) if ``ins`` is a memory access MMIO can serve.

    Loads ``MOV r, [m]`` / ALU ``r, [m]`` and stores ``MOV [m], r/imm``;
    stack accesses cannot be MMIO (None).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("MOV [0xFEE00000], EAX"), memory_words=64); c.regs[0] = 7
    >>> mmio_decode(c, c.program[0])
    (4276092928, True, 7)
    """
    ops = ins.operands
    if ins.mnemonic == "MOV" and len(ops) == 2:
        d, s = ops
        if d[0] == "m":
            a = ((c.regs[d[1]] if d[1] >= 0 else 0) + d[2]) & M
            return a, True, (c.regs[s[1]] if s[0] == "r" else s[1])
        if s[0] == "m" and d[0] == "r":
            return ((c.regs[s[1]] if s[1] >= 0 else 0) + s[2]) & M, False, None
    if ins.mnemonic in ("ADD", "SUB", "AND", "OR", "XOR", "CMP") and ops[1][0] == "m":
        s = ops[1]
        return ((c.regs[s[1]] if s[1] >= 0 else 0) + s[2]) & M, False, None
    return None


def mmio_complete(c: CPU, ins: Instruction, pc: int, value: int | None) -> int:
    """Finish an MMIO access: a load gets ``value``; return the next EIP."""
    if ins.mnemonic == "MOV":
        if ins.operands[0][0] == "r":
            c.regs[ins.operands[0][1]] = check_int("value", value, minimum=0, maximum=M)
    else:
        v = check_int("value", value, minimum=0, maximum=M)
        d = ins.operands[0]
        r = _alu(c, ins.mnemonic, c.regs[d[1]], v)
        if r is not None:
            c.regs[d[1]] = r
    c.icount += 1
    return pc + 1


# ---------------------------------------------------------------------------
# Native special-instruction handling (ring 0 kernel, ring 3 user, one CPU)
# ---------------------------------------------------------------------------

def native_special(c: CPU, ins: Instruction, pc: int) -> int:
    """Execute a special instruction on bare hardware; traps go to the guest IDT."""
    p = c.real
    try:
        npc = execute(c, ins, pc, p)
    except GuestTrap as t:
        c.count("guest_traps")
        if t.reason == "INT":
            c.icount += 1
            c.count("syscalls")
        return deliver_trap(c, p, t.vector, t.pc)
    c.icount += 1
    return npc


# ---------------------------------------------------------------------------
# The interpreter (emulation)
# ---------------------------------------------------------------------------

def interpret_step(c: CPU, special: Callable[[CPU, Instruction, int], int] | None = None) -> int:
    """Fetch, decode and execute one instruction; return the next EIP (-1 = stop)."""
    pc = c.pc
    prog = c.program.instructions
    if not 0 <= pc < len(prog):
        c.fault = f"jump outside the program (pc {pc})"
        return -1
    ins = prog[pc]
    if is_plain(ins):
        try:
            npc = _execute(c, ins, pc, c.real)
        except _MemFault as f:
            return c.memfault(f.pc, f.addr)
        c.icount += 1
    else:
        npc = (special or native_special)(c, ins, pc)
    if npc >= 0:
        c.pc = npc
    return npc


def interpret(c: CPU, max_steps: int = 1_000_000,
              special: Callable[[CPU, Instruction, int], int] | None = None) -> str:
    """Interpret until HLT, a fault or ``max_steps`` instructions.

    Returns the status: ``"halted"``, ``"fault"`` or ``"max_steps"``.

    Every guest instruction is fetched and dispatched on its own.  Each
    address is decoded once (per CPU) into a specialised handler — a closure
    over the decoded operands that executes that one instruction and returns
    the handler of the next one (*threaded code*, the decoded-instruction
    cache of Bochs); the dispatch loop calls one handler per instruction.
    The arithmetic flags are kept lazily (the last result and operands) and
    computed only when a conditional jump, a special instruction or the end
    of the run needs them.  Special instructions go to ``special`` (the
    execution mode's handler), one at a time; it sees the exact EIP,
    instruction count and flags in ``c`` and must count a retired
    instruction in ``c.icount`` itself.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("MOV ECX, 3\\nl: ADD EAX, 2\\nDEC ECX\\nJNZ l\\nHLT"))
    >>> interpret(c, max_steps=4), c.pc, c.regs[0], c.regs[1], c.icount
    ('max_steps', 1, 2, 2, 4)
    >>> interpret(c), c.regs[0], c.icount, bool(c.zf), c.cf
    ('halted', 6, 11, True, 0)
    """
    check_int("max_steps", max_steps, minimum=0)
    return _engine(c)(c, max_steps, special or native_special)


class _Leave(Exception):
    """A handler leaves the dispatch loop at EIP ``args[0]`` (outside the program)."""


class _Resync(Exception):
    """After a special instruction: the CPU's count and flags are exact, next EIP ``args[0]``."""


def _reference_step(c: CPU, ins: Instruction, pc: int) -> int:
    """A plain instruction form the decoder has no handler for: reference semantics."""
    try:
        npc = _execute(c, ins, pc, c.real)
    except _MemFault as f:
        return c.memfault(f.pc, f.addr)
    c.icount += 1
    return npc


def _engine(c: CPU) -> Callable:
    """The decoded program of ``c`` (built once per CPU and memory layout)."""
    e = getattr(c, "_interp", None)
    if (e is None or e[0] is not c.program or e[1] is not c.regs or e[2] is not c.mem
            or e[3] is not c.wp or e[4] is not c.ev or e[5] != c.memory_words):
        e = (c.program, c.regs, c.mem, c.wp, c.ev, c.memory_words,
             _build_engine(c.program, c.regs, c.mem, c.wp, c.ev, c.memory_words))
        c._interp = e
    return e[6]


# Lazy flags: how the current CF (``ck``) and OF/SF (``ok``) follow from the
# saved state (see _build_engine).  The handlers use the literal values.
_LOGIC, _ADD, _SUB, _RAW, _INC, _DEC, _SYNC = range(7)
#: Source operand kinds the interpreter decodes per two-operand ALU mnemonic.
_ALU_SOURCES = {**dict.fromkeys(("ADD", "SUB", "CMP", "AND", "OR", "XOR"), "rim"),
                "TEST": "ri", "IMUL": "ri", "SHL": "i", "SHR": "i"}


def _build_engine(program: Program, r: list, mem: list, wp: bytearray, ev: dict,
                  N: int) -> Callable:
    """Decode every instruction into a handler closure; return the run loop.

    Handlers take no arguments: registers, memory and the lazy flags are
    closure variables.  Each returns the next instruction's handler (its
    ``nxt`` / ``tgt`` cells are linked after decoding), or raises
    :class:`_Leave` (EIP outside the program), :class:`_Resync` (after a
    special instruction that did something unusual) or :class:`_MemFault`.

    Lazy flags: ZF = (``res`` == 0) always.  SF = ``res`` >> 31, except for
    ``ok`` == _RAW / _SYNC (then ``rs``).  OF by ``ok``: _ADD / _SUB from
    ``fa``, ``fb`` and ``res``, _LOGIC 0, _INC / _DEC from ``res``, _RAW /
    _SYNC ``ro``.  CF by ``ck``: _ADD / _SUB from ``fa`` and ``fb``, _LOGIC 0,
    _RAW / _SYNC ``rc``.  INC/DEC change ``ok`` but not ``ck``, ``fa``,
    ``fb`` (they keep CF).  _SYNC: loaded from the CPU and not changed since
    (every flag-writing instruction sets ``ok``), so the CPU's flags are
    already exact.
    """
    prog = program.instructions
    n = len(prog)
    res = 1
    ck = ok = _RAW
    fa = fb = 0
    rc = rs = ro = 0
    H: list = [None] * n
    # The current stretch of the run loop (for special handlers): CPU, special
    # handler, instruction count at its start, its length and its iterator.
    cur_c = cur_sp = cur_it = None
    cur_base = cur_todo = 0
    targets: dict[int, int] = {}

    # -- flags ----------------------------------------------------------------
    def sf_now():
        return rs if ok == 3 or ok == 6 else res >> 31

    def of_now():
        if ok == 2:
            return ((fa ^ fb) & (fa ^ res)) >> 31
        if ok == 1:
            return ((fa ^ res) & (fb ^ res)) >> 31
        if ok == 0:
            return 0
        if ok == 4:
            return res == 0x8000_0000
        if ok == 5:
            return res == 0x7FFF_FFFF
        return ro

    def lt():                         # SF != OF (signed less than)
        if ok == 2:
            x = res
            return (x >> 31) != (((fa ^ fb) & (fa ^ x)) >> 31)
        return bool(sf_now()) != bool(of_now())

    def store(c):                     # materialise the flags in c
        x = res
        k = ok
        if k == 2:
            sf, of = x >> 31, ((fa ^ fb) & (fa ^ x)) >> 31
        elif k == 1:
            sf, of = x >> 31, ((fa ^ x) & (fb ^ x)) >> 31
        elif k == 0:
            sf, of = x >> 31, 0
        elif k == 4:
            sf, of = x >> 31, x == 0x8000_0000
        elif k == 5:
            sf, of = x >> 31, x == 0x7FFF_FFFF
        else:
            sf, of = rs, ro
        k = ck
        if k == 0:
            cf = 0
        elif k == 1:
            cf = (fa + fb) >> 32
        elif k == 2:
            cf = int(fa < fb)
        else:
            cf = rc
        c.zf, c.sf, c.cf, c.of = x == 0, sf, cf, of

    def load(c):
        nonlocal res, ck, ok, rc, rs, ro
        res = 0 if c.zf else 1
        rc, rs, ro = c.cf, c.sf, c.of
        ck = ok = 6                   # _SYNC

    # -- handler makers (``nxt``: next instruction, ``tgt``: branch target) ----
    def fault(pc, a):
        def h():
            raise _MemFault(pc, a)
        return h

    def leave(pc):
        def h():
            raise _Leave(pc)
        return h

    # A special instruction (or an unusual plain form) runs inside its handler:
    # the CPU gets the exact EIP, instruction count and flags, then ``callee``
    # (the mode's special handler, or the reference semantics).  If it retired
    # exactly this one instruction, no interrupt is pending and the next EIP is
    # in the program, the threaded code just continues there; otherwise
    # _Resync hands the new state to the run loop.
    def mk_special(pc, ins, reference):
        def h():
            nonlocal res, ck, ok, rc, rs, ro
            c = cur_c
            icount = cur_base + cur_todo - length_hint(cur_it) - 1
            c.pc = pc
            c.icount = icount
            if ok != 6:               # not _SYNC: the CPU's flags are stale
                store(c)
            npc = _reference_step(c, ins, pc) if reference else cur_sp(c, ins, pc)
            res = 0 if c.zf else 1    # load(c), inline
            rc, rs, ro = c.cf, c.sf, c.of
            ck = ok = 6               # _SYNC
            if c.icount == icount + 1 and 0 <= npc < n and c.irq is None:
                return H[npc]
            raise _Resync(npc)
        return h

    # Guest registers and memory words hold 32-bit unsigned values, so sums
    # and differences wrap with a compare (no mask, i.e. no new int object,
    # on the common path); an address outside [0, N) is masked, then checked.
    def mk_mov(pc, d, s):
        nxt = None
        if d[0] == "r" and s[0] == "r":
            di, si = d[1], s[1]

            def h():
                r[di] = r[si]
                return nxt
            return h
        if d[0] == "r" and s[0] == "i":
            di, v = d[1], s[1]

            def h():
                r[di] = v
                return nxt
            return h
        if d[0] == "r" and s[0] == "m":
            di, base, disp = d[1], s[1], s[2] & 0xFFFF_FFFF
            if base < 0:
                if disp >= N:
                    return fault(pc, disp)
                a = disp

                def h():
                    r[di] = mem[a]
                    return nxt
                return h

            def h():
                a = r[base] + disp
                if a >= N:
                    a &= 0xFFFF_FFFF
                    if a >= N:
                        raise _MemFault(pc, a)
                r[di] = mem[a]
                return nxt
            return h
        if d[0] == "m" and s[0] in "ri":
            base, disp = d[1], d[2] & 0xFFFF_FFFF
            if base < 0:
                if disp >= N:
                    return fault(pc, disp)
                a = disp
                if s[0] == "r":
                    si = s[1]

                    def h():
                        mem[a] = r[si]
                        if wp[a]:
                            ev["pt_writes"] = ev.get("pt_writes", 0) + 1
                        return nxt
                    return h
                v = s[1]

                def h():
                    mem[a] = v
                    if wp[a]:
                        ev["pt_writes"] = ev.get("pt_writes", 0) + 1
                    return nxt
                return h
            if s[0] == "r":
                si = s[1]

                def h():
                    a = r[base] + disp
                    if a >= N:
                        a &= 0xFFFF_FFFF
                        if a >= N:
                            raise _MemFault(pc, a)
                    mem[a] = r[si]
                    if wp[a]:
                        ev["pt_writes"] = ev.get("pt_writes", 0) + 1
                    return nxt
                return h
            v = s[1]

            def h():
                a = r[base] + disp
                if a >= N:
                    a &= 0xFFFF_FFFF
                    if a >= N:
                        raise _MemFault(pc, a)
                mem[a] = v
                if wp[a]:
                    ev["pt_writes"] = ev.get("pt_writes", 0) + 1
                return nxt
            return h
        return None

    def mk_alu(pc, mn, d, s):
        nxt = None
        di = d[1]
        if s[0] == "m":
            base, disp = s[1], s[2] & 0xFFFF_FFFF
            if base < 0 and disp >= N:
                return fault(pc, disp)
            if base < 0 and mn in ("ADD", "SUB", "CMP"):
                return mk_alu_abs(mn, di, disp)

            def operand():
                a = (r[base] if base >= 0 else 0) + disp
                if a >= N:
                    a &= 0xFFFF_FFFF
                    if a >= N:
                        raise _MemFault(pc, a)
                return mem[a]
        if mn == "ADD":
            if s[0] == "r":
                si = s[1]

                def h():
                    nonlocal res, fa, fb, ck, ok
                    fa = a = r[di]
                    fb = b = r[si]
                    x = a + b
                    if x > 0xFFFF_FFFF:
                        x &= 0xFFFF_FFFF
                    r[di] = res = x
                    ck = ok = 1       # _ADD
                    return nxt
            elif s[0] == "i":
                b = s[1]

                def h():
                    nonlocal res, fa, fb, ck, ok
                    fa = a = r[di]
                    fb = b
                    x = a + b
                    if x > 0xFFFF_FFFF:
                        x &= 0xFFFF_FFFF
                    r[di] = res = x
                    ck = ok = 1       # _ADD
                    return nxt
            else:
                def h():
                    nonlocal res, fa, fb, ck, ok
                    fb = b = operand()
                    fa = a = r[di]
                    x = a + b
                    if x > 0xFFFF_FFFF:
                        x &= 0xFFFF_FFFF
                    r[di] = res = x
                    ck = ok = 1       # _ADD
                    return nxt
            return h
        if mn in ("SUB", "CMP"):
            keep = mn == "SUB"
            if s[0] == "r":
                si = s[1]
                if keep:
                    def h():
                        nonlocal res, fa, fb, ck, ok
                        fa = a = r[di]
                        fb = b = r[si]
                        x = a - b
                        if x < 0:
                            x &= 0xFFFF_FFFF
                        r[di] = res = x
                        ck = ok = 2   # _SUB
                        return nxt
                else:
                    def h():
                        nonlocal res, fa, fb, ck, ok
                        fa = a = r[di]
                        fb = b = r[si]
                        x = a - b
                        res = x & 0xFFFF_FFFF if x < 0 else x
                        ck = ok = 2   # _SUB
                        return nxt
            elif s[0] == "i":
                b = s[1]
                if keep:
                    def h():
                        nonlocal res, fa, fb, ck, ok
                        fa = a = r[di]
                        fb = b
                        x = a - b
                        if x < 0:
                            x &= 0xFFFF_FFFF
                        r[di] = res = x
                        ck = ok = 2   # _SUB
                        return nxt
                else:
                    def h():
                        nonlocal res, fa, fb, ck, ok
                        fa = a = r[di]
                        fb = b
                        x = a - b
                        res = x & 0xFFFF_FFFF if x < 0 else x
                        ck = ok = 2   # _SUB
                        return nxt
            else:
                def h():
                    nonlocal res, fa, fb, ck, ok
                    fb = b = operand()
                    fa = a = r[di]
                    x = a - b
                    if x < 0:
                        x &= 0xFFFF_FFFF
                    res = x
                    if keep:
                        r[di] = x
                    ck = ok = 2       # _SUB
                    return nxt
            return h
        if mn in ("AND", "OR", "XOR", "TEST"):
            op = {"AND": int.__and__, "TEST": int.__and__, "OR": int.__or__,
                  "XOR": int.__xor__}[mn]
            if mn == "TEST":
                if s[0] == "r":
                    si = s[1]

                    def h():
                        nonlocal res, ck, ok
                        res = r[di] & r[si]
                        ck = ok = 0   # _LOGIC
                        return nxt
                else:
                    b = s[1]

                    def h():
                        nonlocal res, ck, ok
                        res = r[di] & b
                        ck = ok = 0   # _LOGIC
                        return nxt
                return h
            if s[0] == "r":
                si = s[1]
                if mn == "XOR":
                    def h():
                        nonlocal res, ck, ok
                        r[di] = res = r[di] ^ r[si]
                        ck = ok = 0   # _LOGIC
                        return nxt
                elif mn == "AND":
                    def h():
                        nonlocal res, ck, ok
                        r[di] = res = r[di] & r[si]
                        ck = ok = 0   # _LOGIC
                        return nxt
                else:
                    def h():
                        nonlocal res, ck, ok
                        r[di] = res = r[di] | r[si]
                        ck = ok = 0   # _LOGIC
                        return nxt
            elif s[0] == "i":
                b = s[1]
                if mn == "XOR":
                    def h():
                        nonlocal res, ck, ok
                        r[di] = res = r[di] ^ b
                        ck = ok = 0   # _LOGIC
                        return nxt
                elif mn == "AND":
                    def h():
                        nonlocal res, ck, ok
                        r[di] = res = r[di] & b
                        ck = ok = 0   # _LOGIC
                        return nxt
                else:
                    def h():
                        nonlocal res, ck, ok
                        r[di] = res = r[di] | b
                        ck = ok = 0   # _LOGIC
                        return nxt
            else:
                def h():
                    nonlocal res, ck, ok
                    r[di] = res = op(r[di], operand())
                    ck = ok = 0       # _LOGIC
                    return nxt
            return h
        if mn == "IMUL":
            si, v = (s[1], None) if s[0] == "r" else (None, s[1])

            def h():
                nonlocal res, ck, ok, rc, rs, ro
                a = r[di]
                b = r[si] if v is None else v
                full = (a - 4294967296 if a >> 31 else a) * (b - 4294967296 if b >> 31 else b)
                x = full & 0xFFFF_FFFF
                rc = ro = int(full != (x - 4294967296 if x >> 31 else x))
                r[di] = res = x
                rs = x >> 31
                ck = ok = 3           # _RAW
                return nxt
            return h
        if mn in ("SHL", "SHR"):
            k = s[1] & 31
            if k == 0:                # no change at all, flags included
                def h():
                    return nxt
            elif mn == "SHL":
                def h():
                    nonlocal res, ck, ok, rc, rs, ro
                    a = r[di]
                    rc = (a >> (32 - k)) & 1
                    r[di] = res = x = (a << k) & 0xFFFF_FFFF
                    rs = x >> 31
                    ro = 0
                    ck = ok = 3       # _RAW
                    return nxt
            else:
                def h():
                    nonlocal res, ck, ok, rc, rs, ro
                    a = r[di]
                    rc = (a >> (k - 1)) & 1
                    r[di] = res = x = a >> k
                    rs = x >> 31
                    ro = 0
                    ck = ok = 3       # _RAW
                    return nxt
            return h
        return None

    def mk_alu_abs(mn, di, a):       # ADD/SUB/CMP reg, [address in RAM]
        nxt = None
        if mn == "ADD":
            def h():
                nonlocal res, fa, fb, ck, ok
                fa = x = r[di]
                fb = b = mem[a]
                x += b
                if x > 0xFFFF_FFFF:
                    x &= 0xFFFF_FFFF
                r[di] = res = x
                ck = ok = 1           # _ADD
                return nxt
        elif mn == "SUB":
            def h():
                nonlocal res, fa, fb, ck, ok
                fa = x = r[di]
                fb = b = mem[a]
                x -= b
                if x < 0:
                    x &= 0xFFFF_FFFF
                r[di] = res = x
                ck = ok = 2           # _SUB
                return nxt
        else:
            def h():
                nonlocal res, fa, fb, ck, ok
                fa = x = r[di]
                fb = b = mem[a]
                x -= b
                res = x & 0xFFFF_FFFF if x < 0 else x
                ck = ok = 2           # _SUB
                return nxt
        return h

    def mk_unary(pc, mn, di):
        nxt = None
        if mn == "INC":
            def h():
                nonlocal res, ok
                x = r[di] + 1
                if x > 0xFFFF_FFFF:
                    x &= 0xFFFF_FFFF
                r[di] = res = x
                ok = 4                # _INC (CF unchanged)
                return nxt
        elif mn == "DEC":
            def h():
                nonlocal res, ok
                x = r[di] - 1
                if x < 0:
                    x &= 0xFFFF_FFFF
                r[di] = res = x
                ok = 5                # _DEC (CF unchanged)
                return nxt
        elif mn == "NEG":
            def h():
                nonlocal res, ck, ok, rc, rs, ro
                a = r[di]
                r[di] = res = x = 0x1_0000_0000 - a if a else 0
                rc, ro, rs = int(a != 0), a == 0x8000_0000, x >> 31
                ck = ok = 3           # _RAW
                return nxt
        else:                         # NOT: no flags
            def h():
                r[di] ^= 0xFFFF_FFFF
                return nxt
        return h

    # After SUB/CMP a, b: SF != OF exactly when a < b as signed numbers, i.e.
    # when a < b after flipping both sign bits.
    def mk_jcc(pc, mn):
        nxt = tgt = None
        if mn == "JNZ":
            def h():
                return tgt if res else nxt
        elif mn == "JZ":
            def h():
                return nxt if res else tgt
        elif mn == "JL":
            def h():
                if ok == 2:
                    return tgt if fa ^ 0x8000_0000 < fb ^ 0x8000_0000 else nxt
                return tgt if lt() else nxt
        elif mn == "JGE":
            def h():
                if ok == 2:
                    return nxt if fa ^ 0x8000_0000 < fb ^ 0x8000_0000 else tgt
                return nxt if lt() else tgt
        elif mn == "JG":
            def h():
                if ok == 2:
                    return tgt if fa ^ 0x8000_0000 > fb ^ 0x8000_0000 else nxt
                return tgt if res and not lt() else nxt
        else:                         # JLE
            def h():
                if ok == 2:
                    return nxt if fa ^ 0x8000_0000 > fb ^ 0x8000_0000 else tgt
                return tgt if not res or lt() else nxt
        return h

    def mk_stack(pc, mn, ops):
        nxt = tgt = None
        if mn == "JMP":
            def h():
                return tgt
        elif mn == "CALL":
            ret = (pc + 1) & 0xFFFF_FFFF

            def h():
                a = r[4] - 1
                if a >= N or a < 0:
                    raise _MemFault(pc, a & 0xFFFF_FFFF)
                mem[a] = ret
                r[4] = a
                return tgt
        elif mn == "RET":
            def h():
                a = r[4]
                if a >= N:
                    raise _MemFault(pc, a)
                r[4] = a + 1
                t = mem[a]
                return H[t] if 0 <= t < n else at(t)
        elif mn == "PUSH" and ops[0][0] in "ri":
            if ops[0][0] == "r":
                si = ops[0][1]

                def h():
                    a = r[4] - 1
                    if a >= N or a < 0:
                        raise _MemFault(pc, a & 0xFFFF_FFFF)
                    mem[a] = r[si] & 0xFFFF_FFFF
                    r[4] = a
                    return nxt
            else:
                v = ops[0][1] & 0xFFFF_FFFF

                def h():
                    a = r[4] - 1
                    if a >= N or a < 0:
                        raise _MemFault(pc, a & 0xFFFF_FFFF)
                    mem[a] = v
                    r[4] = a
                    return nxt
        elif mn == "POP" and ops[0][0] == "r":
            di = ops[0][1]

            def h():
                a = r[4]
                if a >= N:
                    raise _MemFault(pc, a)
                r[4] = a + 1
                r[di] = mem[a]
                return nxt
        elif mn == "NOP":
            def h():
                return nxt
        else:
            return None
        return h

    # -- decode ---------------------------------------------------------------
    for pc, ins in enumerate(prog):
        h = None
        if is_plain(ins):
            mn, ops = ins.mnemonic, ins.operands
            kinds = "".join(o[0] for o in ops)
            if mn == "MOV" and len(ops) == 2:
                h = mk_mov(pc, *ops)
            elif len(ops) == 2 and kinds[0] == "r" and kinds[1] in _ALU_SOURCES.get(mn, ""):
                h = mk_alu(pc, mn, *ops)
            elif mn in ("INC", "DEC", "NEG", "NOT") and kinds == "r":
                h = mk_unary(pc, mn, ops[0][1])
            elif mn in _COND and kinds == "l":
                h = mk_jcc(pc, mn)
                targets[pc] = ops[0][1]
            elif mn in ("JMP", "CALL") and kinds == "l":
                h = mk_stack(pc, mn, ops)
                targets[pc] = ops[0][1]
            elif mn in ("RET", "NOP") and not ops or mn in ("PUSH", "POP") and len(ops) == 1:
                h = mk_stack(pc, mn, ops)
            if h is None:             # executed by the reference semantics
                h = mk_special(pc, ins, True)
        else:                         # special: the execution mode's handler
            h = mk_special(pc, ins, False)
        H[pc] = h
    pc_of = {h: pc for pc, h in enumerate(H)}
    outside: dict[int, Callable] = {}

    def at(t):
        if 0 <= t < n:
            return H[t]
        if t not in outside:
            outside[t] = leave(t)
            pc_of[outside[t]] = t
        return outside[t]

    for pc, h in enumerate(H):        # link the threaded code
        if h.__closure__ is None:
            continue
        for name, cell in zip(h.__code__.co_freevars, h.__closure__):
            if name == "nxt":
                cell.cell_contents = at(pc + 1)
            elif name == "tgt":
                cell.cell_contents = at(targets[pc])

    # -- the dispatch loop ----------------------------------------------------
    def run(c, max_steps, sp):
        nonlocal cur_c, cur_sp, cur_it, cur_base, cur_todo
        saved = cur_c, cur_sp, cur_it, cur_base, cur_todo     # re-entrant (a special
        cur_c, cur_sp = c, sp                                 # handler may run c)
        try:
            return _run(c, max_steps)
        finally:
            cur_c, cur_sp, cur_it, cur_base, cur_todo = saved

    def _run(c, max_steps):
        nonlocal cur_it, cur_base, cur_todo
        load(c)
        icount = c.icount
        limit = icount + max_steps
        pc = c.pc
        status = "max_steps"
        # The interrupt line only changes from outside a run (raise_irq) or in a
        # special instruction's handler, so it is checked there, not per instruction.
        check_irq = c.irq is not None
        while icount < limit:
            if check_irq:
                if c.irq is not None:
                    store(c)
                    c.pc, c.icount = pc, icount
                    pc = _maybe_irq(c, pc)
                    load(c)
                    if pc < 0:
                        status = ""
                        break
                check_irq = c.irq is not None
            if not 0 <= pc < n:
                c.fault = f"jump outside the program (pc {pc})"
                status = "fault"
                break
            h = H[pc]
            cur_base = icount
            cur_todo = todo = limit - icount
            cur_it = it = repeat(None, todo)   # no int object per instruction
            try:
                for _ in it:
                    h = h()            # fetch the decoded instruction, execute it
            except _Leave as e:        # EIP outside the program
                icount += todo - length_hint(it) - 1   # the raising one did not retire
                pc = e.args[0]
                continue
            except _Resync as e:       # after a special: the CPU's count is exact
                icount = c.icount
                pc = e.args[0]
                if pc < 0:
                    status = ""
                    break
                check_irq = c.irq is not None
                continue
            except _MemFault as f:
                icount += todo - length_hint(it) - 1
                store(c)
                c.icount = icount
                pc = c.memfault(f.pc, f.addr)
                icount = c.icount
                load(c)
                if pc < 0:
                    status = ""
                    break
                continue
            icount += todo
            pc = pc_of[h]
        store(c)
        c.icount = icount
        if status:
            c.pc = pc
            return status
        return _status(c)

    return run


def _status(c: CPU) -> str:
    if c.fault is not None:
        return "fault"
    if c.halted:
        return "halted"
    return "max_steps"


def _maybe_irq(c: CPU, pc: int) -> int:
    """Deliver a pending interrupt if the *native* IF allows it."""
    if c.real.if_ and c.irq is not None:
        v, c.irq = c.irq, None
        c.count("interrupts")
        return deliver_trap(c, c.real, v, pc)
    return pc


# ---------------------------------------------------------------------------
# The block compiler (direct execution / binary translation)
# ---------------------------------------------------------------------------

_FLAGS = ("zf", "sf", "cf", "of")
_TERMINATORS = frozenset({"JMP", "CALL", "RET", *_COND})
_FLAG_RW = {  # mnemonic -> (reads, writes)
    **{m: ((), _FLAGS) for m in ("ADD", "SUB", "AND", "OR", "XOR", "CMP", "TEST",
                                 "IMUL", "NEG")},
    "INC": ((), ("zf", "sf", "of")), "DEC": ((), ("zf", "sf", "of")),
    "JZ": (("zf",), ()), "JNZ": (("zf",), ()), "JL": (("sf", "of"), ()),
    "JGE": (("sf", "of"), ()), "JG": (("zf", "sf", "of"), ()),
    "JLE": (("zf", "sf", "of"), ()),
}


class _Gen:
    """Source generator for one block (tracks locals that need write-back)."""

    def __init__(self, c_words: int):
        self.lines: list[str] = []
        self.N = c_words
        self.reg_loaded: set[int] = set()
        self.reg_dirty: set[int] = set()
        self.flag_dirty: set[str] = set()
        self.done = 0  # plain instructions retired since the last icount update
        self.base = 0  # extra indentation (1 inside a self-loop)
        self.loop_k = 0  # instructions per iteration of a self-loop block (0: none)

    def emit(self, s: str, indent: int = 1) -> None:
        self.lines.append("    " * (indent + self.base) + s)

    def reg(self, i: int) -> str:
        return REGS[i].lower()

    def writeback(self, indent: int = 1) -> None:
        for i in sorted(self.reg_dirty):
            self.emit(f"r[{i}] = {self.reg(i)}", indent)
        for f in sorted(self.flag_dirty):
            self.emit(f"c.{f} = {f}", indent)

    def commit(self, indent: int = 1) -> None:
        self.writeback(indent)
        if self.loop_k:
            self.emit(f"c.icount += n * {self.loop_k} + {self.done}", indent)
        elif self.done:
            self.emit(f"c.icount += {self.done}", indent)


class BlockCompiler:
    """Translate basic blocks to Python functions, once, and cache them.

    Parameters
    ----------
    program : Program
    special : callable
        ``special(cpu, ins, pc) -> next pc`` — how this execution mode
        handles a special instruction (the *callout*).  It must count the
        instruction in ``cpu.icount`` itself if it retires it.
    memory_words : int
    chain_specials : bool
        If True (default) a special instruction that falls through does not
        end the block: the translated code calls ``special`` and continues.

    Attributes
    ----------
    cache : dict
        Start EIP → compiled block function.
    misses, blocks_compiled, instructions_translated : int

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> prog = assemble("ADD EAX, 2\\nCLI\\nADD EAX, 3\\nJMP 0")
    >>> bc = BlockCompiler(prog, native_special, 64)
    >>> print(bc.source(0).splitlines()[0])
    def _block_0(c, r, m, S, I, W):
    >>> bc.block_range(0)
    (0, 4)
    """

    def __init__(self, program: Program, special: Callable, memory_words: int, *,
                 chain_specials: bool = True, wp: bytearray | None = None):
        self.program = program
        self.wp = wp if wp is not None else bytearray(memory_words)
        self.special = special
        self.N = memory_words
        self.chain = chain_specials
        self.cache: dict[int, Callable] = {}
        self.sources: dict[int, str] = {}
        self.misses = 0
        self.blocks_compiled = 0
        self.instructions_translated = 0

    def block_range(self, start: int) -> tuple[int, int]:
        """(start, end) of the basic block starting at ``start`` (end exclusive)."""
        prog = self.program.instructions
        end = start
        n = len(prog)
        while end < n:
            ins = prog[end]
            end += 1
            if ins.mnemonic in _TERMINATORS:
                break
            if not is_plain(ins) and (not self.chain or ins.mnemonic in ("HLT", "INT",
                                                                         "SYSEXIT")):
                break
            if end - start >= 64:
                break
        return start, end

    def source(self, start: int) -> str:
        """Python source of the translation of the block at ``start``."""
        return self._generate(start)[0]

    def get(self, pc: int) -> Callable:
        """The compiled block at ``pc`` (compiling it on a miss)."""
        f = self.cache.get(pc)
        if f is None:
            f = self.compile(pc)
        return f

    def compile(self, pc: int) -> Callable:
        """Compile and cache the block at ``pc``."""
        if not 0 <= pc < len(self.program):
            raise ValueError(f"pc must be a code address in [0, {len(self.program) - 1}], "
                             f"got {pc}")
        src, code, consts = _translation(self.program, pc, self.N, self.chain)
        ns: dict[str, Any] = {}
        exec(code, ns)
        fn = ns[f"_block_{pc}"]
        block = _bind(fn, self.special, consts, self.wp)
        self.cache[pc] = block
        self.sources[pc] = src
        self.misses += 1
        self.blocks_compiled += 1
        s, e = self.block_range(pc)
        self.instructions_translated += e - s
        return block

    def _generate(self, start: int) -> tuple[str, tuple]:
        prog = self.program.instructions
        s, e = self.block_range(start)
        body = prog[s:e]
        # Flag liveness (backwards): which flags each instruction must produce.
        live = set(_FLAGS)
        need: list[set] = [set()] * len(body)
        for k in range(len(body) - 1, -1, -1):
            ins = body[k]
            if not is_plain(ins):
                live = set(_FLAGS)
                need[k] = set()
                continue
            reads, writes = _FLAG_RW.get(ins.mnemonic, ((), ()))
            if ins.mnemonic in ("SHL", "SHR") and (ins.operands[1][1] & 31):
                writes = _FLAGS
            need[k] = set(writes) & live
            live = (live - set(writes)) | set(reads)
        g = _Gen(self.N)
        used = set()
        for ins in body:
            for op in ins.operands:
                if op[0] == "r" or (op[0] == "m" and op[1] >= 0):
                    used.add(op[1])
            if ins.mnemonic in ("PUSH", "POP", "CALL", "RET"):
                used.add(4)
        g.emit(f"def _block_{start}(c, r, m, S, I, W):", 0)
        for i in sorted(used):
            g.emit(f"{g.reg(i)} = r[{i}]")
        g.reg_loaded = set(used)
        # flags read before written are loaded lazily from c
        consts: list[Instruction] = []
        flags_local: set[str] = set()

        def flag(f: str) -> str:
            if f not in flags_local:
                g.emit(f"{f} = c.{f}")
                flags_local.add(f)
            return f

        # A block that branches back to its own start with no special
        # instruction becomes a loop inside one Python function (like chained
        # translations): no dispatch per iteration.  ``c.limit`` bounds it.
        last = body[-1]
        if (self.chain and last.mnemonic in ("JMP", *_COND) and last.operands[0][1] == s
                and all(is_plain(i) for i in body)):
            written: set[str] = set()
            for ins in body:
                reads, writes = _FLAG_RW.get(ins.mnemonic, ((), ()))
                if ins.mnemonic in ("SHL", "SHR") and (ins.operands[1][1] & 31):
                    writes = _FLAGS
                for f in reads:
                    if f not in written:
                        flag(f)
                written |= set(writes)
            k = len(body)
            g.emit(f"budget = (c.limit - c.icount) // {k}")
            g.emit("n = 0")
            g.emit("while True:")
            g.base = 1
            g.loop_k = k

        N = self.N
        end_pc = e
        for k, ins in enumerate(body):
            pc = s + k
            mn = ins.mnemonic
            ops = ins.operands
            if not is_plain(ins):
                idx = len(consts)
                consts.append(ins)
                g.commit()
                g.done = 0
                g.emit(f"npc = S(c, I[{idx}], {pc})")
                if k == len(body) - 1:
                    g.emit("return npc")
                    g.reg_dirty.clear()
                    g.flag_dirty.clear()
                    end_pc = None
                    break
                # leave the block on a control transfer, or when an interrupt is
                # pending (STI/POPF may just have enabled it): the dispatcher
                # delivers it at once, as the interpreter does.
                g.emit(f"if npc != {pc + 1} or c.irq is not None:")
                g.emit("return npc", 2)
                for i in sorted(used):
                    g.emit(f"{g.reg(i)} = r[{i}]")
                g.reg_dirty.clear()
                g.flag_dirty.clear()
                flags_local.clear()
                continue
            nd = need[k]

            def src(op, k=k) -> str:
                if op[0] == "r":
                    return g.reg(op[1])
                if op[0] in ("i", "l"):
                    return str(op[1])
                return mem_read(op)

            def addr_expr(op) -> str:
                if op[1] < 0:
                    return str(op[2] & M)
                return f"({g.reg(op[1])} + {op[2]}) & {M}" if op[2] else g.reg(op[1])

            def mem_check(aexpr: str, pc=pc) -> str:
                g.emit(f"a = {aexpr}")
                g.emit(f"if a >= {N}:")
                g.commit(2)
                g.emit(f"return c.memfault({pc}, a)", 2)
                return "a"

            def mem_read(op) -> str:
                if op[1] < 0 and (op[2] & M) < N:
                    return f"m[{op[2] & M}]"
                mem_check(addr_expr(op))
                return "m[a]"

            def setreg(i: int, expr: str) -> None:
                g.emit(f"{g.reg(i)} = {expr}")
                g.reg_dirty.add(i)

            def zs(res: str) -> None:
                if "zf" in nd:
                    g.emit(f"zf = {res} == 0")
                    flags_local.add("zf")
                    g.flag_dirty.add("zf")
                if "sf" in nd:
                    g.emit(f"sf = {res} >> 31")
                    flags_local.add("sf")
                    g.flag_dirty.add("sf")

            def setf(f: str, expr: str) -> None:
                if f in nd:
                    g.emit(f"{f} = {expr}")
                    flags_local.add(f)
                    g.flag_dirty.add(f)

            g.emit(f"# {pc}: {ins.text}")
            if mn == "MOV":
                d, sop = ops
                if d[0] == "r":
                    setreg(d[1], src(sop))
                else:
                    v = src(sop)
                    if d[1] < 0 and (d[2] & M) < N:
                        g.emit(f"m[{d[2] & M}] = {v}")
                        g.emit(f"if W[{d[2] & M}]:")
                    else:
                        if sop[0] == "m":  # pragma: no cover - no mem-to-mem form
                            raise AssertionError
                        mem_check(addr_expr(d))
                        g.emit(f"m[a] = {v}")
                        g.emit("if W[a]:")
                    g.emit("c.count('pt_writes')", 2)
            elif mn in ("ADD", "SUB", "CMP", "AND", "OR", "XOR", "TEST"):
                d, sop = ops
                a = g.reg(d[1])
                b = src(sop)
                if sop[0] == "m":
                    g.emit(f"b = {b}")
                    b = "b"
                res = "t" if mn in ("CMP", "TEST") else a
                if mn == "ADD":
                    if "of" in nd:
                        g.emit(f"x = {a}")
                    g.emit(f"t = {a} + {b}")
                    setf("cf", "t >> 32")
                    g.emit(f"{a} = t & {M}")
                    g.reg_dirty.add(d[1])
                    setf("of", f"((x ^ {a}) & ({b} ^ {a})) >> 31")
                    res = a
                elif mn in ("SUB", "CMP"):
                    setf("cf", f"{a} < {b}")
                    g.emit(f"t = ({a} - {b}) & {M}")
                    setf("of", f"(({a} ^ {b}) & ({a} ^ t)) >> 31")
                    if mn == "SUB":
                        g.emit(f"{a} = t")
                        g.reg_dirty.add(d[1])
                        res = a
                else:
                    op = {"AND": "&", "TEST": "&", "OR": "|", "XOR": "^"}[mn]
                    if mn == "TEST":
                        g.emit(f"t = {a} {op} {b}")
                    elif mn == "XOR" and sop == d:
                        g.emit(f"{a} = 0")
                        g.reg_dirty.add(d[1])
                    else:
                        g.emit(f"{a} {op}= {b}")
                        g.reg_dirty.add(d[1])
                    setf("cf", "0")
                    setf("of", "0")
                zs(res)
            elif mn == "IMUL":
                d, sop = ops
                a, b = g.reg(d[1]), src(sop)
                g.emit(f"sa = {a} - 4294967296 if {a} >> 31 else {a}")
                g.emit(f"sb = {b} - 4294967296 if {b} >> 31 else {b}")
                g.emit("full = sa * sb")
                g.emit(f"{a} = full & {M}")
                g.reg_dirty.add(d[1])
                if "cf" in nd or "of" in nd:
                    g.emit(f"ovf = full != ({a} - 4294967296 if {a} >> 31 else {a})")
                    setf("cf", "ovf")
                    setf("of", "ovf")
                zs(a)
            elif mn in ("SHL", "SHR"):
                d, sop = ops
                n = sop[1] & 31
                a = g.reg(d[1])
                if n:
                    if mn == "SHL":
                        setf("cf", f"({a} >> {32 - n}) & 1")
                        g.emit(f"{a} = ({a} << {n}) & {M}")
                    else:
                        setf("cf", f"({a} >> {n - 1}) & 1")
                        g.emit(f"{a} >>= {n}")
                    g.reg_dirty.add(d[1])
                    setf("of", "0")
                    zs(a)
            elif mn in ("INC", "DEC"):
                a = g.reg(ops[0][1])
                if mn == "INC":
                    g.emit(f"{a} = ({a} + 1) & {M}")
                    setf("of", f"{a} == 2147483648")
                else:
                    g.emit(f"{a} = ({a} - 1) & {M}")
                    setf("of", f"{a} == 2147483647")
                g.reg_dirty.add(ops[0][1])
                zs(a)
            elif mn == "NEG":
                a = g.reg(ops[0][1])
                setf("cf", f"int({a} != 0)")
                setf("of", f"{a} == 2147483648")
                g.emit(f"{a} = (-{a}) & {M}")
                g.reg_dirty.add(ops[0][1])
                zs(a)
            elif mn == "NOT":
                a = g.reg(ops[0][1])
                g.emit(f"{a} = ~{a} & {M}")
                g.reg_dirty.add(ops[0][1])
            elif mn == "NOP":
                pass
            elif mn == "PUSH":
                v = src(ops[0])
                mem_check(f"(esp - 1) & {M}")
                g.emit(f"m[a] = {v}")
                g.emit("esp = a")
                g.reg_dirty.add(4)
            elif mn == "POP":
                mem_check("esp")
                setreg(ops[0][1], "m[a]") if ops[0][1] != 4 else None
                if ops[0][1] == 4:
                    g.emit("esp = m[a]")
                    g.reg_dirty.add(4)
                else:
                    g.emit(f"esp = (a + 1) & {M}")
                    g.reg_dirty.add(4)
            elif mn == "JMP":
                if g.loop_k:
                    g.emit("n += 1")
                    g.emit("if n < budget:")
                    g.emit("continue", 2)
                    g.done = 0
                    g.commit()
                    g.emit(f"return {ops[0][1]}")
                    end_pc = None
                    break
                g.done += 1
                g.commit()
                g.emit(f"return {ops[0][1]}")
                end_pc = None
                break
            elif mn == "CALL":
                mem_check(f"(esp - 1) & {M}")
                g.emit(f"m[a] = {pc + 1}")
                g.emit("esp = a")
                g.reg_dirty.add(4)
                g.done += 1
                g.commit()
                g.emit(f"return {ops[0][1]}")
                end_pc = None
                break
            elif mn == "RET":
                mem_check("esp")
                g.emit("t = m[a]")
                g.emit(f"esp = (a + 1) & {M}")
                g.reg_dirty.add(4)
                g.done += 1
                g.commit()
                g.emit("return t")
                end_pc = None
                break
            elif mn in _COND:
                cond = {"JZ": "{zf}", "JNZ": "not {zf}", "JL": "bool({sf}) != bool({of})",
                        "JGE": "bool({sf}) == bool({of})",
                        "JG": "not {zf} and bool({sf}) == bool({of})",
                        "JLE": "{zf} or bool({sf}) != bool({of})"}[mn]
                reads = _FLAG_RW[mn][0]
                for f in reads:
                    flag(f)
                if g.loop_k:
                    cnd = cond.format(zf='zf', sf='sf', of='of')
                    g.emit("n += 1")
                    g.emit(f"if ({cnd}) and n < budget:")
                    g.emit("continue", 2)
                    g.done = 0
                    g.commit()
                    g.emit(f"if {cnd}:")
                    g.emit(f"return {ops[0][1]}", 2)
                    g.emit(f"return {pc + 1}")
                    end_pc = None
                    break
                g.done += 1
                g.commit()
                g.emit(f"if {cond.format(zf='zf', sf='sf', of='of')}:")
                g.emit(f"return {ops[0][1]}", 2)
                g.emit(f"return {pc + 1}")
                end_pc = None
                break
            else:  # pragma: no cover
                raise AssertionError(mn)
            g.done += 1
        if end_pc is not None:
            g.commit()
            g.emit(f"return {end_pc}")
        return "\n".join(g.lines) + "\n", tuple(consts)


@functools.lru_cache(maxsize=8192)
def _translation(program: Program, pc: int, words: int, chain: bool):
    """Generated source, code object and special-instruction table of one block.

    Cached across machines: a program run in several modes (or redrawn by a
    widget) is translated to Python once; each machine still binds its own
    special-instruction handler and counts its own translations.
    """
    bc = BlockCompiler(program, native_special, words, chain_specials=chain)
    src, consts = bc._generate(pc)
    return src, compile(src, f"<block {pc}>", "exec"), consts


def _bind(fn, special, consts, wp):
    def block(c, r, m, _f=fn, _s=special, _i=consts, _w=wp):
        return _f(c, r, m, _s, _i, _w)
    return block


def run_blocks(c: CPU, cache: dict, compile_block: Callable[[int], Callable], max_steps: int,
               irq: Callable[[CPU, int], int] | None = None) -> str:
    """Run compiled blocks until HLT, a fault or about ``max_steps`` instructions.

    ``cache`` maps EIP → block function; ``compile_block(pc)`` fills it on a
    miss.  ``max_steps`` is checked at block boundaries (a run may overshoot
    by less than one block).  ``irq(c, pc)`` delivers a pending interrupt.
    """
    r, m = c.regs, c.mem
    limit = c.icount + max_steps
    c.limit = limit
    pc = c.pc
    n = len(c.program)
    deliver = irq or _maybe_irq
    while pc >= 0:
        if c.icount >= limit:
            c.pc = pc
            return "max_steps"
        if c.irq is not None:
            c.pc = pc
            pc = deliver(c, pc)
            if pc < 0:
                break
        if not 0 <= pc < n:
            c.fault = f"jump outside the program (pc {pc})"
            c.pc = pc
            return "fault"
        f = cache.get(pc)
        if f is None:
            f = compile_block(pc)
        pc = f(c, r, m)
    return _status(c)


def run_native(c: CPU, max_steps: int = 1_000_000, compiler: BlockCompiler | None = None) -> str:
    """Run ``c`` natively with compiled blocks (ring 0 kernel, ring 3 user).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("MOV EAX, 7\\nHLT")); run_native(c), c.regs[0]
    ('halted', 7)
    """
    check_int("max_steps", max_steps, minimum=0)
    bc = compiler or BlockCompiler(c.program, native_special, c.memory_words, wp=c.wp)
    return run_blocks(c, bc.cache, bc.compile, max_steps)
