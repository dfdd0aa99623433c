"""Shadow paging (*Schattentabellen*): the VMM keeps guest-virtual → host-physical tables.

The hardware MMU walks a **shadow table** that the VMM builds from the
guest's table (guest-virtual → guest-physical) and its own host mapping
(guest-physical → host-physical).  A TLB miss therefore costs only as many
page-table references as the guest has levels.  The price is paid in traps,
following the design of KVM's shadow MMU (``Documentation/virt/kvm/x86/mmu.rst``,
facts.md §3):

* the guest's page-table frames are **write-protected**; every guest write to
  them traps, is emulated, and the affected shadow entries are dropped
  (re-synced on the next fault);
* **CR3 writes** and **INVLPG** trap (MMU events);
* a shadow entry that is missing causes a **hidden (shadow) page fault**: the
  VMM walks the guest table in software; if the guest's own table denies the
  access, the fault is a **true guest page fault** and is injected into the
  guest, otherwise the VMM fills the shadow entry and resumes the guest,
  which never notices;
* accessed/dirty bits of the guest's entries are emulated: a page the guest
  has not yet written is shadowed read-only, so its first write traps and the
  VMM sets the guest's dirty bit.

Not modelled: KVM's "unsync" leaf tables (left writable until the guest
flushes) and unshadowing of pages written too often.

Examples
--------
>>> from virtlab.mmu import PhysicalMemory, GuestVM, ShadowMMU, X86_64
>>> host = PhysicalMemory(512)
>>> vm = GuestVM(host, guest_frames=64)
>>> gpt = vm.new_page_table(X86_64)
>>> gpt.map(0x1000, pfn=5)
>>> _ = vm.host_map(5)
>>> mmu = ShadowMMU(vm, gpt)                      # the CR3 write traps
>>> _ = mmu.translate(0x1000); mmu.stats().hidden_faults   # shadow entry filled
1
>>> mmu.tlb.flush(); _ = mmu.translate(0x1000); mmu.last_refs
4
>>> gpt.map(0x2000, pfn=6)                        # guest edits its table: traps
>>> mmu.stats().pt_write_traps > 0, mmu.stats().cr3_traps
(True, 1)
"""

from __future__ import annotations

from ..errors import check_type
from .guest import GuestVM
from .memory import PAGE_SHIFT
from .native import MMU, TRAP_CYCLES, PeekView
from .page_table import (PTE_A, PTE_D, PTE_P, PTE_PS, PTE_U, PTE_W, Fault, PageFault, PageTable,
                         check_access, check_vaddr, hw_walk)
from .tlb import TLB

__all__ = ["ShadowMMU"]


