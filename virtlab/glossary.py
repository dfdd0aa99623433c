"""The lecture's terms, German and English, as data.

The slides are German; the course text is English with the German terms in
italics.  :data:`TERMS` keeps one :class:`Term` per concept, with the notebook
that introduces it, and :func:`search` finds terms in either language
(ignoring case and umlauts, so ``"Ubersetzung"`` finds *Binärübersetzung*).

Examples
--------
>>> [t.en for t in search("wirt")]
['host (host operating system)']
>>> lookup("Hypervisor").de
'Hypervisor / Virtual Machine Monitor (VMM)'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .errors import check_str

__all__ = ["TERMS", "Term", "fold", "lookup", "search"]


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    de, en : str
        The German term (as on the slides) and its English equivalent.
    definition : str
        One or two sentences in English.
    notebook : str
        Id of the notebook that introduces it (e.g. ``"06"``).
    synonyms : tuple of str
        Other names the slides use.
    """

    de: str
    en: str
    definition: str
    notebook: str
    synonyms: tuple[str, ...] = ()


TERMS: tuple[Term, ...] = (
    Term("Virtualisierung", "virtualization",
         "Methods that abstract resources with the help of software; a virtual machine "
         "behaves like the real machine.", "01"),
    Term("Reale Maschine", "real machine",
         "The physical computer with its processor, memory and devices.", "00"),
    Term("Virtuelle Maschine (VM)", "virtual machine (VM)",
         "A software-made copy of a machine on which a guest operating system runs.", "00"),
    Term("Wirt", "host (host operating system)",
         "The system that provides the virtual machines; on the slides also "
         "Hostbetriebssystem, Gastgeberbetriebssystem or Hostsystem.", "00",
         ("Host", "Hostbetriebssystem", "Gastgeberbetriebssystem", "Hostsystem")),
    Term("Gast", "guest (guest operating system)",
         "The operating system running inside a virtual machine; also Gastbetriebssystem, "
         "Guest or Gastsystem.", "00", ("Gastbetriebssystem", "Guest", "Gastsystem")),
    Term("Hypervisor / Virtual Machine Monitor (VMM)", "hypervisor / virtual machine monitor",
         "The software layer that creates and controls virtual machines and multiplexes the "
         "real machine among them.", "00", ("VMM", "Hypervisor")),
    Term("Emulation", "emulation",
         "Complete reproduction of the hardware in software: every guest instruction is "
         "interpreted.", "02"),
    Term("Partitionierung", "partitioning",
         "Dividing a whole system (classically a mainframe) into subsystems, each running "
         "its own OS instance; resources are assigned by hardware/firmware.", "03"),
    Term("Serverkonsolidierung", "server consolidation",
         "Running many lightly loaded servers as VMs on fewer hosts.", "04"),
    Term("Live-Migration", "live migration",
         "Moving a running VM to another host with only a short interruption.", "04"),
    Term("Ausfallsicherheit", "fault tolerance / availability",
         "Keeping services available when hardware fails; a failed host takes all its VMs "
         "down at once.", "04"),
    Term("Anwendungsvirtualisierung", "application virtualization",
         "Isolated run-time environments (containers) on one host OS, with no extra guest "
         "operating system.", "05"),
    Term("Container", "container",
         "A group of processes isolated by namespaces and limited by cgroups, sharing the "
         "host kernel.", "05"),
    Term("Privilegierter Befehl", "privileged instruction",
         "An instruction that traps when executed in user (unprivileged) mode and runs only "
         "in kernel mode.", "06"),
    Term("Sensitiver Befehl", "sensitive instruction",
         "An instruction that changes (control-sensitive) or depends on (behaviour-"
         "sensitive) the machine's mode, memory mapping or I/O state.", "06"),
    Term("Kritischer Befehl", "critical instruction",
         "A sensitive instruction that is not privileged: it does not trap in user mode, so "
         "a trap-and-emulate VMM never sees it (x86: SGDT, POPF, ...).", "06"),
    Term("Trap (Unterbrechung)", "trap",
         "A synchronous transfer of control into the OS or VMM caused by an instruction.",
         "06"),
    Term("Kernelmodus / Usermodus", "kernel mode / user mode",
         "The privileged and the unprivileged processor mode (x86 rings 0 and 3).", "06",
         ("Kernmodus", "Ring 0", "Ring 3")),
    Term("Binärübersetzung", "binary translation",
         "The VMM rewrites guest code before it runs, replacing critical instructions by "
         "calls into the VMM; also Code Patching.", "07", ("Code Patching",)),
    Term("Vollvirtualisierung", "full virtualization",
         "The hardware is completely virtualized; guest OSes run unmodified.", "09"),
    Term("Paravirtualisierung", "paravirtualization",
         "The guest OS is modified to call the hypervisor through hypercalls instead of "
         "executing sensitive instructions.", "09"),
    Term("Hypercall", "hypercall",
         "A call from a (paravirtualized) guest kernel into the hypervisor, like a system "
         "call one level down.", "09"),
    Term("Typ-1-Hypervisor", "type-1 (bare-metal) hypervisor",
         "A hypervisor running directly on the hardware as a small operating system "
         "(XenServer, ESX, Hyper-V).", "09"),
    Term("Typ-2-Hypervisor", "type-2 (hosted) hypervisor",
         "A hypervisor running as a process on a host operating system (VMware "
         "Workstation).", "09"),
    Term("VMX root / non-root", "VMX root / non-root operation",
         "Intel VT-x's host mode (\"ring -1\", the hypervisor) and guest mode, in which "
         "sensitive instructions cause VM exits.", "08", ("Ring -1", "Gast-Modus")),
    Term("VMCS", "virtual machine control structure",
         "Intel's per-vCPU structure holding guest state, host state, execution controls "
         "and exit information (AMD: VMCB).", "08", ("VMCB",)),
    Term("VM Exit / VM Entry", "VM exit / VM entry",
         "The hardware transitions from guest to hypervisor and back.", "08"),
    Term("Interruptverarbeitung", "interrupt handling",
         "The hypervisor receives every physical interrupt and injects virtual interrupts "
         "into the VMs.", "10"),
    Term("Gerätesteuerung", "device control",
         "How VMs reach devices: emulated, paravirtual (split drivers) or passthrough.", "10"),
    Term("Virtuelle CPU (vCPU)", "virtual CPU (vCPU)",
         "A VM's processor, scheduled by the hypervisor onto physical CPUs (pCPUs).", "11"),
    Term("Co-Scheduling", "co-scheduling (gang scheduling)",
         "Running the vCPUs of one VM at the same time, strictly or relaxed.", "11"),
    Term("Schattentabelle", "shadow page table",
         "A page table kept by the VMM that maps guest-virtual directly to host-physical "
         "addresses.", "12", ("Shadow Page Table",)),
    Term("Erweiterte Seitentabelle (EPT) / Nested Paging", "extended / nested page tables",
         "Hardware translates guest-physical to host-physical addresses with a second "
         "table (Intel EPT, AMD NPT/RVI).", "12", ("EPT", "NPT")),
    Term("Reale Adresse", "real (guest-physical) address",
         "The address the guest believes is physical; the VMM maps it to a host-physical "
         "address.", "12"),
    Term("Ballooning", "ballooning",
         "A driver in the guest inflates by allocating guest pages, whose memory the "
         "hypervisor then reclaims.", "13"),
    Term("Überbuchung", "overcommitment",
         "Giving VMs more memory in total than the host physically has.", "13",
         ("Overcommit",)),
)


