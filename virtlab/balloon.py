"""Ballooning and memory overcommit (*Ballooning*, Hauptspeicherverwaltung 2).

A host with a fixed number of physical frames runs VMs whose configured
memory adds up to more than the host has (*overcommit*).  Each guest OS runs
its own memory management that the hypervisor knows nothing about — a free
list, a page cache, anonymous pages that it swaps to its own virtual disk,
and its own page-replacement policy (LRU, FIFO or random).  The lecture's
point: *der Hypervisor soll die Seitenersetzungsstrategien der Gast-OS nicht
kennen*.  Three ways for the hypervisor to take memory back are compared on
the same scenario:

``"balloon"``
    The hypervisor sets a target; the guest's balloon driver allocates that
    many pages *inside the guest* and pins them, and the hypervisor takes the
    host frames behind them (Waldspurger, OSDI'02 §3.2, facts.md §6).  The
    guest chooses the victims with its own policy — free pages first, then
    whatever its replacement policy says — so the hypervisor never needs to
    know it.  Deflating gives the pages back to the guest's free list.
``"swap"``
    The hypervisor itself swaps out guest frames to reach the same target.
    It cannot tell a hot page from a free one, so it picks at random; and when
    the guest later evicts a page the hypervisor already swapped out, the page
    has to be read back from the host swap only to be written to the guest's
    swap: **double paging**.
``"sharing"``
    Content-based page sharing first (identical pages — here the common
    OS/library pages of all VMs — are merged copy-on-write into one frame,
    after ESX's hash-and-compare scan), then hypervisor swapping for the rest.

Whatever the policy, when the host runs out of free frames the hypervisor
falls back to swapping (as ESX does).  The simulation is in discrete steps;
each step first moves every VM towards its reclaim target, then runs the
guests' memory accesses.

Invariants (checked by :meth:`BalloonHost.check`, tested with hypothesis):
every host frame has at most one owner; host frames are conserved,
``guest used + guest free + balloon-held + shared + host free = total``
(frames backing used guest pages, frames backing pages the guest believes
free, frames behind balloon pages — always 0 once the hypervisor reclaimed
them —, frames of the sharing pool, free host frames); and per VM,
``used + free + balloon = configured pages`` in guest-physical pages.

Examples
--------
>>> vms = [VMSpec("web", memory=128, working_set=60, balloon_target=40),
...        VMSpec("db", memory=128, working_set=90)]
>>> trace = simulate(host_frames=192, vms=vms, policy="balloon", steps=30)
>>> trace.balloon["web"][-1]
40
>>> trace.totals()["double_paging"]
0
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

from .errors import check_bool, check_choice, check_int, check_number, check_str, check_type
from .rng import derive_seed, make_rng

__all__ = ["BalloonHost", "BalloonTrace", "FrameAccount", "POLICIES", "REPLACEMENTS",
           "VMSpec", "compare_policies", "overcommit_scenario", "simulate"]

POLICIES = ("balloon", "swap", "sharing")
REPLACEMENTS = ("lru", "fifo", "random")
#: Pages a guest always keeps for itself (a balloon may not take them).
GUEST_RESERVE = 4
_MAX_PAGES = 1 << 20

FREE, ANON, CACHE, BALLOON = 0, 1, 2, 3


@dataclass(frozen=True)
class VMSpec:
    """A VM: configured memory and workload, all in 4 KiB pages.

    Parameters
    ----------
    name : str
    memory : int
        Configured guest-physical memory (what the guest OS believes it has).
    working_set : int
        Anonymous pages the guest's processes use (touched at random).
    file_pages : int
        Distinct file blocks the guest reads through its page cache.
    shared_pages : int
        How many of the anonymous pages hold content that is identical in
        every VM (OS code, libraries, zero pages); only content-based
        sharing can exploit them.
    replacement : str
        The guest OS's own page-replacement policy: ``"lru"``, ``"fifo"`` or
        ``"random"``.  The hypervisor never reads this field.
    balloon_target : int
        Pages the hypervisor wants back from this VM (0 ... memory - 4).
    accesses : int
        Memory accesses per step.
    skew : float
        Locality: page ``k`` of ``N`` is chosen as ``int(N * u**skew)`` for a
        uniform ``u``, so low-numbered pages are hot (1 = no locality; 3 puts
        about 58 % of the accesses on the first fifth of the pages).

    Examples
    --------
    >>> VMSpec("web", memory=128, working_set=60, balloon_target=32).replacement
    'lru'
    >>> VMSpec("web", memory=128, working_set=60, balloon_target=200)
    Traceback (most recent call last):
    ...
    ValueError: balloon_target must be an integer in [0, 124], got 200
    """

    name: str
    memory: int
    working_set: int
    file_pages: int = 0
    shared_pages: int = 0
    replacement: str = "lru"
    balloon_target: int = 0
    accesses: int = 100
    skew: float = 3.0

    def __post_init__(self):
        check_str("name", self.name)
        check_int("memory", self.memory, minimum=GUEST_RESERVE + 1, maximum=_MAX_PAGES)
        check_int("working_set", self.working_set, minimum=0, maximum=_MAX_PAGES)
        check_int("file_pages", self.file_pages, minimum=0, maximum=_MAX_PAGES)
        check_int("shared_pages", self.shared_pages, minimum=0, maximum=self.working_set)
        check_choice("replacement", self.replacement, REPLACEMENTS)
        check_int("balloon_target", self.balloon_target, minimum=0,
                  maximum=self.memory - GUEST_RESERVE)
        check_int("accesses", self.accesses, minimum=0, maximum=100_000)
        check_number("skew", self.skew, minimum=1, maximum=10)


@dataclass(frozen=True)
class FrameAccount:
    """Where every host frame is, and the per-VM guest-physical balance.

    Examples
    --------
    >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
    >>> host.run(3); acct = host.check()
    >>> acct.total == acct.guest_used + acct.guest_free + acct.balloon_held + acct.shared + acct.host_free
    True
    """

    total: int
    guest_used: int
    guest_free: int
    balloon_held: int
    shared: int
    host_free: int
    per_vm: dict

    @property
    def conserved(self) -> bool:
        """``guest used + guest free + balloon-held + shared + host free == total``.

        Examples
        --------
        >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
        >>> host.check().conserved
        True
        """
        return (self.guest_used + self.guest_free + self.balloon_held + self.shared
                + self.host_free) == self.total


class _IndexedSet:
    """A set with O(1) add, discard and uniformly random choice (deterministic order)."""

    __slots__ = ("items", "pos")

    def __init__(self):
        self.items: list[int] = []
        self.pos: dict[int, int] = {}

    def add(self, x: int) -> None:
        if x not in self.pos:
            self.pos[x] = len(self.items)
            self.items.append(x)

    def discard(self, x: int) -> None:
        i = self.pos.pop(x, None)
        if i is None:
            return
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def choice(self, rng) -> int:
        return self.items[rng.randrange(len(self.items))]

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, x) -> bool:
        return x in self.pos


class _Guest:
    """One VM: the guest OS's memory management plus the hypervisor's view of it."""

    def __init__(self, spec: VMSpec, index: int, seed: int):
        self.spec = spec
        self.index = index
        self.rng = make_rng(derive_seed(seed, f"vm:{index}:{spec.name}"))
        n = spec.memory
        # -- guest OS state (the hypervisor must not look at these) --
        self.state = bytearray(n)                   # FREE / ANON / CACHE / BALLOON
        self.page = [0] * n                         # anon id or file block in the frame
        self.free = list(range(n - 1, -1, -1))      # guest free list (stack)
        self.used: OrderedDict[int, None] = OrderedDict()  # replacement order
        self.anon_at: dict[int, int] = {}           # anon id -> gpfn
        self.cache_at: dict[int, int] = {}          # file block -> gpfn
        self.guest_swap: set[int] = set()           # anon ids on the guest's swap disk
        self.balloon: set[int] = set()
        self.content = [None] * n                   # what the page holds (for sharing)
        self.version = 0
        # -- hypervisor state --
        self.backing = [-1] * n                     # host frame or -1
        self.private = _IndexedSet()                # gpfns backed by a private frame
        self.hv_swapped: set[int] = set()           # gpfns whose content is in host swap
        self.target = spec.balloon_target
        # -- counters (cumulative) --
        self.c = dict(guest_faults=0, guest_swap_out=0, guest_swap_in=0, disk_reads=0,
                      hv_swap_out=0, hv_swap_in=0, double_paging=0, wasted_swap_in=0,
                      cow_breaks=0)

    # guest replacement policy ------------------------------------------------
    def touch(self, gpfn: int) -> None:
        if self.spec.replacement == "lru":
            self.used.move_to_end(gpfn)

    def victim(self) -> int:
        if self.spec.replacement == "random":
            keys = list(self.used)
            return keys[self.rng.randrange(len(keys))]
        return next(iter(self.used))


class BalloonHost:
    """A host with ``frames`` physical frames running the VMs of ``vms``.

    Parameters
    ----------
    frames : int
        Host physical frames.
    vms : list of VMSpec
        Names must be unique.
    policy : str
        ``"balloon"`` (default), ``"swap"`` or ``"sharing"``.
    rate : int
        Pages per step that the balloon driver / the hypervisor's swapper
        may move towards a target.
    scan_rate : int
        Pages per step the page-sharing scanner examines (``"sharing"`` only).
    write_fraction, file_fraction : float
        Fractions of accesses that write, and that go to the page cache.
    seed : int

    Examples
    --------
    >>> host = BalloonHost(64, [VMSpec("a", memory=48, working_set=20)])
    >>> host.run(5)
    >>> acct = host.check()
    >>> acct.conserved, acct.total
    (True, 64)
    >>> host.set_target("a", 100)
    Traceback (most recent call last):
    ...
    ValueError: balloon_target must be an integer in [0, 44], got 100
    """

    def __init__(self, frames: int, vms, *, policy: str = "balloon", rate: int = 16,
                 scan_rate: int = 32, write_fraction: float = 0.2,
                 file_fraction: float = 0.3, seed: int = 0):
        self.frames = check_int("frames", frames, minimum=1, maximum=_MAX_PAGES)
        if isinstance(vms, (str, bytes)) or not hasattr(vms, "__iter__"):
            raise TypeError(f"vms must be a list of VMSpec, got {type(vms).__name__}")
        vms = list(vms)
        if not vms:
            raise ValueError("vms must contain at least one VMSpec")
        for v in vms:
            check_type("vms", v, VMSpec)
        names = [v.name for v in vms]
        if len(set(names)) != len(names):
            raise ValueError(f"vms must have unique names, got {names}")
        self.policy = check_choice("policy", policy, POLICIES)
        self.rate = check_int("rate", rate, minimum=1, maximum=_MAX_PAGES)
        self.scan_rate = check_int("scan_rate", scan_rate, minimum=0, maximum=_MAX_PAGES)
        self.write_fraction = check_number("write_fraction", write_fraction, minimum=0,
                                           maximum=1)
        self.file_fraction = check_number("file_fraction", file_fraction, minimum=0,
                                          maximum=1)
        check_int("seed", seed, minimum=0)
        self.rng = make_rng(derive_seed(seed, "hypervisor"))
        self.guests = [_Guest(v, i, seed) for i, v in enumerate(vms)]
        self.by_name = {g.spec.name: g for g in self.guests}
        self.owner: list = [None] * self.frames     # None | (vm index, gpfn) | ("shared", c)
        self.host_free = list(range(self.frames - 1, -1, -1))
        self.shared: dict = {}                      # content -> frame
        self.refs: dict[int, int] = {}              # shared frame -> references
        self.hints: dict = {}                       # content -> (guest, gpfn) seen once
        self.steps = 0
        self.hv_fallback = 0

    # -- public controls ---------------------------------------------------------
    def set_target(self, vm: str, pages: int) -> None:
        """Ask for ``pages`` pages back from VM ``vm`` (balloon target / swap target).

        Examples
        --------
        >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
        >>> host.set_target("a", 20); host.run(2); host.snapshot()["a"]["balloon"]
        20
        """
        check_str("vm", vm)
        if vm not in self.by_name:
            raise ValueError(f"vm must be one of {sorted(self.by_name)}; got {vm!r}")
        g = self.by_name[vm]
        g.target = check_int("balloon_target", pages, minimum=0,
                             maximum=g.spec.memory - GUEST_RESERVE)

    def run(self, steps: int) -> None:
        """Advance ``steps`` steps.

        Examples
        --------
        >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
        >>> host.run(4); host.steps
        4
        """
        for _ in range(check_int("steps", steps, minimum=0, maximum=100_000)):
            self.step()

    def step(self) -> None:
        """One step: reclaim towards the targets, then every guest's accesses.

        Examples
        --------
        >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
        >>> host.step(); host.snapshot()["host_free"] < 96
        True
        """
        for g in self.guests:
            if self.policy == "balloon":
                self._balloon_towards_target(g)
            else:
                self._swap_towards_target(g)
        if self.policy == "sharing":
            self._share_scan()
        for g in self.guests:
            self._workload(g)
        self.steps += 1

    # -- host frames --------------------------------------------------------------
    def _alloc_frame(self, for_guest: _Guest) -> int:
        if not self.host_free:
            self.hv_fallback += 1
            self._hv_swap_one(self._fattest())
        return self.host_free.pop()

    def _fattest(self) -> _Guest:
        return max(self.guests, key=lambda g: (self._private(g), -g.index))

    @staticmethod
    def _private(g: _Guest) -> int:
        return len(g.private)

    def _release(self, g: _Guest, gpfn: int) -> None:
        """Drop the backing of ``gpfn`` (private frame freed; shared reference dropped)."""
        f = g.backing[gpfn]
        if f < 0:
            return
        g.backing[gpfn] = -1
        g.private.discard(gpfn)
        if self.owner[f][0] == "shared":
            self.refs[f] -= 1
            if self.refs[f] == 0:
                del self.refs[f]
                del self.shared[self.owner[f][1]]
                self.owner[f] = None
                self.host_free.append(f)
        else:
            self.owner[f] = None
            self.host_free.append(f)

    def _back(self, g: _Guest, gpfn: int, *, need_content: bool) -> None:
        """Make ``gpfn`` backed by a private frame before the guest writes/reads it."""
        f = g.backing[gpfn]
        if f >= 0 and self.owner[f][0] != "shared":
            return
        if f >= 0:                       # writing a shared page: copy on write
            g.c["cow_breaks"] += 1
            new = self._alloc_frame(g)
            self._release(g, gpfn)
        else:
            new = self._alloc_frame(g)
            if gpfn in g.hv_swapped:     # content lives in the host swap: read it back
                g.hv_swapped.discard(gpfn)
                g.c["hv_swap_in"] += 1
                if not need_content:
                    g.c["wasted_swap_in"] += 1
        g.backing[gpfn] = new
        g.private.add(gpfn)
        self.owner[new] = (g.index, gpfn)

    def _ensure_present(self, g: _Guest, gpfn: int) -> None:
        """A guest *read* of a page: the hypervisor brings it back if it swapped it."""
        if g.backing[gpfn] < 0:
            self._back(g, gpfn, need_content=True)

    def _hv_swap_one(self, g: _Guest) -> bool:
        """The hypervisor swaps out one random private frame of ``g`` (it knows no better)."""
        if not g.private:
            others = [h for h in self.guests if h is not g and h.private]
            if not others:
                return self._hv_swap_shared()
            return self._hv_swap_one(max(others, key=self._private))
        gpfn = g.private.choice(self.rng)
        self._release(g, gpfn)
        g.hv_swapped.add(gpfn)
        g.c["hv_swap_out"] += 1
        return True

    def _hv_swap_shared(self) -> bool:
        """Last resort: swap out a shared frame (every page sharing it goes to swap)."""
        if not self.shared:
            raise RuntimeError("host memory exhausted: nothing left to swap")
        f = min(self.refs)                      # deterministic choice
        for g in self.guests:
            for p, b in enumerate(g.backing):
                if b == f:
                    self._release(g, p)
                    g.hv_swapped.add(p)
                    g.c["hv_swap_out"] += 1
        return True

    # -- reclaim policies ------------------------------------------------------------
    def _balloon_towards_target(self, g: _Guest) -> None:
        size = len(g.balloon)
        if size < g.target:                       # inflate: the guest picks the pages
            for _ in range(min(self.rate, g.target - size)):
                gpfn = self._guest_alloc(g)
                g.state[gpfn] = BALLOON
                g.balloon.add(gpfn)
                # the driver hands the page to the hypervisor: frame or swap copy freed
                self._release(g, gpfn)
                g.hv_swapped.discard(gpfn)
        elif size > g.target:                     # deflate: pages return to the free list
            for gpfn in sorted(g.balloon)[:min(self.rate, size - g.target)]:
                g.balloon.discard(gpfn)
                g.state[gpfn] = FREE
                g.free.append(gpfn)

    def _consumption(self, g: _Guest) -> float:
        """Host frames charged to ``g``: private frames plus its share of shared frames."""
        refs = self.refs
        if not refs:
            return float(len(g.private))
        return len(g.private) + sum(1.0 / refs[f] for f in g.backing if f in refs)

    def _swap_towards_target(self, g: _Guest) -> None:
        # the hypervisor limits the VM to (memory - target) frames' worth: private frames
        # plus its share of every shared frame, so every policy takes back the same amount
        limit = g.spec.memory - g.target
        excess = math.ceil(self._consumption(g) - limit - 1e-9)
        for _ in range(min(self.rate, max(0, excess))):
            if not g.private:
                break
            self._hv_swap_one(g)

    def _share_scan(self) -> None:
        """ESX-style scan: hash a few random pages, merge identical ones copy-on-write."""
        budget = self.scan_rate
        for g in self.guests:
            if budget <= 0:
                break
            cands = [p for p, f in enumerate(g.backing)
                     if f >= 0 and isinstance(self.owner[f][0], int) and g.content[p] is not None
                     and g.state[p] == ANON]
            for _ in range(min(len(cands), budget // len(self.guests) + 1)):
                budget -= 1
                gpfn = cands[self.rng.randrange(len(cands))]
                if g.backing[gpfn] < 0 or not isinstance(self.owner[g.backing[gpfn]][0], int):
                    continue
                c = g.content[gpfn]
                if c in self.shared:              # join an existing shared frame
                    f = self.shared[c]
                    self._release(g, gpfn)
                    g.backing[gpfn] = f
                    self.refs[f] += 1
                    continue
                hint = self.hints.get(c)
                if hint is not None and hint != (g.index, gpfn):
                    h, hp = self.guests[hint[0]], hint[1]
                    hf = h.backing[hp]
                    if hf >= 0 and h.content[hp] == c and isinstance(self.owner[hf][0], int):
                        self.owner[hf] = ("shared", c)     # hint page becomes the shared frame
                        h.private.discard(hp)
                        self.shared[c] = hf
                        self.refs[hf] = 1
                        self._release(g, gpfn)
                        g.backing[gpfn] = hf
                        self.refs[hf] += 1
                        del self.hints[c]
                        continue
                self.hints[c] = (g.index, gpfn)

    # -- the guest OS -------------------------------------------------------------------
    def _guest_alloc(self, g: _Guest) -> int:
        """A free guest page; if none, evict one with the guest's own policy."""
        if g.free:
            return g.free.pop()
        gpfn = g.victim()
        del g.used[gpfn]
        if g.state[gpfn] == ANON:                 # write it to the guest's swap disk
            aid = g.page[gpfn]
            if g.backing[gpfn] < 0 and gpfn in g.hv_swapped:
                g.c["double_paging"] += 1         # read back from host swap only to write it out
            self._ensure_present(g, gpfn)
            del g.anon_at[aid]
            g.guest_swap.add(aid)
            g.c["guest_swap_out"] += 1
        else:                                     # clean page-cache page: just drop it
            del g.cache_at[g.page[gpfn]]
        g.state[gpfn] = FREE
        return gpfn

    def _workload(self, g: _Guest) -> None:
        spec = g.spec
        rnd = g.rng.random
        skew = spec.skew
        for _ in range(spec.accesses):
            if spec.file_pages and (not spec.working_set or rnd() < self.file_fraction):
                block = int(spec.file_pages * rnd() ** skew)
                gpfn = g.cache_at.get(block)
                if gpfn is None:                  # page-cache miss: read from virtual disk
                    g.c["guest_faults"] += 1
                    g.c["disk_reads"] += 1
                    gpfn = self._guest_alloc(g)
                    self._back(g, gpfn, need_content=False)
                    g.state[gpfn] = CACHE
                    g.page[gpfn] = block
                    g.cache_at[block] = gpfn
                    g.content[gpfn] = ("file", g.index, block)
                    g.used[gpfn] = None
                else:
                    self._ensure_present(g, gpfn)
                    g.touch(gpfn)
            elif spec.working_set:
                aid = int(spec.working_set * rnd() ** skew)
                write = aid >= spec.shared_pages and rnd() < self.write_fraction
                gpfn = g.anon_at.get(aid)
                if gpfn is None:                  # guest page fault
                    g.c["guest_faults"] += 1
                    if aid in g.guest_swap:
                        g.guest_swap.discard(aid)
                        g.c["guest_swap_in"] += 1
                    gpfn = self._guest_alloc(g)
                    self._back(g, gpfn, need_content=False)
                    g.state[gpfn] = ANON
                    g.page[gpfn] = aid
                    g.anon_at[aid] = gpfn
                    g.content[gpfn] = (("common", aid) if aid < spec.shared_pages
                                       else (g.index, aid, 0))
                    g.used[gpfn] = None
                else:
                    if write:
                        self._back(g, gpfn, need_content=True)
                    else:
                        self._ensure_present(g, gpfn)
                    g.touch(gpfn)
                if write:
                    g.version += 1
                    g.content[gpfn] = (g.index, aid, g.version)

    # -- observation ---------------------------------------------------------------------
    def check(self) -> FrameAccount:
        """Check every invariant (raises AssertionError) and return the frame account.

        Examples
        --------
        >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
        >>> host.run(2); host.check().per_vm["a"]["memory"]
        64
        """
        seen: dict[int, tuple[int, int]] = {}
        used = free = bal = 0
        per_vm = {}
        for g in self.guests:
            n = g.spec.memory
            counts = [0, 0, 0, 0]
            for p in range(n):
                counts[g.state[p]] += 1
                f = g.backing[p]
                if f < 0:
                    continue
                o = self.owner[f]
                assert o is not None, f"frame {f} backs {g.spec.name}:{p} but is free"
                if o[0] == "shared":
                    continue
                assert o == (g.index, p), f"frame {f} owner {o} != {(g.index, p)}"
                assert p in g.private
                assert f not in seen, f"frame {f} has two owners"
                seen[f] = (g.index, p)
                if g.state[p] in (ANON, CACHE):
                    used += 1
                elif g.state[p] == FREE:
                    free += 1
                else:
                    bal += 1
            assert len(g.private) == sum(1 for f in g.backing
                                         if f >= 0 and self.owner[f][0] != "shared")
            assert counts[BALLOON] == len(g.balloon)
            assert sum(counts) == n
            assert counts[FREE] == len(g.free) and len(set(g.free)) == len(g.free)
            assert counts[ANON] + counts[CACHE] == len(g.used)
            assert all(g.backing[p] < 0 for p in g.balloon), "a balloon page is still backed"
            assert not (g.hv_swapped & g.balloon)
            per_vm[g.spec.name] = {"used": counts[ANON] + counts[CACHE], "free": counts[FREE],
                                   "balloon": counts[BALLOON], "memory": n}
        shared_frames = set(self.shared.values())
        for f in shared_frames:
            assert self.owner[f] == ("shared", self.owner[f][1])
            assert f not in seen, f"shared frame {f} also privately owned"
            refs = sum(1 for g in self.guests for b in g.backing if b == f)
            assert refs == self.refs[f], f"shared frame {f}: {refs} refs, counted {self.refs[f]}"
        assert len(set(self.host_free)) == len(self.host_free)
        for f in self.host_free:
            assert self.owner[f] is None, f"free frame {f} has an owner"
        acct = FrameAccount(self.frames, used, free, bal, len(shared_frames),
                            len(self.host_free), per_vm)
        assert acct.conserved, f"frames not conserved: {acct}"
        return acct

    def snapshot(self) -> dict:
        """Current sizes: host free, and per VM guest free, balloon, resident, swapped.

        Examples
        --------
        >>> host = BalloonHost(96, [VMSpec("a", memory=64, working_set=30)])
        >>> sorted(host.snapshot()["a"])[:4]
        ['balloon', 'cow_breaks', 'disk_reads', 'double_paging']
        """
        out = {"host_free": len(self.host_free), "shared": len(self.shared)}
        for g in self.guests:
            out[g.spec.name] = {
                "guest_free": len(g.free), "balloon": len(g.balloon),
                "resident": sum(1 for f in g.backing if f >= 0),
                "hv_swapped": len(g.hv_swapped), "guest_swapped": len(g.guest_swap),
                **g.c}
        return out