class ShadowMMU(MMU):
    """Shadow paging for one VM.

    The MMU installs itself as the VM's write-protection hook, so use one
    shadow MMU per VM (a :class:`~virtlab.mmu.nested.NestedMMU` built later
    for the same VM removes the hook: nested paging does not trap).

    Parameters
    ----------
    vm : GuestVM
        The VM (its host memory holds the shadow tables).
    guest_table : PageTable, optional
        The guest's table, loaded as by the guest writing CR3 (one trap).
    tlb : TLB, optional
        Default: 64 entries, untagged.
    vpid : int
        Tag of this VM in a tagged TLB.
    trap_cycles : int
        Cost of one VM exit (default :data:`~virtlab.mmu.native.TRAP_CYCLES`).

    Examples
    --------
    >>> from virtlab.mmu import PhysicalMemory, GuestVM, X86_32_2LEVEL
    >>> vm = GuestVM(PhysicalMemory(256), 64)
    >>> gpt = vm.new_page_table(X86_32_2LEVEL)
    >>> mmu = ShadowMMU(vm, gpt)
    >>> mmu.translate(0x5000)                      # the guest maps nothing: true guest fault
    Traceback (most recent call last):
    ...
    virtlab.mmu.page_table.PageFault: not-present fault at 0x5000 (guest, level 2)
    """

    technique = "shadow"
    guest_faults_exit = True     # the VMM must inject every true guest fault

    def __init__(self, vm: GuestVM, guest_table: PageTable | None = None, *,
                 tlb: TLB | None = None, vpid: int = 0, trap_cycles: int = TRAP_CYCLES):
        self.vm = check_type("vm", vm, GuestVM)
        if guest_table is not None:  # checked before vm.memory gets the write hook
            check_type("guest_table", guest_table, PageTable)
            if guest_table.memory is not vm.memory:
                raise ValueError("guest_table must be a guest table of this VM")
        super().__init__(tlb, vpid, trap_cycles)
        self.host = vm.host
        self.shadow: PageTable | None = None
        self._shadows: dict[int, PageTable] = {}            # guest root -> shadow table
        # guest table frame -> {(guest root, level, vbase)}: which shadow ranges it feeds
        self._feeds: dict[int, set[tuple[int, int, int]]] = {}
        vm.memory.write_hook = self._on_guest_pt_write
        if guest_table is not None:
            self.write_cr3(guest_table)

    # -- MMU events that trap --------------------------------------------------
    def write_cr3(self, page_table: PageTable, asid: int = 0) -> None:
        """Guest writes CR3: a trap; the VMM switches to (or builds) the shadow table.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(256), 32); gpt = vm.new_page_table()
        >>> m = ShadowMMU(vm, gpt); m.write_cr3(gpt); m.stats().cr3_traps
        2
        """
        check_type("page_table", page_table, PageTable)
        if page_table.memory is not self.vm.memory:
            raise ValueError("page_table must be a guest table of this VM")
        self._set_table(page_table, asid)
        self.cr3_traps += 1
        shadow = self._shadows.get(page_table.root)
        if shadow is None:
            shadow = PageTable(self.host, page_table.mode)
            self._shadows[page_table.root] = shadow
        self.shadow = shadow
        self._protect(page_table.root, page_table.mode.levels, 0)

    def invlpg(self, vaddr: int) -> None:
        """Guest INVLPG: a trap; the VMM drops the shadow leaf and the TLB entry.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(256), 32); gpt = vm.new_page_table()
        >>> m = ShadowMMU(vm, gpt); m.invlpg(0x1000); m.stats().invlpg_traps
        1
        """
        super().invlpg(vaddr)
        self.invlpg_traps += 1
        self.shadow.clear_subtree(vaddr & ~((1 << PAGE_SHIFT) - 1), 1)

    def _protect(self, gpfn: int, level: int, vbase: int) -> None:
        self.vm.memory.protected.add(gpfn)
        self._feeds.setdefault(gpfn, set()).add((self.table.root, level, vbase))

    def _on_guest_pt_write(self, gaddr: int) -> None:
        """Trap on a write to a write-protected guest table frame: emulate and re-sync."""
        self.pt_write_traps += 1
        gpfn = gaddr >> PAGE_SHIFT
        for root, level, vbase in list(self._feeds.get(gpfn, ())):
            shadow = self._shadows.get(root)
            if shadow is None:
                continue
            mode = shadow.mode
            index = (gaddr & ((1 << PAGE_SHIFT) - 1)) // mode.entry_size
            span = mode.span(level)
            va = vbase + index * span
            shadow.clear_subtree(va, level)
            self.tlb.invalidate_range(va >> PAGE_SHIFT, (va + span) >> PAGE_SHIFT)

    # -- TLB miss ---------------------------------------------------------------
    def _miss(self, vaddr: int, write: bool, user: bool) -> tuple[int, int]:
        host = self.host
        before = host.reads
        try:
            return hw_walk(host, self.shadow.root, self._mode, vaddr, write, user)
        except PageFault:
            pass
        finally:
            self.last_refs = host.reads - before
            self.pt_refs += self.last_refs
        # VM exit: hidden fault (VMM fills the shadow) or a true guest fault
        self._fill(vaddr, write, user)        # raises the guest/host fault if it is one
        self.hidden_faults += 1
        before = host.reads
        try:
            return hw_walk(host, self.shadow.root, self._mode, vaddr, write, user)
        finally:
            self.last_refs += host.reads - before
            self.pt_refs += host.reads - before

    def _guest_walk(self, vaddr: int, write: bool, user: bool, track: bool):
        """The VMM's software walk of the guest table (checks as the hardware would)."""
        gmem = self.vm.memory
        mode = self._mode
        table = self.table.root
        combined = PTE_W | PTE_U
        path = []
        for level in range(mode.levels, 0, -1):
            if track:
                vbase = (vaddr >> (PAGE_SHIFT + level * mode.bits_per_level)) << (
                    PAGE_SHIFT + level * mode.bits_per_level)
                self._protect(table, level, vbase)
            gaddr = (table << PAGE_SHIFT) + mode.index(vaddr, level) * mode.entry_size
            entry = gmem.peek_word(gaddr)
            self.vmm_reads += 1
            if not entry & PTE_P:
                raise PageFault(Fault(vaddr, "not-present", "guest", level))
            combined &= entry
            path.append((gaddr, entry))
            if level == 2 and entry & PTE_PS:      # guest large page: shadowed 4 KiB-wise
                table = (entry >> PAGE_SHIFT) + ((vaddr >> PAGE_SHIFT)
                                                 & ((1 << mode.bits_per_level) - 1))
                break
            table = entry >> PAGE_SHIFT
        leaf = mode.levels - len(path) + 1
        if user and not combined & PTE_U:
            raise PageFault(Fault(vaddr, "user", "guest", leaf))
        if write and not combined & PTE_W:
            raise PageFault(Fault(vaddr, "write", "guest", leaf))
        return table, combined, path

    def _fill(self, vaddr: int, write: bool, user: bool) -> None:
        gpfn, combined, path = self._guest_walk(vaddr, write, user, track=True)
        host = self.vm.host_lookup(gpfn)
        if host is None:
            raise PageFault(Fault(vaddr, "not-present", "host", 1))
        hpfn, hflags = host
        if write and not hflags & PTE_W:
            raise PageFault(Fault(vaddr, "write", "host", 1))
        # emulate the accessed/dirty bits in the guest's own entries
        gmem = self.vm.memory
        last = len(path) - 1
        for i, (gaddr, entry) in enumerate(path):
            want = entry | PTE_A | (PTE_D if write and i == last else 0)
            if want != entry:
                gmem.write_word_vmm(gaddr, want)
        dirty = write or bool(path[-1][1] & PTE_D)
        writable = bool(combined & PTE_W and hflags & PTE_W and dirty)
        page = vaddr & ~((1 << PAGE_SHIFT) - 1)
        self.shadow.clear_subtree(page, 1)
        self.shadow.map(page, hpfn, writable=writable, user=bool(combined & PTE_U))

    def walk_steps(self, vaddr: int, access: str = "r", user: bool = False) -> list:
        """References of a hardware walk of the shadow table (counters untouched).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM, X86_64
        >>> vm = GuestVM(PhysicalMemory(512), 64)
        >>> gpt = vm.new_page_table(X86_64); gpt.map(0x1000, 5); _ = vm.host_map(5)
        >>> mmu = ShadowMMU(vm, gpt); _ = mmu.translate(0x1000)
        >>> [(s.stage, s.level) for s in mmu.walk_steps(0x1000)]
        [('shadow', 4), ('shadow', 3), ('shadow', 2), ('shadow', 1)]
        """
        write = check_access(access, user)
        check_vaddr(vaddr, self._mode)
        steps: list = []
        try:
            hw_walk(PeekView(self.host), self.shadow.root, self._mode, vaddr, write, user,
                    stage="shadow", steps=steps)
        except PageFault:
            pass
        return steps
