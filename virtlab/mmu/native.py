"""The MMU: TLB first, page walk on a miss; the native case and the common base.

Every MMU model in virtlab (:class:`NativeMMU`, :class:`~virtlab.mmu.shadow.ShadowMMU`,
:class:`~virtlab.mmu.nested.NestedMMU`) has the same interface:

* ``write_cr3(page_table, asid=0)`` — switch address space (a TLB flush unless
  the TLB is tagged);
* ``translate(vaddr, access="r", user=False)`` → physical address, or
  :class:`~virtlab.mmu.page_table.PageFault`;
* ``invlpg(vaddr)`` — the OS tells the MMU a mapping changed;
* ``stats()`` → :class:`MMUStats`; ``last_refs`` — page-table references of
  the last translation (0 on a TLB hit).

Page-table references are memory reads of table entries, counted by the
memory itself; the final data access is counted separately
(``data_accesses``), the convention of facts.md §3.

:func:`compose` builds the *native-with-composed-tables* reference: one native
table mapping guest-virtual straight to host-physical, the combination that
shadow paging maintains lazily and nested paging computes in hardware.

Examples
--------
>>> from virtlab.mmu import PhysicalMemory, PageTable, NativeMMU, X86_64
>>> mem = PhysicalMemory(64)
>>> pt = PageTable(mem, X86_64)
>>> pt.map(0x1000, pfn=33)
>>> mmu = NativeMMU(mem, pt)
>>> hex(mmu.translate(0x1abc)), mmu.last_refs
('0x21abc', 4)
>>> hex(mmu.translate(0x1abc)), mmu.last_refs      # TLB hit
('0x21abc', 0)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import check_int, check_type
from .guest import GuestVM
from .memory import PAGE_SHIFT, PhysicalMemory
from .page_table import (PTE_D, PTE_PS, PTE_U, PTE_W, PageFault, PageTable, check_access,
                         check_vaddr, hw_walk)
from .tlb import TLB

__all__ = ["MMU", "MMUStats", "NativeMMU", "compose", "TRAP_CYCLES"]

#: Direct cost of one VM exit + entry in cycles: about 2,000 cycles on a Xeon
#: X5570 with KVM, EPT and VPID (SplitX, Landau et al.; facts.md §9).
TRAP_CYCLES = 2000

_OFFSET = (1 << PAGE_SHIFT) - 1


@dataclass(frozen=True)
class MMUStats:
    """Counters of an MMU since construction (or :meth:`MMU.reset_counters`).

    ``pt_refs`` are hardware page-table references (memory reads of entries);
    ``vmm_reads`` are guest-table entries the VMM read in software while
    handling shadow faults; ``traps`` counts the VM exits the MMU caused
    (hidden faults, guest page-table writes, CR3 writes, INVLPG, host faults,
    and — under shadow paging — true guest faults the VMM must inject);
    ``trap_cycles`` is traps × cost per trap.

    Examples
    --------
    >>> from virtlab.mmu import PhysicalMemory, PageTable
    >>> mem = PhysicalMemory(64); pt = PageTable(mem); pt.map(0, 1)
    >>> s = NativeMMU(mem, pt); _ = s.translate(0); s.stats().refs_per_miss
    4.0
    """

    technique: str
    translations: int
    tlb_hits: int
    tlb_misses: int
    pt_refs: int
    data_accesses: int
    guest_faults: int
    host_faults: int
    hidden_faults: int
    pt_write_traps: int
    cr3_traps: int
    invlpg_traps: int
    vmm_reads: int
    traps: int
    trap_cycles: int

    @property
    def refs_per_miss(self) -> float:
        """Average page-table references per TLB miss (0 if there was none).

        Examples
        --------
        >>> MMUStats("native", 2, 0, 2, 8, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0).refs_per_miss
        4.0
        """
        return self.pt_refs / self.tlb_misses if self.tlb_misses else 0.0


class MMU:
    """Common machinery: TLB lookup, counters, CR3 and INVLPG handling.

    Subclasses implement ``_miss(vaddr, write, user) -> (pfn, flags)``.

    Examples
    --------
    >>> issubclass(NativeMMU, MMU)
    True
    """

    technique = "mmu"
    #: True if a guest page fault needs a VM exit (shadow paging: the VMM injects it).
    guest_faults_exit = False

    def __init__(self, tlb: TLB | None, vpid: int = 0, trap_cycles: int = TRAP_CYCLES):
        self.tlb = TLB(64) if tlb is None else check_type("tlb", tlb, TLB)
        self.vpid = check_int("vpid", vpid, minimum=0, maximum=65535)
        self.trap_cost = check_int("trap_cycles", trap_cycles, minimum=0, maximum=10**7)
        self.table: PageTable | None = None
        self._tag = self.vpid << 16
        self._va_limit = 0
        self._mode = None
        self.last_refs = 0
        self.reset_counters()

    def reset_counters(self) -> None:
        """Zero every counter (TLB counters included; contents stay).

        Examples
        --------
        >>> mem = PhysicalMemory(64); pt = PageTable(mem); pt.map(0, 1)
        >>> m = NativeMMU(mem, pt); _ = m.translate(0); m.reset_counters()
        >>> m.stats().translations, m.stats().tlb_misses
        (0, 0)
        """
        self.translations = 0
        self.pt_refs = 0
        self.data_accesses = 0
        self.guest_faults = 0
        self.host_faults = 0
        self.hidden_faults = 0
        self.pt_write_traps = 0
        self.cr3_traps = 0
        self.invlpg_traps = 0
        self.vmm_reads = 0
        self.tlb.reset_counters()

    def stats(self) -> MMUStats:
        """A frozen snapshot of the counters.

        Examples
        --------
        >>> mem = PhysicalMemory(64); pt = PageTable(mem); pt.map(0, 1)
        >>> m = NativeMMU(mem, pt); _ = m.translate(0); _ = m.translate(8)
        >>> s = m.stats(); s.translations, s.tlb_hits, s.pt_refs
        (2, 1, 4)
        """
        traps = self._traps()
        return MMUStats(self.technique, self.translations, self.tlb.hits, self.tlb.misses,
                        self.pt_refs, self.data_accesses, self.guest_faults, self.host_faults,
                        self.hidden_faults, self.pt_write_traps, self.cr3_traps,
                        self.invlpg_traps, self.vmm_reads, traps, traps * self.trap_cost)

    def _traps(self) -> int:
        return (self.hidden_faults + self.pt_write_traps + self.cr3_traps + self.invlpg_traps
                + self.host_faults + (self.guest_faults if self.guest_faults_exit else 0))

    def _set_table(self, table: PageTable, asid: int) -> None:
        check_int("asid", asid, minimum=0, maximum=65535)
        self.table = table
        self._mode = table.mode
        self._va_limit = table.mode.va_limit
        self._tag = (self.vpid << 16) | asid
        if not self.tlb.tagged:
            self.tlb.flush()

    def translate(self, vaddr: int, access: str = "r", user: bool = False) -> int:
        """Translate ``vaddr`` for a read (``"r"``) or write (``"w"``) access.

        Returns the physical address; raises :class:`PageFault` on a fault,
        ``ValueError``/``TypeError`` on a bad argument (counters unchanged).

        Examples
        --------
        >>> mem = PhysicalMemory(64); pt = PageTable(mem); pt.map(0x2000, 5)
        >>> m = NativeMMU(mem, pt)
        >>> hex(m.translate(0x2010, "w"))
        '0x5010'
        >>> m.translate(0x2010, "x")
        Traceback (most recent call last):
        ...
        ValueError: access must be one of 'r', 'w'; got 'x'
        """
        if type(vaddr) is not int or vaddr < 0 or vaddr >= self._va_limit:
            if self._mode is None:
                raise ValueError("no page table loaded: call write_cr3(page_table) first")
            check_vaddr(vaddr, self._mode)
        if access == "r":
            write = False
        elif access == "w":
            write = True
        else:
            write = check_access(access, user)
        if type(user) is not bool:
            check_access(access, user)
        self.translations += 1
        vpn = vaddr >> PAGE_SHIFT
        tlb = self.tlb
        key = (self._tag if tlb.tagged else 0, vpn)
        entry = tlb._map.get(key)
        if entry is not None:
            flags = entry[1]
            if (not user or flags & PTE_U) and (not write or flags & PTE_D):
                tlb._map.move_to_end(key)
                tlb.hits += 1
                self.last_refs = 0
                self.data_accesses += 1
                return (entry[0] << PAGE_SHIFT) | (vaddr & _OFFSET)
            # permission or dirty-bit mismatch: walk again (the hardware does too)
            del tlb._map[key]
        tlb.misses += 1
        try:
            pfn, flags = self._miss(vaddr, write, user)
        except PageFault as exc:
            if exc.fault.stage == "host":
                self.host_faults += 1
            else:
                self.guest_faults += 1
            raise
        if write:
            flags |= PTE_D
        tlb.insert(vpn, pfn, flags, self._tag)
        self.data_accesses += 1
        return (pfn << PAGE_SHIFT) | (vaddr & _OFFSET)

    def _miss(self, vaddr: int, write: bool, user: bool) -> tuple[int, int]:
        raise NotImplementedError

    def invlpg(self, vaddr: int) -> None:
        """Invalidate the TLB entry for ``vaddr`` (after the OS changed its mapping).

        Examples
        --------
        >>> mem = PhysicalMemory(64); pt = PageTable(mem); pt.map(0x2000, 5)
        >>> m = NativeMMU(mem, pt); _ = m.translate(0x2000)
        >>> pt.map(0x2000, 6); m.invlpg(0x2000); hex(m.translate(0x2000))
        '0x6000'
        """
        if self._mode is None:
            raise ValueError("no page table loaded: call write_cr3(page_table) first")
        check_vaddr(vaddr, self._mode)
        self.tlb.invalidate(vaddr >> PAGE_SHIFT, self._tag)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.technique} {self.tlb!r}>"


class NativeMMU(MMU):
    """An MMU walking ``page_table`` in ``memory`` with no virtualization.

    Parameters
    ----------
    memory : PhysicalMemory
        Where the tables live (the walk's reads are counted there).
    page_table : PageTable, optional
        Loaded as if by ``write_cr3``.
    tlb : TLB, optional
        Default: 64 entries, untagged.
    asid : int
        Address-space tag used with a tagged TLB.

    Examples
    --------
    >>> mem = PhysicalMemory(64)
    >>> pt = PageTable(mem)
    >>> pt.map(0x5000, pfn=7, user=False)
    >>> mmu = NativeMMU(mem, pt)
    >>> mmu.translate(0x5000, "r", user=True)
    Traceback (most recent call last):
    ...
    virtlab.mmu.page_table.PageFault: user fault at 0x5000 (native, level 1)
    >>> mmu.stats().guest_faults
    1
    """

    technique = "native"

    def __init__(self, memory: PhysicalMemory, page_table: PageTable | None = None, *,
                 tlb: TLB | None = None, asid: int = 0):
        super().__init__(tlb)
        self.memory = check_type("memory", memory, PhysicalMemory)
        if page_table is not None:
            self.write_cr3(page_table, asid)

    def write_cr3(self, page_table: PageTable, asid: int = 0) -> None:
        """Load a page table (flushes an untagged TLB).

        Examples
        --------
        >>> mem = PhysicalMemory(64); a, b = PageTable(mem), PageTable(mem)
        >>> a.map(0, 1); b.map(0, 2)
        >>> m = NativeMMU(mem, a); _ = m.translate(0); m.write_cr3(b)
        >>> m.translate(0) >> 12, m.tlb.flushes
        (2, 2)
        """
        check_type("page_table", page_table, PageTable)
        if page_table.memory is not self.memory:
            raise ValueError("page_table must live in this MMU's memory")
        self._set_table(page_table, asid)

    def _miss(self, vaddr: int, write: bool, user: bool) -> tuple[int, int]:
        mem = self.memory
        before = mem.reads
        try:
            return hw_walk(mem, self.table.root, self._mode, vaddr, write, user)
        finally:
            self.last_refs = mem.reads - before
            self.pt_refs += self.last_refs

    def walk_steps(self, vaddr: int, access: str = "r", user: bool = False) -> list:
        """The references a TLB miss for ``vaddr`` makes, as :class:`WalkStep` (counters untouched).

        Examples
        --------
        >>> mem = PhysicalMemory(64); pt = PageTable(mem); pt.map(0, 5)
        >>> [s.level for s in NativeMMU(mem, pt).walk_steps(0x10)]
        [4, 3, 2, 1]
        """
        write = check_access(access, user)
        check_vaddr(vaddr, self._mode)
        steps: list = []
        mem = self.memory
        saved = (mem.reads, mem.writes)
        try:
            hw_walk(PeekView(mem), self.table.root, self._mode, vaddr, write, user, steps=steps)
        except PageFault:
            pass
        mem.reads, mem.writes = saved
        return steps


class PeekView:
    """Read-only view of a memory for figure-drawing walks (no A/D updates)."""

    def __init__(self, memory):
        self.read_word = memory.peek_word

    def write_word(self, addr, value):  # A/D updates are dropped
        pass


def compose(guest_table: PageTable, vm, memory: PhysicalMemory | None = None) -> PageTable:
    """One native table: guest-virtual → host-physical (guest mapping ∘ host mapping).

    A page is present only if the guest maps it and the host backs its
    guest-physical frame; writable only if both allow writes; user as the
    guest says.  Built in ``memory`` (a fresh one by default), so walks of it
    are counted separately from the VM's host memory.

    Examples
    --------
    >>> from virtlab.mmu import PhysicalMemory, GuestVM, X86_64
    >>> host = PhysicalMemory(128)
    >>> vm = GuestVM(host, 32)
    >>> gpt = vm.new_page_table(X86_64)
    >>> gpt.map(0x3000, pfn=2, writable=True)
    >>> h = vm.host_map(2, writable=False)
    >>> ct = compose(gpt, vm)
    >>> ct.lookup(0x3000) == (h, 5)            # P|U, not writable: the host said so
    True
    """

    check_type("guest_table", guest_table, PageTable)
    check_type("vm", vm, GuestVM)
    if guest_table.memory is not vm.memory:
        raise ValueError("guest_table must live in vm's guest memory")
    maps = guest_table.mappings()
    if memory is None:
        n = sum((1 << guest_table.mode.bits_per_level) if f & PTE_PS else 1
                for _, f in maps.values())
        memory = PhysicalMemory(max(64, 4 * guest_table.mode.levels * (n + 1)),
                                name="composed")
    check_type("memory", memory, PhysicalMemory)
    table = PageTable(memory, guest_table.mode)
    pages = 1 << guest_table.mode.bits_per_level
    for va, (gpfn, flags) in sorted(maps.items()):
        # a guest large page becomes 4 KiB entries (host frames need not be contiguous)
        for k in range(pages if flags & PTE_PS else 1):
            host = vm.host_lookup(gpfn + k)
            if host is None:
                continue
            hpfn, hflags = host
            table.map(va + (k << PAGE_SHIFT), hpfn,
                      writable=bool(flags & PTE_W and hflags & PTE_W), user=bool(flags & PTE_U))
    return table
