"""The interpreter (emulation): threaded code with lazy flags.

:func:`interpret` is how virtlab *emulates* (Bochs, QEMU without
acceleration): every guest instruction is fetched and dispatched on its own.
Each address is decoded once per CPU into a specialised handler (a closure
over its operands) that executes that instruction and returns the next
handler; the flags are computed lazily.  Only the plain subset
(:func:`~virtlab.cpu.semantics.is_plain`) gets such a handler — a
specialised copy of :func:`~virtlab.cpu.semantics.execute` for speed; every
other instruction, and every plain form without a handler, runs through the
reference semantics.  ``tests/test_cpu_engines.py`` proves the copy equal to
the reference on generated programs.
"""

from __future__ import annotations

from itertools import repeat
from operator import length_hint
from collections.abc import Callable

from ..asm import Instruction, Program
from ..errors import check_int, check_type
from .semantics import CONDITIONS, MemFault, deliver_irq, is_plain, native_special, reference_step
from .state import CPU, run_status

__all__ = ["interpret"]


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
    check_type("c", c, CPU)
    check_int("max_steps", max_steps, minimum=0, maximum=10**12)
    if special is not None:
        check_type("special", special, Callable)
    return _engine(c)(c, max_steps, special or native_special)



class _Leave(Exception):
    """A handler leaves the dispatch loop at EIP ``args[0]`` (outside the program)."""


class _Resync(Exception):
    """After a special instruction: the CPU's count and flags are exact, next EIP ``args[0]``."""



def _engine(c: CPU) -> Callable:
    """The decoded program of ``c`` (built once per CPU and memory layout)."""
    e = getattr(c, "decoded", None)
    if (e is None or e[0] is not c.program or e[1] is not c.regs or e[2] is not c.mem
            or e[3] is not c.wp or e[4] is not c.ev or e[5] != c.memory_words):
        e = (c.program, c.regs, c.mem, c.wp, c.ev, c.memory_words,
             _build_engine(c.program, c.regs, c.mem, c.wp, c.ev, c.memory_words))
        c.decoded = e
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
    special instruction that did something unusual) or :class:`MemFault`.

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
            raise MemFault(pc, a)
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
            npc = reference_step(c, ins, pc) if reference else cur_sp(c, ins, pc)
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
                        raise MemFault(pc, a)
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
                            raise MemFault(pc, a)
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
                        raise MemFault(pc, a)
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
                        raise MemFault(pc, a)
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
                    raise MemFault(pc, a & 0xFFFF_FFFF)
                mem[a] = ret
                r[4] = a
                return tgt
        elif mn == "RET":
            def h():
                a = r[4]
                if a >= N:
                    raise MemFault(pc, a)
                r[4] = a + 1
                t = mem[a]
                return H[t] if 0 <= t < n else at(t)
        elif mn == "PUSH" and ops[0][0] in "ri":
            if ops[0][0] == "r":
                si = ops[0][1]

                def h():
                    a = r[4] - 1
                    if a >= N or a < 0:
                        raise MemFault(pc, a & 0xFFFF_FFFF)
                    mem[a] = r[si] & 0xFFFF_FFFF
                    r[4] = a
                    return nxt
            else:
                v = ops[0][1] & 0xFFFF_FFFF

                def h():
                    a = r[4] - 1
                    if a >= N or a < 0:
                        raise MemFault(pc, a & 0xFFFF_FFFF)
                    mem[a] = v
                    r[4] = a
                    return nxt
        elif mn == "POP" and ops[0][0] == "r":
            di = ops[0][1]

            def h():
                a = r[4]
                if a >= N:
                    raise MemFault(pc, a)
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
            elif mn in CONDITIONS and kinds == "l":
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
                    pc = deliver_irq(c, pc)
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
            except MemFault as f:
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
        return run_status(c)

    return run

