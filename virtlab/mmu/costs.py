"""Cost comparison: shadow paging vs nested paging, from workload knobs.

A small analytic model that turns event *rates* into cycles per second.  The
per-event counts are the ones the executable MMUs produce (tests check them
against :class:`~virtlab.mmu.ShadowMMU` and :class:`~virtlab.mmu.NestedMMU`):

============================  ==========  ===================  =============
event (per second)            native      shadow               nested
============================  ==========  ===================  =============
TLB miss                      n refs      n refs               n·m+n+m refs
guest page-table update       —           1 trap + 1 hidden    —
                                          fault (re-sync)
context switch (CR3 write)    —           1 trap               —
guest page fault              —           1 trap (inject)      —
============================  ==========  ===================  =============

Cycle constants: a VM exit costs about 2,000 cycles (SplitX, facts.md §9 —
the only literature number here); the cycles per page-table reference
(default 15, most walk references hit in the caches) and the 2.4 GHz clock
are **illustrative** values, chosen so that the default "typical mixed"
workload costs 5–10 % with either technique, the range the lecture quotes.

Examples
--------
>>> w = Workload()
>>> r = compare(w)
>>> [b.technique for b in r]
['native', 'shadow', 'nested']
>>> 0.05 <= r[1].overhead <= 0.10 and 0.05 <= r[2].overhead <= 0.10
True
>>> round(crossover(w))          # PT updates/s above which nested wins
34000
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..errors import check_choice, check_int, check_number, check_type
from .native import TRAP_CYCLES

__all__ = ["CostTable", "CostBreakdown", "Workload", "KNOBS", "compare", "crossover",
           "sweep", "TECHNIQUES"]

TECHNIQUES = ("native", "shadow", "nested")
_MAX_RATE = 1e9


@dataclass(frozen=True)
class Workload:
    """Event rates of a guest workload (all per second of guest CPU time).

    Examples
    --------
    >>> Workload(pt_updates_per_s=0).tlb_misses_per_s
    500000.0
    >>> Workload(tlb_misses_per_s=-1)
    Traceback (most recent call last):
    ...
    ValueError: tlb_misses_per_s must be a finite number in [0, 1000000000.0], got -1.0
    """

    tlb_misses_per_s: float = 500_000.0
    pt_updates_per_s: float = 30_000.0
    context_switches_per_s: float = 2_000.0
    page_faults_per_s: float = 5_000.0

    def __post_init__(self):
        for f in fields(self):
            check_number(f.name, getattr(self, f.name), minimum=0, maximum=_MAX_RATE)


#: The knobs :func:`crossover` and :func:`sweep` can vary.
KNOBS = tuple(f.name for f in fields(Workload))


@dataclass(frozen=True)
class CostTable:
    """Cycle costs and machine shape (see the module docstring for sources).

    Examples
    --------
    >>> CostTable(guest_levels=5, host_levels=5).refs_per_miss("nested")
    35
    """

    clock_hz: float = 2.4e9
    ref_cycles: float = 15.0
    trap_cycles: float = float(TRAP_CYCLES)
    guest_levels: int = 4
    host_levels: int = 4

    def __post_init__(self):
        check_number("clock_hz", self.clock_hz, minimum=1e6, maximum=1e11)
        check_number("ref_cycles", self.ref_cycles, minimum=0, maximum=1e4)
        check_number("trap_cycles", self.trap_cycles, minimum=0, maximum=1e7)
        check_int("guest_levels", self.guest_levels, minimum=1, maximum=6)
        check_int("host_levels", self.host_levels, minimum=1, maximum=6)

    def refs_per_miss(self, technique: str) -> int:
        """Page-table references of one TLB miss.

        Examples
        --------
        >>> CostTable().refs_per_miss("nested"), CostTable().refs_per_miss("shadow")
        (24, 4)
        """
        check_choice("technique", technique, TECHNIQUES)
        n, m = self.guest_levels, self.host_levels
        return n * m + n + m if technique == "nested" else n


@dataclass(frozen=True)
class CostBreakdown:
    """Cycles per second spent on address translation by one technique.

    Examples
    --------
    >>> b = compare()[2]
    >>> b.technique, b.total == b.walk_cycles + b.trap_cycles
    ('nested', True)
    """

    technique: str
    walk_cycles: float
    trap_cycles: float
    traps_per_s: float
    native_cycles: float
    clock_hz: float

    @property
    def total(self) -> float:
        """Walk + trap cycles per second.

        Examples
        --------
        >>> compare(Workload(0, 0, 0, 0))[0].total
        0.0
        """
        return self.walk_cycles + self.trap_cycles

    @property
    def overhead(self) -> float:
        """Extra cycles compared with native, as a fraction of the CPU (0.05 = 5 %).

        Examples
        --------
        >>> round(compare()[2].overhead, 4)
        0.0625
        """
        return (self.total - self.native_cycles) / self.clock_hz


def _breakdown(w: Workload, c: CostTable, technique: str) -> CostBreakdown:
    native_walk = w.tlb_misses_per_s * c.refs_per_miss("native") * c.ref_cycles
    walk = w.tlb_misses_per_s * c.refs_per_miss(technique) * c.ref_cycles
    if technique == "shadow":
        traps = (2 * w.pt_updates_per_s + w.context_switches_per_s + w.page_faults_per_s)
    else:
        traps = 0.0
    return CostBreakdown(technique, walk, traps * c.trap_cycles, traps, native_walk, c.clock_hz)


def compare(workload: Workload | None = None, costs: CostTable | None = None
            ) -> list[CostBreakdown]:
    """Cycles per second for native, shadow and nested paging on one workload.

    Examples
    --------
    >>> nat, sh, ne = compare(Workload(tlb_misses_per_s=1000, pt_updates_per_s=0,
    ...                                context_switches_per_s=0, page_faults_per_s=0))
    >>> nat.total, sh.total, ne.total     # 15 cycles x 4 / 4 / 24 refs x 1000 misses
    (60000.0, 60000.0, 360000.0)
    """
    w = Workload() if workload is None else check_type("workload", workload, Workload)
    c = CostTable() if costs is None else check_type("costs", costs, CostTable)
    return [_breakdown(w, c, t) for t in TECHNIQUES]


def crossover(workload: Workload | None = None, costs: CostTable | None = None,
              knob: str = "pt_updates_per_s") -> float | None:
    """Value of ``knob`` at which shadow and nested paging cost the same.

    Above it nested paging wins for every knob except ``tlb_misses_per_s``
    (more misses favour shadow paging, so *below* it nested wins).  None if
    the two never cost the same for non-negative values of the knob.

    Examples
    --------
    >>> round(crossover(Workload(), knob="tlb_misses_per_s"))   # below it nested wins
    446667
    >>> crossover(Workload(tlb_misses_per_s=0)) is None              # nested always wins
    True
    """
    w = Workload() if workload is None else check_type("workload", workload, Workload)
    c = CostTable() if costs is None else check_type("costs", costs, CostTable)
    check_choice("knob", knob, KNOBS)
    extra_refs = (c.refs_per_miss("nested") - c.refs_per_miss("shadow")) * c.ref_cycles
    T = c.trap_cycles
    gap = w.tlb_misses_per_s * extra_refs            # nested walk surplus
    traps = 2 * w.pt_updates_per_s + w.context_switches_per_s + w.page_faults_per_s
    if knob == "tlb_misses_per_s":
        if extra_refs == 0:
            return None
        value = traps * T / extra_refs
    else:
        if T == 0:
            return None
        weight = 2.0 if knob == "pt_updates_per_s" else 1.0
        rest = traps - weight * getattr(w, knob)
        value = (gap / T - rest) / weight
    return value if value >= 0 else None


def sweep(knob: str, values, workload: Workload | None = None,
          costs: CostTable | None = None) -> dict[str, list[float]]:
    """Overhead (fraction of the CPU) per technique while ``knob`` runs over ``values``.

    Examples
    --------
    >>> s = sweep("pt_updates_per_s", [0, 100_000])
    >>> s["shadow"][0] < s["nested"][0] and s["shadow"][1] > s["nested"][1]
    True
    """
    check_choice("knob", knob, KNOBS)
    w = Workload() if workload is None else check_type("workload", workload, Workload)
    values = [check_number("values", v, minimum=0, maximum=_MAX_RATE) for v in values]
    if not values:
        raise ValueError("values must not be empty")
    out: dict[str, list[float]] = {t: [] for t in TECHNIQUES}
    for v in values:
        for b in compare(replace(w, **{knob: v}), costs):
            out[b.technique].append(b.overhead)
    return out
