"""The common machinery of all six execution modes: :class:`Machine`, :class:`RunResult`.

A :class:`Machine` runs one guest :class:`~virtlab.asm.Program` in one mode.
It can ``run()`` to completion (fast path: compiled blocks, or the
interpreter for emulation), ``step()`` one instruction at a time with a
readable log (for the step-through debugger), and ``reset()``.  Subclasses
only decide what happens with a *special* instruction (privileged, sensitive
or able to trap) — the method :meth:`Machine.special`.

:class:`VMMMachine` is the base of the modes with a hypervisor: it keeps a
virtual CPU (``vcpu``, a :class:`~virtlab.cpu.PrivState`) holding the
privileged state *as the guest believes it to be*, runs the guest kernel in
``kernel_ring`` and emulates against the vcpu.

Examples
--------
>>> from virtlab.asm import assemble
>>> from virtlab.hypervisor.native import NativeMachine
>>> m = NativeMachine(assemble("MOV EAX, 2\\nCLI\\nHLT"))
>>> ev = m.step(); ev.text
'MOV EAX, 2'
>>> m.step().what
'executed directly (ring 0)'
>>> r = m.run(); r.status, r.state.regs[0]
('halted', 2)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..asm import Instruction, Program, REGS, check_program
from ..cpu import (BlockCompiler, CPU, GuestState, MEMORY_WORDS, PrivState, deliver_irq,
                   deliver_trap, execute_special, interpret_step, is_plain, run_blocks, run_native)
from ..errors import VirtlabError, check_int, check_type
from ..i18n import N_, _
from ..isa import ISA, get_isa
from .costs import COSTS, CycleCosts, cycles

__all__ = ["Machine", "VMMMachine", "RunResult", "StepEvent", "DEFAULT_MAX_STEPS"]

DEFAULT_MAX_STEPS = 2_000_000
MAX_STEPS_LIMIT = 100_000_000


@dataclass(frozen=True)
class StepEvent:
    """What one :meth:`Machine.step` did.

    Attributes
    ----------
    pc : int
        EIP of the instruction.
    text : str
        The instruction.
    what : str
        ``"executed directly (ring 0)"``, ``"trap → VMM emulates"``, ``"VM exit
        HLT"``, ``"hypercall set_trap_table"``, ...
    ring : int
        Real ring after the step.
    guest_ring : int
        The ring the guest believes it is in.
    status : str
        ``"running"``, ``"halted"`` or ``"fault"``.
    """

    pc: int
    text: str
    what: str
    ring: int
    guest_ring: int
    status: str


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run (frozen; ``wall_seconds`` is not compared).

    Attributes
    ----------
    mode : str
        ``native``, ``emulation``, ``trap_and_emulate``, ``binary_translation``,
        ``hardware`` or ``paravirt``.
    isa : str
    status : str
        ``halted``, ``fault`` or ``max_steps``.
    state : GuestState
        Final guest state (what the guest can observe).
    instructions : int
        Retired guest instructions.
    counters : mapping
        Event counts: ``direct``, ``interpreted``, ``guest_traps``,
        ``vmm_traps``, ``reflections``, ``callouts``, ``exits``,
        ``hypercalls``, ``syscalls``, ``io``, ``cr_writes``, ``pt_writes``,
        ``translated_blocks``, ``translated_instructions``, ``cache_hits``,
        ``cache_misses``, ...
    exits : mapping
        VM exits by reason (hardware mode).
    hypercalls : mapping
        Hypercalls by name (paravirtual mode; VMCALLs in hardware mode).
    cycles : float
        Simulated cycles from the cost table.
    cycle_breakdown : mapping
    efficiency : float
        Fraction of guest instructions executed directly (Popek & Goldberg).
    resource_control : bool or None
        The guest never ran in the real ring 0 / root mode and never changed
        the real privileged state (None natively).
    wall_seconds : float
        Wall-clock time of the run (not deterministic; excluded from ==).
    """

    mode: str
    isa: str
    status: str
    state: GuestState
    instructions: int
    counters: Mapping[str, int]
    exits: Mapping[str, int]
    hypercalls: Mapping[str, int]
    cycles: float
    cycle_breakdown: Mapping[str, float]
    efficiency: float
    resource_control: Any
    wall_seconds: float = field(default=0.0, compare=False, repr=False)

    @property
    def traps(self) -> int:
        """Traps, exits and hypercalls that left guest code (all kinds)."""
        c = self.counters
        return (c.get("guest_traps", 0) + c.get("vmm_traps", 0) + c.get("exits", 0)
                + c.get("hypercalls", 0) + c.get("callouts", 0))

    @property
    def translated_blocks(self) -> int:
        """Blocks translated by the binary translator (cache misses)."""
        return self.counters.get("translated_blocks", 0)

    @property
    def cache_hits(self) -> int:
        """Translation-cache hits (binary translation)."""
        return self.counters.get("cache_hits", 0)

    @property
    def cache_misses(self) -> int:
        """Translation-cache misses (binary translation)."""
        return self.counters.get("cache_misses", 0)

    def overhead_vs(self, native: RunResult) -> float:
        """Relative cycle overhead against a native run (0.07 = 7 %)."""
        check_type("native", native, RunResult)
        if native.cycles <= 0:
            raise ValueError("native must have a positive cycle count")
        return self.cycles / native.cycles - 1.0

    def summary(self) -> dict[str, Any]:
        """A small, stable dict for tables and notebooks."""
        return {"mode": self.mode, "status": self.status, "instructions": self.instructions,
                "traps/exits": self.traps, "cycles": round(self.cycles),
                "efficiency": round(self.efficiency, 4)}


