"""Translation lookaside buffer (TLB) with LRU replacement and optional tags.

The TLB caches finished translations (virtual page → frame plus the combined
permission bits).  A hit costs no page-table reference at all.  Without tags
every write of the page-table base (CR3) or world switch must flush it; with
tags (x86 PCID/ASID for address spaces, VPID for virtual machines) entries of
different address spaces coexist and a switch only changes the current tag.

Examples
--------
>>> tlb = TLB(entries=2)
>>> tlb.lookup(5) is None
True
>>> tlb.insert(5, pfn=50, flags=7)
>>> tlb.lookup(5)
(50, 7)
>>> tlb.hits, tlb.misses
(1, 1)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..errors import check_bool, check_int

__all__ = ["TLB", "TLBStats"]


@dataclass(frozen=True)
class TLBStats:
    """Counters of a :class:`TLB` (``hit_rate`` is 0 before the first lookup).

    Examples
    --------
    >>> TLBStats(entries=4, hits=3, misses=1, flushes=0, evictions=0).hit_rate
    0.75
    """

    entries: int
    hits: int
    misses: int
    flushes: int
    evictions: int

    @property
    def hit_rate(self) -> float:
        """Hits per lookup (0 before the first lookup).

        Examples
        --------
        >>> TLBStats(4, 0, 0, 0, 0).hit_rate
        0.0
        """
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class TLB:
    """A fully associative TLB with ``entries`` slots and LRU replacement.

    Parameters
    ----------
    entries : int
        Capacity (1 ... 65536).
    tagged : bool
        If True, entries carry a tag (ASID/VPID) and :meth:`flush` on a switch
        is not needed; if False, the tag is ignored and callers flush on every
        switch (the MMUs in :mod:`virtlab.mmu` do this for you).

    Examples
    --------
    >>> tlb = TLB(entries=2)
    >>> for vpn in (1, 2, 1, 3):            # 2 is least recently used when 3 arrives
    ...     if tlb.lookup(vpn) is None:
    ...         tlb.insert(vpn, pfn=vpn * 10, flags=7)
    >>> sorted(tlb.contents())
    [(0, 1), (0, 3)]
    >>> tlb.stats().evictions
    1
    """

    __slots__ = ("capacity", "tagged", "_map", "hits", "misses", "flushes", "evictions")

    def __init__(self, entries: int = 64, *, tagged: bool = False):
        self.capacity = check_int("entries", entries, minimum=1, maximum=65536)
        self.tagged = check_bool("tagged", tagged)
        self._map: OrderedDict[tuple[int, int], tuple[int, int]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.flushes = 0
        self.evictions = 0

    def lookup(self, vpn: int, tag: int = 0) -> tuple[int, int] | None:
        """Return ``(pfn, flags)`` and mark the entry most recently used, or None (a miss).

        Examples
        --------
        >>> tlb = TLB(4); tlb.insert(7, pfn=70, flags=7)
        >>> tlb.lookup(7), tlb.lookup(8)
        ((70, 7), None)
        """
        key = (tag if self.tagged else 0, vpn)
        entry = self._map.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._map.move_to_end(key)
        self.hits += 1
        return entry

    def insert(self, vpn: int, pfn: int, flags: int, tag: int = 0) -> None:
        """Cache a translation, evicting the least recently used entry if full.

        Examples
        --------
        >>> tlb = TLB(1); tlb.insert(1, 10, 7); tlb.insert(2, 20, 7)
        >>> tlb.contents(), tlb.evictions
        ([(0, 2)], 1)
        """
        key = (tag if self.tagged else 0, vpn)
        m = self._map
        if key in m:
            m.move_to_end(key)
        elif len(m) >= self.capacity:
            m.popitem(last=False)
            self.evictions += 1
        m[key] = (pfn, flags)

    def invalidate(self, vpn: int, tag: int | None = None) -> int:
        """Drop the entries for ``vpn`` (all tags if ``tag`` is None, like INVLPG); return how many.

        Examples
        --------
        >>> tlb = TLB(4); tlb.insert(1, 10, 7)
        >>> tlb.invalidate(1), len(tlb)
        (1, 0)
        """
        keys = [k for k in self._map if k[1] == vpn and (tag is None or not self.tagged
                                                         or k[0] == tag)]
        for k in keys:
            del self._map[k]
        return len(keys)

    def invalidate_range(self, start_vpn: int, end_vpn: int) -> int:
        """Drop every entry with ``start_vpn <= vpn < end_vpn`` (any tag).

        Examples
        --------
        >>> tlb = TLB(8)
        >>> for v in range(4): tlb.insert(v, v, 7)
        >>> tlb.invalidate_range(1, 3), [k[1] for k in tlb.contents()]
        (2, [0, 3])
        """
        keys = [k for k in self._map if start_vpn <= k[1] < end_vpn]
        for k in keys:
            del self._map[k]
        return len(keys)

    def flush(self, tag: int | None = None) -> None:
        """Drop all entries (or, for a tagged TLB, only those of ``tag``).

        Examples
        --------
        >>> tlb = TLB(4, tagged=True)
        >>> tlb.insert(1, 10, 7, tag=1); tlb.insert(1, 20, 7, tag=2)
        >>> tlb.flush(tag=1)
        >>> tlb.contents()
        [(2, 1)]
        """
        if tag is None or not self.tagged:
            self._map.clear()
        else:
            for k in [k for k in self._map if k[0] == tag]:
                del self._map[k]
        self.flushes += 1

    def contents(self) -> list[tuple[int, int]]:
        """Cached ``(tag, vpn)`` keys, least recently used first.

        Examples
        --------
        >>> tlb = TLB(4, tagged=True); tlb.insert(5, 50, 7, tag=2)
        >>> tlb.contents()
        [(2, 5)]
        """
        return list(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def stats(self) -> TLBStats:
        """A snapshot of the counters.

        Examples
        --------
        >>> tlb = TLB(4); _ = tlb.lookup(1)
        >>> tlb.stats().misses
        1
        """
        return TLBStats(self.capacity, self.hits, self.misses, self.flushes, self.evictions)

    def reset_counters(self) -> None:
        """Zero hits, misses, flushes and evictions (contents stay).

        Examples
        --------
        >>> tlb = TLB(4); _ = tlb.lookup(1); tlb.reset_counters()
        >>> tlb.misses
        0
        """
        self.hits = self.misses = self.flushes = self.evictions = 0

    def __repr__(self) -> str:
        kind = "tagged" if self.tagged else "untagged"
        return f"<TLB {len(self._map)}/{self.capacity} {kind}>"
