"""Simulated physical memory (*Hauptspeicher*): 4 KiB frames of memory words.

Page tables in virtlab live *inside* a :class:`PhysicalMemory`, exactly like
on real hardware: a page-table entry is a memory word at a physical address,
and the MMU reads it with a counted memory reference.  That is what lets the
models count the references of a page walk instead of asserting them.

The memory is sparse (a dict from address to word; unwritten words read as
0), so a 4-level table over a 48-bit address space costs only the frames it
really uses.

Examples
--------
>>> mem = PhysicalMemory(16)
>>> f = mem.alloc_frame()
>>> mem.write_word(f * PAGE_SIZE + 8, 0x1234)
>>> mem.read_word(f * PAGE_SIZE + 8) == 0x1234
True
>>> mem.reads, mem.writes
(1, 1)
"""

from __future__ import annotations

from ..errors import VirtlabError, check_int, check_str

__all__ = ["PAGE_SHIFT", "PAGE_SIZE", "OutOfFrames", "PhysicalMemory"]

#: Page (and frame) size: 4 KiB.
PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT

#: Upper bound for simulated memory sizes (frames); 2**28 frames = 1 TiB.
MAX_FRAMES = 1 << 28


class OutOfFrames(VirtlabError):
    """The simulated memory has no free frame left (part of the story, not a bad argument).

    Examples
    --------
    >>> mem = PhysicalMemory(1); _ = mem.alloc_frame()
    >>> mem.alloc_frame()
    Traceback (most recent call last):
    ...
    virtlab.mmu.memory.OutOfFrames: host memory has no free frame (1 frames)
    """


