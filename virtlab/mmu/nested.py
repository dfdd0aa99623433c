"""Nested paging (Intel EPT / AMD NPT): the two-dimensional page walk.

With nested paging the hardware knows both tables: the guest's own table
(guest-virtual → guest-physical, the guest edits it freely — **no traps**) and
the host table (guest-physical → host-physical, owned by the VMM).  On a TLB
miss every guest-table reference is itself a guest-physical address that must
first be translated through the host table.  With ``n`` guest and ``m`` host
levels a miss therefore costs

    n·m + n + m = (n+1)(m+1) − 1 page-table references

(each of the n guest entries costs m host references plus 1 read, and the
final guest-physical address m more): 24 for 4 + 4, 35 for 5 + 5, 8 for a
2-level guest on a 2-level host.  Large pages shorten the walk: a guest
large page makes n one smaller (19 for 4 + 4), a host large page m.  The final data access is counted
separately (facts.md §3, after Bhargava et al., ASPLOS'08).  A TLB hit costs
nothing.  Not modelled: the paging-structure caches and nested TLBs real
processors use to avoid most of those references.

Examples
--------
>>> from virtlab.mmu import PhysicalMemory, GuestVM, NestedMMU, X86_64
>>> host = PhysicalMemory(512)
>>> vm = GuestVM(host, guest_frames=64)
>>> gpt = vm.new_page_table(X86_64)
>>> gpt.map(0x1000, pfn=5)
>>> _ = vm.host_map(5)
>>> mmu = NestedMMU(vm, gpt)
>>> _ = mmu.translate(0x1000); mmu.last_refs
24
>>> _ = mmu.translate(0x1000); mmu.last_refs
0
>>> gpt.map(0x2000, pfn=6)                      # guest edits its table: no trap
>>> mmu.stats().traps
0
"""

from __future__ import annotations

from ..errors import check_int, check_type
from .guest import GuestVM
from .memory import PAGE_SHIFT
from .native import MMU, PeekView, TRAP_CYCLES
from .page_table import (Fault, PTE_A, PTE_D, PTE_P, PTE_PS, PTE_U, PTE_W, PageFault, PageTable,
                         WalkStep, check_access, check_vaddr, hw_walk)
from .tlb import TLB

__all__ = ["NestedMMU", "nested_walk_refs"]

_OFFSET = (1 << PAGE_SHIFT) - 1


def nested_walk_refs(guest_levels: int, host_levels: int) -> int:
    """Page-table references of a 2D walk: n·m + n + m (data access not included).

    Examples
    --------
    >>> nested_walk_refs(4, 4), nested_walk_refs(5, 5), nested_walk_refs(2, 4)
    (24, 35, 14)
    """
    n = check_int("guest_levels", guest_levels, minimum=1, maximum=6)
    m = check_int("host_levels", host_levels, minimum=1, maximum=6)
    return n * m + n + m


