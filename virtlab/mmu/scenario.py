"""Ready-made experiments on the MMU models (what the notebook and widgets show).

* :func:`address_chain` — the lecture's chain guest-virtual → guest-physical
  ("real") → host-physical for every page of a guest table;
* :func:`side_by_side` — the same seeded guest workload on native (composed
  tables), shadow and nested paging, with every counter;
* :func:`tlb_experiment` — hit rate of an LRU TLB for a working set, with
  context switches, tagged (ASID/VPID) or flushed.

Examples
--------
>>> run = side_by_side(accesses=300, seed=1)
>>> run.stats["nested"].pt_write_traps, run.stats["shadow"].pt_write_traps > 0
(0, True)
>>> run.translations_agree
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import check_bool, check_int, check_number, check_type
from ..rng import derive_seed, make_rng
from .guest import GuestVM
from .memory import PAGE_SHIFT, PhysicalMemory
from .native import MMUStats, NativeMMU, compose
from .nested import NestedMMU
from .page_table import PTE_U, PTE_W, X86_32_2LEVEL, X86_64, PageFault, PageTable, PagingMode
from .shadow import ShadowMMU
from .tlb import TLB

__all__ = ["AddressChain", "ChainLink", "Outcome", "SideBySide", "TLBRun", "address_chain",
           "demo_vm", "outcomes", "side_by_side", "tlb_experiment"]


@dataclass(frozen=True)
class ChainLink:
    """One page: guest-virtual page → guest-physical frame → host frame (None = not backed).

    Examples
    --------
    >>> vm, gpt = demo_vm()
    >>> address_chain(gpt, vm).links[0]
    ChainLink(vaddr=4194304, gpfn=3, hpfn=8, writable=True, user=True)
    """

    vaddr: int
    gpfn: int
    hpfn: int | None
    writable: bool
    user: bool


@dataclass(frozen=True)
class AddressChain:
    """All links of a guest table, sorted by virtual address.

    Examples
    --------
    >>> vm, gpt = demo_vm()
    >>> len(address_chain(gpt, vm).links)
    5
    """

    links: tuple[ChainLink, ...]
    guest_mode: str
    host_mode: str


def address_chain(guest_table: PageTable, vm: GuestVM) -> AddressChain:
    """The address chain of every page ``guest_table`` maps.

    Examples
    --------
    >>> vm = GuestVM(PhysicalMemory(256), 32)
    >>> gpt = vm.new_page_table(X86_32_2LEVEL); gpt.map(0x1000, 3); gpt.map(0x2000, 4)
    >>> h = vm.host_map(3)
    >>> [(l.vaddr, l.gpfn, l.hpfn == h) for l in address_chain(gpt, vm).links]
    [(4096, 3, True), (8192, 4, False)]
    """
    check_type("guest_table", guest_table, PageTable)
    check_type("vm", vm, GuestVM)
    links = []
    for va, (gpfn, flags) in sorted(guest_table.mappings().items()):
        h = vm.host_lookup(gpfn)
        links.append(ChainLink(va, gpfn, None if h is None else h[0], bool(flags & PTE_W),
                               bool(flags & PTE_U)))
    return AddressChain(tuple(links), guest_table.mode.name, vm.host_table.mode.name)


def demo_vm(guest_mode: PagingMode = X86_64) -> tuple[GuestVM, PageTable]:
    """A small VM for notebooks: five guest pages, one read-only, one kernel-only,
    one whose guest-physical frame the host does not back.

    Examples
    --------
    >>> vm, gpt = demo_vm()
    >>> len(gpt.mappings()), vm.host_lookup(7) is None
    (5, True)
    """
    check_type("guest_mode", guest_mode, PagingMode)
    vm = GuestVM(PhysicalMemory(512), guest_frames=64)
    gpt = vm.new_page_table(guest_mode)
    pages = [(0x400000, 3, True, True), (0x401000, 4, False, True),
             (0x402000, 5, True, True), (0x7fff000, 6, True, False), (0x8000000, 7, True, True)]
    for va, gpfn, writable, user in pages:
        gpt.map(va, gpfn, writable=writable, user=user)
        if gpfn != 7:
            vm.host_map(gpfn)
    return vm, gpt


@dataclass(frozen=True)
class Outcome:
    """One access translated by several MMUs: ``results[name]`` is a hex address or a
    fault reason; ``agree`` is True if all are equal.

    Examples
    --------
    >>> Outcome(0x1000, "r", False, {"a": "0x5000", "b": "0x5000"}).agree
    True
    """

    vaddr: int
    access: str
    user: bool
    results: dict

    @property
    def agree(self) -> bool:
        """True if every MMU gave the same result.

        Examples
        --------
        >>> Outcome(0, "r", False, {"a": "write", "b": "0x0"}).agree
        False
        """
        return len(set(self.results.values())) == 1


def outcomes(mmus: dict, accesses) -> list[Outcome]:
    """Translate every ``(vaddr, access, user)`` with every MMU and compare the results.

    The conformance check behind the equivalence property: whatever the
    technique, the same access must give the same host-physical address or
    the same fault reason.

    Examples
    --------
    >>> vm, gpt = demo_vm()
    >>> from virtlab.mmu import NestedMMU, NativeMMU, compose
    >>> table = compose(gpt, vm)
    >>> rows = outcomes({"nested": NestedMMU(vm, gpt),
    ...                  "native": NativeMMU(table.memory, table)},
    ...                 [(0x400000, "r", False), (0x401000, "w", False)])
    >>> [(r.results["nested"], r.agree) for r in rows]
    [('0x8000', True), ('write', True)]
    """
    if not isinstance(mmus, dict) or not mmus:
        raise TypeError("mmus must be a non-empty dict of name -> MMU")
    rows = []
    for item in accesses:
        if not isinstance(item, tuple) or len(item) != 3:
            raise ValueError(f"accesses must hold (vaddr, access, user) tuples, got {item!r}")
        va, access, user = item
        results = {}
        for name, m in mmus.items():
            try:
                results[name] = hex(m.translate(va, access, user))
            except PageFault as exc:
                results[name] = exc.fault.reason
        rows.append(Outcome(va, access, user, results))
    return rows


@dataclass(frozen=True)
class SideBySide:
    """Counters of the three techniques on one workload, plus cycle estimates.

    ``cycles[t]`` = page-table references × ``ref_cycles`` + traps × ``trap_cycles``.
    ``translations_agree`` is True if all three produced the same address or
    fault reason for every access (they must).

    Examples
    --------
    >>> r = side_by_side(100, seed=2)
    >>> sorted(r.stats), r.accesses
    (['native', 'nested', 'shadow'], 100)
    """

    stats: dict[str, MMUStats]
    cycles: dict[str, float]
    accesses: int
    translations_agree: bool


def _guest_world(mode: PagingMode, pages: int, processes: int):
    host = PhysicalMemory(64 + 8 * pages * processes + 256)
    vm = GuestVM(host, guest_frames=pages * processes + 64 + 16 * processes)
    tables = []
    for p in range(processes):
        gpt = vm.new_page_table(mode)
        for i in range(pages):
            gpfn = p * pages + i
            gpt.map(0x400000 + i * 4096, gpfn)
            vm.host_map(gpfn)
        tables.append(gpt)
    return vm, tables


def side_by_side(accesses: int = 600, *, pages: int = 32, tlb_entries: int = 16,
                 switch_every: int = 100, update_every: int = 50, write_fraction: float = 0.3,
                 guest_levels: int = 4, tagged: bool = False, seed: int = 0,
                 ref_cycles: float = 15.0, trap_cycles: float = 2000.0) -> SideBySide:
    """Run one seeded guest workload on native (composed), shadow and nested paging.

    Two guest processes each map ``pages`` pages; the guest switches between
    them every ``switch_every`` accesses (a CR3 write) and remaps one page
    every ``update_every`` accesses (a page-table update followed by INVLPG);
    0 disables either.  Each access picks a page of the current process at
    random; ``write_fraction`` of them are writes.

    Examples
    --------
    >>> r = side_by_side(accesses=200, update_every=0, switch_every=0, seed=3)
    >>> r.stats["shadow"].pt_refs < r.stats["nested"].pt_refs
    True
    """
    check_int("accesses", accesses, minimum=1, maximum=100_000)
    check_int("pages", pages, minimum=1, maximum=1024)
    check_int("tlb_entries", tlb_entries, minimum=1, maximum=4096)
    check_int("switch_every", switch_every, minimum=0, maximum=10**6)
    check_int("update_every", update_every, minimum=0, maximum=10**6)
    check_number("write_fraction", write_fraction, minimum=0, maximum=1)
    check_int("guest_levels", guest_levels, minimum=2, maximum=4)
    if guest_levels == 3:
        raise ValueError("guest_levels must be 2 (x86-32) or 4 (x86-64), got 3")
    check_bool("tagged", tagged)
    check_number("ref_cycles", ref_cycles, minimum=0, maximum=1e4)
    check_number("trap_cycles", trap_cycles, minimum=0, maximum=1e7)
    mode = X86_32_2LEVEL if guest_levels == 2 else X86_64
    rng = make_rng(derive_seed(seed, "side_by_side"))
    trace = []
    for i in range(1, accesses + 1):
        trace.append(("a", rng.randrange(pages), "w" if rng.random() < write_fraction else "r"))
        if switch_every and i % switch_every == 0:
            trace.append(("s", 0, ""))
        if update_every and i % update_every == 0:
            trace.append(("u", rng.randrange(pages), ""))
    worlds = {t: _guest_world(mode, pages, 2) for t in ("native", "shadow", "nested")}
    spare = [2 * pages + k for k in range(48)]       # guest frames used for remaps
    for t, (vm, _) in worlds.items():
        for g in spare:
            vm.host_map(g)
    mmus = {}
    for t, (vm, tables) in worlds.items():
        tlb = TLB(tlb_entries, tagged=tagged)
        if t == "shadow":
            mmus[t] = ShadowMMU(vm, tables[0], tlb=tlb, vpid=1)
        elif t == "nested":
            mmus[t] = NestedMMU(vm, tables[0], tlb=tlb, vpid=1)
    # native reference: one composed table per process, kept in step on updates
    nvm, ntables = worlds["native"]
    cmem = PhysicalMemory(16 + 8 * pages * 2, name="composed")
    composed = [compose(t, nvm, cmem) for t in ntables]
    mmus["native"] = NativeMMU(cmem, composed[0], tlb=TLB(tlb_entries, tagged=tagged))
    for m in mmus.values():
        m.reset_counters()
    current = 0
    agree = True
    for step, (kind, page, acc) in enumerate(trace):
        va = 0x400000 + page * 4096
        if kind == "a":
            results = []
            for t in ("native", "shadow", "nested"):
                try:
                    results.append(mmus[t].translate(va + 8, acc) >> PAGE_SHIFT)
                except PageFault as exc:
                    results.append(exc.fault.reason)
            agree &= results[0] == results[1] == results[2]
        elif kind == "s":
            current = 1 - current
            for t in ("shadow", "nested"):
                mmus[t].write_cr3(worlds[t][1][current], asid=current)
            mmus["native"].write_cr3(composed[current], asid=current)
        else:
            g = spare[step % len(spare)]
            for t in ("native", "shadow", "nested"):
                worlds[t][1][current].map(va, g)
            hn = nvm.host_lookup(g)[0]
            composed[current].map(va, hn)
            for t in ("native", "shadow", "nested"):
                mmus[t].invlpg(va)
    stats = {t: mmus[t].stats() for t in ("native", "shadow", "nested")}
    cycles = {t: s.pt_refs * ref_cycles + s.traps * trap_cycles for t, s in stats.items()}
    return SideBySide(stats, cycles, accesses, bool(agree))


@dataclass(frozen=True)
class TLBRun:
    """Result of :func:`tlb_experiment`.

    Examples
    --------
    >>> tlb_experiment(entries=4, pages=4, switch_every=0).misses
    4
    """

    entries: int
    pages: int
    tagged: bool
    hits: int
    misses: int
    flushes: int
    refs_native: int
    refs_nested: int

    @property
    def hit_rate(self) -> float:
        """Hits per lookup.

        Examples
        --------
        >>> tlb_experiment(entries=4, pages=4, accesses=8, switch_every=0).hit_rate >= 0.5
        True
        """
        return self.hits / (self.hits + self.misses)


def tlb_experiment(entries: int = 32, pages: int = 64, *, accesses: int = 2000,
                   switch_every: int = 200, tagged: bool = False, processes: int = 2,
                   hot_fraction: float = 0.0, seed: int = 0) -> TLBRun:
    """Hit rate of an LRU TLB with ``entries`` slots for a random working set.

    ``processes`` address spaces take turns every ``switch_every`` accesses
    (0: never switch); an untagged TLB is flushed at every switch, a tagged
    one keeps everybody's entries.  Each access picks one of the current
    process's ``pages`` pages uniformly — or, with ``hot_fraction`` > 0, that
    fraction of accesses go to the first eighth of the pages.  Every miss
    costs ``levels`` references natively and 24 with 4+4 nested paging
    (counts verified against the MMU models in the tests).

    Examples
    --------
    >>> tlb_experiment(entries=64, pages=16, switch_every=0).hit_rate > 0.99
    True
    >>> a = tlb_experiment(entries=64, pages=16, switch_every=50, tagged=False)
    >>> b = tlb_experiment(entries=64, pages=16, switch_every=50, tagged=True)
    >>> a.hit_rate < b.hit_rate
    True
    """
    check_int("entries", entries, minimum=1, maximum=4096)
    check_int("pages", pages, minimum=1, maximum=100_000)
    check_int("accesses", accesses, minimum=1, maximum=1_000_000)
    check_int("switch_every", switch_every, minimum=0, maximum=10**7)
    check_bool("tagged", tagged)
    check_int("processes", processes, minimum=1, maximum=64)
    check_number("hot_fraction", hot_fraction, minimum=0, maximum=1)
    check_int("seed", seed, minimum=0)
    rng = make_rng(derive_seed(seed, "tlb_experiment"))
    tlb = TLB(entries, tagged=tagged)
    hot = max(1, pages // 8)
    proc = 0
    lookup, insert = tlb.lookup, tlb.insert
    rand, randrange = rng.random, rng.randrange
    for i in range(1, accesses + 1):
        if hot_fraction and rand() < hot_fraction:
            vpn = randrange(hot)
        else:
            vpn = randrange(pages)
        vpn += proc << 20
        if lookup(vpn, proc) is None:
            insert(vpn, vpn, 7, proc)
        if switch_every and i % switch_every == 0 and processes > 1:
            proc = (proc + 1) % processes
            if not tagged:
                tlb.flush()
    return TLBRun(entries, pages, tagged, tlb.hits, tlb.misses, tlb.flushes,
                  tlb.misses * 4, tlb.misses * 24)
