"""Popek & Goldberg (1974): which machines can be virtualized (*Virtualisierbarkeit*).

Popek & Goldberg, "Formal Requirements for Virtualizable Third Generation
Architectures", CACM 17(7):412-421, 1974.  Their abstract promises precise
**sufficient** conditions, so every theorem here is an "if", not an "iff"
(facts.md section 1):

* **Theorem 1** — a VMM may be built if the set of sensitive instructions is a
  subset of the privileged ones (:func:`is_virtualizable`).
* **Theorem 2** — the machine is *recursively* virtualizable if it is
  virtualizable and a VMM without timing dependences can be built for it
  (:func:`is_recursively_virtualizable`).
* **Theorem 3** — a *hybrid* VMM (which interprets everything run in virtual
  supervisor mode) may be built if the *user-sensitive* instructions are a
  subset of the privileged ones (:func:`hybrid_vmm_possible`).

Instruction classes: *privileged* = traps in user mode, not in supervisor
mode; *control-sensitive* = changes the mode, memory map or resources;
*behaviour-sensitive* = its effect depends on them; *innocuous* = not
sensitive.  virtlab calls sensitive-but-unprivileged instructions
*critical* (*kritische Befehle*), as the lecture does.

The three VMM properties are measured on runs (:func:`vmm_properties`):
equivalence (same final guest state as native), efficiency (fraction of guest
instructions executed directly) and resource control (the guest never ran on
the real ring 0 and never changed the real privileged state).

Examples
--------
>>> from virtlab.isa import TOY, X86_32, X86_VTX
>>> is_virtualizable(TOY), is_virtualizable(X86_32), is_virtualizable(X86_VTX)
(True, False, True)
>>> sorted(classify(X86_32).critical)[:4]
['CALL', 'INT', 'JMP', 'LAR']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import check_bool
from .i18n import _
from .isa import ISA, get_isa

__all__ = ["Classification", "TheoremVerdicts", "VMMProperties", "classify",
           "is_virtualizable", "is_recursively_virtualizable", "hybrid_vmm_possible",
           "explain", "theorems", "vmm_properties"]


@dataclass(frozen=True)
class Classification:
    """The Popek & Goldberg classes of an ISA's mnemonics (upper case).

    Attributes
    ----------
    isa : str
    privileged, sensitive, innocuous, critical : frozenset of str
        ``critical`` = sensitive and not privileged.
    control_sensitive, behavior_sensitive, user_sensitive : frozenset of str

    Examples
    --------
    >>> from virtlab.isa import X86_32
    >>> c = classify(X86_32)
    >>> c.critical <= c.sensitive and not (c.critical & c.privileged)
    True
    >>> c.innocuous.isdisjoint(c.sensitive)
    True
    """

    isa: str
    privileged: frozenset
    sensitive: frozenset
    innocuous: frozenset
    critical: frozenset
    control_sensitive: frozenset
    behavior_sensitive: frozenset
    user_sensitive: frozenset

    def counts(self) -> dict[str, int]:
        """Number of mnemonics per class.

        Examples
        --------
        >>> from virtlab.isa import X86_32
        >>> classify(X86_32).counts()["critical"]
        18
        """
        return {k: len(getattr(self, k)) for k in
                ("privileged", "sensitive", "innocuous", "critical")}


def classify(isa: ISA | str) -> Classification:
    """Classify every mnemonic of ``isa`` (an :class:`~virtlab.isa.ISA` or its name).

    Examples
    --------
    >>> from virtlab.isa import X86_32
    >>> "POPF" in classify(X86_32).critical
    True
    >>> "LGDT" in classify("X86_32").privileged
    True
    """
    isa = get_isa(isa)
    return Classification(
        isa=isa.name,
        privileged=isa.mnemonics(lambda s: s.privileged),
        sensitive=isa.mnemonics(lambda s: s.sensitive),
        innocuous=isa.mnemonics(lambda s: s.innocuous),
        critical=isa.mnemonics(lambda s: s.critical),
        control_sensitive=isa.mnemonics(lambda s: s.control_sensitive),
        behavior_sensitive=isa.mnemonics(lambda s: s.behavior_sensitive),
        user_sensitive=isa.mnemonics(lambda s: s.is_user_sensitive),
    )


def is_virtualizable(isa: ISA | str) -> bool:
    """Theorem 1: sensitive ⊆ privileged (a sufficient condition).

    Examples
    --------
    >>> from virtlab.isa import TOY, X86_32
    >>> is_virtualizable(TOY), is_virtualizable(X86_32)
    (True, False)
    """
    c = classify(isa)
    return c.sensitive <= c.privileged


def is_recursively_virtualizable(isa: ISA | str, *, timing_dependent: bool = False) -> bool:
    """Theorem 2: virtualizable and a VMM without timing dependences exists.

    Whether a VMM has timing dependences is a property of the VMM, not of
    the catalogue, so it is a parameter: ``timing_dependent=True`` models a
    VMM whose guests can observe that they run slower (Popek & Goldberg
    exclude timing from equivalence).

    Examples
    --------
    >>> from virtlab.isa import TOY, X86_32
    >>> is_recursively_virtualizable(TOY)
    True
    >>> is_recursively_virtualizable(TOY, timing_dependent=True)
    False
    >>> is_recursively_virtualizable(X86_32)
    False
    """
    check_bool("timing_dependent", timing_dependent)
    return is_virtualizable(isa) and not timing_dependent


def hybrid_vmm_possible(isa: ISA | str) -> bool:
    """Theorem 3: user-sensitive ⊆ privileged allows a hybrid VMM.

    A hybrid VMM interprets all code run in virtual supervisor mode and runs
    only user code directly, at real CPL 3, so only instructions that are
    sensitive *in user mode* must trap.  There LAR, LSL, VERR, VERW, PUSHF,
    POPF, far CALL/JMP/RET, INT n and the segment-register forms of
    PUSH/POP/MOV behave as natively (the CPL they see really is 3), but
    SGDT, SIDT, SLDT, SMSW and STR still reveal the VMM's registers, so
    ``X86_32`` allows not even a hybrid VMM.

    Examples
    --------
    >>> from virtlab.isa import TOY, X86_32
    >>> hybrid_vmm_possible(TOY), hybrid_vmm_possible(X86_32)
    (True, False)
    >>> theorems(X86_32).offending_user_mode
    ('SGDT', 'SIDT', 'SLDT', 'SMSW', 'STR')
    """
    c = classify(isa)
    return c.user_sensitive <= c.privileged


@dataclass(frozen=True)
class TheoremVerdicts:
    """The three theorems' verdicts for one ISA (see :func:`theorems`)."""

    isa: str
    theorem1_virtualizable: bool
    theorem2_recursive: bool
    theorem3_hybrid: bool
    offending: tuple[str, ...]
    offending_user_mode: tuple[str, ...]


