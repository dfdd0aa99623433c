"""Simulated cycles (*Taktzyklen*): a documented, overridable cost table.

Every run counts *events* (directly executed instructions, interpreted
instructions, traps into the VMM, binary-translation callouts, VM exits by
reason, hypercalls, page-table writes, ...).  :func:`cycles` turns those counts
into simulated cycles with a :class:`CycleCosts`.  Counting and pricing are
separate, so students can change one price and see its effect without
re-running anything.

Sources (facts.md): the VM-exit round trip of **2,000 cycles** is SplitX's
direct exit cost on a Xeon X5570 with KVM, EPT and VPID [P]; AMD SVM's
VMRUN↔exit was measured at **1,344-1,376 cycles** (LKML, Dec 2020) [P].
**Every other number is illustrative** — a plausible order of magnitude chosen
so that the default table reproduces the lecture's "5 to 10 %" virtualization
overhead on a typical mixed workload and an order of magnitude or more for
emulation.  So the 5-10 % that notebooks show for
:data:`~virtlab.hypervisor.microbench.TYPICAL_MIX` is a *calibration*, not an
independent check of the lecture; what the model does show is how the overhead
scales with the events per instruction (at one cycle per instruction, a guest
that pays ``vm_exit + exit_handling`` = 2,500 cycles per exit stays under 10 %
only while it exits less than once per 25,000 instructions).  Adams & Agesen
(2006) figures are unverified and are not used as data.

Examples
--------
>>> COSTS.vm_exit
2000.0
>>> COSTS.source("vm_exit")[:6]
'SplitX'
>>> cheap = COSTS.replace(vm_exit=1360)
>>> cheap.vm_exit, COSTS.vm_exit
(1360.0, 2000.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any

from ..errors import check_choice, check_number, check_type

__all__ = ["CycleCosts", "COSTS", "HARDWARE", "TECHNIQUES", "cycles", "SOURCES"]

ILLUSTRATIVE = "illustrative (order of magnitude, not measured)"

#: Where each default comes from.
SOURCES = MappingProxyType({
    "direct_instruction": "illustrative: about one cycle per simple instruction (CPI ~ 1)",
    "interpreted_instruction": "illustrative: an interpreter spends tens of host "
                               "instructions to fetch, decode and execute one guest "
                               "instruction (Bochs-class emulators)",
    "native_trap": "illustrative: trap/system call entry and return on bare hardware",
    "vmm_trap": "illustrative: trap from ring 1/3 into the VMM, decode, emulate, return",
    "reflection": "illustrative: trap into the VMM and inject it into the guest kernel",
    "bt_callout": "illustrative: a translated call into the VMM, no privilege change",
    "bt_translate_instruction": "illustrative: scanning and translating one instruction "
                                "(paid once per translated block)",
    "bt_indirect_branch": "illustrative: a RET in translated kernel code looks up its "
                          "target in the translation cache (an indirect branch; the "
                          "reason Adams & Agesen 2006 measure call/ret)",
    "vm_exit": "SplitX (Landau, Ben-Yehuda & Gordon): ~2,000 cycles direct cost of an "
               "exit round trip, Xeon X5570, KVM, EPT+VPID [P]; AMD SVM 1,344-1,376 "
               "(LKML 2020) [P]",
    "exit_handling": "illustrative: work in the VMM's exit handler besides the transition",
    "hypercall": "illustrative: a paravirtual hypercall, a software trap ring 1 → ring 0",
    "vmi_call": "illustrative: a VMI call into a VMM without a privilege change",
    "vmi_native": "illustrative: a VMI call that executes the native instruction",
    "shadow_pt_write": "illustrative: keeping a shadow page table in sync after a trapped "
                       "guest page-table write (KVM: write-protected guest tables) [S]",
    "bt_pt_write": "illustrative: adaptive BT turns a traced page-table write into a "
                   "callout (cheaper than a trap)",
    "pv_pt_write": "illustrative: a validated page-table update via a hypercall",
    "shadow_page_fault": "illustrative: a hidden page fault that the VMM resolves in "
                         "its shadow page table",
    "walk_reference": "illustrative: one page-table reference in a TLB-miss walk",
})


@dataclass(frozen=True)
class CycleCosts:
    """Prices in cycles per event.  All fields are finite numbers >= 0.

    See :data:`SOURCES` for where each default comes from (``source(name)``).

    Examples
    --------
    >>> CycleCosts(vm_exit=-1)
    Traceback (most recent call last):
    ...
    ValueError: vm_exit must be a finite number in [0, 1000000000000.0], got -1.0
    """

    direct_instruction: float = 1.0
    interpreted_instruction: float = 40.0
    native_trap: float = 200.0
    vmm_trap: float = 1000.0
    reflection: float = 1200.0
    bt_callout: float = 60.0
    bt_translate_instruction: float = 100.0
    bt_indirect_branch: float = 20.0
    vm_exit: float = 2000.0
    exit_handling: float = 500.0
    hypercall: float = 500.0
    vmi_call: float = 80.0
    vmi_native: float = 5.0
    shadow_pt_write: float = 800.0
    bt_pt_write: float = 300.0
    pv_pt_write: float = 500.0
    shadow_page_fault: float = 2000.0
    walk_reference: float = 10.0

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, check_number(f.name, getattr(self, f.name),
                                                          minimum=0, maximum=1e12))

    def replace(self, **changes: Any) -> CycleCosts:
        """A copy with some prices changed (unknown names raise ValueError).

        Examples
        --------
        >>> COSTS.replace(warp_drive=1)
        Traceback (most recent call last):
        ...
        ValueError: unknown cost 'warp_drive'; costs are ...
        """
        names = {f.name for f in fields(self)}
        for k in changes:
            if k not in names:
                raise ValueError(f"unknown cost {k!r}; costs are {', '.join(sorted(names))}")
        return replace(self, **changes)

    @staticmethod
    def source(name: str) -> str:
        """Where the default for ``name`` comes from."""
        check_choice("name", name, list(SOURCES))
        return SOURCES[name]

    def as_dict(self) -> dict[str, float]:
        """All prices by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The default cost table.
