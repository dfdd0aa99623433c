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
from collections.abc import Callable
from typing import Any

from ..asm import MASK, REGS, Instruction, Program
from ..errors import check_bool, check_int, check_type
from .semantics import CONDITIONS, deliver_irq, is_plain, native_special
from .state import CPU, MAX_MEMORY_WORDS, run_status

__all__ = ["BlockCompiler", "run_native"]

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


def _flag_effect(ins: Instruction) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(flags read, flags written) by a plain instruction."""
    reads, writes = _FLAG_RW.get(ins.mnemonic, ((), ()))
    if ins.mnemonic in ("SHL", "SHR") and (ins.operands[1][1] & 31):
        writes = _FLAGS
    return reads, writes


def _flag_liveness(body, words: int) -> list[set]:
    """Backwards over a block: which flags each instruction must produce."""
    live = set(_FLAGS)
    need: list[set] = [set()] * len(body)
    for k in range(len(body) - 1, -1, -1):
        ins = body[k]
        if not is_plain(ins):
            live = set(_FLAGS)
            need[k] = set()
            continue
        reads, writes = _flag_effect(ins)
        need[k] = set(writes) & live
        live = (live - set(writes)) | set(reads)
        if _may_fault(ins, words):
            # A memory fault leaves the block before ``ins`` (a stop, or an
            # MMIO exit that shows the registers): every flag is visible there.
            live = set(_FLAGS)
    return need


#: Jcc mnemonic -> Python condition on the flag locals.
_JCC_TEST = {"JZ": "zf", "JNZ": "not zf", "JL": "bool(sf) != bool(of)",
             "JGE": "bool(sf) == bool(of)", "JG": "not zf and bool(sf) == bool(of)",
             "JLE": "zf or bool(sf) != bool(of)"}


class _Gen:
    """Source generator for one block (tracks locals that need write-back).

    ``pc`` and ``nd`` (the flags the current instruction must produce) are set
    per instruction; the ``emit_*`` methods write the specialised Python for
    one plain instruction and return True if it ends the block.
    """

    def __init__(self, c_words: int):
        self.lines: list[str] = []
        self.N = c_words
        self.reg_loaded: set[int] = set()
        self.reg_dirty: set[int] = set()
        self.flag_dirty: set[str] = set()
        self.flags_local: set[str] = set()  # flags held in locals right now
        self.done = 0  # plain instructions retired since the last icount update
        self.base = 0  # extra indentation (1 inside a self-loop)
        self.loop_k = 0  # instructions per iteration of a self-loop block (0: none)
        self.pc = 0
        self.nd: set[str] = set()

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

    # -- operands and flags ------------------------------------------------------
    def flag(self, f: str) -> str:
        """Flag ``f`` as a local (loaded lazily from the CPU on first read)."""
        if f not in self.flags_local:
            self.emit(f"{f} = c.{f}")
            self.flags_local.add(f)
        return f

    def src(self, op) -> str:
        if op[0] == "r":
            return self.reg(op[1])
        if op[0] in ("i", "l"):
            return str(op[1])
        return self.mem_read(op)

    def addr_expr(self, op) -> str:
        if op[1] < 0:
            return str(op[2] & M)
        return f"({self.reg(op[1])} + {op[2]}) & {M}" if op[2] else self.reg(op[1])

    def mem_check(self, aexpr: str) -> str:
        self.emit(f"a = {aexpr}")
        self.emit(f"if a >= {self.N}:")
        self.commit(2)
        self.emit(f"return c.memfault({self.pc}, a)", 2)
        return "a"

    def mem_read(self, op) -> str:
        if op[1] < 0 and (op[2] & M) < self.N:
            return f"m[{op[2] & M}]"
        self.mem_check(self.addr_expr(op))
        return "m[a]"

    def setreg(self, i: int, expr: str) -> None:
        self.emit(f"{self.reg(i)} = {expr}")
        self.reg_dirty.add(i)

    def setf(self, f: str, expr: str) -> None:
        if f in self.nd:
            self.emit(f"{f} = {expr}")
            self.flags_local.add(f)
            self.flag_dirty.add(f)

    def zs(self, res: str) -> None:
        self.setf("zf", f"{res} == 0")
        self.setf("sf", f"{res} >> 31")

    # -- one plain instruction -------------------------------------------------------
    def emit_plain(self, ins: Instruction) -> bool:
        mn = ins.mnemonic
        if mn in CONDITIONS:
            return self.emit_jcc(ins)
        return getattr(self, _EMITTERS[mn])(ins)

    def emit_mov(self, ins) -> bool:
        d, sop = ins.operands
        if d[0] == "r":
            self.setreg(d[1], self.src(sop))
            return False
        v = self.src(sop)
        if d[1] < 0 and (d[2] & M) < self.N:
            self.emit(f"m[{d[2] & M}] = {v}")
            self.emit(f"if W[{d[2] & M}]:")
        else:
            if sop[0] == "m":  # pragma: no cover - no mem-to-mem form
                raise AssertionError
            self.mem_check(self.addr_expr(d))
            self.emit(f"m[a] = {v}")
            self.emit("if W[a]:")
        self.emit("c.count('pt_writes')", 2)
        return False

    def emit_alu(self, ins) -> bool:
        mn, (d, sop) = ins.mnemonic, ins.operands
        a = self.reg(d[1])
        b = self.src(sop)
        if sop[0] == "m":
            self.emit(f"b = {b}")
            b = "b"
        res = "t" if mn in ("CMP", "TEST") else a
        if mn == "ADD":
            if "of" in self.nd:
                self.emit(f"x = {a}")
                if b == a:           # ADD r, r: the source is overwritten by the result
                    self.emit(f"y = {b}")
                    b = "y"
            self.emit(f"t = {a} + {b}")
            self.setf("cf", "t >> 32")
            self.emit(f"{a} = t & {M}")
            self.reg_dirty.add(d[1])
            self.setf("of", f"((x ^ {a}) & ({b} ^ {a})) >> 31")
        elif mn in ("SUB", "CMP"):
            self.setf("cf", f"{a} < {b}")
            self.emit(f"t = ({a} - {b}) & {M}")
            self.setf("of", f"(({a} ^ {b}) & ({a} ^ t)) >> 31")
            if mn == "SUB":
                self.emit(f"{a} = t")
                self.reg_dirty.add(d[1])
        else:
            op = {"AND": "&", "TEST": "&", "OR": "|", "XOR": "^"}[mn]
            if mn == "TEST":
                self.emit(f"t = {a} {op} {b}")
            elif mn == "XOR" and sop == d:
                self.emit(f"{a} = 0")
                self.reg_dirty.add(d[1])
            else:
                self.emit(f"{a} {op}= {b}")
                self.reg_dirty.add(d[1])
            self.setf("cf", "0")
            self.setf("of", "0")
        self.zs(res)
        return False

    def emit_imul(self, ins) -> bool:
        d, sop = ins.operands
        a, b = self.reg(d[1]), self.src(sop)
        self.emit(f"sa = {a} - 4294967296 if {a} >> 31 else {a}")
        self.emit(f"sb = {b} - 4294967296 if {b} >> 31 else {b}")
        self.emit("full = sa * sb")
        self.emit(f"{a} = full & {M}")
        self.reg_dirty.add(d[1])
        if "cf" in self.nd or "of" in self.nd:
            self.emit(f"ovf = full != ({a} - 4294967296 if {a} >> 31 else {a})")
            self.setf("cf", "ovf")
            self.setf("of", "ovf")
        self.zs(a)
        return False

    def emit_shift(self, ins) -> bool:
        d, sop = ins.operands
        n = sop[1] & 31
        a = self.reg(d[1])
        if n:
            if ins.mnemonic == "SHL":
                self.setf("cf", f"({a} >> {32 - n}) & 1")
                self.emit(f"{a} = ({a} << {n}) & {M}")
            else:
                self.setf("cf", f"({a} >> {n - 1}) & 1")
                self.emit(f"{a} >>= {n}")
            self.reg_dirty.add(d[1])
            self.setf("of", "0")
            self.zs(a)
        return False

    def emit_unary(self, ins) -> bool:
        mn, i = ins.mnemonic, ins.operands[0][1]
        a = self.reg(i)
        if mn == "INC":
            self.emit(f"{a} = ({a} + 1) & {M}")
            self.setf("of", f"{a} == 2147483648")
        elif mn == "DEC":
            self.emit(f"{a} = ({a} - 1) & {M}")
            self.setf("of", f"{a} == 2147483647")
        elif mn == "NEG":
            self.setf("cf", f"int({a} != 0)")
            self.setf("of", f"{a} == 2147483648")
            self.emit(f"{a} = (-{a}) & {M}")
        else:                                   # NOT: no flags
            self.emit(f"{a} = ~{a} & {M}")
            self.reg_dirty.add(i)
            return False
        self.reg_dirty.add(i)
        self.zs(a)
        return False

    def emit_nop(self, ins) -> bool:
        return False

    def emit_push(self, ins) -> bool:
        v = self.src(ins.operands[0])
        self.mem_check(f"(esp - 1) & {M}")
        self.emit(f"m[a] = {v}")
        self.emit("esp = a")
        self.reg_dirty.add(4)
        return False

    def emit_pop(self, ins) -> bool:
        i = ins.operands[0][1]
        self.mem_check("esp")
        if i == 4:
            self.emit("esp = m[a]")
        else:
            self.setreg(i, "m[a]")
            self.emit(f"esp = (a + 1) & {M}")
        self.reg_dirty.add(4)
        return False

    def _leave(self, target: str) -> bool:
        """Retire the terminator, write everything back, return ``target``."""
        self.done += 1
        self.commit()
        self.emit(f"return {target}")
        return True

    def emit_jmp(self, ins) -> bool:
        target = ins.operands[0][1]
        if self.loop_k:
            self.emit("n += 1")
            self.emit("if n < budget:")
            self.emit("continue", 2)
            self.done = 0
            self.commit()
            self.emit(f"return {target}")
            return True
        return self._leave(str(target))

    def emit_call(self, ins) -> bool:
        self.mem_check(f"(esp - 1) & {M}")
        self.emit(f"m[a] = {self.pc + 1}")
        self.emit("esp = a")
        self.reg_dirty.add(4)
        return self._leave(str(ins.operands[0][1]))

    def emit_ret(self, ins) -> bool:
        self.mem_check("esp")
        self.emit("t = m[a]")
        self.emit(f"esp = (a + 1) & {M}")
        self.reg_dirty.add(4)
        return self._leave("t")

    def emit_jcc(self, ins) -> bool:
        cond, target = _JCC_TEST[ins.mnemonic], ins.operands[0][1]
        for f in _FLAG_RW[ins.mnemonic][0]:
            self.flag(f)
        if self.loop_k:
            self.emit("n += 1")
            self.emit(f"if ({cond}) and n < budget:")
            self.emit("continue", 2)
            self.done = 0
        else:
            self.done += 1
        self.commit()
        self.emit(f"if {cond}:")
        self.emit(f"return {target}", 2)
        self.emit(f"return {self.pc + 1}")
        return True

    # -- special instructions and self-loops -------------------------------------------
    def emit_special(self, idx: int, last: bool, used: set[int]) -> bool:
        """Call the mode's handler ``S`` for special instruction ``I[idx]``."""
        self.commit()
        self.done = 0
        self.emit(f"npc = S(c, I[{idx}], {self.pc})")
        if last:
            self.emit("return npc")
            self.reg_dirty.clear()
            self.flag_dirty.clear()
            return True
        # leave the block on a control transfer, or when an interrupt is
        # pending (STI/POPF may just have enabled it): the dispatcher
        # delivers it at once, as the interpreter does.
        self.emit(f"if npc != {self.pc + 1} or c.irq is not None:")
        self.emit("return npc", 2)
        for i in sorted(used):
            self.emit(f"{self.reg(i)} = r[{i}]")
        self.reg_dirty.clear()
        self.flag_dirty.clear()
        self.flags_local.clear()
        return False

    def open_self_loop(self, body) -> None:
        """Run the block as a ``while`` loop (flags read before written loaded first)."""
        written: set[str] = set()
        for ins in body:
            reads, writes = _flag_effect(ins)
            for f in reads:
                if f not in written:
                    self.flag(f)
            written |= set(writes)
        self.emit(f"budget = (c.limit - c.icount) // {len(body)}")
        self.emit("n = 0")
        self.emit("while True:")
        self.base = 1
        self.loop_k = len(body)


