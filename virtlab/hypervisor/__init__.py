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
    Common options: ``isa=``, ``costs=`` (:class:`costs.CycleCosts`),
    ``memory_words=``, ``ports=``, ``max_steps=``.
``machine(program, mode, **options) -> Machine``
    A steppable machine: ``.step() -> StepEvent`` (pc, text, what, ring,
    guest_ring, status), ``.run(max_steps) -> RunResult``, ``.reset()``,
    ``.registers()``, ``.state()`` (``GuestState``), ``.ring``,
    ``.guest_ring``, ``.log`` (list of str, in the current language),
    ``.last_vmm_step`` (index in ``.log`` of the last trap / exit / hypercall /
    callout, or None), ``.last_event``, ``.cpu``
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
back ends), :mod:`.costs` (CycleCosts, COSTS, HARDWARE, ``cycles``),
:mod:`.microbench` (``workload(**mix)`` guest OS with an instruction mix,
``TYPICAL_MIX``, ``overheads(program)``, ``microbenchmark(name)``,
``run_all(costs, ept=) -> {bench: {"native"|"binary_translation"|"hardware":
cycles per iteration}}``, ``compare_bt_vt()``).  BT: ``translate(program,
pc)`` → ``TranslatedBlock(start, end, original, translated, callouts,
python)``; ``BinaryTranslationMachine.translated_blocks()``; cache hits and
misses in ``RunResult.cache_hits`` / ``cache_misses``.  :mod:`.guests`: named
demo guests (``program(name)``, ``source(name)``,
``interrupt_in_critical_section(mode)``).  Text helpers for notebooks:
``lockstep(program, mode, show=("IF",))`` (data; :mod:`virtlab.viz.text` prints
it and a dict of results).
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

from ..asm import REGS, Program, check_program
from ..errors import check_bool, check_choice, check_int
from .binary_translation import BinaryTranslationMachine
from .emulation import EmulationMachine
from .native import NativeMachine
from .paravirt import ParavirtMachine, paravirtualize
from .trap_and_emulate import TrapAndEmulateMachine
from .vm import DEFAULT_MAX_STEPS, Machine, RunResult, StepEvent
from .vtx import HardwareMachine

__all__ = ["MODES", "machine", "run", "run_all", "first_divergence", "Divergence",
           "Machine", "RunResult", "StepEvent", "MACHINES", "Lockstep", "LockstepRow",
           "lockstep"]

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


#: Mode -> the machine class that runs it.
MACHINES = {"native": NativeMachine, "emulation": EmulationMachine,
            "trap_and_emulate": TrapAndEmulateMachine,
            "binary_translation": BinaryTranslationMachine, "hardware": HardwareMachine,
            "paravirt": ParavirtMachine}


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
    check_choice("mode", mode, MODES)
    if mode == "paravirt" and paravirtualized:
        program = paravirtualize(program)
    elif mode != "paravirt" and any(i.mnemonic == "HYPERCALL" for i in program):
        raise ValueError(f"program contains HYPERCALLs (a paravirtualized kernel); "
                         f"mode {mode!r} cannot run it — use mode='paravirt'")
    return MACHINES[mode](program, **options)


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


@dataclass(frozen=True)
class LockstepRow:
    """One instruction of :func:`lockstep`: the values after it in both runs."""

    pc: int
    text: str
    reference: tuple[int, ...]
    mode: tuple[int, ...]
    what: str
    diverged: bool


@dataclass(frozen=True)
class Lockstep:
    """``reference`` and ``mode`` stepped together over ``program`` (see :func:`lockstep`).

    ``diverged`` is True on the first row whose guest-visible state differs.
    """

    reference_mode: str
    mode: str
    show: tuple[str, ...]
    rows: tuple[LockstepRow, ...]


#: Names :func:`lockstep` can show besides the registers.
LOCKSTEP_FLAGS = {"IF": "if_", "ZF": "zf", "CPL": "cpl"}


def lockstep(program: Program, mode: str, reference: str = "native", *,
             show: tuple = ("IF", "EBX"), max_steps: int = 40, **options: Any) -> Lockstep:
    """Step ``reference`` and ``mode`` together; the shown values after each instruction.

    ``show`` names registers (``"EAX"``...) or ``"IF"``, ``"ZF"``, ``"CPL"``.
    :func:`virtlab.viz.text.lockstep_table` prints it.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> run = lockstep(assemble("MOV ESP, 64\\nSTI\\nPUSH 0\\nPOPF\\nHLT"),
    ...                "trap_and_emulate", show=("IF",))
    >>> [(r.text, r.reference, r.mode) for r in run.rows if r.diverged]
    [('POPF', (0,), (1,))]
    """
    check_program(program)
    check_int("max_steps", max_steps, minimum=1, maximum=10_000)
    if not isinstance(show, (tuple, list)):
        raise TypeError("show must be a tuple of register/flag names")
    for name in show:
        if name not in REGS and name not in LOCKSTEP_FLAGS:
            raise ValueError(f"show: unknown name {name!r}; use a register, IF, ZF or CPL")

    def values(m: Machine) -> tuple[int, ...]:
        st = m.state()
        return tuple(st.regs[REGS.index(n)] if n in REGS else int(getattr(st, LOCKSTEP_FLAGS[n]))
                     for n in show)

    a = machine(program, reference, **options)
    b = machine(program, mode, **options)
    rows = []
    marked = False
    for _ in range(max_steps):
        pc = b.cpu.pc
        text = program[pc].text if 0 <= pc < len(program) else "?"
        ea, eb = a.step(), b.step()
        diverged = not marked and any(f != "icount" for f in b.state().diff(a.state()))
        marked = marked or diverged
        rows.append(LockstepRow(pc, text, values(a), values(b), eb.what, diverged))
        if ea.status != "running" and eb.status != "running":
            break
    return Lockstep(reference, mode, tuple(show), tuple(rows))
