"""Widget apps for memory virtualization (notebook 12).

* :func:`memory_costs` — workload knobs → overhead of shadow vs nested paging, with the crossover;
* :func:`tlb_lab` — TLB size, working set, context switches, tagged or not → hit rate;
* :func:`page_walk` — a native, shadow or nested page walk, one reference at a time;
* :func:`shadow_vs_nested` — the same guest workload run on all three MMU models.

Examples
--------
>>> app = memory_costs()
>>> app.result["winner"]
'shadow'
>>> app.controls["pt_updates"].value = 60
>>> app.result["winner"]
'nested'
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import viz
from ..errors import check_bool, check_choice, check_int
from ..i18n import _, N_
from ..mmu import X86_32_2LEVEL, X86_64, X86_64_5LEVEL, GuestVM, NestedMMU, NativeMMU, PageTable
from ..mmu import PhysicalMemory, ShadowMMU
from ..mmu.costs import Workload, compare, crossover, sweep
from ..mmu.scenario import side_by_side, tlb_experiment
from .base import WidgetApp

__all__ = ["MemoryCostsApp", "PageWalkApp", "ShadowVsNestedApp", "TLBApp", "memory_costs",
           "page_walk", "shadow_vs_nested", "tlb_lab"]

_STYLE = {"description_width": "initial"}
#: the x-axis choices: labels (translated where shown) are the values the app keeps
_KNOB_OF = {N_("TLB misses"): "tlb_misses_per_s", N_("PT updates"): "pt_updates_per_s",
            N_("context switches"): "context_switches_per_s", N_("guest page faults"):
            "page_faults_per_s"}
_TECH = viz.mmu.TECHNIQUE_LABELS


def _slider(value, lo, hi, step, desc, cls=W.IntSlider):
    # desc: a string marked with _() by the caller
    return cls(value=value, min=lo, max=hi, step=step, description=desc, style=_STYLE,
               continuous_update=False, layout=W.Layout(width="330px"))


def _table(rows, head):
    cells = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(c))}</td>"
                                     for c in r) + "</tr>" for r in rows)
    heads = "".join(f"<th style='padding:2px 8px'>{html.escape(h)}</th>" for h in head)
    return f"<table><tr>{heads}</tr>{cells}</table>"


class MemoryCostsApp(WidgetApp):
    """Workload knobs (thousands per second) → cycles of native, shadow and nested paging.

    Examples
    --------
    >>> MemoryCostsApp(pt_updates=100).result["winner"]
    'nested'
    """

    title = N_("Shadow tables vs nested paging: what does translation cost?")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, *, tlb_misses=500, pt_updates=30, context_switches=2, page_faults=5,
                 sweep_knob="PT updates"):
        for name, value, hi in (("tlb_misses", tlb_misses, 3000), ("pt_updates", pt_updates, 200),
                                ("context_switches", context_switches, 50),
                                ("page_faults", page_faults, 100)):
            check_int(name, value, minimum=0, maximum=hi)
        check_choice("sweep_knob", sweep_knob, _KNOB_OF)
        super().__init__({
            "tlb_misses": _slider(tlb_misses, 0, 3000, 10, _("TLB misses (k/s)")),
            "pt_updates": _slider(pt_updates, 0, 200, 1, _("PT updates (k/s)")),
            "context_switches": _slider(context_switches, 0, 50, 1, _("context switches (k/s)")),
            "page_faults": _slider(page_faults, 0, 100, 1, _("guest page faults (k/s)")),
            "sweep_knob": W.Dropdown(options=[(_(k), k) for k in _KNOB_OF], value=sweep_knob,
                                     description=_("x axis"), style=_STYLE),
        })

    def compute(self, tlb_misses, pt_updates, context_switches, page_faults, sweep_knob):
        w = Workload(tlb_misses * 1e3, pt_updates * 1e3, context_switches * 1e3,
                     page_faults * 1e3)
        knob = _KNOB_OF[check_choice("sweep_knob", sweep_knob, list(_KNOB_OF))]
        x = crossover(w, knob=knob)
        cur = getattr(w, knob)
        hi = max(2 * cur, 1.5 * (x or 0), 10_000)
        values = [hi * i / 40 for i in range(41)]
        br = compare(w)
        winner = "shadow" if br[1].total < br[2].total else "nested"
        return {"workload": w, "knob": knob, "values": values, "crossover": x,
                "overheads": sweep(knob, values, w), "breakdown": br, "winner": winner}

    def draw(self, r):
        return viz.mmu.cost_crossover_scene(r["knob"], r["values"], r["overheads"],
                                            r["crossover"], getattr(r["workload"], r["knob"]))

    def describe(self, r):
        rows = [(_(_TECH.get(b.technique, b.technique)), f"{b.walk_cycles / 1e6:.1f}",
                 f"{b.trap_cycles / 1e6:.1f}",
                 f"{100 * b.overhead:.2f} %") for b in r["breakdown"]]
        x = r["crossover"]
        cross = (_("no crossover for this knob") if x is None else
                 _("crossover at {x} k/s").format(x=f"{x / 1000:.1f}"))
        cheaper = (_("<b>Shadow paging is cheaper here</b>; {cross}.") if r["winner"] == "shadow"
                   else _("<b>Nested paging is cheaper here</b>; {cross}.")).format(cross=cross)
        note = _("Cycle constants are illustrative except ~2,000 cycles per VM exit.")
        return (_table(rows, [_("technique"), _("walk Mcycles/s"), _("trap Mcycles/s"),
                              _("overhead vs native")])
                + f"<p>{cheaper} {note}</p>")


def memory_costs(**kwargs) -> MemoryCostsApp:
    """Widget: workload knobs → overhead of shadow vs nested paging with the crossover plot.

    Examples
    --------
    >>> memory_costs(tlb_misses=0).result["crossover"] is None
    True
    """
    return MemoryCostsApp(**kwargs)


class TLBApp(WidgetApp):
    """TLB hit rate for a working set; flushed on every switch or tagged with ASID/VPID.

    Examples
    --------
    >>> app = TLBApp(entries=8, pages=8, switch_every=0)
    >>> app.result["current"].misses
    8
    """

    title = N_("TLB: size, working set and context switches")
    # Picture and text depend on the control values only: rendered states are
    # cached (WidgetApp.state_cache, issue 21), a state shown before costs nothing.
    state_cache = 64
    SIZES = (4, 8, 16, 32, 64, 128, 256)

    def __init__(self, *, entries=32, pages=64, switch_every=200, tagged=False):
        for name, value, lo, hi in (("entries", entries, 1, 256), ("pages", pages, 1, 512),
                                    ("switch_every", switch_every, 0, 2000)):
            check_int(name, value, minimum=lo, maximum=hi)
        check_bool("tagged", tagged)
        super().__init__({
            "entries": _slider(entries, 1, 256, 1, _("TLB entries")),
            "pages": _slider(pages, 1, 512, 1, _("working set (pages)")),
            "switch_every": _slider(switch_every, 0, 2000, 10,
                                    _("switch every (accesses, 0 = never)")),
            "tagged": W.Checkbox(value=tagged, description=_("tagged TLB (ASID/VPID)")),
        })

    def compute(self, entries, pages, switch_every, tagged):
        kw = {"pages": pages, "switch_every": switch_every, "accesses": 1000}
        cache = self.__dict__.setdefault("_curves", {})
        key = (pages, switch_every)
        if key not in cache:        # the curves do not depend on entries/tagged
            if len(cache) > 32:
                cache.clear()
            cache[key] = ([tlb_experiment(e, tagged=False, **kw) for e in self.SIZES],
                          [tlb_experiment(e, tagged=True, **kw) for e in self.SIZES])
        untagged, tagged_runs = cache[key]
        return {"current": tlb_experiment(entries, tagged=tagged, **kw),
                "untagged": untagged, "tagged": tagged_runs}

    def draw(self, r):
        return viz.mmu.tlb_curve_scene(r["untagged"], r["tagged"], r["current"])

    def describe(self, r):
        c = r["current"]
        n = c.hits + c.misses
        text = _("hit rate <b>{rate} %</b> ({misses} misses in {n} accesses, {flushes} "
                 "flushes). Page-table references per 1000 accesses: native/shadow (4 levels) "
                 "<b>{native}</b>, nested 4+4 <b>{nested}</b>.")
        return "<p>" + text.format(rate=f"{100 * c.hit_rate:.1f}", misses=c.misses, n=n,
                                   flushes=c.flushes, native=f"{1000 * c.refs_native / n:.0f}",
                                   nested=f"{1000 * c.refs_nested / n:.0f}") + "</p>"


def tlb_lab(**kwargs) -> TLBApp:
    """Widget: TLB size, working set, context switches, tagging → hit-rate curves.

    Examples
    --------
    >>> tlb_lab(tagged=True).result["current"].flushes
    0
    """
    return TLBApp(**kwargs)


_MODES = {2: X86_32_2LEVEL, 4: X86_64, 5: X86_64_5LEVEL}


#: References of the longest walk the app offers (5-level guest x 5-level host, nested).
_MAX_STEP = 5 * 5 + 5 + 5


class PageWalkApp(WidgetApp):
    """Step through the references of one TLB miss.

    Examples
    --------
    >>> len(PageWalkApp(technique="native").result["steps"])
    4
    """

    title = N_("A page walk, reference by reference")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, *, technique="nested", guest_levels=4, host_levels=4, step=24):
        check_choice("technique", technique, ["native", "shadow", "nested"])
        check_choice("guest_levels", guest_levels, [2, 4, 5])
        check_choice("host_levels", host_levels, [2, 4, 5])
        check_int("step", step, minimum=0, maximum=_MAX_STEP)
        super().__init__({
            "technique": W.ToggleButtons(options=[(_(_TECH[t]), t) for t in _TECH],
                                         value=technique, description=_("technique")),
            "guest_levels": W.Dropdown(options=[2, 4, 5], value=guest_levels,
                                       description=_("guest levels"), style=_STYLE),
            "host_levels": W.Dropdown(options=[2, 4, 5], value=host_levels,
                                      description=_("host levels"), style=_STYLE),
            "step": W.IntSlider(value=step, min=0, max=_MAX_STEP, description=_("reference"),
                                continuous_update=True, style=_STYLE),
        })

    def compute(self, technique, guest_levels, host_levels, step):
        check_choice("technique", technique, ["native", "shadow", "nested"])
        check_choice("guest_levels", guest_levels, list(_MODES))
        check_choice("host_levels", host_levels, list(_MODES))
        check_int("step", step, minimum=0)
        key = (technique, guest_levels, host_levels)
        cache = self.__dict__.setdefault("_walks", {})
        if key not in cache:
            cache[key] = _walk_steps(*key)
        steps = cache[key]
        return {"steps": steps, "technique": technique, "n": guest_levels,
                "m": host_levels if technique == "nested" else 0,
                "upto": min(step, len(steps))}

    def draw(self, r):
        return viz.mmu.page_walk_scene(r["steps"], r["n"], r["m"], r["upto"])

    def set(self, **values):
        # a step beyond the current walk's end is allowed when the walk changes with it
        if "step" in values and hasattr(self.controls["step"], "max"):
            self.controls["step"].max = _MAX_STEP
        super().set(**values)

    def layers(self, r):
        # the slider ends at this walk's last reference (4 native, 24 for 4x4 nested,
        # 35 for 5x5): no stretch of the track where moving changes nothing
        slider = self.controls["step"]
        if getattr(slider, "max", None) not in (None, len(r["steps"])):
            slider.unobserve(self._on_change, names="value")
            try:
                slider.max = len(r["steps"])          # a larger value is clamped to it
            finally:
                slider.observe(self._on_change, names="value")

    def describe(self, r):
        n, m, total = r["n"], r["m"], len(r["steps"])
        if r["technique"] == "nested":
            why = _("{n}·{m} + {n} + {m} = {total}: each of the {n} guest entries needs a "
                    "{m}-level host walk plus the read of the entry, and the final "
                    "guest-physical address one more host walk.").format(n=n, m=m, total=total)
        else:
            why = (_("{total} references: one per level of the shadow table (built by the VMM).")
                   if r["technique"] == "shadow" else
                   _("{total} references: one per level of the page table.")).format(total=total)
        return "<p>" + why + " " + _("The data access itself is not counted.") + "</p>"


def _walk_steps(technique, guest_levels, host_levels):
    gmode, hmode = _MODES[guest_levels], _MODES[host_levels]
    host = PhysicalMemory(256)
    if technique == "native":
        pt = PageTable(host, gmode)
        pt.map(0x401000, 7)
        return NativeMMU(host, pt).walk_steps(0x401234)
    vm = GuestVM(host, 64, host_mode=hmode)
    gpt = vm.new_page_table(gmode)
    gpt.map(0x401000, 7)
    vm.host_map(7)
    if technique == "shadow":
        mmu = ShadowMMU(vm, gpt)
        mmu.translate(0x401234)
    else:
        mmu = NestedMMU(vm, gpt)
    return mmu.walk_steps(0x401234)


def page_walk(**kwargs) -> PageWalkApp:
    """Widget: step through a native, shadow or nested (2D) page walk.

    Examples
    --------
    >>> page_walk(guest_levels=5, host_levels=5).result["upto"]
    24
    """
    return PageWalkApp(**kwargs)


class ShadowVsNestedApp(WidgetApp):
    """One seeded guest workload on the native, shadow and nested MMU models.

    Examples
    --------
    >>> ShadowVsNestedApp().result.translations_agree
    True
    """

    title = N_("Shadow vs nested paging on the same workload")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, *, update_every=50, switch_every=100, tlb_entries=16,
                 tagged=False, seed=0):
        self.seed = check_int("seed", seed, minimum=0)
        for name, value, lo, hi in (("update_every", update_every, 0, 200),
                                    ("switch_every", switch_every, 0, 400),
                                    ("tlb_entries", tlb_entries, 1, 64)):
            check_int(name, value, minimum=lo, maximum=hi)
        check_bool("tagged", tagged)
        super().__init__({
            "update_every": _slider(update_every, 0, 200, 5,
                                    _("PT update every (accesses, 0 = never)")),
            "switch_every": _slider(switch_every, 0, 400, 10,
                                    _("context switch every (0 = never)")),
            "tlb_entries": _slider(tlb_entries, 1, 64, 1, _("TLB entries")),
            "tagged": W.Checkbox(value=tagged, description=_("tagged TLB (ASID/VPID)")),
        })

    def compute(self, update_every, switch_every, tlb_entries, tagged):
        # a run is immutable: a setting seen before reuses it (bounded cache)
        key = (update_every, switch_every, tlb_entries, tagged)
        cache = self.__dict__.setdefault("_runs", {})
        if key not in cache:
            if len(cache) >= 64:
                cache.clear()
            cache[key] = side_by_side(160, pages=16, tlb_entries=tlb_entries,
                                      switch_every=switch_every, update_every=update_every,
                                      tagged=tagged, seed=self.seed)
        return cache[key]

    def draw(self, r):
        return viz.mmu.shadow_vs_nested_scene(r)

    def describe(self, r):
        rows = [(_(_TECH.get(t, t)), s.tlb_misses, s.pt_refs, f"{s.refs_per_miss:.1f}", s.traps,
                 f"{r.cycles[t] / 1000:.0f}") for t, s in r.stats.items()]
        ok = (_("Translations of all three: <b>identical</b>.") if r.translations_agree
              else _("Translations of all three: <b>DIFFERENT (a bug!)</b>."))
        return (_table(rows, [_("technique"), _("TLB misses"), _("PT refs"), _("refs/miss"),
                              _("VM exits"), _("k cycles")])
                + f"<p>{ok}</p>")


def shadow_vs_nested(**kwargs) -> ShadowVsNestedApp:
    """Widget: the same guest workload on native, shadow and nested paging, side by side.

    Examples
    --------
    >>> shadow_vs_nested(update_every=0).result.stats["nested"].traps
    0
    """
    return ShadowVsNestedApp(**kwargs)


APPS = {"memory_costs": memory_costs, "tlb_lab": tlb_lab, "page_walk": page_walk,
        "shadow_vs_nested": shadow_vs_nested}