def theorems(isa: ISA | str, *, timing_dependent: bool = False) -> TheoremVerdicts:
    """All three theorems at once, with the offending mnemonics (sorted).

    Examples
    --------
    >>> from virtlab.isa import X86_32
    >>> t = theorems(X86_32)
    >>> t.theorem1_virtualizable, len(t.offending)
    (False, 18)
    """
    isa = get_isa(isa)
    c = classify(isa)
    return TheoremVerdicts(
        isa=isa.name,
        theorem1_virtualizable=is_virtualizable(isa),
        theorem2_recursive=is_recursively_virtualizable(isa, timing_dependent=timing_dependent),
        theorem3_hybrid=hybrid_vmm_possible(isa),
        offending=tuple(sorted(c.sensitive - c.privileged)),
        offending_user_mode=tuple(sorted(c.user_sensitive - c.privileged)),
    )


def explain(isa: ISA | str) -> str:
    """A plain-text verdict naming the offending instructions and why, in the current language.

    Examples
    --------
    >>> from virtlab.isa import TOY, X86_32
    >>> print(explain(TOY).splitlines()[0])
    TOY: virtualizable by Theorem 1 (all 29 sensitive instructions are privileged).
    >>> "POPF: in ring 1 the IF change is silently dropped" in explain(X86_32)
    True
    >>> "VT-x did not make x86's 18 critical instructions privileged" in explain("X86_VTX")
    True
    """
    isa = get_isa(isa)
    c = classify(isa)
    t = theorems(isa)
    if t.theorem1_virtualizable:
        lines = [_("{isa}: virtualizable by Theorem 1 (all {n} sensitive instructions are "
                   "privileged).").format(isa=isa.name, n=len(c.sensitive))]
        was_critical = sorted(classify("X86_32").critical & c.innocuous) if isa.vmx else []
        if was_critical:
            lines.append("  " + _(
                "VT-x did not make x86's {n} critical instructions privileged: in VMX "
                "non-root mode the guest kernel has its own ring 0, where they run natively "
                "on its own state (not sensitive for the VMM; SGDT/SIDT/SLDT/STR exit only "
                "with descriptor-table exiting).").format(n=len(was_critical)))
    else:
        lines = [_("{isa}: Theorem 1 does not apply: {n} sensitive instructions do not trap "
                   "in user mode (critical instructions):").format(isa=isa.name,
                                                                   n=len(t.offending))]
        lines += [f"  {m}: {isa[m].reason_text}" for m in t.offending]
        lines.append(_("Theorem 1 is a sufficient condition: such a machine needs another "
                       "technique (binary translation, paravirtualization, VT-x)."))
    lines.append(_("Theorem 2 (recursive, VMM without timing dependences): yes.")
                 if t.theorem2_recursive else
                 _("Theorem 2 (recursive, VMM without timing dependences): no."))
    lines.append(_("Theorem 3 (hybrid VMM, user-sensitive ⊆ privileged): yes.")
                 if t.theorem3_hybrid else
                 _("Theorem 3 (hybrid VMM, user-sensitive ⊆ privileged): no ({n} "
                   "user-sensitive instructions do not trap: {mnemonics}).").format(
                       n=len(t.offending_user_mode), mnemonics=", ".join(t.offending_user_mode)))
    return "\n".join(lines)


