"""A virtual machine's memory: guest-physical ("real") frames backed by host frames.

The lecture's address chain (*virtuelle Adresse → reale Adresse →
physikalische Adresse*) has three kinds of address here:

* guest-virtual: what a guest process uses; the guest's own page tables map it
* guest-physical (*real*): what the guest OS believes is physical memory;
* host-physical: the machine frames; the VMM's **host table** maps
  guest-physical → host-physical.  With nested paging the hardware walks the
  host table itself (Intel EPT / AMD NPT); with shadow paging only the VMM
  reads it.

:class:`GuestMemory` is the guest OS's view of its memory: the guest's page
tables live in it (so, physically, in host frames).  The VMM can write-protect
guest frames: a guest write to such a frame then calls the VMM's hook (a trap)
— that is how shadow paging notices guest page-table edits.

Examples
--------
>>> from virtlab.mmu import PhysicalMemory, GuestVM, X86_64
>>> host = PhysicalMemory(256)
>>> vm = GuestVM(host, guest_frames=64)
>>> pt = vm.new_page_table(X86_64)           # tables in guest-physical memory
>>> pt.map(0x400000, pfn=3)                   # guest-virtual -> guest-physical
>>> hpfn = vm.host_map(3)                     # guest-physical -> host-physical
>>> vm.host_lookup(3)[0] == hpfn
True
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import check_bool, check_int, check_str, check_type
from .memory import PAGE_SHIFT, PAGE_SIZE, OutOfFrames, PhysicalMemory
from .page_table import PTE_PS, X86_64, PageTable, PagingMode

__all__ = ["GuestMemory", "GuestVM"]


class GuestMemory:
    """Guest-physical memory of a :class:`GuestVM` (the guest OS's "physical" RAM).

    Frames for the guest's page tables are allocated from the *top* of guest
    memory downwards, so low guest frames stay free for data pages in examples.
    Every frame the guest writes is backed by a host frame (on first touch).

    Attributes
    ----------
    protected : set of int
        Guest frames the VMM has write-protected (shadow paging).
    write_hook : callable or None
        Called as ``write_hook(gaddr)`` after a guest write to a protected frame.
    writes : int
        Guest writes (page-table edits included).

    Examples
    --------
    >>> from virtlab.mmu import PhysicalMemory, GuestVM
    >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
    >>> gpfn = vm.memory.alloc_frame()          # table frames come from the top
    >>> gpfn, vm.host_lookup(gpfn) is not None
    (31, True)
    """

    ALIGN = 4

    def __init__(self, vm: "GuestVM"):
        check_type("vm", vm, GuestVM)
        self.vm = vm
        self.frames = vm.guest_frames
        self.size = self.frames << PAGE_SHIFT
        self.name = f"{vm.name} guest-physical"
        self._next = self.frames - 1
        self._free: list[int] = []
        self._used: set[int] = set()
        self.protected: set[int] = set()
        self.write_hook: Callable[[int], None] | None = None
        self.writes = 0

    @property
    def free_frames(self) -> int:
        """Guest frames the guest OS's table allocator has not handed out.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> vm.memory.free_frames
        32
        """
        return self.frames - len(self._used)

    def alloc_frame(self) -> int:
        """Allocate a guest frame (top down) and make sure a host frame backs it.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> vm.memory.alloc_frame(), vm.memory.alloc_frame()
        (31, 30)
        """
        if self._free:
            gpfn = self._free[-1]
        elif self._next >= 0:
            gpfn = self._next
        else:
            raise OutOfFrames(f"{self.name} memory has no free frame")
        self.vm.back(gpfn)           # may raise OutOfFrames: nothing changed yet
        if self._free:
            self._free.pop()
        else:
            self._next -= 1
        self._used.add(gpfn)
        return gpfn

    def free_frame(self, gpfn: int) -> None:
        """Give a guest frame back to the guest allocator.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> g = vm.memory.alloc_frame(); vm.memory.free_frame(g)
        >>> vm.memory.free_frames
        32
        """
        check_int("gpfn", gpfn, minimum=0, maximum=self.frames - 1)
        if gpfn not in self._used:
            raise ValueError(f"gpfn {gpfn} is not allocated")
        self._used.discard(gpfn)
        self._free.append(gpfn)
        self.protected.discard(gpfn)

    def _haddr(self, gaddr: int) -> int:
        if type(gaddr) is not int:
            check_int("gaddr", gaddr)
        if gaddr < 0 or gaddr >= self.size:
            raise ValueError(f"gaddr must be in [0, {self.size - 1:#x}] "
                             f"(guest-physical), got {gaddr:#x}")
        if gaddr & 3:
            raise ValueError(f"gaddr must be aligned to 4 bytes, got {gaddr:#x}")
        hpfn = self.vm.back(gaddr >> PAGE_SHIFT)
        return (hpfn << PAGE_SHIFT) | (gaddr & (PAGE_SIZE - 1))

    def peek_word(self, gaddr: int) -> int:
        """Read a guest-physical word (software access, uncounted).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> vm.memory.write_word(0x100, 5); vm.memory.peek_word(0x100)
        5
        """
        return self.vm.host.peek_word(self._haddr(gaddr))

    def read_word(self, gaddr: int) -> int:
        """Read a guest-physical word (counted on the host memory).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> vm.memory.read_word(0x100), vm.host.reads
        (0, 1)
        """
        return self.vm.host.read_word(self._haddr(gaddr))

    def write_word(self, gaddr: int, value: int) -> None:
        """A guest write; traps to the VMM if the frame is write-protected.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> hits = []
        >>> vm.memory.protected.add(0); vm.memory.write_hook = hits.append
        >>> vm.memory.write_word(0x8, 1); hits
        [8]
        """
        haddr = self._haddr(gaddr)
        self.vm.host.write_word(haddr, value)
        self.writes += 1
        if (gaddr >> PAGE_SHIFT) in self.protected and self.write_hook is not None:
            self.write_hook(gaddr)

    def write_word_vmm(self, gaddr: int, value: int) -> None:
        """A write by the VMM itself (e.g. emulated accessed/dirty bits): never traps.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> hits = []
        >>> vm.memory.protected.add(0); vm.memory.write_hook = hits.append
        >>> vm.memory.write_word_vmm(0x8, 1); hits
        []
        """
        self.vm.host.write_word(self._haddr(gaddr), value)


class GuestVM:
    """A VM whose guest-physical memory is backed by frames of ``host``.

    Parameters
    ----------
    host : PhysicalMemory
        The machine's memory (host-physical frames).
    guest_frames : int
        Size of guest-physical memory in 4 KiB frames.
    host_mode : PagingMode
        Shape of the host table (EPT/NPT); default 4-level :data:`X86_64`.
    name : str
        Label.

    Attributes
    ----------
    host_table : PageTable
        guest-physical → host-physical, stored in host memory.
    memory : GuestMemory
        The guest OS's view of its memory.

    Examples
    --------
    >>> host = PhysicalMemory(64)
    >>> vm = GuestVM(host, guest_frames=16)
    >>> vm.host_map(20)
    Traceback (most recent call last):
    ...
    ValueError: gpfn must be an integer in [0, 15], got 20
    """

    def __init__(self, host: PhysicalMemory, guest_frames: int, *,
                 host_mode: PagingMode = X86_64, name: str = "vm1"):
        self.host = check_type("host", host, PhysicalMemory)
        check_type("host_mode", host_mode, PagingMode)
        limit = host_mode.va_limit >> PAGE_SHIFT
        self.guest_frames = check_int("guest_frames", guest_frames, minimum=1,
                                      maximum=min(limit, 1 << 28))
        self.name = check_str("name", name)
        self.host_table = PageTable(host, host_mode)
        # The VMM's software copy of the host table (like KVM's memslots):
        # gpfn -> (hpfn, flags); kept in step by host_map/unmap/protect.
        self._backing: dict[int, tuple[int, int]] = {}
        self.memory = GuestMemory(self)

    # -- the VMM's guest-physical -> host-physical mapping ------------------------
    def _check_gpfn(self, gpfn: int) -> int:
        return check_int("gpfn", gpfn, minimum=0, maximum=self.guest_frames - 1)

    def host_lookup(self, gpfn: int) -> tuple[int, int] | None:
        """``(hpfn, flags)`` backing guest frame ``gpfn``, or None (unbacked or out of range).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> h = vm.host_map(4)
        >>> vm.host_lookup(4) == (h, 7), vm.host_lookup(5)
        (True, None)
        """
        return self._backing.get(gpfn) if type(gpfn) is int else None

    def host_map(self, gpfn: int, hpfn: int | None = None, *, writable: bool = True) -> int:
        """Back guest frame ``gpfn`` with host frame ``hpfn`` (a new one if None); return it.

        A frame given explicitly must be free in host memory (it is claimed).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> h = vm.host_map(4, writable=False)
        >>> vm.host_lookup(4)[1]          # present | user, not writable
        5
        """
        self._check_gpfn(gpfn)
        check_bool("writable", writable)
        if hpfn is not None:
            check_int("hpfn", hpfn, minimum=0, maximum=self.host.frames - 1)
            if self.host.is_allocated(hpfn):
                raise ValueError(f"hpfn {hpfn} is already in use")
        if self.host_lookup(gpfn) is not None:
            raise ValueError(f"gpfn {gpfn} is already backed; host_unmap it first")
        if self.host.free_frames < 1 + self.host_table.mode.levels:
            raise OutOfFrames("host memory too full to back another guest frame")
        frame = self.host.claim_frame(hpfn) if hpfn is not None else self.host.alloc_frame()
        self.host_table.map(gpfn << PAGE_SHIFT, frame, writable=writable, user=True)
        self._backing[gpfn] = self.host_table.lookup(gpfn << PAGE_SHIFT)
        return frame

    def host_map_large(self, gpfn: int, *, writable: bool = True) -> int:
        """Back a whole large page of guest frames (``gpfn`` aligned) with one host
        large page (contiguous, aligned host frames); return the first host frame.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, X86_32_2LEVEL, PagingMode
        >>> toy = PagingMode("toy", levels=3, bits_per_level=3, entry_size=8)
        >>> vm = GuestVM(PhysicalMemory(64), 32, host_mode=toy)
        >>> base = vm.host_map_large(8)             # 8 frames of 4 KiB per large page
        >>> base % 8, vm.host_lookup(13)[0] == base + 5
        (0, True)
        """
        self._check_gpfn(gpfn)
        check_bool("writable", writable)
        mode = self.host_table.mode
        n = 1 << mode.bits_per_level
        if gpfn % n or gpfn + n > self.guest_frames:
            raise ValueError(f"gpfn must be a multiple of {n} with the whole large page "
                             f"inside guest memory, got {gpfn}")
        if any(g in self._backing for g in range(gpfn, gpfn + n)):
            raise ValueError(f"gpfn {gpfn}: part of this large page is already backed")
        host = self.host
        base = next((b for b in range(0, host.frames - n + 1, n)
                     if not any(host.is_allocated(f) for f in range(b, b + n))), None)
        if base is None or host.free_frames < n + mode.levels:
            raise OutOfFrames(f"no free aligned run of {n} host frames for a large page")
        for f in range(base, base + n):
            host.claim_frame(f)
        self.host_table.map(gpfn << PAGE_SHIFT, base, writable=writable, user=True, large=True)
        for k in range(n):
            self._backing[gpfn + k] = self.host_table.lookup((gpfn + k) << PAGE_SHIFT)
        return base

    def _in_large(self, gpfn: int) -> bool:
        h = self._backing.get(gpfn)
        return h is not None and bool(h[1] & PTE_PS)

    def host_unmap(self, gpfn: int) -> int | None:
        """Remove the backing of ``gpfn`` and free its host frame; return the frame or None.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> h = vm.host_map(4)
        >>> vm.host_unmap(4) == h, vm.host_lookup(4)
        (True, None)
        """
        self._check_gpfn(gpfn)
        if gpfn in self.memory._used:
            raise ValueError(f"gpfn {gpfn} holds a guest page table; it cannot be unbacked")
        if self._in_large(gpfn):
            raise ValueError(f"gpfn {gpfn} is part of a host large page")
        h = self.host_lookup(gpfn)
        if h is None:
            return None
        self.host_table.unmap(gpfn << PAGE_SHIFT)
        del self._backing[gpfn]
        self.host.free_frame(h[0])
        return h[0]

    def host_protect(self, gpfn: int, *, writable: bool) -> bool:
        """Make the backing of ``gpfn`` read-only or writable (e.g. a shared page).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> _ = vm.host_map(4)
        >>> vm.host_protect(4, writable=False), vm.host_lookup(4)[1]
        (True, 5)
        """
        self._check_gpfn(gpfn)
        check_bool("writable", writable)
        if gpfn in self.memory._used and not writable:
            raise ValueError(f"gpfn {gpfn} holds a guest page table; it must stay writable")
        if self._in_large(gpfn):
            raise ValueError(f"gpfn {gpfn} is part of a host large page")
        done = self.host_table.protect(gpfn << PAGE_SHIFT, writable=writable)
        if done:
            self._backing[gpfn] = self.host_table.lookup(gpfn << PAGE_SHIFT)
        return done

    def back(self, gpfn: int) -> int:
        """Host frame behind ``gpfn``, allocating one on first touch.

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> h = vm.back(9)                 # first touch allocates a host frame
        >>> vm.back(9) == h
        True
        """
        h = self.host_lookup(gpfn)
        if h is None:
            return self.host_map(gpfn)
        return h[0]

    def new_page_table(self, mode: PagingMode = X86_64) -> PageTable:
        """A new guest page table (its frames are guest-physical frames of this VM).

        Examples
        --------
        >>> from virtlab.mmu import PhysicalMemory, GuestVM
        >>> vm = GuestVM(PhysicalMemory(128), guest_frames=32)
        >>> from virtlab.mmu import X86_32_2LEVEL
        >>> vm.new_page_table(X86_32_2LEVEL).root
        31
        """
        return PageTable(self.memory, mode)

    def __repr__(self) -> str:
        return f"<GuestVM {self.name}: {self.guest_frames} guest frames>"
