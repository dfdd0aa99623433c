"""Step-through debugger for guest programs under every execution technique.

One guest program, one technique (native, emulation, trap-and-emulate,
binary translation, hardware-assisted VT-x, paravirtual): **Step** executes
one guest instruction, **Run** continues until the guest halts (at most 500
steps), **Reset** starts over.  The picture shows the program with the
current instruction, the registers and flags, where the CPU really is (ring
0–3, VMX root = "ring −1" / non-root) and where the guest *believes* it is,
and the last trap / VM exit / hypercall; the log below says what happened at
each step ("VM exit HLT → VMM executes it → VMRESUME", "callout: VMM emulates
POPF", ...).  Changing the technique or the program rebuilds the machine.

It drives the machines of :mod:`virtlab.hypervisor` (``step()``, ``run()``,
``reset()``) and can be used headlessly:

Examples
--------
>>> app = step_debugger(technique="trap_and_emulate", program="popf_restore")
>>> app.state.pc, app.state.status
(0, 'running')
>>> app.step(); app.state.steps
1
>>> app.run(); app.state.status
'halted'
>>> app.controls["technique"].value = "binary_translation"
>>> app.state.steps, app.state.technique
(0, 'binary_translation')
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import ipywidgets as W

from ..asm import assemble
from ..errors import check_choice, check_int, check_str
from ..hypervisor import machine
from ..hypervisor.guests import GUESTS
from ..i18n import N_, _
from ..viz.hypervisor import debugger_view_scene
from .base import WidgetApp

__all__ = ["APPS", "TECHNIQUES", "TECHNIQUE_LABELS", "DebuggerApp", "DebuggerState",
           "make_machine", "step_debugger"]

#: Technique key -> (label shown in the dropdown, mode of
#: :func:`virtlab.hypervisor.machine`, its options).
TECHNIQUES = MappingProxyType({
    "native": (N_("native (ring 0, no VMM)"), "native", {}),
    "emulation": (N_("emulation (interpreter)"), "emulation", {}),
    "trap_and_emulate": (N_("trap-and-emulate (ring 1)"), "trap_and_emulate", {}),
    "binary_translation": (N_("binary translation"), "binary_translation", {}),
    "hardware": (N_("hardware-assisted (VT-x, EPT)"), "hardware", {"hardware": "nehalem_ept"}),
    "hardware_first_gen": (N_("hardware-assisted (1st gen VT-x, no EPT)"), "hardware",
                           {"hardware": "first_gen_vt"}),
    "paravirt": (N_("paravirtual (Xen hypercalls)"), "paravirt", {}),
})
#: Technique key -> label shown in the dropdown.
TECHNIQUE_LABELS = MappingProxyType({k: v[0] for k, v in TECHNIQUES.items()})

#: How the counters are named in the table (the keys are the machines' counter names).
_COUNTERS = {"instructions": N_("instructions"), "direct": N_("direct"),
             "interpreted": N_("interpreted"), "guest_traps": N_("guest traps"),
             "vmm_traps": N_("traps to VMM"), "callouts": N_("callouts"), "exits": N_("VM exits"),
             "hypercalls": N_("hypercalls"), "cache_hits": N_("cache hits"),
             "translated_blocks": N_("translated blocks")}

#: The debugger runs at most this many steps per Run.
RUN_LIMIT = 500


def make_machine(technique: str, program: str, isa: str | None = None):
    """Build the :mod:`virtlab.hypervisor` machine for ``technique`` and a program.

    Parameters
    ----------
    technique : str
        A key of :data:`TECHNIQUES`.
    program : str
        A guest of the catalogue :data:`virtlab.hypervisor.guests.GUESTS`, or
        assembler source (contains a newline or a space).
    isa : str, optional
        Catalogue for assembling and trapping (default: the guest's, ``X86_32``
        for source text); hardware modes always use ``X86_VTX``.

    Examples
    --------
    >>> m = make_machine("hardware", "port_io")
    >>> type(m).__name__, m.vmx.mode
    ('HardwareMachine', 'non-root')
    >>> make_machine("magic", "loop")
    Traceback (most recent call last):
    ...
    ValueError: technique must be one of 'native', 'emulation', 'trap_and_emulate', \
