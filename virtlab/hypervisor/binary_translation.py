"""Binary translation (*Binärübersetzung*, *Code Patching*), VMware style.

Before a guest-*kernel* basic block runs for the first time, the VMM scans it
and translates it: innocuous instructions are copied unchanged, privileged
**and critical** instructions are replaced by calls into the VMM
(*callouts*) that emulate them against the virtual CPU.  Translations go into
a *translation cache*; later entries to the same block are cache hits.
Application code (virtual ring 3) runs unchanged, as the lecture says.  The
guest kernel runs in ring 1 (ring compression), so even an untranslated
privileged instruction would trap.

Control flow costs too: a direct jump or call in translated code is patched
to point at the translation of its target, but a ``RET`` is an *indirect*
branch — its target is a guest address known only at run time, which the
translated code must look up in the translation cache (Adams & Agesen 2006
include call/ret among their microbenchmarks for this reason).  Each ``RET``
executed in translated kernel code is counted as ``indirect_branches`` and
priced by :attr:`~virtlab.hypervisor.costs.CycleCosts.bt_indirect_branch`.

Because critical instructions never execute directly in kernel code, BT is
correct on ``X86_32`` where trap-and-emulate is not — with one honest
exception: *user-mode* SGDT/SIDT/SLDT/SMSW/STR still leak the host's values
(the "red pill" problem), since user code is not translated.

In virtlab a translated block is real code: :class:`~virtlab.cpu.BlockCompiler`
turns it into a Python function once; :func:`translate` shows original and
translated instructions side by side.

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble('''
...     MOV ECX, 3
... l:  POPF
...     DEC ECX
...     JNZ l
...     HLT''')
>>> m = BinaryTranslationMachine(prog); m.cpu.regs[4] = 100
>>> r = m.run()
>>> r.counters["callouts"], r.translated_blocks, r.cache_hits
(4, 3, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..asm import Instruction, Program, check_program
from ..cpu import BlockCompiler, CPU, run_blocks
from ..errors import check_int
from ..i18n import _
from .vm import VMMMachine

__all__ = ["BinaryTranslationMachine", "TranslatedBlock", "translate"]


@dataclass(frozen=True)
class TranslatedBlock:
    """One guest-kernel basic block before and after translation.

    Attributes
    ----------
    start, end : int
        Code addresses [start, end).
    original : tuple of str
        The guest instructions.
    translated : tuple of str
        What the VMM runs instead: the same text for innocuous instructions,
        ``CALL vmm_emulate_<KEY>  ; was ...`` for callouts.
    callouts : int
    python : str
        The generated Python source (the "host code").
    """

    start: int
    end: int
    original: tuple
    translated: tuple
    callouts: int
    python: str


def _needs_callout(ins: Instruction) -> bool:
    return ins.sensitive_form or ins.mnemonic == "HYPERCALL"


def translate(program: Program, start: int) -> TranslatedBlock:
    """Translate the guest-kernel block at ``start`` (for display).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> tb = translate(assemble("MOV EAX, 1\\nCLI\\nADD EAX, 2\\nPOPF\\nHLT"), 0)
    >>> for o, t in zip(tb.original, tb.translated): print(f"{o:<12}| {t}")
    MOV EAX, 1  | MOV EAX, 1
    CLI         | CALL vmm_emulate_CLI   ; callout, was CLI
    ADD EAX, 2  | ADD EAX, 2
    POPF        | CALL vmm_emulate_POPF   ; callout, was POPF
    HLT         | CALL vmm_emulate_HLT   ; callout, was HLT
    """
    check_program(program)
    check_int("start", start, minimum=0, maximum=len(program) - 1)
    bc = BlockCompiler(program, lambda c, i, p: p + 1, 4096)
    s, e = bc.block_range(start)
    orig, trans, n = [], [], 0
    for ins in program.instructions[s:e]:
        orig.append(ins.text)
        if _needs_callout(ins):
            n += 1
            trans.append(f"CALL vmm_emulate_{ins.key.replace(' ', '_')}   ; callout, "
                         f"was {ins.text}")
        else:
            trans.append(ins.text)
    return TranslatedBlock(s, e, tuple(orig), tuple(trans), n, bc.source(start))


class BinaryTranslationMachine(VMMMachine):
    """Kernel blocks translated (callouts, translation cache); user code direct.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> m = BinaryTranslationMachine(assemble("SGDT EAX\\nHLT"))
    >>> m.step().what
    '[translated block 0-1: cache miss] callout: VMM emulates SGDT (translated kernel code)'
    >>> m.cpu.regs[0]          # the guest's own GDTR (0), not the host's
    0
    """

    mode = "binary_translation"
    technique = "binary_translation"
    kernel_ring = 1

    def _setup(self) -> None:
        super()._setup()
        self.kernel_blocks: dict[int, object] = {}

    def callout(self, c: CPU, ins: Instruction, pc: int) -> int:
        """A translated kernel instruction calls into the VMM."""
        if not _needs_callout(ins):      # e.g. DIV: runs directly, may trap
            return self.direct(c, ins, pc)
        c.count("callouts")
        if self.tracing:
            self.note = _("callout: VMM emulates {instruction} (translated kernel "
                          "code)").format(instruction=ins.key)
            self.note_event = True
        return self.emulate(c, ins, pc)

    def special(self, c: CPU, ins: Instruction, pc: int) -> int:
        if self.vcpu.cpl == 0:
            return self.callout(c, ins, pc)
        return self.direct(c, ins, pc)

    def step(self):
        """One instruction; entering a kernel block goes through the cache."""
        c = self.cpu
        prefix = ""
        if self.vcpu.cpl == 0 and 0 <= c.pc < len(self.program) and not c.halted \
                and c.fault is None:
            self._translator()
            cache = self._kbc.cache
            if c.pc in cache:
                c.count("cache_hits")
            elif c.pc == self.program.entry or self._block_start(c.pc):
                self._kbc.compile(c.pc)
                s, e = self._kbc.block_range(c.pc)
                prefix = _("[translated block {first}-{last}: cache miss]").format(
                    first=s, last=e - 1) + " "
        ret = (self.vcpu.cpl == 0 and 0 <= c.pc < len(self.program)
               and self.program[c.pc].mnemonic == "RET")
        ev = super().step()
        if ret and c.fault is None:
            c.count("indirect_branches")
        if prefix:
            ev = replace(ev, what=prefix + ev.what)
            self.log[-1] = f"{ev.pc:4d}  {ev.text:<24s} {ev.what}"
            self.last_event = ev
        return ev

    def translated_blocks(self) -> list[TranslatedBlock]:
        """Every guest-kernel block in the translation cache, by address.

        Examples
        --------
        >>> from virtlab.asm import assemble
        >>> m = BinaryTranslationMachine(assemble("CLI\\nADD EAX, 1\\nHLT")); _ = m.run()
        >>> [(b.start, b.end, b.callouts) for b in m.translated_blocks()]
        [(0, 3, 2)]
        """
        if not hasattr(self, "_kbc"):
            return []
        return [translate(self.program, pc) for pc in sorted(self._kbc.cache)]

    def _block_start(self, pc: int) -> bool:
        """Whether ``pc`` starts a block (a jump target or after a terminator)."""
        prev = self.program[pc - 1] if pc > 0 else None
        if prev is None or prev.mnemonic in ("JMP", "CALL", "RET", "JZ", "JNZ", "JL",
                                             "JGE", "JG", "JLE", "HLT", "INT", "SYSEXIT"):
            return True
        return any(op[0] == "l" and op[1] == pc for ins in self.program
                   for op in ins.operands)

    def _ends_in_ret(self, start: int) -> bool:
        """Whether the kernel block at ``start`` ends with a RET (an indirect branch)."""
        _, end = self._kbc.block_range(start)
        return self.program[end - 1].mnemonic == "RET"

    def _translator(self):
        if not hasattr(self, "_ret_blocks"):
            self._ret_blocks: dict[int, bool] = {}
        if not hasattr(self, "_kbc"):
            self._kbc = BlockCompiler(self.program, self.callout, self.memory_words,
                                      wp=self.cpu.wp)
            self._ubc = BlockCompiler(self.program, self.direct, self.memory_words,
                                      wp=self.cpu.wp)

    def _run(self, max_steps: int) -> str:
        self._translator()
        kbc = self._kbc
        kernel = (kbc.cache, kbc.compile)
        user = (self._ubc.cache, self._ubc.compile)
        v = self.vcpu
        kernel_blocks = rets = 0
        last_ret = False
        ret_blocks = self._ret_blocks

        def select(c: CPU, pc: int):  # the guest kernel runs translated code
            nonlocal kernel_blocks, rets, last_ret
            if v.cpl:
                last_ret = False
                return user
            kernel_blocks += 1
            last_ret = ret_blocks.get(pc)
            if last_ret is None:
                last_ret = ret_blocks[pc] = self._ends_in_ret(pc)
            rets += last_ret       # a block ending in RET: an indirect branch to look up
            return kernel

        misses = kbc.misses
        status = run_blocks(self.cpu, *kernel, max_steps, self._irq, select)
        if last_ret and self.cpu.fault is not None:
            rets -= 1              # the last block faulted before it reached its RET
        # every kernel block was either found in the cache or translated now
        self.cpu.count("cache_hits", kernel_blocks - (kbc.misses - misses))
        if rets:
            self.cpu.count("indirect_branches", rets)
        return status

    def counters(self):
        ev = super().counters()
        if hasattr(self, "_kbc"):
            ev["translated_blocks"] = self._kbc.blocks_compiled
            ev["cache_misses"] = self._kbc.misses
            ev["translated_instructions"] = self._kbc.instructions_translated
            ev["user_blocks"] = self._ubc.blocks_compiled
        ev.setdefault("cache_hits", 0)
        return ev
