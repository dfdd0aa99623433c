"""The block compiler (direct execution and binary translation).

Each basic block is translated once into Python source, compiled with
``compile``/``exec`` into a function and cached.  Registers become local
variables, flags are computed only where a later instruction (or the block
exit) can read them.  This is how virtlab lets native, binary-translated and
hardware-assisted runs execute guest code "directly": at the speed of compiled
code, with *special* instructions (privileged, sensitive, or able to fault)
handed to a mode-specific handler.  The generated code for the plain subset is
a specialised copy of :func:`~virtlab.cpu.semantics.execute`;
``tests/test_cpu_engines.py`` proves it equal to the reference on generated
programs.  :func:`run_blocks` is the one run loop over compiled blocks for
every mode (a ``select`` hook picks the translation cache per block, which
binary translation uses for its kernel and user caches).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ..asm import MASK, REGS, Instruction, Program
from ..errors import check_int
from .semantics import CONDITIONS, deliver_irq, is_plain, native_special
from .state import CPU, run_status

__all__ = ["BlockCompiler", "run_blocks", "run_native"]

M = MASK

_FLAGS = ("zf", "sf", "cf", "of")
_TERMINATORS = frozenset({"JMP", "CALL", "RET", *CONDITIONS})
_FLAG_RW = {  # mnemonic -> (reads, writes)
    **{m: ((), _FLAGS) for m in ("ADD", "SUB", "AND", "OR", "XOR", "CMP", "TEST",
                                 "IMUL", "NEG")},
    "INC": ((), ("zf", "sf", "of")), "DEC": ((), ("zf", "sf", "of")),
    "JZ": (("zf",), ()), "JNZ": (("zf",), ()), "JL": (("sf", "of"), ()),
    "JGE": (("sf", "of"), ()), "JG": (("zf", "sf", "of"), ()),
    "JLE": (("zf", "sf", "of"), ()),
}


def _may_fault(ins: Instruction, words: int) -> bool:
    """Whether a plain instruction can leave its block with a memory fault."""
    if ins.mnemonic in ("PUSH", "POP", "CALL", "RET"):
        return True
    return any(op[0] == "m" and (op[1] >= 0 or (op[2] & M) >= words) for op in ins.operands)


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
            if _may_fault(ins, self.N):
                # A memory fault leaves the block before ``ins`` (a stop, or an
                # MMIO exit that shows the registers): every flag is visible there.
                live = set(_FLAGS)
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
        if (self.chain and last.mnemonic in ("JMP", *CONDITIONS) and last.operands[0][1] == s
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
            elif mn in CONDITIONS:
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
               irq: Callable[[CPU, int], int] | None = None,
               select: Callable[[CPU], tuple[dict, Callable[[int], Callable]]] | None = None
               ) -> str:
    """Run compiled blocks until HLT, a fault or about ``max_steps`` instructions.

    ``cache`` maps EIP → block function; ``compile_block(pc)`` fills it on a
    miss.  ``max_steps`` is checked at block boundaries (a run may overshoot
    by less than one block).  ``irq(c, pc)`` delivers a pending interrupt.
    ``select(c)``, if given, returns the ``(cache, compile_block)`` pair to
    use for the next block (binary translation keeps one translation cache
    for the guest kernel and one for user code, chosen by the virtual ring).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> c = CPU(assemble("MOV ECX, 3\\nl: DEC ECX\\nJNZ l\\nHLT"))
    >>> bc = BlockCompiler(c.program, native_special, c.memory_words)
    >>> run_blocks(c, bc.cache, bc.compile, 100), c.icount, sorted(bc.cache)
    ('halted', 8, [0, 1, 3])
    """
    r, m = c.regs, c.mem
    limit = c.icount + max_steps
    c.limit = limit
    pc = c.pc
    n = len(c.program)
    deliver = irq or deliver_irq
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
        if select is not None:
            cache, compile_block = select(c)
        f = cache.get(pc)
        if f is None:
            f = compile_block(pc)
        pc = f(c, r, m)
    return run_status(c)


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