"""Exercise 3: page walks -- shadow vs nested paging (*Schattentabellen*, *Nested Paging*).

Per variant: guest and host paging levels, a sequence of guest-virtual pages
a program touches, the size of an LRU TLB, and a workload's event rates.
Reference answers come from the MMU models (:mod:`virtlab.mmu`): the TLB and
the native, shadow and nested MMUs count misses, page-table references and
hidden faults; :func:`virtlab.mmu.costs.compare` decides which technique is
cheaper.  :func:`crosscheck` recomputes them with the closed formulas of
facts.md §3 (n·m + n + m references per nested miss, n per native/shadow miss)
and an independent LRU simulation.

Examples
--------
>>> p = make_problem(0)
>>> s = solve(p)
>>> s["nested_refs"] == p.guest_levels * p.host_levels + p.guest_levels + p.host_levels
True
>>> crosscheck(p, s)
[]
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ...i18n import N_, _, language
from ... import mmu
from ...mmu import costs
from ...rng import make_rng
from ..practice import Step
from ..exercise import Exercise, Function, Value

__all__ = ["EXERCISE", "Problem", "make_problem", "walk_refs"]

_MODES = {2: mmu.X86_32_2LEVEL, 4: mmu.X86_64, 5: mmu.X86_64_5LEVEL}


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 3.

    Attributes
    ----------
    guest_levels, host_levels : int
        Levels of the guest's and the host's page tables (2, 4 or 5).
    pages : tuple of int
        Guest-virtual page numbers touched, in order.
    tlb_entries : int
        Capacity of the (LRU, untagged) TLB.
    pt_updates_per_s : float
        Guest page-table updates per second of the workload (other rates:
        the defaults of :class:`virtlab.mmu.costs.Workload`).

    Examples
    --------
    >>> make_problem(5) == make_problem(5)
    True
    """

    guest_levels: int
    host_levels: int
    pages: tuple
    tlb_entries: int
    pt_updates_per_s: float


def make_problem(seed: int) -> Problem:
    """A variant: levels, page sequence, TLB size and workload.

    Examples
    --------
    >>> make_problem(3) == make_problem(3)
    True
    """
    rng = make_rng(seed)
    n, m = rng.choice([2, 4, 5]), rng.choice([2, 4, 5])
    distinct = rng.sample(range(1, 40), rng.randint(4, 6))
    pages = tuple(rng.choice(distinct) for _ in range(rng.randint(10, 14)))
    return Problem(n, m, pages, rng.randint(2, 4),
                   float(rng.choice([4_000, 12_000, 20_000, 60_000, 90_000, 150_000])))


def walk_refs(technique: str, n: int, m: int) -> int:
    """Page-table references of one TLB miss (the model's convention).

    Examples
    --------
    >>> walk_refs("nested", 4, 4), walk_refs("shadow", 4, 4), walk_refs("native", 2, 2)
    (24, 4, 2)
    """
    table = costs.CostTable(guest_levels=n, host_levels=m)
    return table.refs_per_miss(technique)


def _run(problem: Problem, technique: str) -> mmu.MMUStats:
    host = mmu.PhysicalMemory(4096)
    vm = mmu.GuestVM(host, guest_frames=512, host_mode=_MODES[problem.host_levels])
    gpt = vm.new_page_table(_MODES[problem.guest_levels])
    for i, page in enumerate(sorted(set(problem.pages))):
        gpt.map(page << mmu.PAGE_SHIFT, pfn=16 + i)
        vm.host_map(16 + i)
    tlb = mmu.TLB(problem.tlb_entries)
    if technique == "nested":
        unit = mmu.NestedMMU(vm, gpt, tlb=tlb)
    elif technique == "shadow":
        unit = mmu.ShadowMMU(vm, gpt, tlb=tlb)
    else:
        table = mmu.compose(gpt, vm)
        unit = mmu.NativeMMU(table.memory, table, tlb=tlb)
    for page in problem.pages:
        unit.translate(page << mmu.PAGE_SHIFT)
    return unit.stats()


