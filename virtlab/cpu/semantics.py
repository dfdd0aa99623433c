"""Reference semantics: what every instruction means.

:func:`execute` is the one definition of every instruction of the model CPU:
it reads and writes the privileged state it is given (the real CPU's, or a
VMM's virtual CPU), raises :class:`~virtlab.cpu.state.GuestTrap` for #GP,
#DE, #UD and ``INT n``, and leaves the decision who handles a trap to the
caller.  :func:`interpret_step` is the reference engine: one instruction at a
time, each through :func:`execute`.  The fast engines
(:mod:`~virtlab.cpu.interpreter`, :mod:`~virtlab.cpu.compiler`) specialise
the *plain* subset (:func:`is_plain`) and hand everything else back to this
module; ``tests/test_cpu_engines.py`` checks on generated programs that both
equal :func:`interpret_step`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..asm import MASK, Instruction
from ..errors import check_int, check_type
from ..i18n import N_
from .state import CPU, CS, SS, VECTOR_DE, VECTOR_GP, VECTOR_UD, GuestTrap, PrivState, flags_word

__all__ = ["interpret_step", "MemFault", "CONDITIONS"]

M = MASK
_LOAD_DT = {"LGDT": "gdtr", "LIDT": "idtr", "LLDT": "ldtr", "LTR": "tr"}

def _cs(p: PrivState) -> int:
    return (0x08 if p.cpl < 3 else 0x18) | p.cpl


def _ss(p: PrivState) -> int:
    return (0x10 if p.cpl < 3 else 0x20) | p.cpl


def _push(c: CPU, value: int, pc: int) -> None:
    a = (c.regs[4] - 1) & M
    if a >= c.memory_words:
        raise MemFault(pc, a)
    c.mem[a] = value & M
    c.regs[4] = a


def _pop(c: CPU, pc: int) -> int:
    a = c.regs[4]
    if a >= c.memory_words:
        raise MemFault(pc, a)
    c.regs[4] = (a + 1) & M
    return c.mem[a]




class MemFault(Exception):
    """An access outside guest RAM at EIP ``pc``, address ``addr``.

    Raised by the memory helpers here and by the engines' handlers; every
    engine catches it and calls :meth:`CPU.memfault` (MMIO or a stop).
    """

    def __init__(self, pc, addr):
        super().__init__(pc, addr)
        self.pc, self.addr = pc, addr


def _addr(c: CPU, op: tuple, pc: int) -> int:
    a = ((c.regs[op[1]] if op[1] >= 0 else 0) + op[2]) & M
    if a >= c.memory_words:
        raise MemFault(pc, a)
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


CONDITIONS = {
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
    except MemFault as f:
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
    except MemFault as f:
        return c.memfault(f.pc, f.addr)


_DATA = frozenset({"MOV", "ADD", "SUB", "AND", "OR", "XOR", "CMP", "TEST", "IMUL", "SHL",
                   "SHR", "INC", "DEC", "NEG", "NOT", "DIV", "NOP"})
_FLOW = frozenset({*CONDITIONS, "JMP", "CALL", "RET", "PUSH", "POP", "PUSHF", "POPF"})


def _execute(c: CPU, ins: Instruction, pc: int, p: PrivState) -> int:
    """:func:`execute` without the memory-fault handling (raises :class:`MemFault`)."""
    if c.traps_at(ins, p):
        raise GuestTrap(VECTOR_GP, pc, N_("{instruction} in ring {cpl}"), instruction=ins.key,
                        cpl=p.cpl)
    mn = ins.mnemonic
    if mn in _DATA:
        return _execute_data(c, mn, ins.operands, pc, p)
    if mn in _FLOW:
        return _execute_flow(c, mn, ins.operands, pc, p)
    return _execute_system(c, mn, ins.operands, pc, p)


def _execute_data(c: CPU, mn: str, ops: tuple, pc: int, p: PrivState) -> int:
    """Moves, arithmetic and logic (the plain subset, except DIV's #DE)."""
    regs = c.regs
    nxt = pc + 1
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
            raise GuestTrap(VECTOR_DE, pc, N_("divide by zero"))
        a = regs[0]
        regs[0], regs[2] = a // b, a % b
        return nxt
    if mn == "NOP":
        return nxt
    raise AssertionError(f"no semantics for {mn}")  # pragma: no cover


def _execute_flow(c: CPU, mn: str, ops: tuple, pc: int, p: PrivState) -> int:
    """Branches, calls and the stack (PUSHF/POPF read and write IF/IOPL in ``p``)."""
    regs = c.regs
    nxt = pc + 1
    if mn in CONDITIONS:
        return ops[0][1] if CONDITIONS[mn](c) else nxt
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
    raise AssertionError(f"no semantics for {mn}")  # pragma: no cover


def _execute_system(c: CPU, mn: str, ops: tuple, pc: int, p: PrivState) -> int:
    """System instructions: privileged state in ``p``, I/O, traps."""
    regs = c.regs
    nxt = pc + 1
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
        raise GuestTrap(VECTOR_UD, pc, N_("VMCALL outside VMX non-root operation"))
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


def execute_special(c: CPU, ins: Instruction, pc: int, p: PrivState, *,
                    trap_events: tuple[str, ...] = ("guest_traps",),
                    idt: PrivState | None = None) -> tuple[int, GuestTrap | None]:
    """Execute a special instruction against ``p``; deliver a trap it raises.

    The one path for "run it, and if it traps, take the trap": a retired
    instruction (also ``INT n``, which retires before its trap) counts in
    ``c.icount``; a trap counts each of ``trap_events`` and is delivered
    through the IDT of ``idt`` (default ``p``).  Returns the next EIP and the
    trap (None if there was none), so a hypervisor can annotate it.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("CLI\\nHLT")); c.real.cpl = 3
    >>> npc, trap = execute_special(c, c.program[0], 0, c.real)
    >>> npc, trap.vector, c.ev["guest_traps"], c.fault is not None
    (-1, 13, 1, True)
    """
    try:
        npc = execute(c, ins, pc, p)
    except GuestTrap as t:
        for event in trap_events:
            c.count(event)
        if t.reason == "INT":
            c.icount += 1
            c.count("syscalls")
        return deliver_trap(c, p if idt is None else idt, t.vector, t.pc), t
    c.icount += 1
    return npc, None


def native_special(c: CPU, ins: Instruction, pc: int) -> int:
    """Execute a special instruction on bare hardware; traps go to the guest IDT."""
    return execute_special(c, ins, pc, c.real)[0]


def deliver_irq(c: CPU, pc: int) -> int:
    """Deliver a pending interrupt if the *native* IF allows it."""
    if c.real.if_ and c.irq is not None:
        v, c.irq = c.irq, None
        c.count("interrupts")
        return deliver_trap(c, c.real, v, pc)
    return pc



def reference_step(c: CPU, ins: Instruction, pc: int) -> int:
    """A plain instruction form the decoder has no handler for: reference semantics."""
    try:
        npc = _execute(c, ins, pc, c.real)
    except MemFault as f:
        return c.memfault(f.pc, f.addr)
    c.icount += 1
    return npc



def interpret_step(c: CPU, special: Callable[[CPU, Instruction, int], int] | None = None) -> int:
    """Fetch, decode and execute one instruction; return the next EIP (-1 = stop).

    The reference engine: a plain instruction goes through :func:`execute`
    (:func:`reference_step`), a special one to ``special`` (the execution
    mode's handler, default :func:`native_special`).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("MOV EAX, 2\\nHLT"))
    >>> interpret_step(c), c.regs[0], interpret_step(c), c.halted
    (1, 2, -1, True)
    """
    check_type("c", c, CPU)
    if special is not None:
        check_type("special", special, Callable)
    pc = c.pc
    prog = c.program.instructions
    if not 0 <= pc < len(prog):
        c.fault = f"jump outside the program (pc {pc})"
        return -1
    ins = prog[pc]
    npc = reference_step(c, ins, pc) if is_plain(ins) else (special or native_special)(c, ins, pc)
    if npc >= 0:
        c.pc = npc
    return npc