COSTS = CycleCosts()

#: Hardware generations for hardware-assisted runs: exit price and nested paging.
HARDWARE = MappingProxyType({
    "first_gen_vt": {"vm_exit": 4000.0, "ept": False,
                     "note": "first-generation VT-x/AMD-V (2005/06): expensive exits, "
                             "no nested paging; exit price illustrative"},
    "nehalem_ept": {"vm_exit": 2000.0, "ept": True,
                    "note": "Xeon X5570 with EPT+VPID: ~2,000 cycles (SplitX) [P]"},
    "svm_2020": {"vm_exit": 1360.0, "ept": True,
                 "note": "AMD SVM, VMRUN<->exit 1,344-1,376 cycles (LKML 2020) [P]"},
})

#: Techniques :func:`cycles` knows.
TECHNIQUES = ("native", "emulation", "trap_and_emulate", "binary_translation",
              "hardware", "paravirt")


def cycles(technique: str, counters: Mapping[str, float], costs: CycleCosts = COSTS,
           *, ept: bool = True, backend: str = "xen") -> tuple[float, dict[str, float]]:
    """Simulated cycles of a run: (total, breakdown by cost item).

    Parameters
    ----------
    technique : str
        One of :data:`TECHNIQUES`.
    counters : mapping
        Event counts (a run's ``counters``; missing events count 0).
    costs : CycleCosts
    ept : bool
        Hardware-assisted runs: nested paging (page-table writes and CR3
        loads need no exit) or shadow paging.
    backend : str
        Paravirtual runs: ``"xen"`` (hypercalls), ``"vmware"`` (VMI calls into
        a VMM) or ``"native"`` (VMI on bare hardware).

    Examples
    --------
    >>> total, parts = cycles("native", {"direct": 1000, "guest_traps": 2})
    >>> total, parts["traps"]
    (1400.0, 400.0)
    >>> cycles("emulation", {"interpreted": 1000})[0]
    40000.0
    """
    check_choice("technique", technique, TECHNIQUES)
    check_type("counters", counters, Mapping)
    check_type("costs", costs, CycleCosts)
    check_choice("backend", backend, ("xen", "vmware", "native"))

    def n(key: str) -> float:
        v = counters.get(key, 0)
        return check_number(f"counters[{key!r}]", v, minimum=0)

    c = costs
    parts: dict[str, float] = {}
    if technique == "emulation":
        parts["interpreted"] = n("interpreted") * c.interpreted_instruction
        parts["traps"] = n("guest_traps") * c.native_trap
    else:
        parts["direct"] = n("direct") * c.direct_instruction
    if technique == "native":
        parts["traps"] = n("guest_traps") * c.native_trap
        parts["page_faults"] = n("page_faults") * c.native_trap
        parts["walks"] = n("tlb_misses") * 4 * c.walk_reference
    elif technique == "emulation":
        parts["walks"] = n("tlb_misses") * 4 * c.walk_reference
    elif technique in ("trap_and_emulate", "binary_translation"):
        parts["vmm_traps"] = n("vmm_traps") * c.vmm_trap
        parts["reflections"] = n("reflections") * c.reflection
        parts["page_faults"] = n("page_faults") * (c.reflection + c.shadow_page_fault)
        parts["walks"] = n("tlb_misses") * 4 * c.walk_reference
        if technique == "binary_translation":
            parts["callouts"] = n("callouts") * c.bt_callout
            parts["translation"] = n("translated_instructions") * c.bt_translate_instruction
            parts["indirect_branches"] = n("indirect_branches") * c.bt_indirect_branch
            parts["pt_writes"] = n("pt_writes") * c.bt_pt_write
        else:
            parts["pt_writes"] = n("pt_writes") * (c.vmm_trap + c.shadow_pt_write)
    elif technique == "hardware":
        parts["exits"] = n("exits") * (c.vm_exit + c.exit_handling)
        parts["traps"] = n("guest_traps") * c.native_trap
        if ept:
            parts["page_faults"] = n("page_faults") * c.native_trap
            parts["walks"] = n("tlb_misses") * 24 * c.walk_reference
        else:
            parts["pt_writes"] = n("pt_writes") * (c.vm_exit + c.shadow_pt_write)
            parts["page_faults"] = n("page_faults") * (2 * c.vm_exit + c.shadow_page_fault)
            parts["walks"] = n("tlb_misses") * 4 * c.walk_reference
    elif technique == "paravirt":
        price = {"xen": c.hypercall, "vmware": c.vmi_call, "native": c.vmi_native}[backend]
        parts["hypercalls"] = n("hypercalls") * price
        if backend == "native":
            parts["traps"] = n("guest_traps") * c.native_trap
            parts["page_faults"] = n("page_faults") * c.native_trap
            parts["pt_writes"] = n("pt_writes") * 0.0
        else:
            parts["syscalls"] = n("forwarded") * (c.native_trap + c.hypercall)
            parts["reflections"] = n("reflections") * c.reflection
            parts["vmm_traps"] = n("vmm_traps") * c.vmm_trap
            parts["pt_writes"] = n("pt_writes") * c.pv_pt_write
            parts["page_faults"] = n("page_faults") * (c.native_trap + c.hypercall)
        parts["walks"] = n("tlb_misses") * 4 * c.walk_reference
    return float(sum(parts.values())), parts
