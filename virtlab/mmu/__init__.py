"""Memory virtualization (*Hauptspeicherverwaltung*): page tables, TLB, shadow and nested paging.

The lecture's chain *virtuelle Adresse → reale Adresse → physikalische
Adresse* (guest-virtual → guest-physical → host-physical) as executable
models.  Page tables live in simulated memory, so every step of a page walk
is a counted memory reference:

* :class:`PhysicalMemory`, :class:`PageTable`, :class:`PagingMode`
  (:data:`X86_32_2LEVEL`, :data:`X86_64`, :data:`X86_64_5LEVEL`), :func:`hw_walk`;
* :class:`TLB` (LRU, optional ASID/VPID tags);
* :class:`GuestVM` (guest-physical memory backed through a host table);
* three MMUs with one interface: :class:`NativeMMU`, :class:`ShadowMMU`,
  :class:`NestedMMU`; :func:`compose` builds the native reference table;
* :mod:`virtlab.mmu.costs`: cycles per technique from workload knobs.

Examples
--------
>>> from virtlab import mmu
>>> host = mmu.PhysicalMemory(1024)
>>> vm = mmu.GuestVM(host, guest_frames=256)
>>> gpt = vm.new_page_table(mmu.X86_64)
>>> gpt.map(0x400000, pfn=1)
>>> _ = vm.host_map(1)
>>> nested, shadow = mmu.NestedMMU(vm, gpt), None
>>> _ = nested.translate(0x400000); nested.last_refs
24
>>> shadow = mmu.ShadowMMU(vm, gpt)
>>> shadow.translate(0x400010) == nested.translate(0x400010)
True
"""

from .guest import GuestMemory, GuestVM
from .memory import PAGE_SHIFT, PAGE_SIZE, OutOfFrames, PhysicalMemory
from .native import MMU, TRAP_CYCLES, MMUStats, NativeMMU, compose
from .nested import NestedMMU, nested_walk_refs
from .page_table import (PTE_A, PTE_D, PTE_P, PTE_PS, PTE_U, PTE_W, X86_32_2LEVEL, X86_64,
                         X86_64_5LEVEL, Fault, PageFault, PageTable, PagingMode, WalkStep, hw_walk, pte_flags)
from .shadow import ShadowMMU
from .tlb import TLB, TLBStats

__all__ = [
    "GuestMemory", "GuestVM", "MMU", "MMUStats", "NativeMMU", "NestedMMU", "OutOfFrames",
    "PAGE_SHIFT", "PAGE_SIZE", "PTE_A", "PTE_D", "PTE_P", "PTE_PS", "PTE_U", "PTE_W", "PageFault",
    "PageTable", "PagingMode", "PhysicalMemory", "ShadowMMU", "TLB", "TLBStats",
    "TRAP_CYCLES", "WalkStep", "X86_32_2LEVEL", "X86_64", "X86_64_5LEVEL", "Fault", "compose",
    "nested_walk_refs", "pte_flags",
]