@dataclass(frozen=True)
class BalloonTrace:
    """Time series of one run (one value per step, after the step).

    ``host_free``: free host frames.  Per VM name: ``guest_free`` (pages on the
    guest's free list), ``balloon`` (pages in the balloon), ``resident`` (guest
    pages backed by a host frame), ``hv_swapped`` (pages the hypervisor swapped
    out), ``guest_swapped`` (pages on the guest's swap), and per-step event
    counts ``hv_swap_io`` (hypervisor swap-outs + swap-ins) and
    ``guest_swap_io`` (guest swap-outs + swap-ins).  ``counters`` holds the
    cumulative counters per VM at the end.

    Examples
    --------
    >>> t = simulate(96, [VMSpec("a", 64, 30, balloon_target=10)], steps=5)
    >>> len(t.host_free), t.balloon["a"][-1]
    (5, 10)
    """

    policy: str
    steps: int
    host_frames: int
    vms: tuple
    host_free: tuple
    shared: tuple
    guest_free: dict
    balloon: dict
    resident: dict
    hv_swapped: dict
    guest_swapped: dict
    hv_swap_io: dict
    guest_swap_io: dict
    counters: dict = field(default_factory=dict)

    def totals(self) -> dict:
        """Counters summed over all VMs.

        Examples
        --------
        >>> t = simulate(64, [VMSpec("a", memory=48, working_set=40)], policy="swap",
        ...              steps=5)
        >>> sorted(t.totals())[:3]
        ['cow_breaks', 'disk_reads', 'double_paging']
        """
        out: dict[str, int] = {}
        for c in self.counters.values():
            for k, v in c.items():
                out[k] = out.get(k, 0) + v
        return out


