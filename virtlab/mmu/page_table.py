"""Multi-level page tables (*Seitentabellen*) that live in simulated memory.

A :class:`PageTable` is a radix tree of 4 KiB tables inside a
:class:`~virtlab.mmu.memory.PhysicalMemory` (or a guest's memory).  Entries use
the x86 bit layout: present ``P`` (bit 0), writable ``W`` (bit 1), user ``U``
(bit 2), accessed ``A`` (bit 5), dirty ``D`` (bit 6) and the frame number from
bit 12 up.  :func:`hw_walk` is what the MMU hardware does on a TLB miss: one
counted memory reference per level, permissions combined over all levels
(AND, as on x86), accessed/dirty bits set on success, and a :class:`PageFault`
with a reason on failure.

Paging modes: :data:`X86_32_2LEVEL` (2 levels of 10 bits, 4-byte entries),
:data:`X86_64` (4 levels of 9 bits, 8-byte entries), :data:`X86_64_5LEVEL`
(5 levels), or any :class:`PagingMode` you build.  Large pages: a level-2
entry with the page-size bit ``PS`` (bit 7) maps ``span(2)`` bytes at once
(2 MiB on x86-64, 4 MiB on x86-32), and the walk stops one level early.

Examples
--------
>>> from virtlab.mmu import PhysicalMemory, PageTable, X86_64, hw_walk
>>> mem = PhysicalMemory(64)
>>> pt = PageTable(mem, X86_64)
>>> pt.map(0x7000, pfn=42, writable=False)
>>> mem.reset_counters()
>>> hw_walk(mem, pt.root, X86_64, 0x7123, write=False, user=True)[0]
42
>>> mem.reads                      # one reference per level
4
>>> hw_walk(mem, pt.root, X86_64, 0x7123, write=True, user=True)
Traceback (most recent call last):
...
virtlab.mmu.page_table.PageFault: write fault at 0x7123 (native, level 1)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import VirtlabError, check_bool, check_choice, check_int, check_str, check_type
from .memory import PAGE_SHIFT, PAGE_SIZE, OutOfFrames, PhysicalMemory  # noqa: F401 (doctests)

__all__ = [
    "PTE_A", "PTE_D", "PTE_P", "PTE_PS", "PTE_U", "PTE_W", "X86_32_2LEVEL", "X86_64",
    "X86_64_5LEVEL",
    "Fault", "PageFault", "PageTable", "PagingMode", "WalkStep", "check_access",
    "pte_flags",
]

PTE_P = 1 << 0   #: present
PTE_W = 1 << 1   #: writable
PTE_U = 1 << 2   #: user accessible
PTE_A = 1 << 5   #: accessed (set by the walker)
PTE_D = 1 << 6   #: dirty (set by the walker on a write)
PTE_PS = 1 << 7  #: page size: a level-2 entry that maps a large page (2 MiB / 4 MiB)
_FLAG_MASK = PAGE_SIZE - 1

#: Fault reasons, in the order they are checked.
REASONS = ("not-present", "user", "write")


@dataclass(frozen=True)
class PagingMode:
    """Shape of a page table: ``levels`` tables of ``2**bits_per_level`` entries.

    Examples
    --------
    >>> X86_64.va_bits, X86_64.entries, X86_32_2LEVEL.va_bits
    (48, 512, 32)
    >>> PagingMode("toy", levels=3, bits_per_level=9, entry_size=8).span(2)
    2097152
    """

    name: str
    levels: int
    bits_per_level: int
    entry_size: int

    def __post_init__(self):
        check_str("name", self.name)
        check_int("levels", self.levels, minimum=1, maximum=6)
        check_int("bits_per_level", self.bits_per_level, minimum=1, maximum=10)
        check_choice("entry_size", self.entry_size, (4, 8))
        object.__setattr__(self, "_mask", (1 << self.bits_per_level) - 1)
        if self.entries * self.entry_size > PAGE_SIZE:
            raise ValueError(f"bits_per_level={self.bits_per_level} with entry_size="
                             f"{self.entry_size} does not fit a table into one 4 KiB frame")

    @property
    def entries(self) -> int:
        """Entries per table.

        Examples
        --------
        >>> X86_32_2LEVEL.entries
        1024
        """
        return 1 << self.bits_per_level

    @property
    def va_bits(self) -> int:
        """Width of a virtual address.

        Examples
        --------
        >>> X86_64_5LEVEL.va_bits
        57
        """
        return PAGE_SHIFT + self.levels * self.bits_per_level

    @property
    def va_limit(self) -> int:
        """First address beyond the virtual address space.

        Examples
        --------
        >>> hex(X86_32_2LEVEL.va_limit)
        '0x100000000'
        """
        return 1 << self.va_bits

    def span(self, level: int) -> int:
        """Bytes covered by one entry of a level-``level`` table (level 1 = leaf).

        Examples
        --------
        >>> X86_64.span(1), X86_64.span(2)
        (4096, 2097152)
        """
        check_int("level", level, minimum=1, maximum=self.levels)
        return 1 << (PAGE_SHIFT + (level - 1) * self.bits_per_level)

    def index(self, vaddr: int, level: int) -> int:
        """Index into the level-``level`` table for ``vaddr``.

        Examples
        --------
        >>> X86_32_2LEVEL.index(0x00403000, 2), X86_32_2LEVEL.index(0x00403000, 1)
        (1, 3)
        """
        return (vaddr >> (PAGE_SHIFT + (level - 1) * self.bits_per_level)) & self._mask


#: Paging modes.  (The 2-level mode is not called X86_32: that name is the instruction
#: catalogue, :data:`virtlab.isa.X86_32`.)
X86_32_2LEVEL = PagingMode("x86-32 (2-level)", 2, 10, 4)
X86_64 = PagingMode("x86-64 (4-level)", 4, 9, 8)
X86_64_5LEVEL = PagingMode("x86-64 (5-level)", 5, 9, 8)


@dataclass(frozen=True)
class Fault:
    """What went wrong in a translation.

    Attributes
    ----------
    vaddr : int
        The address being translated (for a host-stage fault of a nested walk:
        the guest-virtual address whose translation failed).
    reason : str
        ``"not-present"``, ``"user"`` (supervisor page, user access) or
        ``"write"`` (read-only page, write access).
    stage : str
        ``"native"``, ``"guest"`` (the guest's own tables deny it: a true guest
        page fault) or ``"host"`` (the VMM's guest-physical → host-physical
        mapping denies it: EPT violation / host fault, invisible to the guest).
    level : int
        Table level where a not-present entry was found (1 = leaf); for
        permission faults the leaf level 1.

    Examples
    --------
    >>> Fault(0x1000, "write", "guest", 1).reason
    'write'
    """

    vaddr: int
    reason: str
    stage: str
    level: int


class PageFault(VirtlabError):
    """Raised by a translation that faults; ``.fault`` holds the :class:`Fault`.

    Examples
    --------
    >>> err = PageFault(Fault(0x1000, "not-present", "guest", 2))
    >>> err.fault.reason, str(err)
    ('not-present', 'not-present fault at 0x1000 (guest, level 2)')
    """

    def __init__(self, fault: Fault):
        self.fault = fault
        super().__init__(f"{fault.reason} fault at {fault.vaddr:#x} "
                         f"({fault.stage}, level {fault.level})")


@dataclass(frozen=True)
class WalkStep:
    """One memory reference of a page walk (recorded for figures).

    ``stage`` is ``"native"``, ``"guest"`` or ``"host"``; ``level`` the table
    level (1 = leaf); ``addr`` the physical address read; ``entry`` the value.
    For a nested walk ``guest_level`` tells which guest entry (or ``0`` for the
    final data address) the host walk was translating.

    Examples
    --------
    >>> WalkStep("host", 4, 0x1000, 0x2007, guest_level=3).stage
    'host'
    """

    stage: str
    level: int
    addr: int
    entry: int
    guest_level: int = -1


def pte_flags(entry: int) -> str:
    """Flags of an entry as text, e.g. ``'P W U A -'``.

    Examples
    --------
    >>> pte_flags(PTE_P | PTE_U | PTE_A)
    'P - U A -'
    """
    check_int("entry", entry, minimum=0, maximum=(1 << 64) - 1)
    return " ".join(c if entry & bit else "-" for c, bit in
                    (("P", PTE_P), ("W", PTE_W), ("U", PTE_U), ("A", PTE_A), ("D", PTE_D)))


def check_access(access: str, user: bool) -> bool:
    """Validate an access kind (``"r"``/``"w"``) and mode; return True for a write.

    Examples
    --------
    >>> check_access("w", False)
    True
    >>> check_access("x", False)
    Traceback (most recent call last):
    ...
    ValueError: access must be one of 'r', 'w'; got 'x'
    """
    if access == "r":
        write = False
    elif access == "w":
        write = True
    else:
        check_choice("access", access, ("r", "w"))
    check_bool("user", user)
    return write


def check_vaddr(vaddr: int, mode: PagingMode, name: str = "vaddr") -> int:
    """Validate a virtual address for ``mode``."""
    if type(vaddr) is not int:
        check_int(name, vaddr)
    if vaddr < 0 or vaddr >= mode.va_limit:
        raise ValueError(f"{name} must be an integer in [0, {mode.va_limit - 1:#x}] "
                         f"({mode.va_bits}-bit {mode.name}), got {vaddr:#x}"
                         if vaddr >= 0 else
                         f"{name} must be an integer in [0, {mode.va_limit - 1:#x}], "
                         f"got {vaddr}")
    return vaddr


def hw_walk(memory, root: int, mode: PagingMode, vaddr: int, write: bool, user: bool,
            stage: str = "native", steps: list | None = None) -> tuple[int, int]:
    """The MMU's page walk: ``levels`` counted reads, then permission checks.

    Returns ``(pfn, flags)`` of the leaf (flags combined over all levels: a
    page is writable/user only if every level says so) or raises
    :class:`PageFault`.  On success the accessed bit is set on every entry and
    the dirty bit on the leaf for a write (those updates are memory *writes*,
    not counted as page-table references).  ``vaddr`` must already be valid.

    Examples
    --------
    >>> mem = PhysicalMemory(8)
    >>> pt = PageTable(mem, X86_32_2LEVEL)
    >>> pt.map(0x00403000, pfn=7)
    >>> steps = []
    >>> hw_walk(mem, pt.root, X86_32_2LEVEL, 0x00403abc, write=True, user=False, steps=steps)[0]
    7
    >>> [s.level for s in steps]
    [2, 1]
    >>> pte_flags(pt.entry(0x00403000))
    'P W U A D'
    """
    table = root
    combined = PTE_W | PTE_U
    addrs = []
    esize = mode.entry_size
    mask = mode.entries - 1
    bits = mode.bits_per_level
    read = memory.read_word
    for level in range(mode.levels, 0, -1):
        addr = (table << PAGE_SHIFT) + ((vaddr >> (PAGE_SHIFT + (level - 1) * bits)) & mask) * esize
        entry = read(addr)
        if steps is not None:
            steps.append(WalkStep(stage, level, addr, entry))
        if not entry & PTE_P:
            raise PageFault(Fault(vaddr, "not-present", stage, level))
        combined &= entry
        addrs.append((addr, entry))
        if level == 2 and entry & PTE_PS:          # large page: the walk ends here
            table = (entry >> PAGE_SHIFT) + ((vaddr >> PAGE_SHIFT) & ((1 << bits) - 1))
            break
        table = entry >> PAGE_SHIFT
    leaf = mode.levels - len(addrs) + 1
    if user and not combined & PTE_U:
        raise PageFault(Fault(vaddr, "user", stage, leaf))
    if write and not combined & PTE_W:
        raise PageFault(Fault(vaddr, "write", stage, leaf))
    # success: set A on every level, D on the leaf for a write
    last = len(addrs) - 1
    for i, (addr, entry) in enumerate(addrs):
        want = entry | PTE_A | (PTE_D if write and i == last else 0)
        if want != entry:
            memory.write_word(addr, want)
    return table, combined | PTE_P


class PageTable:
    """A multi-level page table stored in ``memory`` (the OS's view: map/unmap).

    Parameters
    ----------
    memory : PhysicalMemory or GuestMemory
        Where the tables live; table frames come from ``memory.alloc_frame()``.
    mode : PagingMode
        Levels and entry format (default :data:`X86_64`).

    Attributes
    ----------
    root : int
        Frame number of the top-level table (what CR3 holds).

    Examples
    --------
    >>> mem = PhysicalMemory(32)
    >>> pt = PageTable(mem)
    >>> pt.map(0x400000, pfn=9, user=False)
    >>> pt.lookup(0x400123)
    (9, 3)
    >>> pt.table_frames() == {pt.root} | set(range(1, 4))
    True
    >>> pt.map(0x400001, pfn=9)
    Traceback (most recent call last):
    ...
    ValueError: vaddr must be page aligned (multiple of 4096), got 0x400001
    """

    def __init__(self, memory, mode: PagingMode = X86_64):
        if not hasattr(memory, "alloc_frame") or not hasattr(memory, "write_word"):
            raise TypeError(f"memory must be a PhysicalMemory or GuestMemory, "
                            f"got {type(memory).__name__}")
        self.mode = check_type("mode", mode, PagingMode)
        self.memory = memory
        self.root = memory.alloc_frame()
        self._tables = {self.root}

    # -- helpers ------------------------------------------------------------
    def _entry_addr(self, table: int, vaddr: int, level: int) -> int:
        return (table << PAGE_SHIFT) + self.mode.index(vaddr, level) * self.mode.entry_size

    def _check_page(self, vaddr: int) -> int:
        check_vaddr(vaddr, self.mode)
        if vaddr & _FLAG_MASK:
            raise ValueError(f"vaddr must be page aligned (multiple of {PAGE_SIZE}), "
                             f"got {vaddr:#x}")
        return vaddr

    def _check_pfn(self, pfn: int) -> int:
        limit = (1 << (8 * self.mode.entry_size - PAGE_SHIFT)) - 1
        return check_int("pfn", pfn, minimum=0, maximum=limit)

    # -- OS view -------------------------------------------------------------
    def map(self, vaddr: int, pfn: int, *, writable: bool = True, user: bool = True,
            large: bool = False) -> None:
        """Map the page at ``vaddr`` to frame ``pfn`` (missing tables are allocated).

        Intermediate entries are present, writable and user; the leaf carries
        the requested permissions.  ``large=True`` maps a large page with one
        level-2 entry (``vaddr`` aligned to ``mode.span(2)``, ``pfn`` to the
        number of 4 KiB frames in it).  Every entry written is a (counted) memory
        write to ``memory`` — under shadow paging, a guest's write that the VMM traps.
        Nothing is changed when an argument is bad.

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(16), X86_32_2LEVEL)
        >>> pt.map(0x8000, pfn=3, writable=False)
        >>> pt.lookup(0x8000)
        (3, 5)
        """
        self._check_page(vaddr)
        self._check_pfn(pfn)
        check_bool("writable", writable)
        check_bool("user", user)
        check_bool("large", large)
        stop = 2 if large else 1                  # level of the leaf entry
        if large:
            if self.mode.levels < 2:
                raise ValueError("large pages need at least 2 levels")
            span = self.mode.span(2)
            if vaddr % span:
                raise ValueError(f"vaddr must be aligned to the large-page size {span:#x}, "
                                 f"got {vaddr:#x}")
            if pfn % (span >> PAGE_SHIFT):
                raise ValueError(f"pfn must be a multiple of {span >> PAGE_SHIFT} for a large "
                                 f"page, got {pfn}")
        found = self._leaf(vaddr, upto=stop)
        if found is not None and found[1] != stop:
            raise ValueError(f"vaddr {vaddr:#x} lies in a large page; unmap it first")
        if large and found is not None and self.memory.peek_word(found[0]) & PTE_P \
                and not self.memory.peek_word(found[0]) & PTE_PS:
            raise ValueError(f"vaddr {vaddr:#x} already has a page table below it; "
                             "unmap its pages first")
        mem = self.memory
        # Count the tables still missing first, so running out of frames
        # cannot leave a half-built path behind.
        missing, table = 0, self.root
        for level in range(self.mode.levels, stop, -1):
            entry = mem.peek_word(self._entry_addr(table, vaddr, level))
            if not entry & PTE_P:
                missing = level - stop
                break
            table = entry >> PAGE_SHIFT
        if missing > mem.free_frames:
            raise OutOfFrames(f"mapping {vaddr:#x} needs {missing} new table frame(s), "
                              f"{mem.free_frames} free")
        table = self.root
        for level in range(self.mode.levels, stop, -1):
            addr = self._entry_addr(table, vaddr, level)
            entry = mem.peek_word(addr)
            if not entry & PTE_P:
                new = mem.alloc_frame()
                self._tables.add(new)
                entry = (new << PAGE_SHIFT) | PTE_P | PTE_W | PTE_U
                mem.write_word(addr, entry)
            table = entry >> PAGE_SHIFT
        leaf = ((pfn << PAGE_SHIFT) | PTE_P | (PTE_W if writable else 0)
                | (PTE_U if user else 0) | (PTE_PS if large else 0))
        mem.write_word(self._entry_addr(table, vaddr, stop), leaf)

    def unmap(self, vaddr: int) -> bool:
        """Clear the leaf entry for ``vaddr``; return False if it was not mapped.

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(16)); pt.map(0x1000, 2)
        >>> pt.unmap(0x1000), pt.unmap(0x1000)
        (True, False)
        """
        self._check_page(vaddr)
        found = self._leaf(vaddr)
        if found is None or not self.memory.peek_word(found[0]) & PTE_P:
            return False
        if found[1] == 2 and vaddr % self.mode.span(2):
            raise ValueError(f"vaddr {vaddr:#x} lies inside a large page; unmap it at "
                             f"{vaddr - vaddr % self.mode.span(2):#x}")
        self.memory.write_word(found[0], 0)
        return True

    def protect(self, vaddr: int, *, writable: bool) -> bool:
        """Change the writable bit of a mapped page; return False if not mapped.

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(16)); pt.map(0x1000, 2)
        >>> pt.protect(0x1000, writable=False), pte_flags(pt.entry(0x1000))
        (True, 'P - U - -')
        """
        self._check_page(vaddr)
        check_bool("writable", writable)
        found = self._leaf(vaddr)
        if found is None:
            return False
        addr = found[0]
        entry = self.memory.peek_word(addr)
        if not entry & PTE_P:
            return False
        new = (entry | PTE_W) if writable else (entry & ~PTE_W)
        if new != entry:
            self.memory.write_word(addr, new)
        return True

    def _leaf(self, vaddr: int, upto: int = 1) -> tuple[int, int] | None:
        """``(address, level)`` of the entry that maps ``vaddr``: the level-1 entry,
        or a large level-2 entry; None if a table on the way is missing.  With
        ``upto=2`` the descent stops at level 2 in any case."""
        table = self.root
        mem = self.memory
        for level in range(self.mode.levels, 1, -1):
            addr = self._entry_addr(table, vaddr, level)
            entry = mem.peek_word(addr)
            if level == 2 and (entry & PTE_PS or upto == 2):
                return addr, 2
            if not entry & PTE_P:
                return None
            table = entry >> PAGE_SHIFT
        return self._entry_addr(table, vaddr, 1), 1

    def entry(self, vaddr: int) -> int:
        """The raw leaf entry for ``vaddr`` (0 if a table on the way is missing).

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(16)); pt.map(0x1000, 2)
        >>> hex(pt.entry(0x1000)), pt.entry(0x9000)
        ('0x2007', 0)
        """
        check_vaddr(vaddr, self.mode)
        found = self._leaf(vaddr)
        return 0 if found is None else self.memory.peek_word(found[0])

    def lookup(self, vaddr: int) -> tuple[int, int] | None:
        """Software lookup, uncounted: ``(pfn, leaf flags)`` or None if not present.

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(16)); pt.map(0x1000, 2, user=False)
        >>> pt.lookup(0x1abc), pt.lookup(0x2000)
        ((2, 3), None)
        """
        check_vaddr(vaddr, self.mode)
        found = self._leaf(vaddr)
        if found is None:
            return None
        e = self.memory.peek_word(found[0])
        if not e & PTE_P:
            return None
        pfn = e >> PAGE_SHIFT
        if found[1] == 2:                   # the 4 KiB frame inside the large page
            pfn += (vaddr >> PAGE_SHIFT) & ((1 << self.mode.bits_per_level) - 1)
        return pfn, e & _FLAG_MASK

    def mappings(self) -> dict[int, tuple[int, int]]:
        """All present leaves as ``{page address: (pfn, flags)}`` (software, uncounted).

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(8), X86_32_2LEVEL)
        >>> pt.map(0x1000, 3, writable=False)
        >>> pt.mappings()
        {4096: (3, 5)}
        """
        out: dict[int, tuple[int, int]] = {}
        mode, mem = self.mode, self.memory

        def visit(table: int, level: int, base: int) -> None:
            for i in range(mode.entries):
                e = mem.peek_word((table << PAGE_SHIFT) + i * mode.entry_size)
                if not e & PTE_P:
                    continue
                va = base + i * mode.span(level)
                if level == 1 or (level == 2 and e & PTE_PS):
                    out[va] = (e >> PAGE_SHIFT, e & _FLAG_MASK)
                else:
                    visit(e >> PAGE_SHIFT, level - 1, va)

        visit(self.root, mode.levels, 0)
        return out

    def table_frames(self) -> set[int]:
        """Frames holding this table's levels.

        Examples
        --------
        >>> pt = PageTable(PhysicalMemory(16), X86_32_2LEVEL); pt.map(0, 9)
        >>> sorted(pt.table_frames())
        [0, 1]
        """
        return set(self._tables)

    def clear_subtree(self, vaddr: int, level: int) -> bool:
        """Clear the level-``level`` entry on the path to ``vaddr`` (frees tables below it).

        Used by the shadow MMU to drop stale shadow entries.  Returns False if
        the path does not reach that level.

        Examples
        --------
        >>> mem = PhysicalMemory(16); pt = PageTable(mem, X86_32_2LEVEL); pt.map(0x1000, 9)
        >>> pt.clear_subtree(0x1000, 2), pt.lookup(0x1000), mem.free_frames
        (True, None, 15)
        """
        check_vaddr(vaddr, self.mode)
        check_int("level", level, minimum=1, maximum=self.mode.levels)
        table = self.root
        mem = self.memory
        for lv in range(self.mode.levels, level, -1):
            e = mem.peek_word(self._entry_addr(table, vaddr, lv))
            if not e & PTE_P or (lv == 2 and e & PTE_PS):
                return False
            table = e >> PAGE_SHIFT
        addr = self._entry_addr(table, vaddr, level)
        e = mem.peek_word(addr)
        if not e & PTE_P:
            return False
        mem.write_word(addr, 0)
        if level > 1 and not (level == 2 and e & PTE_PS):
            self._free_tree(e >> PAGE_SHIFT, level - 1)
        return True

    def _free_tree(self, table: int, level: int) -> None:
        mem = self.memory
        if level > 1:
            for i in range(self.mode.entries):
                e = mem.peek_word((table << PAGE_SHIFT) + i * self.mode.entry_size)
                if e & PTE_P and not (level == 2 and e & PTE_PS):
                    self._free_tree(e >> PAGE_SHIFT, level - 1)
        self._tables.discard(table)
        mem.free_frame(table)

    def __repr__(self) -> str:
        return f"<PageTable {self.mode.name} root={self.root}>"
