"""CPU state: constants, traps, privileged and guest-visible state, the :class:`CPU`.

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
the same :func:`~virtlab.cpu.semantics.execute` semantics, applied to a
different PrivState.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..asm import MASK, REGS, Instruction, Program, check_program
from ..errors import check_int, check_type
from ..isa import ISA, X86_32, get_isa
from ..i18n import _

__all__ = ["CPU", "PrivState", "GuestState", "GuestTrap",
           "MEMORY_WORDS", "MAX_MEMORY_WORDS", "PT_WORDS", "HOST_STATE", "CR0_BOOT",
           "VECTOR_DE", "VECTOR_UD", "VECTOR_GP"]

M = MASK
MEMORY_WORDS = 4096
#: Words of guest page table watched for writes (from CR3).
PT_WORDS = 64
MAX_MEMORY_WORDS = 1 << 20
VECTOR_DE, VECTOR_UD, VECTOR_GP = 0, 6, 13
ES, CS, SS, DS = 0, 1, 2, 3
IOPL_SENSITIVE = frozenset({"CLI", "STI", "IN", "OUT"})

#: CR0 after boot: PE (protected mode) | ET.
CR0_BOOT = 0x11
#: What the real machine holds while a hypervisor runs a guest deprivileged.
HOST_STATE = {"gdtr": 0xFFC0_1000, "idtr": 0xFFC0_2000, "ldtr": 0x30, "tr": 0x28,
              "cr0": 0x8005_003B, "cr3": 0x0070_0000, "cr4": 0x0000_06F0,
              "if_": True, "iopl": 0}


class GuestTrap(Exception):
    """A trap/exception raised by an instruction (vector, faulting EIP).

    ``reason`` is an English message id with ``{placeholders}`` filled from
    the keyword arguments (kept in ``params``); :attr:`reason` holds it filled in (English, for logs and
    comparisons), :meth:`describe` in the student's language.

    Examples
    --------
    >>> from virtlab.i18n import set_language
    >>> t = GuestTrap(13, 0x40, "{instruction} in ring {cpl}", instruction="CLI", cpl=3)
    >>> t.reason
    'CLI in ring 3'
    >>> previous = set_language("de")
    >>> t.describe()
    'CLI in Ring 3'
    >>> _ = set_language(previous)
    """

    def __init__(self, vector: int, pc: int, reason: str = "", **params: object):
        self.msgid, self.params = reason, params
        reason = reason.format(**params) if params else reason
        super().__init__(vector, pc, reason)
        self.vector = vector
        self.pc = pc
        self.reason = reason

    def describe(self) -> str:
        """The reason in the current language (:func:`virtlab.i18n.set_language`)."""
        return _(self.msgid).format(**self.params) if self.msgid else ""


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
        self.decoded: tuple | None = None

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


def run_status(c: CPU) -> str:
    """``"fault"``, ``"halted"`` or ``"max_steps"``: how a run of ``c`` ended."""
    if c.fault is not None:
        return "fault"
    if c.halted:
        return "halted"
    return "max_steps"