class PhysicalMemory:
    """Physical memory of ``frames`` 4 KiB frames, read and written in words.

    Parameters
    ----------
    frames : int
        Number of frames (1 ... 2**28).
    name : str
        Label used in messages and figures (``"host"``, ``"shadow"``, ...).

    Attributes
    ----------
    reads, writes : int
        Counted memory references (the MMU's page-walk reads land here).

    Examples
    --------
    >>> mem = PhysicalMemory(4, name="tiny")
    >>> [mem.alloc_frame() for _ in range(4)]
    [0, 1, 2, 3]
    >>> mem.free_frames
    0
    >>> mem.read_word(3)
    Traceback (most recent call last):
    ...
    ValueError: addr must be aligned to 4 bytes, got 0x3
    """

    #: Addresses must be aligned to 4 bytes (the smallest page-table entry);
    #: a word holds up to 64 bits (8-byte x86-64 entries).
    ALIGN = 4

    def __init__(self, frames: int, *, name: str = "host"):
        self.frames = check_int("frames", frames, minimum=1, maximum=MAX_FRAMES)
        self.name = check_str("name", name)
        self.size = self.frames << PAGE_SHIFT
        self._words: dict[int, int] = {}
        self._next = 0            # frames below _next were handed out at least once
        self._free: list[int] = []  # frames given back, reused LIFO
        self._used: set[int] = set()
        self.reads = 0
        self.writes = 0

    # -- frames -----------------------------------------------------------
    @property
    def free_frames(self) -> int:
        """Number of frames not allocated.

        Examples
        --------
        >>> PhysicalMemory(8).free_frames
        8
        """
        return self.frames - len(self._used)

    def is_allocated(self, pfn: int) -> bool:
        """True if frame ``pfn`` is allocated.

        Examples
        --------
        >>> mem = PhysicalMemory(2)
        >>> mem.is_allocated(mem.alloc_frame())
        True
        """
        self._check_pfn(pfn)
        return pfn in self._used

    def alloc_frame(self) -> int:
        """Allocate a zeroed frame and return its number (lowest never-used first).

        Raises :class:`OutOfFrames` when memory is full.

        Examples
        --------
        >>> PhysicalMemory(3).alloc_frame()
        0
        """
        if self._free:
            pfn = self._free.pop()
        elif self._next < self.frames:
            pfn = self._next
            self._next += 1
        else:
            raise OutOfFrames(f"{self.name} memory has no free frame ({self.frames} frames)")
        self._used.add(pfn)
        return pfn

    def claim_frame(self, pfn: int) -> int:
        """Allocate the specific frame ``pfn`` (for hand-made mappings in tests and notebooks).

        Examples
        --------
        >>> mem = PhysicalMemory(8)
        >>> mem.claim_frame(5)
        5
        >>> mem.claim_frame(5)
        Traceback (most recent call last):
        ...
        ValueError: pfn 5 is already allocated
        """
        self._check_pfn(pfn)
        if pfn in self._used:
            raise ValueError(f"pfn {pfn} is already allocated")
        if pfn >= self._next:
            self._free.extend(range(self._next, pfn))
            self._next = pfn + 1
        else:
            self._free.remove(pfn)
        self._used.add(pfn)
        return pfn

    def free_frame(self, pfn: int) -> None:
        """Give frame ``pfn`` back (its words are cleared).

        Examples
        --------
        >>> mem = PhysicalMemory(2)
        >>> f = mem.alloc_frame()
        >>> mem.free_frame(f)
        >>> mem.free_frames
        2
        """
        self._check_pfn(pfn)
        if pfn not in self._used:
            raise ValueError(f"pfn {pfn} is not allocated")
        base = pfn << PAGE_SHIFT
        for off in range(0, PAGE_SIZE, self.ALIGN):
            self._words.pop(base + off, None)
        self._used.discard(pfn)
        self._free.append(pfn)

    # -- words --------------------------------------------------------------
    def read_word(self, addr: int) -> int:
        """Read the word at physical address ``addr`` (a counted reference).

        Examples
        --------
        >>> mem = PhysicalMemory(1)
        >>> mem.read_word(8), mem.reads
        (0, 1)
        """
        self._check_addr(addr)
        self.reads += 1
        return self._words.get(addr, 0)

    def write_word(self, addr: int, value: int) -> None:
        """Write ``value`` (0 ... 2**64-1) at ``addr`` (a counted write).

        Examples
        --------
        >>> mem = PhysicalMemory(1)
        >>> mem.write_word(16, 0xABC); mem.peek_word(16) == 0xABC, mem.writes
        (True, 1)
        """
        self._check_addr(addr)
        check_int("value", value, minimum=0, maximum=(1 << 64) - 1)
        self.writes += 1
        if value:
            self._words[addr] = value
        else:
            self._words.pop(addr, None)

    def peek_word(self, addr: int) -> int:
        """Read without counting (for software that inspects memory, e.g. figures).

        Examples
        --------
        >>> mem = PhysicalMemory(1)
        >>> mem.peek_word(0), mem.reads
        (0, 0)
        """
        self._check_addr(addr)
        return self._words.get(addr, 0)

    def reset_counters(self) -> None:
        """Set :attr:`reads` and :attr:`writes` back to 0.

        Examples
        --------
        >>> mem = PhysicalMemory(1); _ = mem.read_word(0)
        >>> mem.reset_counters(); mem.reads
        0
        """
        self.reads = 0
        self.writes = 0

    # -- checks ---------------------------------------------------------------
    def _check_pfn(self, pfn: int) -> None:
        check_int("pfn", pfn, minimum=0, maximum=self.frames - 1)

    def _check_addr(self, addr: int) -> None:
        if type(addr) is not int:  # fast path for the hot walk loop
            check_int("addr", addr)
        if addr < 0 or addr >= self.size:
            raise ValueError(f"addr must be in [0, {self.size - 1:#x}] "
                             f"({self.name} memory), got {addr:#x}")
        if addr & 3:
            raise ValueError(f"addr must be aligned to 4 bytes, got {addr:#x}")

    def __repr__(self) -> str:
        return (f"<PhysicalMemory {self.name}: {self.frames} frames, "
                f"{self.free_frames} free>")