def simulate(host_frames: int, vms, *, policy: str = "balloon", steps: int = 60,
             rate: int = 16, scan_rate: int = 32, write_fraction: float = 0.2,
             file_fraction: float = 0.3, seed: int = 0, check: bool = False) -> BalloonTrace:
    """Run an overcommit scenario and return its :class:`BalloonTrace`.

    ``check=True`` verifies every invariant after every step (used by tests).

    Examples
    --------
    >>> vms = [VMSpec("a", memory=96, working_set=60, balloon_target=40, file_pages=20),
    ...        VMSpec("b", memory=96, working_set=60, balloon_target=40, file_pages=20)]
    >>> b = simulate(128, vms, policy="balloon", steps=40, rate=64)
    >>> s = simulate(128, vms, policy="swap", steps=40, rate=64)
    >>> b.totals()["hv_swap_out"], s.totals()["hv_swap_out"] > 0
    (0, True)
    """
    check_int("steps", steps, minimum=1, maximum=100_000)
    check_bool("check", check)
    host = BalloonHost(host_frames, vms, policy=policy, rate=rate, scan_rate=scan_rate,
                       write_fraction=write_fraction, file_fraction=file_fraction, seed=seed)
    names = [g.spec.name for g in host.guests]
    series = {k: {n: [] for n in names} for k in
              ("guest_free", "balloon", "resident", "hv_swapped", "guest_swapped",
               "hv_swap_io", "guest_swap_io")}
    host_free, shared = [], []
    prev = {n: (0, 0) for n in names}
    for _ in range(steps):
        host.step()
        if check:
            host.check()
        host_free.append(len(host.host_free))
        shared.append(len(host.shared))
        for g in host.guests:
            n = g.spec.name
            series["guest_free"][n].append(len(g.free))
            series["balloon"][n].append(len(g.balloon))
            series["resident"][n].append(sum(1 for f in g.backing if f >= 0))
            series["hv_swapped"][n].append(len(g.hv_swapped))
            series["guest_swapped"][n].append(len(g.guest_swap))
            hv = g.c["hv_swap_out"] + g.c["hv_swap_in"]
            gs = g.c["guest_swap_out"] + g.c["guest_swap_in"]
            series["hv_swap_io"][n].append(hv - prev[n][0])
            series["guest_swap_io"][n].append(gs - prev[n][1])
            prev[n] = (hv, gs)
    frozen = {k: {n: tuple(v) for n, v in d.items()} for k, d in series.items()}
    return BalloonTrace(policy, steps, host.frames, tuple(names), tuple(host_free),
                        tuple(shared), counters={g.spec.name: dict(g.c) for g in host.guests},
                        **frozen)


