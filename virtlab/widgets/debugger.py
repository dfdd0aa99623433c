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
>>> app = debugger(technique="trap_and_emulate", program="popf")
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

from virtlab.errors import check_choice
from virtlab.widgets.base import WidgetApp

__all__ = ["APPS", "GUEST_PROGRAMS", "TECHNIQUE_LABELS", "DebuggerApp", "DebuggerState",
           "make_machine", "debugger"]

#: Guest programs the debugger offers: name -> (one-line description, source).
GUEST_PROGRAMS = MappingProxyType({
    "popf": (
        "The POPF problem: the kernel restores flags with IF=1 via POPF. In ring 1 "
        "(trap-and-emulate on X86_32) the IF change is silently dropped.",
        """\
        MOV EAX, 0x202      ; flags image with IF (bit 9) set
        PUSH EAX
        POPF                ; critical: sensitive but does not trap in ring 1
        PUSHF               ; read the flags back
        POP EBX             ; EBX shows whether IF is set
        CLI                 ; privileged: traps in ring 1
        HLT
"""),
    "sgdt": (
        "SGDT/SMSW leak the real machine's values to a deprivileged guest kernel.",
        """\
        MOV EAX, 0x500
        LGDT EAX            ; privileged: the guest sets its GDT base
        SGDT EBX            ; critical: reads GDTR without a trap
        SMSW ECX            ; critical: reads the machine status word
        HLT
"""),
    "syscall": (
        "An application makes three system calls (INT 0x80); the kernel handles "
        "them and returns with SYSEXIT.",
        """\
        .equ IDT, 0x100
        MOV EAX, IDT
        LIDT EAX            ; privileged: load the IDT base
        MOV EAX, handler
        MOV [0x180], EAX    ; IDT[0x80] = handler
        MOV ECX, 0x800      ; user stack
        MOV EDX, app
        SYSEXIT             ; to the application (ring 3)
handler:
        ADD EBX, 1          ; the "system call"
        POP EAX             ; interrupted CS
        POP EDX             ; return address
        MOV ECX, ESP
        CMP EBX, 3
        JZ done
        SYSEXIT
done:   HLT
        .user
app:    INT 0x80
        JMP app
"""),
    "port_io": (
        "The guest kernel writes 'Hi' to the serial port (OUT) and halts.",
        """\
        MOV EAX, 72         ; 'H'
        OUT 0x3F8, EAX      ; port I/O: privileged
        MOV EAX, 105        ; 'i'
        OUT 0x3F8, EAX
        HLT
"""),
    "app_cli": (
        "Who issued it? The application executes CLI (the guest kernel's #GP handler "
        "deals with it), then the guest kernel does port I/O.",
        """\
        .equ IDT, 0x100
        MOV EAX, IDT
        LIDT EAX            ; guest kernel: its own IDT
        MOV EAX, gp
        MOV [IDT+13], EAX   ; #GP handler
        MOV ECX, 0x800
        MOV EDX, app
        SYSEXIT             ; to the application (ring 3)
gp:     MOV EAX, 33         ; '!'
        OUT 0x3F8, EAX      ; the guest OS does port I/O
        HLT
        .user
app:    CLI                 ; the application: a privileged instruction
"""),
    "loop": (
        "A compute loop: innocuous instructions only, plus the final HLT.",
        """\
        MOV ECX, 5
loop:   ADD EAX, ECX
        DEC ECX
        JNZ loop
        HLT
"""),
})

#: Technique key -> label shown in the dropdown.
TECHNIQUE_LABELS = MappingProxyType({
    "native": "native (ring 0, no VMM)",
    "emulation": "emulation (interpreter)",
    "trap_and_emulate": "trap-and-emulate (ring 1)",
    "binary_translation": "binary translation",
    "hardware": "hardware-assisted (VT-x, EPT)",
    "hardware_first_gen": "hardware-assisted (1st gen VT-x, no EPT)",
    "paravirt": "paravirtual (Xen hypercalls)",
})

#: The debugger runs at most this many steps per Run.
RUN_LIMIT = 500