def fold(text: str) -> str:
    """``text`` without case and accents, for matching the slides' garbled umlauts.

    Examples
    --------
    >>> fold("Binärübersetzung") == fold("BINARUBERSETZUNG")
    True
    """
    # Case- and accent-insensitive: "Übersetzung" and "Ubersetzung" match.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search(query: str) -> list[Term]:
    """Terms whose German or English name, synonyms or definition contain ``query``.

    Exact names come first, then names starting with ``query``, names
    containing it, and last terms that only mention it in their definition;
    an empty query returns every term in course order.

    Examples
    --------
    >>> [t.de for t in search("ubersetzung")]
    ['Binärübersetzung']
    >>> len(search("")) == len(TERMS)
    True
    """
    q = fold(check_str("query", query, nonempty=False).strip())
    ranked = []
    for index, term in enumerate(TERMS):
        names = [fold(n) for n in (term.de, term.en) + term.synonyms]
        if q in names:
            rank = 0                                   # exact name or synonym
        elif any(n.startswith(q) for n in names):
            rank = 1                                   # a name starts with it
        elif any(q in n for n in names):
            rank = 2                                   # inside a name
        elif q in fold(term.definition):
            rank = 3                                   # only in the definition
        else:
            continue
        ranked.append((rank, index, term))
    return [term for _, _, term in sorted(ranked, key=lambda r: r[:2])]


def lookup(name: str) -> Term:
    """The term whose German or English name or synonym is exactly ``name``.

    Examples
    --------
    >>> lookup("guest (guest operating system)").de
    'Gast'
    >>> lookup("Kaffee")
    Traceback (most recent call last):
    ...
    ValueError: name 'Kaffee' is not in the glossary
    """
    key = fold(check_str("name", name).strip())
    for term in TERMS:
        if key in {fold(n) for n in (term.de, term.en) + term.synonyms}:
            return term
    raise ValueError(f"name {name!r} is not in the glossary")