class Machine:
    """Base class: one guest program in one execution mode.

    Parameters
    ----------
    program : Program
    isa : ISA or str, optional
        Trap behaviour (default: the program's ISA).
    costs : CycleCosts, optional
    memory_words : int
    ports : dict, optional
        Values ``IN`` reads per port.
    """

    mode = "native"
    technique = "native"
    kernel_ring = 0

    def __init__(self, program: Program, *, isa: ISA | str | None = None,
                 costs: CycleCosts = COSTS, memory_words: int = MEMORY_WORDS,
                 ports: dict | None = None):
        self.program = check_program(program)
        self.isa = get_isa(isa if isa is not None else program.isa)
        self.costs = check_type("costs", costs, CycleCosts)
        self.memory_words = check_int("memory_words", memory_words, minimum=16,
                                      maximum=1 << 20)
        self.ports = ports
        CPU(program, isa=self.isa, memory_words=memory_words, ports=ports)  # validate
        self.reset()

    # -- lifecycle ------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial state (new CPU, empty caches, empty log)."""
        self.cpu = CPU(self.program, isa=self.isa, memory_words=self.memory_words,
                       ports=self.ports)
        self.log: list[str] = []
        #: Index in ``log`` of the last step that left guest code (trap, VM exit,
        #: hypercall, callout, a critical instruction the VMM missed), or None.
        self.last_vmm_step: int | None = None
        self.tracing = False
        self.note = ""
        self.note_event = False
        self.last_event: StepEvent | None = None
        self.exits: dict[str, int] = {}
        self.hypercalls: dict[str, int] = {}
        self.wall_seconds = 0.0
        self._setup()

    def _setup(self) -> None:
        """Mode-specific initial state (override)."""

    # -- what a mode decides ----------------------------------------------------
    def special(self, c: CPU, ins: Instruction, pc: int) -> int:
        """Handle a special instruction; return the next EIP (-1 stops)."""
        return self._on_guest_state(c, ins, pc, c.real, N_("executed directly (ring {cpl})"))

    def _on_guest_state(self, c: CPU, ins: Instruction, pc: int, p: PrivState,
                        note: str) -> int:
        """Execute ``ins`` on the guest's state ``p``; traps go through the guest's own IDT.

        ``note`` (an English msgid) describes a step without a trap; ``{cpl}`` in it
        is the ring after it.
        """
        npc, trap = execute_special(c, ins, pc, p)
        if self.tracing:
            if trap is None:
                self.note = _(note).format(cpl=p.cpl)
            else:
                self.note = _("trap vector {vector} ({reason}) → guest kernel via its "
                              "IDT").format(vector=trap.vector, reason=trap.describe())
                self.note_event = True
        return npc

    def guest_priv(self) -> PrivState:
        """The privileged state the guest sees (native: the real one)."""
        return self.cpu.real

    @property
    def ring(self) -> int:
        """The real ring the CPU runs the guest in right now."""
        return self.cpu.real.cpl

    @property
    def guest_ring(self) -> int:
        """The ring the guest believes it is in."""
        return self.guest_priv().cpl

    def state(self) -> GuestState:
        """The guest-visible state now."""
        return self.cpu.state(self.guest_priv())

    def registers(self) -> dict[str, int]:
        """General registers and EIP by name (for the debugger)."""
        d = dict(zip(REGS, self.cpu.regs))
        d["EIP"] = self.cpu.pc
        return d

    # -- running --------------------------------------------------------------
    def step(self) -> StepEvent:
        """Execute exactly one guest instruction and describe it.

        Examples
        --------
        >>> from virtlab.asm import assemble
        >>> from virtlab.hypervisor.native import NativeMachine
        >>> m = NativeMachine(assemble("HLT"))
        >>> m.step().status, m.step().what
        ('halted', 'machine stopped')

        The description is in the current language (:mod:`virtlab.i18n`).
        """
        c = self.cpu
        if getattr(self, "pending_exit", None) is not None:
            raise VirtlabError("a VM exit is pending: call complete_exit() first")
        if c.halted or c.fault is not None:
            ev = StepEvent(c.pc, "", _("machine stopped"), self.ring, self.guest_ring,
                           "halted" if c.halted else "fault")
            self.last_event = ev
            return ev
        pc = c.pc
        text = (c.program[pc].text if 0 <= pc < len(c.program) else "?")
        self.tracing = True
        self.note = ""
        self.note_event = False
        try:
            self._before_step()
            npc = interpret_step(c, self.special)
        finally:
            self.tracing = False
        ins = c.program[pc] if 0 <= pc < len(c.program) else None
        what = self.note or (_("executed directly (ring {cpl})").format(cpl=self.ring)
                             if ins is not None and is_plain(ins) else "")
        if self.mode == "emulation" and not self.note:
            what = _("interpreted (fetch, decode, execute in software)")
        status = ("exit" if getattr(self, "pending_exit", None) is not None else
                  "fault" if c.fault is not None else "halted" if c.halted else "running")
        event = self.note_event
        if npc < 0 and c.fault is not None:
            what = _("fault: {fault}").format(fault=c.fault)
            event = False
        ev = StepEvent(pc, text, what, self.ring, self.guest_ring, status)
        self.log.append(f"{pc:4d}  {text:<24s} {what}")
        if event:
            self.last_vmm_step = len(self.log) - 1
        self.last_event = ev
        return ev

    def _before_step(self) -> None:
        """Hook before a single step: deliver a pending interrupt if IF = 1."""
        c = self.cpu
        if c.irq is not None:
            npc = deliver_irq(c, c.pc)
            if npc >= 0:
                c.pc = npc

    def _run(self, max_steps: int) -> str:
        """Fast path (override)."""
        return run_native(self.cpu, max_steps)

    def run(self, max_steps: int = DEFAULT_MAX_STEPS) -> RunResult:
        """Run until HLT, a fault or about ``max_steps`` instructions."""
        check_int("max_steps", max_steps, minimum=0, maximum=MAX_STEPS_LIMIT)
        c = self.cpu
        if getattr(self, "pending_exit", None) is not None:
            raise VirtlabError("a VM exit is pending: call complete_exit() first")
        if c.halted or c.fault is not None:
            return self.result()
        t0 = time.perf_counter()
        self._run(max_steps)
        self.wall_seconds += time.perf_counter() - t0
        return self.result()

    # -- results --------------------------------------------------------------
    def counters(self) -> dict[str, int]:
        """Event counts so far."""
        c = self.cpu
        ev = dict(c.ev)
        ev["instructions"] = c.icount
        handled = (ev.get("emulated", 0) + ev.get("callouts", 0) + ev.get("exit_emulated", 0)
                   + ev.get("hypercalls", 0))
        if self.mode == "emulation":
            ev["interpreted"] = c.icount
            ev["direct"] = 0
        else:
            ev["direct"] = max(c.icount - handled, 0)
        ev["exits"] = sum(self.exits.values())
        return ev

    def efficiency(self, counters: Mapping[str, int]) -> float:
        """Fraction of guest instructions executed directly."""
        n = counters.get("instructions", 0)
        return counters.get("direct", 0) / n if n else 1.0

    def resource_control(self) -> Any:
        """None natively; VMM modes override."""
        return None

    def _cycles(self, counters: Mapping[str, int]) -> tuple[float, dict[str, float]]:
        return cycles(self.technique, counters, self.costs)

    @property
    def halted(self) -> bool:
        """The guest executed HLT (or the machine stopped with a fault)."""
        return self.cpu.halted or self.cpu.fault is not None

    def status(self) -> str:
        """``halted``, ``fault``, ``exit`` (pending VM exit) or ``max_steps``."""
        c = self.cpu
        if getattr(self, "pending_exit", None) is not None:
            return "exit"
        if c.fault is not None:
            return "fault"
        return "halted" if c.halted else "max_steps"

    def result(self) -> RunResult:
        """The result so far as a :class:`RunResult`."""
        ctr = self.counters()
        total, parts = self._cycles(ctr)
        return RunResult(
            mode=self.mode, isa=self.isa.name, status=self.status(), state=self.state(),
            instructions=self.cpu.icount, counters=MappingProxyType(ctr),
            exits=MappingProxyType(dict(self.exits)),
            hypercalls=MappingProxyType(dict(self.hypercalls)), cycles=total,
            cycle_breakdown=MappingProxyType(parts), efficiency=self.efficiency(ctr),
            resource_control=self.resource_control(), wall_seconds=self.wall_seconds)