_EMITTERS = {"MOV": "emit_mov", "IMUL": "emit_imul", "SHL": "emit_shift", "SHR": "emit_shift",
             "NOP": "emit_nop", "PUSH": "emit_push", "POP": "emit_pop", "JMP": "emit_jmp",
             "CALL": "emit_call", "RET": "emit_ret",
             **dict.fromkeys(("ADD", "SUB", "CMP", "AND", "OR", "XOR", "TEST"), "emit_alu"),
             **dict.fromkeys(("INC", "DEC", "NEG", "NOT"), "emit_unary")}


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
        check_type("program", program, Program)
        check_type("special", special, Callable)
        check_int("memory_words", memory_words, minimum=1, maximum=MAX_MEMORY_WORDS)
        check_bool("chain_specials", chain_specials)
        if wp is not None:
            check_type("wp", wp, bytearray)
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
        """Python source of the block at ``start`` and its special-instruction table."""
        prog = self.program.instructions
        s, e = self.block_range(start)
        body = prog[s:e]
        need = _flag_liveness(body, self.N)
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
        consts: list[Instruction] = []
        # A block that branches back to its own start with no special
        # instruction becomes a loop inside one Python function (like chained
        # translations): no dispatch per iteration.  ``c.limit`` bounds it.
        last = body[-1]
        if (self.chain and last.mnemonic in ("JMP", *CONDITIONS) and last.operands[0][1] == s
                and all(is_plain(i) for i in body)):
            g.open_self_loop(body)
        ended = False
        for k, ins in enumerate(body):
            g.pc = s + k
            if not is_plain(ins):
                consts.append(ins)
                ended = g.emit_special(len(consts) - 1, k == len(body) - 1, used)
            else:
                g.nd = need[k]
                g.emit(f"# {g.pc}: {ins.text}")
                ended = g.emit_plain(ins)
                if not ended:
                    g.done += 1
            if ended:
                break
        if not ended:
            g.commit()
            g.emit(f"return {e}")
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
               select: Callable[[CPU, int], tuple[dict, Callable[[int], Callable]]] | None = None
               ) -> str:
    """Run compiled blocks until HLT, a fault or about ``max_steps`` instructions.

    ``cache`` maps EIP → block function; ``compile_block(pc)`` fills it on a
    miss.  ``max_steps`` is checked at block boundaries (a run may overshoot
    by less than one block).  ``irq(c, pc)`` delivers a pending interrupt.
    ``select(c, pc)``, if given, returns the ``(cache, compile_block)`` pair to
    use for the block at ``pc`` (binary translation keeps one translation cache
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
            cache, compile_block = select(c, pc)
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
    check_type("c", c, CPU)
    check_int("max_steps", max_steps, minimum=0)
    if compiler is not None:
        check_type("compiler", compiler, BlockCompiler)
    bc = compiler or BlockCompiler(c.program, native_special, c.memory_words, wp=c.wp)
    return run_blocks(c, bc.cache, bc.compile, max_steps)