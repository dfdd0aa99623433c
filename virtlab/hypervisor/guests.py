"""Small named guest programs: the one catalogue for notebooks, tests and the debugger.

Each guest is assembler source with comments, so a notebook can print it and
run it in one short cell: ``guests.program("popf")``.

Examples
--------
>>> sorted(GUESTS)[:5]
['app_cli', 'app_cli_serial', 'leak', 'loop', 'popf']
>>> program("popf")[3].text
'POPF'
"""

from __future__ import annotations

from types import MappingProxyType

from ..asm import Program, assemble
from ..errors import check_choice
from ..i18n import N_, _
from . import machine

__all__ = ["GUESTS", "description", "program", "source", "interrupt_in_critical_section"]

_APP_CLI = """\
        MOV EAX, 0x200
        LIDT EAX            ; interrupt descriptor table at 0x200
        MOV EAX, gp
        MOV [0x20D], EAX    ; IDT[13] (#GP) = gp
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT             ; to the application, ring 3
gp:     MOV ESI, 13         ; the kernel got the trap
        HLT
.user
app:    CLI                 ; privileged: not allowed in ring 3
"""

_POPF = """\
        MOV ESP, 0x700
        STI                 ; interrupts on
        PUSH 0              ; a saved flags word with IF = 0
        POPF                ; "interrupts off" - critical!
        MOV EBX, 1          ; the guest's critical section
        HLT
"""

_POPF_IRQ = """\
        MOV ESP, 0x700
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, timer
        MOV [0x220], EAX    ; IDT[32] = timer handler
        STI
        PUSH 0
        POPF                ; interrupts "off"
        MOV EBX, 1          ; critical section (the interrupt line is raised here)
        HLT
timer:  MOV ESI, 0xBAD      ; must not run inside the critical section
        HLT
"""

_LEAK = """\
        MOV EAX, 0x123
        LGDT EAX            ; the guest's GDT base (privileged: trapped, emulated)
        SGDT EBX            ; critical: reads the GDTR
        SMSW ECX            ; critical: reads the machine status word (CR0)
        HLT
"""

_POPF_RESTORE = """\
        MOV EAX, 0x202      ; flags image with IF (bit 9) set
        PUSH EAX
        POPF                ; critical: sensitive but does not trap in ring 1
        PUSHF               ; read the flags back
        POP EBX             ; EBX shows whether IF is set
        CLI                 ; privileged: traps in ring 1
        HLT
"""

_SYSCALL = """\
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
"""

_PORT_IO = """\
        MOV EAX, 72         ; 'H'
        OUT 0x3F8, EAX      ; port I/O: privileged
        MOV EAX, 105        ; 'i'
        OUT 0x3F8, EAX
        HLT
"""

_APP_CLI_SERIAL = """\
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
"""

_LOOP = """\
        MOV ECX, 5
loop:   ADD EAX, ECX
        DEC ECX
        JNZ loop
        HLT
"""

#: name -> (ISA, one-line description, source); the one catalogue of named guests
#: (notebooks, tests and the step-through debugger).  The description is an English
#: msgid of the catalogue: :func:`description` gives it in the current language.
GUESTS = MappingProxyType({
    "app_cli": ("X86_32", N_("an application tries CLI in ring 3: #GP into the kernel"),
                _APP_CLI),
    "popf": ("X86_32", N_("the kernel disables interrupts with PUSH 0 / POPF"), _POPF),
    "popf_toy": ("TOY", N_("the same on TOY, where POPF is privileged"), _POPF),
    "popf_irq": ("X86_32", N_("an interrupt arrives in the POPF-protected section"),
                 _POPF_IRQ),
    "leak": ("X86_32", N_("SGDT and SMSW read the real machine's registers"), _LEAK),
    "popf_restore": ("X86_32", N_("The POPF problem: the kernel restores flags with IF=1 via "
                                  "POPF. In ring 1 (trap-and-emulate on X86_32) the IF change "
                                  "is silently dropped."), _POPF_RESTORE),
    "syscall": ("X86_32", N_("An application makes three system calls (INT 0x80); the kernel "
                             "handles them and returns with SYSEXIT."), _SYSCALL),
    "port_io": ("X86_32", N_("The guest kernel writes 'Hi' to the serial port (OUT) and "
                             "halts."), _PORT_IO),
    "app_cli_serial": ("X86_32", N_("Who issued it? The application executes CLI (the guest "
                                    "kernel's #GP handler deals with it), then the guest "
                                    "kernel does port I/O."), _APP_CLI_SERIAL),
    "loop": ("X86_32", N_("A compute loop: innocuous instructions only, plus the final HLT."),
             _LOOP),
})


def description(name: str) -> str:
    """The one-line description of guest ``name``, in the current language.

    Examples
    --------
    >>> description("popf")
    'the kernel disables interrupts with PUSH 0 / POPF'
    """
    check_choice("name", name, list(GUESTS))
    return _(GUESTS[name][1])


def source(name: str) -> str:
    """The commented assembler source of guest ``name``."""
    check_choice("name", name, list(GUESTS))
    return GUESTS[name][2]


def program(name: str) -> Program:
    """Guest ``name`` assembled for its ISA.

    Examples
    --------
    >>> program("popf_toy").isa
    'TOY'
    """
    check_choice("name", name, list(GUESTS))
    isa, _desc, src = GUESTS[name]
    return assemble(src, isa=isa)


def interrupt_in_critical_section(mode: str, *, after_steps: int = 8) -> int:
    """Run ``popf_irq`` in ``mode``, raise IRQ 32 after ``after_steps`` steps.

    Returns ESI at the end: 0xBAD if the timer handler ran inside the
    section the guest protected with POPF, else 0.

    Examples
    --------
    >>> hex(interrupt_in_critical_section("native"))
    '0x0'
    >>> hex(interrupt_in_critical_section("trap_and_emulate"))
    '0xbad'
    """
    m = machine(program("popf_irq"), mode)
    for _i in range(after_steps):
        m.step()
    m.cpu.raise_irq(32)
    return m.run().state.regs[6]