def make_machine(technique: str, program: str, isa: str = "X86_32"):
    """Build the :mod:`virtlab.hypervisor` machine for ``technique`` and a program.

    Parameters
    ----------
    technique : str
        A key of :data:`TECHNIQUE_LABELS`.
    program : str
        A key of :data:`GUEST_PROGRAMS`, or assembler source (contains a newline
        or a space).
    isa : str
        Catalogue for assembling and trapping (``X86_32`` default; hardware
        modes always use ``X86_VTX``).

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
    from virtlab.asm import assemble
    from virtlab.errors import check_choice, check_str
    from virtlab.hypervisor.binary_translation import BinaryTranslationMachine
    from virtlab.hypervisor.emulation import EmulationMachine
    from virtlab.hypervisor.native import NativeMachine
    from virtlab.hypervisor.paravirt import ParavirtMachine, paravirtualize
    from virtlab.hypervisor.trap_and_emulate import TrapAndEmulateMachine
    from virtlab.hypervisor.vtx import HardwareMachine

    check_choice("technique", technique, list(TECHNIQUE_LABELS))
    check_str("program", program)
    check_choice("isa", isa, ["TOY", "X86_32", "X86_VTX"])
    if program in GUEST_PROGRAMS:
        source = GUEST_PROGRAMS[program][1]
    elif "\n" in program or " " in program.strip():
        source = program
    else:
        raise ValueError(f"program must be one of {', '.join(GUEST_PROGRAMS)} or "
                         f"assembler source; got {program!r}")
    hw = technique.startswith("hardware")
    prog = assemble(source, isa="X86_VTX" if hw else isa)
    if technique == "native":
        return NativeMachine(prog)
    if technique == "emulation":
        return EmulationMachine(prog)
    if technique == "trap_and_emulate":
        return TrapAndEmulateMachine(prog)
    if technique == "binary_translation":
        return BinaryTranslationMachine(prog)
    if technique == "hardware":
        return HardwareMachine(prog, hardware="nehalem_ept")
    if technique == "hardware_first_gen":
        return HardwareMachine(prog, hardware="first_gen_vt")
    return ParavirtMachine(paravirtualize(prog))


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

    title = "Step-through debugger: one guest, six techniques"

    def __init__(self, technique: str = "trap_and_emulate", program: str = "popf"):
        check_choice("technique", technique, TECHNIQUE_LABELS)
        check_choice("program", program, GUEST_PROGRAMS)
        controls = {
            "technique": W.Dropdown(options=[(v, k) for k, v in TECHNIQUE_LABELS.items()],
                                    value=technique, description="technique"),
            "program": W.Dropdown(options=list(GUEST_PROGRAMS), value=program,
                                  description="guest"),
        }
        self.step_button = W.Button(description="Step", icon="step-forward",
                                    layout=W.Layout(width="90px"))
        self.run_button = W.Button(description="Run", icon="play",
                                   layout=W.Layout(width="90px"))
        self.reset_button = W.Button(description="Reset", icon="undo",
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
        from virtlab.errors import check_int
        check_int("n", n, minimum=1, maximum=100_000)
        if self.machine is not None:
            for _ in range(n):
                self.machine.step()
                self._steps += 1
        self.update()

    def run(self, max_steps: int = RUN_LIMIT) -> None:
        """Step until the guest halts or faults (at most ``max_steps``), then redraw."""
        from virtlab.errors import check_int
        check_int("max_steps", max_steps, minimum=1, maximum=100_000)
        m = self.machine
        if m is not None:
            for _ in range(max_steps):
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
        from virtlab.viz.hypervisor import debugger_view
        return debugger_view(result)

    def describe(self, result: DebuggerState) -> str:
        desc = GUEST_PROGRAMS[result.program][0] if result.program in GUEST_PROGRAMS else ""
        ctr = result.counters
        keys = [k for k in ("instructions", "direct", "interpreted", "guest_traps",
                            "vmm_traps", "callouts", "exits", "hypercalls", "cache_hits",
                            "translated_blocks") if ctr.get(k)]
        table = "".join(f"<td>{k}: <b>{ctr[k]}</b></td>" for k in keys)
        tail = "\n".join(result.log[-12:]) or "(no steps yet)"
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
        last_exit = f"VM exit {vmcs.exit_reason_name} (#{vmcs.exit_reason})" + (
            f" [{q}]" if q else "")
    else:
        for line in reversed(machine.log):
            if any(w in line for w in ("trap", "callout", "hypercall", "exit", "emulat")):
                last_exit = line.split(None, 1)[1] if " " in line.strip() else line
                last_exit = " ".join(last_exit.split())
                break
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


def debugger(technique: str = "trap_and_emulate", program: str = "popf") -> DebuggerApp:
    """Build the step-through debugger (notebooks 06–09).

    Parameters
    ----------
    technique : str
        A key of :data:`TECHNIQUE_LABELS`.
    program : str
        A key of :data:`GUEST_PROGRAMS`.

    Examples
    --------
    >>> app = debugger("hardware", "port_io")
    >>> app.run(); app.state.last_exit
    'VM exit HLT (#12)'
    """
    from virtlab.errors import check_choice
    check_choice("technique", technique, list(TECHNIQUE_LABELS))
    check_choice("program", program, list(GUEST_PROGRAMS))
    return DebuggerApp(technique=technique, program=program)


APPS: dict[str, Any] = {"step_debugger": debugger}