def overcommit_scenario(target: int = 44) -> tuple[int, list[VMSpec]]:
    """The notebook's scenario: three 128-page VMs on 256 host frames (1.5× overcommit).

    Each guest has a hot anonymous working set, reads files through its page
    cache, shares 20 OS pages with the others, and uses its own replacement
    policy (LRU, FIFO, random).  Returns ``(host_frames, vms)``.

    Examples
    --------
    >>> frames, vms = overcommit_scenario()
    >>> frames, [v.memory for v in vms], [v.replacement for v in vms]
    (256, [128, 128, 128], ['lru', 'fifo', 'random'])
    """
    check_int("target", target, minimum=0, maximum=128 - GUEST_RESERVE)
    vms = [VMSpec(f"vm{i + 1}", 128, ws, file_pages=80, shared_pages=20, replacement=rep,
                  balloon_target=target)
           for i, (ws, rep) in enumerate([(60, "lru"), (50, "fifo"), (40, "random")])]
    return 256, vms


def compare_policies(host_frames: int, vms, *, steps: int = 40, seed: int = 0,
                     **kwargs) -> dict:
    """Run the same scenario under every reclaim policy: ``{policy: BalloonTrace}``.

    Examples
    --------
    >>> frames, vms = overcommit_scenario()
    >>> runs = compare_policies(frames, vms, steps=20)
    >>> sorted(runs) == sorted(POLICIES)
    True
    """
    return {p: simulate(host_frames, vms, policy=p, steps=steps, seed=seed, **kwargs)
            for p in POLICIES}