class VMMMachine(Machine):
    """Base of the modes with a hypervisor and a virtual CPU.

    The guest kernel (virtual ring 0) runs in the real ``kernel_ring``;
    applications in ring 3.  The real CPU keeps the host's privileged state
    (``HOST_STATE``); the guest's lives in ``self.vcpu``.
    """

    mode = "trap_and_emulate"
    technique = "trap_and_emulate"
    kernel_ring = 1

    def _setup(self) -> None:
        c = self.cpu
        self.vcpu = c.real            # the guest's initial (boot) state ...
        c.real = PrivState.host()     # ... while the real CPU holds the host's
        self.host_snapshot = c.real.copy()
        c.gdt_owner = self.vcpu       # the VMM's shadow GDT mirrors the guest's
        self.sync()

    def guest_priv(self) -> PrivState:
        return self.vcpu

    def sync(self) -> None:
        """Put the real CPU in the ring that matches the guest's virtual ring."""
        self.cpu.real.cpl = self.kernel_ring if self.vcpu.cpl == 0 else 3

    def emulate(self, c: CPU, ins: Instruction, pc: int) -> int:
        """The VMM executes ``ins`` against the virtual CPU (guest semantics)."""
        npc, trap = execute_special(c, ins, pc, self.vcpu, trap_events=("reflections",))
        self.sync()
        if trap is not None and self.tracing:
            self.note += "; " + _("VMM injects vector {vector} into the guest "
                                  "kernel").format(vector=trap.vector)
            self.note_event = True
        return npc

    def direct(self, c: CPU, ins: Instruction, pc: int) -> int:
        """Run a special instruction directly on the real CPU (ring 1 or 3)."""
        real = c.real
        if c.traps_at(ins, real):
            c.count("vmm_traps")
            if self.vcpu.cpl == 0:
                c.count("emulated")
                if self.tracing:
                    self.note = _("trap (ring {ring} → 0): VMM emulates {instruction}").format(
                        ring=real.cpl, instruction=ins.key)
            elif self.tracing:
                self.note = _("trap: privileged {instruction} from an application").format(
                    instruction=ins.key)
            self.note_event = self.tracing
            return self.emulate(c, ins, pc)
        # A trap goes to the real IDT, which belongs to the VMM: it reflects
        # the trap into the guest kernel (the virtual CPU's IDT).
        npc, trap = execute_special(c, ins, pc, real, trap_events=("vmm_traps", "reflections"),
                                    idt=self.vcpu)
        if trap is not None:
            if self.tracing:
                self.note = _("trap vector {vector} goes to the VMM, which reflects it to the "
                              "guest kernel").format(vector=trap.vector)
                self.note_event = True
            self.sync()
            return npc
        if ins.sensitive_form and self.isa[ins.key].critical:
            c.count("critical_direct")
            if self.tracing:
                self.note = _("critical {instruction} ran directly in ring {ring}: no trap, "
                              "the VMM never sees it").format(instruction=ins.key, ring=real.cpl)
                self.note_event = True      # the event the VMM missed
        elif self.tracing:
            self.note = _("executed directly (ring {cpl})").format(cpl=real.cpl)
        return npc

    def special(self, c: CPU, ins: Instruction, pc: int) -> int:
        return self.direct(c, ins, pc)

    def _irq(self, c: CPU, pc: int) -> int:
        """Inject a pending interrupt if the guest's *virtual* IF allows it."""
        if self.vcpu.if_ and c.irq is not None:
            vec, c.irq = c.irq, None
            c.count("interrupts")
            c.count("reflections")
            npc = deliver_trap(c, self.vcpu, vec, pc)
            self.sync()
            if self.tracing:
                self.note = _("VMM injects interrupt {vector} (virtual IF = 1)").format(
                    vector=vec)
            return npc
        return pc

    def _before_step(self) -> None:
        c = self.cpu
        if c.irq is not None:
            npc = self._irq(c, c.pc)
            if npc >= 0:
                c.pc = npc

    def _run(self, max_steps: int) -> str:
        if not hasattr(self, "_bc"):
            self._bc = BlockCompiler(self.program, self.special, self.memory_words,
                                     wp=self.cpu.wp)
        return run_blocks(self.cpu, self._bc.cache, self._bc.compile, max_steps, self._irq)

    def resource_control(self) -> bool:
        real = self.cpu.real
        snap = self.host_snapshot
        same = all(getattr(real, k) == getattr(snap, k)
                   for k in ("if_", "iopl", "gdtr", "idtr", "ldtr", "tr"))
        return bool(same and real.cr == snap.cr and self.kernel_ring > 0)