class NestedMMU(MMU):
    """Hardware-assisted MMU virtualization (EPT/NPT) for one VM.

    Parameters
    ----------
    vm : GuestVM
        The VM; its ``host_table`` is the nested (EPT/NPT) table.
    guest_table : PageTable, optional
        The guest's table (loading it does not trap).
    tlb : TLB, optional
        Caches guest-virtual → host-physical; default 64 entries, untagged.
    vpid : int
        Tag of this VM in a tagged TLB (VPID / ASID).
    trap_cycles : int
        Cost of one VM exit (host faults = EPT violations exit).

    Examples
    --------
    >>> from virtlab.mmu import PhysicalMemory, GuestVM, X86_64
    >>> vm = GuestVM(PhysicalMemory(256), 64)
    >>> gpt = vm.new_page_table(X86_64); gpt.map(0x1000, pfn=9)
    >>> mmu = NestedMMU(vm, gpt)
    >>> mmu.translate(0x1000)                  # guest frame 9 not backed: EPT violation
    Traceback (most recent call last):
    ...
    virtlab.mmu.page_table.PageFault: not-present fault at 0x1000 (host, level 1)
    """

    technique = "nested"

    def __init__(self, vm: GuestVM, guest_table: PageTable | None = None, *,
                 tlb: TLB | None = None, vpid: int = 0, trap_cycles: int = TRAP_CYCLES):
        self.vm = check_type("vm", vm, GuestVM)
        super().__init__(tlb, vpid, trap_cycles)
        self.host = vm.host
        if vm.memory.write_hook is not None:
            # a shadow MMU used this VM before: nested paging does not trap PT writes
            vm.memory.write_hook = None
            vm.memory.protected.clear()
        if guest_table is not None:
            self.write_cr3(guest_table)

    def write_cr3(self, page_table: PageTable, asid: int = 0) -> None:
        """Guest loads CR3: no VM exit (the hardware walks the guest table itself).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(256), 32); gpt = vm.new_page_table()
        >>> m = NestedMMU(vm, gpt); m.write_cr3(gpt); m.stats().traps
        0
        """
        check_type("page_table", page_table, PageTable)
        if page_table.memory is not self.vm.memory:
            raise ValueError("page_table must be a guest table of this VM")
        self._set_table(page_table, asid)

    def _miss(self, vaddr: int, write: bool, user: bool) -> tuple[int, int]:
        host = self.host
        before = host.reads
        try:
            return self._walk2d(host, vaddr, write, user, None)
        finally:
            self.last_refs = host.reads - before
            self.pt_refs += self.last_refs

    def _walk2d(self, host, vaddr: int, write: bool, user: bool, steps) -> tuple[int, int]:
        vm = self.vm
        gmode = self._mode
        hmode = vm.host_table.mode
        hroot = vm.host_table.root
        gsize = vm.guest_frames << PAGE_SHIFT
        esize = gmode.entry_size
        gmask = gmode.entries - 1
        gbits = gmode.bits_per_level
        read = host.read_word
        table = self.table.root
        combined = PTE_W | PTE_U
        path = []
        for level in range(gmode.levels, 0, -1):
            gaddr = (table << PAGE_SHIFT) + ((vaddr >> (PAGE_SHIFT + (level - 1) * gbits))
                                              & gmask) * esize
            hpfn = self._host(host, hroot, hmode, gaddr, gsize, vaddr, False, steps, level)
            haddr = (hpfn << PAGE_SHIFT) | (gaddr & _OFFSET)
            entry = read(haddr)
            if steps is not None:
                steps.append(WalkStep("guest", level, haddr, entry, level))
            if not entry & PTE_P:
                raise PageFault(Fault(vaddr, "not-present", "guest", level))
            combined &= entry
            path.append((haddr, entry))
            if level == 2 and entry & PTE_PS:      # guest large page: one level less
                table = (entry >> PAGE_SHIFT) + ((vaddr >> PAGE_SHIFT) & gmask)
                break
            table = entry >> PAGE_SHIFT
        leaf = gmode.levels - len(path) + 1
        if user and not combined & PTE_U:
            raise PageFault(Fault(vaddr, "user", "guest", leaf))
        if write and not combined & PTE_W:
            raise PageFault(Fault(vaddr, "write", "guest", leaf))
        gpa = (table << PAGE_SHIFT) | (vaddr & _OFFSET)
        hpfn, hflags = self._host(host, hroot, hmode, gpa, gsize, vaddr, write, steps, 0,
                                  flags=True)
        last = len(path) - 1
        for i, (haddr, entry) in enumerate(path):
            want = entry | PTE_A | (PTE_D if write and i == last else 0)
            if want != entry:
                host.write_word(haddr, want)
        flags = PTE_P | (combined & PTE_U) | (combined & hflags & PTE_W)
        return hpfn, flags

    @staticmethod
    def _host(host, hroot, hmode, gpa, gsize, vaddr, write, steps, guest_level, flags=False):
        if gpa >= gsize:   # beyond the VM's memory: nothing can back it
            raise PageFault(Fault(vaddr, "not-present", "host", hmode.levels))
        sub = [] if steps is not None else None
        try:
            pfn, hflags = hw_walk(host, hroot, hmode, gpa, write, False, "host", sub)
        except PageFault as exc:
            raise PageFault(Fault(vaddr, exc.fault.reason, "host", exc.fault.level)) from None
        finally:
            if sub:
                steps.extend(WalkStep(s.stage, s.level, s.addr, s.entry, guest_level)
                             for s in sub)
        return (pfn, hflags) if flags else pfn

    def walk_steps(self, vaddr: int, access: str = "r", user: bool = False) -> list:
        """All references of a 2D walk for ``vaddr``, in order (counters untouched).

        Each :class:`WalkStep` has ``stage`` ``"host"`` (a host-table read while
        translating the guest entry of ``guest_level``, or 0 for the final data
        address) or ``"guest"`` (the guest entry itself).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM, X86_64
        >>> vm = GuestVM(PhysicalMemory(512), 64)
        >>> gpt = vm.new_page_table(X86_64); gpt.map(0x1000, 5); _ = vm.host_map(5)
        >>> steps = NestedMMU(vm, gpt).walk_steps(0x1000)
        >>> len(steps), "".join(s.stage[0] for s in steps[:10])
        (24, 'hhhhghhhhg')
        """
        write = check_access(access, user)
        check_vaddr(vaddr, self._mode)
        steps: list = []
        try:
            self._walk2d(PeekView(self.host), vaddr, write, user, steps)
        except PageFault:
            pass
        return steps