def solve(problem: Problem) -> dict:
    """Reference answers from the MMU models.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['cheaper', 'hidden_faults', 'misses', 'nested_refs', 'refs']
    """
    native, shadow, nested = (_run(problem, t) for t in ("native", "shadow", "nested"))
    work = costs.Workload(pt_updates_per_s=problem.pt_updates_per_s)
    table = costs.CostTable(guest_levels=problem.guest_levels,
                            host_levels=problem.host_levels)
    by = {b.technique: b.total for b in costs.compare(work, table)}
    return {
        "nested_refs": walk_refs("nested", problem.guest_levels, problem.host_levels),
        "misses": nested.tlb_misses,
        "refs": {"native": native.pt_refs, "nested": nested.pt_refs},
        "hidden_faults": shadow.hidden_faults,
        "cheaper": "shadow" if by["shadow"] < by["nested"] else "nested",
    }


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Compare :func:`solve` with closed formulas and an independent LRU run.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    n, m = problem.guest_levels, problem.host_levels
    lru: OrderedDict = OrderedDict()
    misses = 0
    for page in problem.pages:
        if page in lru:
            lru.move_to_end(page)
        else:
            misses += 1
            lru[page] = True
            if len(lru) > problem.tlb_entries:
                lru.popitem(last=False)
    expect = {"nested_refs": n * m + n + m, "misses": misses,
              "refs": {"native": misses * n, "nested": misses * (n * m + n + m)},
              "hidden_faults": len(set(problem.pages))}
    out = [f"{k}: model {solution[k]!r} != formula {v!r}" for k, v in expect.items()
           if solution[k] != v]
    # cost model by hand: shadow pays traps, nested pays longer walks
    w, c = costs.Workload(pt_updates_per_s=problem.pt_updates_per_s), costs.CostTable()
    shadow = (w.tlb_misses_per_s * n * c.ref_cycles + c.trap_cycles * (
        2 * w.pt_updates_per_s + w.context_switches_per_s + w.page_faults_per_s))
    nested = w.tlb_misses_per_s * (n * m + n + m) * c.ref_cycles
    if (shadow < nested) != (solution["cheaper"] == "shadow"):
        out.append(f"cheaper: model says {solution['cheaper']}, hand formula disagrees")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> len(describe(make_problem(0)).splitlines()) > 2
    True
    """
    # thousands grouped as the language writes them: 20,000 / 20.000
    rate = f"{problem.pt_updates_per_s:,.0f}"
    rate = rate.replace(",", ".") if language() == "de" else rate
    return "\n".join([
        _("Guest page tables: {guest} levels; host (EPT/NPT) tables: {host} levels.").format(
            guest=problem.guest_levels, host=problem.host_levels),
        _("A program touches these guest-virtual pages, in order: {pages}").format(
            pages=", ".join(map(str, problem.pages))),
        _("The TLB holds {entries} entries (LRU) and starts empty; all pages are "
          "mapped.").format(entries=problem.tlb_entries),
        _("Workload: {rate} guest page-table updates/s, other rates as in "
          "virtlab.mmu.costs.Workload().").format(rate=rate)])


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(4)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    n, m = problem.guest_levels, problem.host_levels
    sol = solve(problem)
    lru: OrderedDict = OrderedDict()
    trace = []
    for page in problem.pages:
        hit = page in lru
        if hit:
            lru.move_to_end(page)
        else:
            lru[page] = True
            if len(lru) > problem.tlb_entries:
                lru.popitem(last=False)
        trace.append(f"{page}{'' if hit else '*'}")
    refs = sol["refs"]
    return [
        Step(_("references of one nested TLB miss"),
             _("Each of the {n} guest page-table entries lives at a guest-physical address "
               "that needs a {m}-level host walk ({m} references) plus the read itself, and "
               "the final guest-physical address needs one more host walk: "
               "{n}·{m} + {n} + {m} = {refs}.").format(n=n, m=m, refs=sol["nested_refs"]),
             {"nested_refs": sol["nested_refs"]}),
        Step(_("TLB misses"),
             _("Simulate the {entries}-entry LRU TLB (* = miss): {trace} → {misses} "
               "misses.").format(entries=problem.tlb_entries, trace=" ".join(trace),
                                 misses=sol["misses"]),
             {"misses": sol["misses"]}),
        Step(_("page-table references"),
             _("Natively each miss walks {n} levels: {misses} × {n} = {native}; nested: "
               "{misses} × {per_miss} = {nested}.").format(
                 n=n, misses=sol["misses"], native=refs["native"],
                 per_miss=sol["nested_refs"], nested=refs["nested"]),
             {"refs": refs}),
        Step(_("hidden faults under shadow paging"),
             _("The shadow table starts empty, so the first touch of every distinct page "
               "faults into the hypervisor (a hidden fault): {faults} distinct "
               "pages.").format(faults=sol["hidden_faults"]),
             {"hidden_faults": sol["hidden_faults"]}),
        Step(_("which technique is cheaper"),
             _("Shadow paging pays hypervisor traps per page-table update (and context switch "
               "and page fault), nested paging pays the longer walk per TLB miss; with "
               "{updates} updates/s the cost model (virtlab.mmu.costs.compare) finds "
               "{cheaper} cheaper.").format(updates=f"{problem.pt_updates_per_s:,.0f}",
                                            cheaper=_(_TECHNIQUE[sol["cheaper"]])),
             {"cheaper": sol["cheaper"]}),
    ]


#: The cost model's answer (``"shadow"`` / ``"nested"``) as the worked solution names it.
_TECHNIQUE = {"shadow": N_("shadow paging"), "nested": N_("nested paging")}


EXERCISE = Exercise(
    id="ex03_page_walks",
    title=N_("Exercise 3: page walks, shadow vs nested paging"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 2, N_("Each of the n guest entries is a guest-physical address: m host "
                 "references to find it plus 1 to read it; the final guest-physical address "
                 "needs m more. The data access itself is not counted."),
              name="nested_refs", kind="int"),
        Value("q2", 2, N_("Replay the pages through an LRU cache of the TLB's size; a page not "
                 "in the cache is a miss (and then evicts the least recently used one)."),
              name="misses", kind="int"),
        Value("q3", 2, N_("Every TLB miss costs one full walk: n references natively, "
                 "n·m + n + m with nested paging."), name="refs", kind="dict", per_entry=True),
        Value("q4", 2, N_("The shadow table starts empty: the first touch of each page is a "
                 "hidden page fault the VMM handles; later misses find the shadow entry."),
              name="hidden_faults", kind="int"),
        Function("q5", 3, N_("Native and shadow walks read one entry per guest level; nested "
                    "walks cost n·m + n + m."), name="walk_refs",
                 public=lambda p: [("nested", 4, 4), ("shadow", 4, 4),
                                   ("native", p.guest_levels, p.host_levels)],
                 hidden=lambda p, rng: [(rng.choice(["native", "shadow", "nested"]),
                                         rng.randint(1, 6), rng.randint(1, 6))
                                        for _ in range(6)],
                 reference=lambda p, t, n, m: walk_refs(t, n, m)),
        Value("q6", 2, N_("Shadow paging pays a trap (~2,000 cycles) for every page-table "
                 "update, context switch and page fault; nested paging pays longer walks on "
                 "every TLB miss. Compare both with virtlab.mmu.costs."),
              name="cheaper", kind="str"),
    ),
)
