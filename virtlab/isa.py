"""Instruction-set catalogues (*Befehlssätze*): ``TOY``, ``X86_32``, ``X86_VTX``.

An ISA here is *data*: a catalogue of :class:`InstructionSpec` entries, each
with its mnemonic, operand forms, a one-line semantics, the Popek & Goldberg
properties (*privileged*, *control-sensitive*, *behaviour-sensitive*) and a
one-line reason with its source.  :mod:`virtlab.popek_goldberg` classifies a
catalogue; :mod:`virtlab.cpu` executes the instructions marked ``executable``.

The three catalogues
--------------------
``TOY``
    The teaching ISA: the executable subset without segment registers, in
    which **every sensitive instruction is privileged** (it traps in user
    mode).  Popek & Goldberg's Theorem 1 applies: it is virtualizable.
``X86_32``
    Classic 32-bit x86 before VT: the privileged instructions (LGDT, LIDT,
    LLDT, LTR, LMSW, CLTS, MOV to/from CR and DR, HLT, CLI/STI, IN/OUT,
    INVLPG, RDMSR/WRMSR, ...), the sensitive-but-unprivileged instructions
    that Robin & Irvine (2000) list, and representative innocuous ones.
``X86_VTX``
    The same with VT-x, described *as the VMM sees the guest in VMX non-root
    mode*.  VT-x did **not** make x86's critical instructions privileged:
    they do not trap and do not cause VM exits.  It gives the guest kernel
    its own ring 0 (non-root), with its own flags, segments and
    descriptor-table registers loaded from the VMCS guest-state area, so
    POPF, PUSHF, LAR, VERR, ... run natively *and correctly*: they act on, and
    reveal, only the guest's own state.  Relative to the VMM they are
    therefore no longer sensitive, and the catalogue marks them innocuous
    (unprivileged).  SGDT/SIDT/SLDT/STR cause a VM exit only if the VMM sets
    the secondary control "descriptor-table exiting", which first-generation
    VT-x lacked (Intel SDM vol. 3C; facts.md section 12).  The privileged
    instructions stay privileged (in guest ring 0 they either exit or act
    on guest state, per the VMCS controls), and the VMX instructions are
    added.  Theorem 1 holds for ``X86_VTX`` because nothing sensitive to the
    VMM is left unprivileged — not because VT-x traps every sensitive
    instruction.

Conventions (facts.md)
----------------------
* Critical instructions: ``X86_32`` marks exactly the 18 mnemonics of the list
  usually quoted from Robin & Irvine as sensitive and unprivileged: SGDT,
  SIDT, SLDT, SMSW, PUSHF, POPF, LAR, LSL, VERR, VERW, POP, PUSH, CALL, JMP,
  INT, RET, STR, MOV.  The lecture says "17 of about 250"; the list has 18
  names — notebook 06 discusses the count.
* One mnemonic, several forms: PUSH/POP/MOV are critical only in their
  segment-register forms, CALL/JMP/RET only in their far forms (the
  executable subset has only the near forms, which are innocuous), INT n
  always.  The catalogue key is the mnemonic; the privileged forms of MOV get
  their own keys ``"MOV CR"`` and ``"MOV DR"``.  :mod:`virtlab.asm` marks
  each assembled instruction with the catalogue key and whether its form is
  the sensitive one (``Instruction.sensitive_form``).
* Sensitive in user mode (Theorem 3): a hybrid VMM runs the guest's user mode
  at real CPL 3, where LAR, LSL, VERR, VERW, PUSH/POP/MOV of segment
  registers, PUSHF, POPF, far CALL/JMP/RET and INT n behave exactly as on the
  real machine (the CPL they check or reveal *is* 3).  Only SGDT, SIDT, SLDT,
  SMSW and STR stay user-sensitive: they reveal the VMM's descriptor tables,
  task register and CR0 bits instead of the guest's.
* IRET is not in the catalogues: it is behaviour-sensitive like POPF, but it
  is not on the quoted list.  The executable subset returns from the kernel
  with SYSEXIT (privileged on real x86: #GP unless CPL 0) instead.

Examples
--------
>>> X86_32["POPF"].critical
True
>>> X86_32["CLI"].privileged
True
>>> TOY["POPF"].privileged
True
>>> "VMCALL" in X86_VTX and "VMCALL" not in X86_32
True
>>> len(X86_32.critical_mnemonics())
18
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from .errors import check_bool, check_str, check_type
from .i18n import N_, _

__all__ = ["CLASS_LABELS", "ISA", "InstructionSpec", "TOY", "X86_32", "X86_VTX", "ISAS",
           "get_isa", "reason_text"]

# Sources, cited by key in each entry.
SOURCES = MappingProxyType({
    "PG74": "Popek & Goldberg, Formal Requirements for Virtualizable Third "
            "Generation Architectures, CACM 17(7):412-421, 1974",
    "RI00": "Robin & Irvine, Analysis of the Intel Pentium's Ability to Support a "
            "Secure Virtual Machine Monitor, USENIX Security 2000 (list as quoted "
            "in secondary sources, facts.md section 2)",
    "SDM": "Intel 64 and IA-32 Architectures Software Developer's Manual "
           "(instruction reference; vol. 3C for VMX)",
    "SDM3C": "Intel SDM vol. 3C, chapters on VMX non-root operation and VM exits",
    "VIRTLAB": "virtlab teaching convention (not a property of a real CPU)",
})


#: Display labels of :attr:`InstructionSpec.classification` (the values stay English keys).
CLASS_LABELS = {"privileged": N_("privileged"), "critical": N_("critical"),
                "innocuous": N_("innocuous")}


@dataclass(frozen=True)
class InstructionSpec:
    """One catalogue entry: an instruction and its virtualization properties.

    Parameters
    ----------
    mnemonic : str
        Upper-case catalogue key (``"POPF"``, ``"MOV CR"``).
    operands : str
        Operand forms, e.g. ``"r, r/imm/[m]"``.
    semantics : str
        One line: what it does.
    privileged : bool
        Traps when executed in user mode (any ring > 0), not in supervisor
        mode (Popek & Goldberg).
    control_sensitive : bool
        Can change the machine's mode, memory map or privileged resources.
    behavior_sensitive : bool
        Its effect depends on the mode or on where it runs.
    reason : str
        One line from the literature: why it is (not) sensitive.  English (the
        catalogue's message id); :attr:`reason_text` is the current language's.
    source : str
        Key into :data:`SOURCES`.
    group : str
        Catalogue group (``"data"``, ``"control"``, ``"system"``, ...).
    user_sensitive : bool or None
        Sensitive when executed in *user* mode (for Theorem 3, the hybrid
        VMM).  ``None`` means "same as sensitive".
    executable : bool
        Part of virtlab's executable subset (:mod:`virtlab.cpu`).
    sensitive_forms : str
        Which operand forms are the sensitive ones ("all" or a description).

    Examples
    --------
    >>> s = X86_32["SGDT"]
    >>> (s.sensitive, s.privileged, s.critical)
    (True, False, True)
    >>> s.reason
    'stores the GDTR: a guest sees where the real descriptor table is, not its own'
    """

    mnemonic: str
    operands: str
    semantics: str
    privileged: bool
    control_sensitive: bool
    behavior_sensitive: bool
    reason: str
    source: str
    group: str = "data"
    user_sensitive: bool | None = None
    executable: bool = True
    sensitive_forms: str = "all"

    def __post_init__(self):
        check_str("mnemonic", self.mnemonic)
        if self.mnemonic != self.mnemonic.upper():
            raise ValueError(f"mnemonic must be upper case, got {self.mnemonic!r}")
        for name in ("privileged", "control_sensitive", "behavior_sensitive", "executable"):
            check_bool(name, getattr(self, name))
        if self.user_sensitive is not None:
            check_bool("user_sensitive", self.user_sensitive)
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {sorted(SOURCES)}, got {self.source!r}")

    @property
    def sensitive(self) -> bool:
        """Control- or behaviour-sensitive."""
        return self.control_sensitive or self.behavior_sensitive

    @property
    def critical(self) -> bool:
        """Sensitive but not privileged: breaks trap-and-emulate."""
        return self.sensitive and not self.privileged

    @property
    def innocuous(self) -> bool:
        """Not sensitive: can always run directly on the hardware."""
        return not self.sensitive

    @property
    def is_user_sensitive(self) -> bool:
        """Sensitive when executed in user mode (Theorem 3)."""
        return self.sensitive if self.user_sensitive is None else self.user_sensitive

    @property
    def reason_text(self) -> str:
        """:attr:`reason` in the current language (see :func:`reason_text`)."""
        return reason_text(self.reason)

    @property
    def classification(self) -> str:
        """``"privileged"``, ``"critical"`` or ``"innocuous"``."""
        if self.privileged:
            return "privileged"
        return "critical" if self.sensitive else "innocuous"


@dataclass(frozen=True)
class ISA(Mapping):
    """An instruction-set catalogue: a read-only mapping mnemonic → spec.

    Parameters
    ----------
    name : str
        Short name (``"X86_32"``).
    description : str
        One line.
    instructions : tuple of InstructionSpec
        The entries; mnemonics must be unique.
    vmx : bool
        True when the catalogue describes VMX non-root execution.
    segment_registers : bool
        Whether the executable subset has segment registers (x86: yes;
        TOY: no).

    Examples
    --------
    >>> TOY.name, len(TOY) > 30
    ('TOY', True)
    >>> X86_32.with_privileged("POPF").critical_mnemonics() == (
    ...     X86_32.critical_mnemonics() - {"POPF"})
    True
    """

    name: str
    description: str
    instructions: tuple[InstructionSpec, ...]
    vmx: bool = False
    segment_registers: bool = True
    _index: Mapping[str, InstructionSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_str("name", self.name)
        check_type("instructions", self.instructions, tuple)
        index: dict[str, InstructionSpec] = {}
        for spec in self.instructions:
            check_type("instructions[]", spec, InstructionSpec)
            if spec.mnemonic in index:
                raise ValueError(f"instructions: duplicate mnemonic {spec.mnemonic!r}")
            index[spec.mnemonic] = spec
        object.__setattr__(self, "_index", MappingProxyType(index))

    # Mapping protocol -------------------------------------------------------
    def __getitem__(self, mnemonic: str) -> InstructionSpec:
        if not isinstance(mnemonic, str):
            raise TypeError(f"mnemonic must be a string, got {type(mnemonic).__name__}")
        try:
            return self._index[mnemonic.upper()]
        except KeyError:
            raise ValueError(f"mnemonic {mnemonic!r} is not in ISA {self.name}") from None

    def __contains__(self, mnemonic: Any) -> bool:
        return isinstance(mnemonic, str) and mnemonic.upper() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __hash__(self) -> int:
        return hash((self.name, self.instructions))

    def __repr__(self) -> str:
        return f"<ISA {self.name}: {len(self)} instructions>"

    # Queries ------------------------------------------------------------------
    def mnemonics(self, predicate=None) -> frozenset[str]:
        """Mnemonics whose spec satisfies ``predicate`` (all if None).

        Examples
        --------
        >>> "HLT" in X86_32.mnemonics(lambda s: s.privileged)
        True
        """
        return frozenset(m for m, s in self._index.items() if predicate is None or predicate(s))

    def critical_mnemonics(self) -> frozenset[str]:
        """Sensitive but unprivileged mnemonics.

        Examples
        --------
        >>> sorted(TOY.critical_mnemonics())
        []
        """
        return self.mnemonics(lambda s: s.critical)

    def traps_in_user_mode(self, mnemonic: str) -> bool:
        """Whether the instruction traps when executed in a ring > 0.

        Examples
        --------
        >>> X86_32.traps_in_user_mode("LGDT"), X86_32.traps_in_user_mode("SGDT")
        (True, False)
        """
        return self[mnemonic].privileged

    def table(self, kind: str = "critical") -> str:
        """A text table of ``kind`` instructions: mnemonic, class, reason.

        Headings, class labels and reasons are in the current language.

        ``kind`` is ``"critical"``, ``"privileged"``, ``"sensitive"``,
        ``"innocuous"`` or ``"all"``.

        Examples
        --------
        >>> print(X86_32.table("critical").splitlines()[1])
        CALL      critical    far CALL through gates depends on and changes CPL
        """
        preds = {"critical": lambda s: s.critical, "privileged": lambda s: s.privileged,
                 "sensitive": lambda s: s.sensitive, "innocuous": lambda s: s.innocuous,
                 "all": lambda s: True}
        if kind not in preds:
            raise ValueError(f"kind must be one of {', '.join(repr(k) for k in preds)}; "
                             f"got {kind!r}")
        labels = {k: _(v) for k, v in CLASS_LABELS.items()}
        width = max(11, *map(len, labels.values()))
        # (outside the f-string: Babel does not extract from f-strings)
        heads = _("mnemonic"), _("class"), _("reason")
        rows = [f"{heads[0]:<9s} {heads[1]:<{width}s} {heads[2]}"]
        for m in sorted(self.mnemonics(preds[kind])):
            s = self._index[m]
            rows.append(f"{m:<9s} {labels[s.classification]:<{width}s} {s.reason_text}")
        return "\n".join(rows)

    # Variants (for widgets and exercises) -------------------------------------
    def with_privileged(self, *mnemonics: str, privileged: bool = True,
                        name: str | None = None) -> ISA:
        """A copy in which ``mnemonics`` are (un)privileged.

        Unknown mnemonics raise ValueError; the original is unchanged.

        Examples
        --------
        >>> from virtlab.popek_goldberg import is_virtualizable
        >>> fixed = X86_32.with_privileged(*X86_32.critical_mnemonics())
        >>> is_virtualizable(fixed), is_virtualizable(X86_32)
        (True, False)
        """
        check_bool("privileged", privileged)
        wanted = set()
        for m in mnemonics:
            if not isinstance(m, str):
                raise TypeError(f"mnemonics must be strings, got {type(m).__name__}")
            if m.upper() not in self._index:
                raise ValueError(f"mnemonics: {m!r} is not in ISA {self.name}")
            wanted.add(m.upper())
        specs = tuple(replace(s, privileged=privileged) if s.mnemonic in wanted else s
                      for s in self.instructions)
        new_name = name if name is not None else (
            self.name if not wanted else f"{self.name}*")
        return replace(self, name=check_str("name", new_name), instructions=specs)


# --------------------------------------------------------------------------
# Catalogue construction
# --------------------------------------------------------------------------

def _s(mn, ops, sem, priv, ctl, beh, reason, source, group, **kw) -> InstructionSpec:
    return InstructionSpec(mn, ops, sem, priv, ctl, beh, reason, source, group, **kw)


# Innocuous instructions shared by all catalogues (representative set).
_INNOCUOUS = (
    _s("ADD", "r, r/imm/[m]", "r := r + src; sets ZF SF CF OF", False, False, False,
       N_("pure computation on registers: same effect in every mode"), "PG74", "arith"),
    _s("SUB", "r, r/imm/[m]", "r := r - src; sets flags", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("AND", "r, r/imm/[m]", "bitwise and; sets flags", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("OR", "r, r/imm/[m]", "bitwise or; sets flags", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("XOR", "r, r/imm/[m]", "bitwise xor; sets flags", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("CMP", "r, r/imm/[m]", "flags of r - src", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("TEST", "r, r/imm", "flags of r and src", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("INC", "r", "r := r + 1 (CF unchanged)", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("DEC", "r", "r := r - 1 (CF unchanged)", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("NEG", "r", "r := -r", False, False, False, N_("pure computation"), "PG74", "arith"),
    _s("NOT", "r", "r := ~r", False, False, False, N_("pure computation"), "PG74", "arith"),
    _s("SHL", "r, imm", "shift left", False, False, False, N_("pure computation"), "PG74",
       "arith"),
    _s("SHR", "r, imm", "logical shift right", False, False, False, N_("pure computation"),
       "PG74", "arith"),
    _s("IMUL", "r, r/imm", "r := r * src (low 32 bits)", False, False, False,
       N_("pure computation"), "PG74", "arith"),
    _s("DIV", "r", "EAX, EDX := EAX // r, EAX % r; #DE (vector 0) if r = 0", False, False,
       False, N_("computation; a divide error is an ordinary exception"), "SDM", "arith"),
    _s("NOP", "", "nothing", False, False, False, N_("does nothing in every mode"), "PG74",
       "control"),
    _s("JZ", "label", "jump if ZF (alias JE)", False, False, False,
       N_("relative control flow inside the guest"), "PG74", "control"),
    _s("JNZ", "label", "jump if not ZF (alias JNE)", False, False, False,
       N_("relative control flow"), "PG74", "control"),
    _s("JL", "label", "jump if SF != OF", False, False, False, N_("relative control flow"),
       "PG74", "control"),
    _s("JGE", "label", "jump if SF = OF", False, False, False, N_("relative control flow"),
       "PG74", "control"),
    _s("JG", "label", "jump if not ZF and SF = OF", False, False, False,
       N_("relative control flow"), "PG74", "control"),
    _s("JLE", "label", "jump if ZF or SF != OF", False, False, False,
       N_("relative control flow"), "PG74", "control"),
)

_VMX_EXTRA = (
    _s("VMXON", "", "enter VMX operation (root mode)", True, True, False,
       N_("VMX management instruction; in non-root mode it causes a VM exit"), "SDM3C", "vmx",
       executable=False),
    _s("VMXOFF", "", "leave VMX operation", True, True, False,
       N_("VMX management instruction"), "SDM3C", "vmx", executable=False),
    _s("VMLAUNCH", "", "VM entry with a clear VMCS", True, True, False,
       N_("VMX management instruction: VM entry"), "SDM3C", "vmx", executable=False),
    _s("VMRESUME", "", "VM entry with a launched VMCS (lower latency than VMLAUNCH)",
       True, True, False, N_("VMX management instruction: VM entry"), "SDM3C", "vmx",
       executable=False),
    _s("VMPTRLD", "[m]", "load the current-VMCS pointer", True, True, False,
       N_("VMCS maintenance"), "SDM3C", "vmx", executable=False),
    _s("VMPTRST", "[m]", "store the current-VMCS pointer", True, False, True,
       N_("VMCS maintenance"), "SDM3C", "vmx", executable=False),
    _s("VMCLEAR", "[m]", "make a VMCS clear (inactive)", True, True, False,
       N_("VMCS maintenance"), "SDM3C", "vmx", executable=False),
    _s("VMREAD", "r, field", "read a VMCS field", True, False, True,
       N_("VMCS maintenance"), "SDM3C", "vmx", executable=False),
    _s("VMWRITE", "field, r", "write a VMCS field", True, True, False,
       N_("VMCS maintenance"), "SDM3C", "vmx", executable=False),
    _s("VMCALL", "", "hypercall: VM exit to the VMM (#UD outside VMX non-root)", True,
       True, False, N_("the guest's explicit call into the hypervisor"), "SDM3C", "vmx"),
)


def _privileged_x86() -> tuple[InstructionSpec, ...]:
    p = "SDM"
    return (
        _s("LGDT", "r", "GDTR := r (load global descriptor table register)", True, True,
           False, N_("changes the memory map / segment protection (M and R)"), p, "system"),
        _s("LIDT", "r", "IDTR := r (interrupt descriptor table)", True, True, False,
           N_("changes where traps and interrupts go"), p, "system"),
        _s("LLDT", "r", "LDTR := r", True, True, False,
           N_("changes the local descriptor table"), p, "system"),
        _s("LTR", "r", "TR := r (task register)", True, True, False,
           N_("changes the task state segment"), p, "system"),
        _s("LMSW", "r", "machine status word := r (low bits of CR0)", True, True, False,
           N_("changes the processor mode"), p, "system"),
        _s("CLTS", "", "clear CR0.TS", True, True, False, N_("changes CR0"), p, "system"),
        _s("MOV CR", "CRn, r / r, CRn", "move to/from control register CR0/CR2/CR3/CR4",
           True, True, True, N_("CR3 is the page-table base; CR0 the mode"), p, "system",
           sensitive_forms="MOV CRn, r and MOV r, CRn"),
        _s("MOV DR", "DRn, r / r, DRn", "move to/from debug register", True, True, True,
           N_("debug registers control breakpoints for the whole machine"), p, "system",
           sensitive_forms="MOV DRn, r and MOV r, DRn"),
        _s("HLT", "", "halt until the next interrupt", True, True, False,
           N_("stops the physical processor"), p, "system"),
        _s("CLI", "", "IF := 0 (traps if CPL > IOPL)", True, True, False,
           N_("masks interrupts for the whole machine"), p, "system"),
        _s("STI", "", "IF := 1 (traps if CPL > IOPL)", True, True, False,
           N_("unmasks interrupts for the whole machine"), p, "system"),
        _s("IN", "r, port", "r := read I/O port (traps if CPL > IOPL)", True, True, True,
           N_("device access (the lecture's example of a sensitive operation)"), p, "io"),
        _s("OUT", "port, r", "write r to an I/O port (traps if CPL > IOPL)", True, True,
           False, N_("device access"), p, "io"),
        _s("INVLPG", "r", "invalidate the TLB entry for address r", True, True, False,
           N_("changes address translation"), p, "system"),
        _s("RDMSR", "", "EAX := MSR[ECX]", True, False, True,
           N_("model-specific registers hold machine-wide configuration"), p, "system"),
        _s("WRMSR", "", "MSR[ECX] := EAX", True, True, False,
           N_("changes machine-wide configuration"), p, "system"),
        _s("SYSEXIT", "", "return to ring 3: EIP := EDX, ESP := ECX (#GP unless CPL 0)",
           True, True, False, N_("changes the privilege level"), p, "control"),
        _s("WBINVD", "", "write back and invalidate caches", True, True, False,
           N_("affects the whole machine"), p, "system", executable=False),
    )


def _critical_x86() -> tuple[InstructionSpec, ...]:
    r = "RI00"
    return (
        _s("SGDT", "r", "r := GDTR", False, False, True,
           N_("stores the GDTR: a guest sees where the real descriptor table is, not its own"),
           r, "system"),
        _s("SIDT", "r", "r := IDTR", False, False, True,
           N_("stores the IDTR: reveals the VMM's interrupt table (the 'red pill' test)"), r,
           "system"),
        _s("SLDT", "r", "r := LDTR", False, False, True,
           N_("stores the LDTR: reveals the real local descriptor table"), r, "system"),
        _s("SMSW", "r", "r := machine status word (CR0 low bits)", False, False, True,
           N_("reads CR0 bits without trapping: reveals the host's mode bits"), r, "system"),
        _s("PUSHF", "", "push EFLAGS (incl. IF, IOPL)", False, False, True,
           N_("pushes the real IF/IOPL: a deprivileged guest sees values it did not set"), r,
           "stack"),
        _s("POPF", "", "pop EFLAGS; IF changes only if CPL <= IOPL, silently",
           False, True, True,
           N_("in ring 1 the IF change is silently dropped instead of trapping"), r, "stack"),
        _s("LAR", "r, sel", "r := access rights of descriptor sel; ZF if accessible",
           False, False, True, N_("the check depends on CPL: reveals the deprivileged ring"),
           r, "protection"),
        _s("LSL", "r, sel", "r := segment limit of sel; ZF if accessible", False, False,
           True, N_("the check depends on CPL"), r, "protection"),
        _s("VERR", "sel", "ZF := segment sel readable at CPL", False, False, True,
           N_("the answer depends on CPL"), r, "protection"),
        _s("VERW", "sel", "ZF := segment sel writable at CPL", False, False, True,
           N_("the answer depends on CPL"), r, "protection"),
        _s("POP", "r / sreg", "pop; POP sreg loads a segment register", False, True,
           True, N_("POP to a segment register checks the selector against CPL"), r,
           "stack", sensitive_forms="POP sreg (POP r is innocuous)"),
        _s("PUSH", "r / imm / sreg", "push; PUSH CS/SS reveals the CPL in the selector",
           False, False, True, N_("PUSH CS stores the RPL = current ring"), r, "stack",
           sensitive_forms="PUSH sreg (PUSH r/imm is innocuous)"),
        _s("CALL", "label (near) / far", "call; far forms check CPL against gates",
           False, True, True, N_("far CALL through gates depends on and changes CPL"), r,
           "control", sensitive_forms="far CALL (not in the executable subset; "
           "near CALL is innocuous)"),
        _s("JMP", "label (near) / far", "jump; far forms load CS", False, True, True,
           N_("far JMP checks privilege levels"), r, "control",
           sensitive_forms="far JMP (not executable here; near JMP is innocuous)"),
        _s("INT", "imm", "software interrupt: push EIP, CS; CPL := 0; EIP := IDT[n]",
           False, True, True,
           N_("gate checks depend on CPL and the pushed CS reveals it"), r, "control"),
        _s("RET", "(near) / far", "return; far RET reloads CS and checks CPL", False,
           True, True, N_("far RET changes and depends on CPL"), r, "control",
           sensitive_forms="far RET (not executable here; near RET is innocuous)"),
        _s("STR", "r", "r := task register selector", False, False, True,
           N_("reveals the real task register"), r, "system"),
        _s("MOV", "r, r/imm/[m] / [m], r / r, sreg / sreg, r",
           "move; MOV r, CS/SS reveals the CPL, MOV sreg, r loads a selector", False, True,
           True, N_("the segment-register forms read or load protection state"), r, "data",
           sensitive_forms="MOV r, sreg and MOV sreg, r (ordinary MOV is innocuous)"),
    )


#: Critical instructions that behave as natively when the guest's *user* mode
#: runs at real CPL 3 (a hybrid VMM, Theorem 3): what they check or reveal is
#: the CPL, which is really 3, or flags the VMM keeps equal to the virtual ones
#: while user code runs.  SGDT, SIDT, SLDT, SMSW and STR are not here: in user
#: mode they still reveal the VMM's registers.
_USER_MODE_NATIVE = frozenset({"LAR", "LSL", "VERR", "VERW", "PUSH", "POP", "MOV", "PUSHF",
                               "POPF", "CALL", "JMP", "RET", "INT"})


def _critical_x86_user() -> tuple[InstructionSpec, ...]:
    """The critical instructions with their user-mode sensitivity (Theorem 3)."""
    return tuple(replace(s, user_sensitive=False) if s.mnemonic in _USER_MODE_NATIVE else s
                 for s in _critical_x86())


def _x86_32() -> ISA:
    return ISA("X86_32",
               "32-bit x86 before VT: 18 sensitive instructions do not trap in ring 1-3",
               _INNOCUOUS + _privileged_x86() + _critical_x86_user())


def _toy() -> ISA:
    v = "VIRTLAB"
    fixed = []
    for spec in _critical_x86():
        if spec.mnemonic in ("MOV", "PUSH", "POP", "CALL", "JMP", "RET"):
            # TOY has no segment registers and no far forms: these only move data
            # or transfer control inside the guest.
            ops = {"MOV": "r, r/imm/[m] / [m], r/imm", "PUSH": "r / imm", "POP": "r",
                   "CALL": "label", "JMP": "label", "RET": ""}[spec.mnemonic]
            fixed.append(InstructionSpec(
                spec.mnemonic, ops, spec.semantics.split(";")[0], False, False, False,
                N_("TOY has no segment registers or far forms: pure data/control flow"),
                v, spec.group, sensitive_forms="none"))
        elif spec.mnemonic == "INT":
            fixed.append(replace(
                spec, privileged=False, control_sensitive=False, behavior_sensitive=False,
                source=v, reason=N_("always traps through the vector table the VMM owns; "
                "pushes no privilege information in TOY")))
        else:
            fixed.append(replace(spec, privileged=True, source=v,
                                 reason=N_("TOY design: traps in user mode, so a VMM sees it")))
    return ISA("TOY", "teaching ISA: every sensitive instruction is privileged",
               _INNOCUOUS + _privileged_x86() + tuple(fixed), segment_registers=False)


#: How X86_VTX states a privileged instruction's reason (the X86_32 reason, then VT-x's part).
_VTX_PRIVILEGED = N_("{reason}; in non-root mode a VM exit or a guest-state-only effect "
                     "(VMCS controls)")
_VTX_SUFFIX = _VTX_PRIVILEGED.replace("{reason}", "")


def reason_text(reason: str) -> str:
    """A catalogue reason in the current language (:func:`virtlab.set_language`).

    The catalogues keep their reasons in English (the message ids); this
    translates one, including the composed reasons of ``X86_VTX``.  A reason
    with no translation (a student's own spec) comes back unchanged.

    Examples
    --------
    >>> reason_text(X86_32["CLI"].reason)
    'masks interrupts for the whole machine'
    >>> from virtlab import set_language
    >>> previous = set_language("de")
    >>> reason_text(X86_VTX["CLI"].reason).startswith("maskiert Interrupts")
    True
    >>> reason_text("my own reason")
    'my own reason'
    >>> _ = set_language(previous)
    """
    check_str("reason", reason, nonempty=False)
    if reason.endswith(_VTX_SUFFIX) and reason != _VTX_SUFFIX:
        return _(_VTX_PRIVILEGED).format(reason=reason_text(reason[:-len(_VTX_SUFFIX)]))
    return _(reason)


def _x86_vtx() -> ISA:
    specs = []
    dt = ("SGDT", "SIDT", "SLDT", "STR")
    for spec in _INNOCUOUS + _privileged_x86() + _critical_x86_user():
        if spec.critical:
            # Not made privileged: it runs natively in the guest's own ring 0 and
            # acts on guest state only, so it is innocuous *relative to the VMM*.
            if spec.mnemonic in dt:
                why = (N_("runs natively: reads the guest's own register (VMCS guest-state "
                       "area); a VM exit only with 'descriptor-table exiting', which "
                       "first-generation VT-x lacked"))
            elif spec.mnemonic == "SMSW":
                why = (N_("runs natively: reads the guest's CR0 (the VMM's read shadow for "
                       "bits it owns), not the host's"))
            else:
                why = (N_("runs natively and correctly: the guest kernel has its own ring 0 "
                       "in VMX non-root mode, with its own flags and segments (VMCS "
                       "guest state); no trap and no VM exit"))
            spec = replace(spec, privileged=False, control_sensitive=False,
                           behavior_sensitive=False, user_sensitive=False, reason=why,
                           source="SDM3C")
        elif spec.privileged:
            spec = replace(spec, source="SDM3C", reason=_VTX_PRIVILEGED.format(reason=spec.reason))
        specs.append(spec)
    return ISA("X86_VTX", "x86 with VT-x, seen from VMX non-root mode: the critical "
               "instructions run natively on the guest's own state (not privileged)",
               tuple(specs) + _VMX_EXTRA, vmx=True)


TOY = _toy()
X86_32 = _x86_32()
X86_VTX = _x86_vtx()

#: The catalogues by name.
ISAS = MappingProxyType({"TOY": TOY, "X86_32": X86_32, "X86_VTX": X86_VTX})


def get_isa(isa: ISA | str) -> ISA:
    """An ISA object from itself or its name.

    Examples
    --------
    >>> get_isa("x86_32") is X86_32
    True
    >>> get_isa("ARM")
    Traceback (most recent call last):
    ...
    ValueError: isa must be one of 'TOY', 'X86_32', 'X86_VTX'; got 'ARM'
    """
    if isinstance(isa, ISA):
        return isa
    if not isinstance(isa, str):
        raise TypeError(f"isa must be an ISA or a name, got {type(isa).__name__}")
    key = isa.upper()
    if key not in ISAS:
        allowed = ", ".join(repr(k) for k in ISAS)
        raise ValueError(f"isa must be one of {allowed}; got {isa!r}")
    return ISAS[key]
