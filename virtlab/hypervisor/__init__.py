"""One guest program, six ways to run it (*Virtualisierungsansätze*).

API overview (stable; for notebooks, widgets and other topics)
---------------------------------------------------------------
Build a guest with :func:`virtlab.asm.assemble` (text → ``Program``), then:

``run(program, mode="native", **options) -> RunResult``
    Run to HLT/fault/``max_steps``.  ``mode`` is one of :data:`MODES`:
    ``"native"`` (ring 0, bare CPU), ``"emulation"`` (interpreter),
    ``"trap_and_emulate"`` (kernel in ring 1, privileged instructions trap),
    ``"binary_translation"`` (kernel blocks translated, callouts, translation
    cache), ``"hardware"`` (VT-x: VMX root/non-root, VMCS, VM exits;
    option ``hardware="nehalem_ept"|"first_gen_vt"|"svm_2020"``),
    ``"paravirt"`` (the program is paravirtualized automatically unless
    ``paravirtualized=False``; option ``backend="xen"|"vmware"|"native"``).
    Common options: ``isa=``, ``costs=`` (:class:`costs.CostTable`),
    ``memory_words=``, ``ports=``, ``max_steps=``.
``machine(program, mode, **options) -> Machine``
    A steppable machine: ``.step() -> StepEvent`` (pc, text, what, ring,
    guest_ring, status), ``.run(max_steps) -> RunResult``, ``.reset()``,
    ``.registers()``, ``.state()`` (``GuestState``), ``.ring``,
    ``.guest_ring``, ``.log`` (list of str), ``.last_event``, ``.cpu``
    (raw :class:`virtlab.cpu.CPU`), ``.cpu.raise_irq(vector)``; hardware mode
    also ``.vmcs`` (:class:`vtx.VMCS`: guest/host/controls/exit reason and
    qualification) and ``.vmx.log`` (one vCPU per machine, so one VMCS);
    binary translation ``.translated_blocks()`` and
    :func:`binary_translation.translate`.
    ``.halted`` (HLT or fault).
``HardwareMachine`` extras (``machine(prog, "hardware", ...)``), for a KVM model:
    ``.vmx_mode`` ("root"/"non-root"/"off"); ``stop_on={"IO_INSTRUCTION",
    "HLT", "EPT_VIOLATION"}`` makes ``run()`` return with status ``"exit"``
    and ``.pending_exit = (reason, qualification)`` — IO: ``port``,
    ``direction`` ("in"/"out"), ``size`` (4), ``value`` (OUT) or ``register``
    (IN); EPT_VIOLATION (MMIO = access outside guest RAM): ``phys_addr``,
    ``len``, ``is_write``, ``data``; then ``.complete_exit(value)`` (value for
    IN / MMIO loads) and ``run()`` again.  Or pass callbacks
    ``io_handler(port, size, is_write, value) -> value`` and
    ``mmio_handler(addr, size, is_write, value) -> value``.  ``ept=`` overrides
    the generation's nested paging.  Guest memory: ``m.cpu.mem`` (list of
    32-bit words, word-addressed; size ``memory_words``).
``run_all(program, modes=MODES, **options) -> dict[str, RunResult]``
``first_divergence(program, mode, reference="native") -> Divergence | None``
    Lock-step both machines and report the first instruction after which the
    guest states differ (pc, instruction, fields).
``RunResult`` fields: ``mode, isa, status, state, instructions, counters,
exits, hypercalls, cycles, cycle_breakdown, efficiency, resource_control``;
properties ``traps, translated_blocks, cache_hits, cache_misses``;
``overhead_vs(native)``.  ``wall_seconds`` is measured but not compared.

Submodules: :mod:`.vm` (Machine, RunResult), :mod:`.native`,
:mod:`.emulation`, :mod:`.trap_and_emulate`, :mod:`.binary_translation`
(``translate(program, pc) -> TranslatedBlock``), :mod:`.vtx` (VMX, VMCS,
``exit_for``), :mod:`.paravirt` (``paravirtualize``, hypercall names, VMI
back ends), :mod:`.costs` (CostTable, COSTS, HARDWARE, ``cycles``),
:mod:`.microbench` (``workload(**mix)`` guest OS with an instruction mix,
``TYPICAL_MIX``, ``overheads(program)``, ``microbenchmark(name)``,
``run_all(costs, ept=) -> {bench: {"native"|"binary_translation"|"hardware":
cycles per iteration}}``, ``compare_bt_vt()``).  BT: ``translate(program,
pc)`` → ``TranslatedBlock(start, end, original, translated, callouts,
python)``; ``BinaryTranslationMachine.translated_blocks()``; cache hits and
misses in ``RunResult.cache_hits`` / ``cache_misses``.  :mod:`.guests`: named
demo guests (``program(name)``, ``source(name)``,
``interrupt_in_critical_section(mode)``).  Text helpers for notebooks:
``format_results(results)``, ``side_by_side(program, mode, show=("IF",))``.
Hypervisor types and KVM live in :mod:`.stacks` and :mod:`.kvm` (another
topic).

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble("MOV ECX, 100\\nl: ADD EAX, ECX\\nDEC ECX\\nJNZ l\\nCLI\\nHLT")
>>> results = run_all(prog)
>>> sorted({r.state.regs[0] for r in results.values()})
[5050]
>>> [m for m, r in results.items() if r.state != results["native"].state]
[]
>>> first_divergence(assemble("MOV EAX, 1\\nSMSW EBX\\nHLT"), "trap_and_emulate")
Divergence(step=2, pc=1, text='SMSW EBX', fields=('EBX',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..asm import Program, check_program
from ..errors import check_bool, check_choice, check_int
from .vm import DEFAULT_MAX_STEPS, Machine, RunResult, StepEvent

__all__ = ["MODES", "machine", "run", "run_all", "first_divergence", "Divergence",
           "Machine", "RunResult", "StepEvent", "format_results", "side_by_side"]

#: The six execution modes, in the lecture's order.
MODES = ("native", "emulation", "trap_and_emulate", "binary_translation", "hardware",
         "paravirt")

#: Human-readable names (German term in parentheses).
MODE_LABELS = {
    "native": "native (ring 0)",
    "emulation": "emulation (Emulation)",
    "trap_and_emulate": "trap-and-emulate",
    "binary_translation": "binary translation (Binärübersetzung)",
    "hardware": "hardware-assisted (VT-x)",
    "paravirt": "paravirtualization (Paravirtualisierung)",
}


def _machine_class(mode: str):
    check_choice("mode", mode, MODES)
    if mode == "native":
        from .native import NativeMachine as cls
    elif mode == "emulation":
        from .emulation import EmulationMachine as cls
    elif mode == "trap_and_emulate":
        from .trap_and_emulate import TrapAndEmulateMachine as cls
    elif mode == "binary_translation":
        from .binary_translation import BinaryTranslationMachine as cls
    elif mode == "hardware":
        from .vtx import HardwareMachine as cls
    else:
        from .paravirt import ParavirtMachine as cls
    return cls


def machine(program: Program, mode: str = "native", *, paravirtualized: bool = True,
            **options: Any) -> Machine:
    """A steppable :class:`Machine` for ``program`` in ``mode``.

    For ``mode="paravirt"`` the program is passed through
    :func:`paravirt.paravirtualize` first unless ``paravirtualized=False``.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> m = machine(assemble("CLI\\nHLT"), "hardware")
    >>> m.step().what
    'executed in VMX non-root ring 0 on guest state (no exit)'
    >>> m.step().what
    'VM exit HLT (#12) → VMM in root mode executes it → VMRESUME'
    """
    check_program(program)
    check_bool("paravirtualized", paravirtualized)
    cls = _machine_class(mode)
    if mode == "paravirt" and paravirtualized:
        from .paravirt import paravirtualize
        program = paravirtualize(program)
    elif mode != "paravirt" and any(i.mnemonic == "HYPERCALL" for i in program):
        raise ValueError(f"program contains HYPERCALLs (a paravirtualized kernel); "
                         f"mode {mode!r} cannot run it — use mode='paravirt'")
    return cls(program, **options)


def run(program: Program, mode: str = "native", *, max_steps: int = DEFAULT_MAX_STEPS,
        **options: Any) -> RunResult:
    """Run ``program`` in ``mode`` and return its :class:`RunResult`.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> r = run(assemble("MOV EAX, 2\\nIMUL EAX, 21\\nHLT"), "emulation")
    >>> r.state.regs[0], r.status
    (42, 'halted')
    """
    check_int("max_steps", max_steps, minimum=0, maximum=100_000_000)
    return machine(program, mode, **options).run(max_steps)


def run_all(program: Program, modes: tuple = MODES, **options: Any) -> dict[str, RunResult]:
    """Run ``program`` in several modes (same options for all).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> list(run_all(assemble("HLT"), ("native", "hardware")))
    ['native', 'hardware']
    """
    if not isinstance(modes, (tuple, list)) or not modes:
        raise TypeError("modes must be a non-empty tuple or list of mode names")
    for m in modes:
        check_choice("modes[]", m, MODES)
    return {m: run(program, m, **options) for m in modes}


@dataclass(frozen=True)
class Divergence:
    """Where a run first differs from the reference (after ``step`` steps)."""

    step: int
    pc: int
    text: str
    fields: tuple


def first_divergence(program: Program, mode: str, reference: str = "native", *,
                     max_steps: int = 10_000, **options: Any) -> Divergence | None:
    """Step ``mode`` and ``reference`` in lock-step; return the first divergence.

    Returns None if both end in the same state.  Counters (instruction
    counts) are not compared — only what the guest can observe.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> prog = assemble("MOV EAX, 1\\nPUSHF\\nPOP EBX\\nHLT")
    >>> first_divergence(prog, "binary_translation") is None
    True
    """
    check_int("max_steps", max_steps, minimum=1, maximum=1_000_000)
    a = machine(program, reference, **options)
    b = machine(program, mode, **options)
    for step in range(1, max_steps + 1):
        pc = b.cpu.pc
        text = program[pc].text if 0 <= pc < len(program) else "?"
        ea = a.step()
        eb = b.step()
        diff = tuple(f for f in b.state().diff(a.state()) if f != "icount")
        if diff:
            return Divergence(step, pc, text, diff)
        if ea.status != "running" and eb.status != "running":
            return None
    return None


def format_results(results: dict, reference: str = "native") -> str:
    """A fixed-width text table of several runs (for notebooks).

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> print(format_results(run_all(assemble("CLI\\nHLT"), ("native", "hardware"))))
    mode                 status   instr  traps/exits   cycles  overhead  efficiency  same state
    native               halted       2            0        2    +0.0 %      1.0000  yes
    hardware             halted       2            1     2501 +124950.0 %      0.5000  yes
    """
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict of mode -> RunResult")
    for r in results.values():
        if not isinstance(r, RunResult):
            raise TypeError(f"results values must be RunResult, got {type(r).__name__}")
    ref = results.get(reference) or next(iter(results.values()))
    lines = [f"{'mode':<20s} {'status':<7s} {'instr':>7s} {'traps/exits':>12s} "
             f"{'cycles':>8s}  overhead  efficiency  same state"]
    for mode, r in results.items():
        ov = r.overhead_vs(ref) * 100 if ref.cycles > 0 else 0.0
        same = "yes" if r.state == ref.state else "NO: " + ", ".join(r.state.diff(ref.state)[:4])
        lines.append(f"{mode:<20s} {r.status:<7s} {r.instructions:>7d} {r.traps:>12d} "
                     f"{r.cycles:>8.0f} {ov:+7.1f} % {r.efficiency:>11.4f}  {same}")
    return "\n".join(lines)


def side_by_side(program: Program, mode: str, reference: str = "native", *,
                 show: tuple = ("IF", "EBX"), max_steps: int = 40, **options: Any) -> str:
    """Step ``reference`` and ``mode`` together; one line per instruction.

    ``show`` names registers (``"EAX"``...) or ``"IF"``, ``"ZF"``, ``"CPL"``
    to print after each step; ``<==`` marks the first divergence.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> print(side_by_side(assemble("MOV ESP, 64\\nSTI\\nPUSH 0\\nPOPF\\nHLT"),
    ...                    "trap_and_emulate", show=("IF",)))
      pc  instruction          | native: IF | trap_and_emulate: IF | trap_and_emulate does
       0  MOV ESP, 64          | 0          | 0                    | executed directly (ring 1)
       1  STI                  | 1          | 1                    | trap (ring 1 → 0): VMM emulates STI
       2  PUSH 0               | 1          | 1                    | executed directly (ring 1)
       3  POPF                 | 0          | 1                    | critical POPF ran directly in ring 1: no trap, the VMM never sees it  <==
       4  HLT                  | 0          | 1                    | trap (ring 1 → 0): VMM emulates HLT
    """
    check_program(program)
    check_int("max_steps", max_steps, minimum=1, maximum=10_000)
    if not isinstance(show, (tuple, list)):
        raise TypeError("show must be a tuple of register/flag names")
    from ..asm import REGS

    def val(m: Machine, name: str) -> str:
        st = m.state()
        if name in REGS:
            return f"{st.regs[REGS.index(name)]:#x}"
        key = {"IF": "if_", "ZF": "zf", "CPL": "cpl"}.get(name)
        if key is None:
            raise ValueError(f"show: unknown name {name!r}; use a register, IF, ZF or CPL")
        return str(int(getattr(st, key)))

    for name in show:
        if name not in REGS and name not in ("IF", "ZF", "CPL"):
            raise ValueError(f"show: unknown name {name!r}; use a register, IF, ZF or CPL")
    a = machine(program, reference, **options)
    b = machine(program, mode, **options)
    w = max(len(reference) + 2 + 8 * len(show), 10)
    wb = max(len(mode) + 2 + 8 * len(show), 10)
    head = (f"  pc  {'instruction':<20s} | {(reference + ': ' + ' '.join(show)):<{w}s} | "
            f"{(mode + ': ' + ' '.join(show)):<{wb}s} | {mode} does")
    lines = [head]
    marked = False
    for _ in range(max_steps):
        pc = b.cpu.pc
        text = program[pc].text if 0 <= pc < len(program) else "?"
        ea, eb = a.step(), b.step()
        va = " ".join(val(a, n) for n in show)
        vb = " ".join(val(b, n) for n in show)
        mark = ""
        if not marked and [f for f in b.state().diff(a.state()) if f != "icount"]:
            mark, marked = "  <==", True
        lines.append(f"{pc:4d}  {text:<20s} | {va:<{w}s} | {vb:<{wb}s} | {eb.what}{mark}")
        if ea.status != "running" and eb.status != "running":
            break
    return "\n".join(lines)