'binary_translation', 'hardware', 'hardware_first_gen', 'paravirt'; got 'magic'
    """
    check_choice("technique", technique, list(TECHNIQUES))
    check_str("program", program)
    if isa is not None:
        check_choice("isa", isa, ["TOY", "X86_32", "X86_VTX"])
    if program in GUESTS:
        guest_isa, _desc, source = GUESTS[program]
    elif "\n" in program or " " in program.strip():
        guest_isa, source = "X86_32", program
    else:
        raise ValueError(f"program must be one of {', '.join(GUESTS)} or "
                         f"assembler source; got {program!r}")
    _label, mode, options = TECHNIQUES[technique]
    prog = assemble(source, isa="X86_VTX" if mode == "hardware" else isa or guest_isa)
    return machine(prog, mode, **options)


@dataclass(frozen=True)
class DebuggerState:
    """A snapshot of the machine for drawing and tests.

    Attributes
    ----------
    technique, program : str
    pc : int
        Next instruction (EIP).
    listing : tuple of str
        The program (as the machine runs it, e.g. paravirtualized).
    registers : mapping of str to int
        EAX..EDI and EIP.
    flags : mapping of str to int
        ZF, SF, CF, OF and the guest's IF.
    ring : int
        The real ring the guest code runs in now.
    guest_ring : int
        The ring the guest believes it is in.
    vmx : str
        ``"non-root"``, ``"root"``, ``"off"`` or ``"-"`` (no VT-x).
    last : str
        What the last step did.
    last_exit : str
        Last VM exit (reason and qualification), trap or hypercall, or ``""``.
    status : str
        ``"running"``, ``"halted"`` or ``"fault"``.
    steps : int
        Steps since the last reset.
    counters : mapping of str to int
    log : tuple of str
        The whole step log.

    Examples
    --------
    >>> s = snapshot(make_machine("native", "port_io"), "native", "port_io")
    >>> s.listing[1], s.status
    ('OUT 0x3f8, EAX', 'running')
    """

    technique: str
    program: str
    pc: int
    listing: tuple
    registers: Any
    flags: Any
    ring: int
    guest_ring: int
    vmx: str
    last: str
    last_exit: str
    status: str
    steps: int
    counters: Any
    log: tuple


class DebuggerApp(WidgetApp):
    """Step / Run / Reset through a guest program (see module docstring).

    Examples
    --------
    >>> DebuggerApp.title
    'Step-through debugger: one guest, six techniques'
    """

    title = N_("Step-through debugger: one guest, six techniques")

    def __init__(self, technique: str = "trap_and_emulate", program: str = "popf_restore"):
        check_choice("technique", technique, TECHNIQUE_LABELS)
        check_choice("program", program, GUESTS)
        controls = {
            "technique": W.Dropdown(options=[(_(v), k) for k, v in TECHNIQUE_LABELS.items()],
                                    value=technique, description=_("technique")),
            "program": W.Dropdown(options=list(GUESTS), value=program,
                                  description=_("guest")),
        }
        self.step_button = W.Button(description=_("Step"), icon="step-forward",
                                    layout=W.Layout(width="90px"))
        self.run_button = W.Button(description=_("Run"), icon="play",
                                   layout=W.Layout(width="90px"))
        self.reset_button = W.Button(description=_("Reset"), icon="undo",
                                     layout=W.Layout(width="90px"))
        self.step_button.on_click(lambda _b: self.step())
        self.run_button.on_click(lambda _b: self.run())
        self.reset_button.on_click(lambda _b: self.reset())
        self.machine = None
        self._key: tuple | None = None
        self._steps = 0
        super().__init__(controls, extra=[W.HBox([self.step_button, self.run_button,
                                                  self.reset_button])])

    # -- buttons (also the headless API) -------------------------------------
    @property
    def state(self) -> DebuggerState:
        """The current snapshot (same as ``app.result``)."""
        return self.result

    def step(self, n: int = 1) -> None:
        """Execute ``n`` guest instructions (default one), then redraw once."""
        check_int("n", n, minimum=1, maximum=100_000)
        if self.machine is not None:
            for _i in range(n):
                self.machine.step()
                self._steps += 1
        self.update()

    def run(self, max_steps: int = RUN_LIMIT) -> None:
        """Step until the guest halts or faults (at most ``max_steps``), then redraw."""
        check_int("max_steps", max_steps, minimum=1, maximum=100_000)
        m = self.machine
        if m is not None:
            for _i in range(max_steps):
                ev = m.step()
                self._steps += 1
                if ev.status != "running":
                    break
        self.update()

    def reset(self) -> None:
        """Back to the first instruction and redraw."""
        if self.machine is not None:
            self.machine.reset()
        self._steps = 0
        self.update()

    # -- WidgetApp ---------------------------------------------------------------
    def compute(self, technique: str, program: str) -> DebuggerState:
        key = (technique, program)
        if key != self._key or self.machine is None:
            self.machine = make_machine(technique, program)
            self._key = key
            self._steps = 0
        return snapshot(self.machine, technique, program, self._steps)

    def draw(self, result: DebuggerState):
        return debugger_view_scene(result)

    def describe(self, result: DebuggerState) -> str:
        desc = _(GUESTS[result.program][1]) if result.program in GUESTS else ""
        ctr = result.counters
        keys = [k for k in ("instructions", "direct", "interpreted", "guest_traps",
                            "vmm_traps", "callouts", "exits", "hypercalls", "cache_hits",
                            "translated_blocks") if ctr.get(k)]
        table = "".join(f"<td>{_(_COUNTERS[k])}: <b>{ctr[k]}</b></td>" for k in keys)
        tail = "\n".join(result.log[-12:]) or _("(no steps yet)")
        return (f"<p>{html.escape(desc)}</p><table><tr>{table}</tr></table>"
                f"<pre style='font-size:11px;line-height:1.25'>{html.escape(tail)}</pre>")


def snapshot(machine, technique: str, program: str, steps: int = 0) -> DebuggerState:
    """A :class:`DebuggerState` of a :mod:`virtlab.hypervisor` machine.

    Examples
    --------
    >>> s = snapshot(make_machine("native", "loop"), "native", "loop")
    >>> s.registers["EIP"], s.vmx
    (0, '-')
    """
    c = machine.cpu
    regs = machine.registers()
    gp = machine.guest_priv()
    flags = {"ZF": int(bool(c.zf)), "SF": int(bool(c.sf)), "CF": int(bool(c.cf)),
             "OF": int(bool(c.of)), "IF": int(bool(gp.if_))}
    vmx = getattr(getattr(machine, "vmx", None), "mode", "-")
    last_exit = ""
    vmcs = getattr(machine, "vmcs", None)
    if vmcs is not None and vmcs.exit_reason_name:
        q = ", ".join(f"{k}={v}" for k, v in vmcs.exit_qualification.items())
        last_exit = _("VM exit {reason} (#{number})").format(
            reason=vmcs.exit_reason_name, number=vmcs.exit_reason) + (f" [{q}]" if q else "")
    elif machine.last_vmm_step is not None:
        # the machine marks the steps that left guest code (in any language)
        line = machine.log[machine.last_vmm_step]
        last_exit = line.split(None, 1)[1] if " " in line.strip() else line
        last_exit = " ".join(last_exit.split())
    status = "fault" if c.fault is not None else "halted" if c.halted else "running"
    ev = machine.last_event
    return DebuggerState(
        technique=technique, program=program, pc=c.pc,
        listing=tuple(i.text for i in machine.program),
        registers=MappingProxyType(dict(regs)), flags=MappingProxyType(flags),
        ring=machine.ring, guest_ring=machine.guest_ring, vmx=vmx,
        last="" if ev is None else ev.what, last_exit=last_exit, status=status,
        steps=steps, counters=MappingProxyType(dict(machine.counters())),
        log=tuple(machine.log))


def step_debugger(technique: str = "trap_and_emulate",
                  program: str = "popf_restore") -> DebuggerApp:
    """Build the step-through debugger (notebooks 06–09).

    Parameters
    ----------
    technique : str
        A key of :data:`TECHNIQUE_LABELS`.
    program : str
        A guest of :data:`virtlab.hypervisor.guests.GUESTS`.

    Examples
    --------
    >>> app = step_debugger("hardware", "port_io")
    >>> app.run(); app.state.last_exit
    'VM exit HLT (#12)'
    """
    check_choice("technique", technique, list(TECHNIQUES))
    check_choice("program", program, list(GUESTS))
    return DebuggerApp(technique=technique, program=program)


APPS: dict[str, Any] = {"step_debugger": step_debugger}