@dataclass(frozen=True)
class VMMProperties:
    """Popek & Goldberg's three VMM properties measured on one run.

    Attributes
    ----------
    equivalence : bool
        Same final guest state as the native reference run.
    efficiency : float
        Fraction of guest instructions executed directly on the CPU.
    resource_control : bool or None
        The guest never ran in the real ring 0 and never changed the real
        privileged state (None for a native run: there is no VMM).
    differences : tuple of str
        The guest-state fields that differ from native.
    """

    mode: str
    equivalence: bool
    efficiency: float
    resource_control: Any
    differences: tuple[str, ...]


def vmm_properties(run: Any, reference: Any) -> VMMProperties:
    """Measure the three properties of ``run`` against a native ``reference``.

    Both are :class:`virtlab.hypervisor.RunResult` objects.

    Examples
    --------
    >>> from virtlab import asm, hypervisor
    >>> prog = asm.assemble("MOV EAX, 5\\nCLI\\nADD EAX, 1\\nHLT")
    >>> ref = hypervisor.run(prog, "native")
    >>> p = vmm_properties(hypervisor.run(prog, "binary_translation"), ref)
    >>> p.equivalence, p.resource_control, round(p.efficiency, 2)
    (True, True, 0.5)
    """
    for name, value in (("run", run), ("reference", reference)):
        if not all(hasattr(value, a) for a in ("state", "counters", "mode")):
            raise TypeError(f"{name} must be a RunResult, got {type(value).__name__}")
    diffs = tuple(run.state.diff(reference.state))
    return VMMProperties(mode=run.mode, equivalence=not diffs,
                         efficiency=run.efficiency,
                         resource_control=run.resource_control,
                         differences=diffs)
