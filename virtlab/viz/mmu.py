"""Figures for memory virtualization: address chain, page walks, shadow vs nested, costs, TLB.

Every function takes results of :mod:`virtlab.mmu` and returns a Figure.

Examples
--------
>>> from virtlab import mmu, viz
>>> from virtlab.mmu.scenario import tlb_experiment
>>> fig = viz.mmu.tlb_curve([tlb_experiment(e, 64) for e in (8, 32)],
...                         [tlb_experiment(e, 64, tagged=True) for e in (8, 32)])
>>> len(fig.axes)
1
"""

from __future__ import annotations

from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.ticker import MaxNLocator

from ..errors import check_int, check_mapping, check_number, check_sequence, check_str, check_type
from ..mmu.page_table import WalkStep
from ..mmu.scenario import AddressChain, SideBySide, TLBRun
from ..i18n import _, N_
from .base import PALETTE, fast_ticks, new_figure, nice_ticks
from .scene import Scene

__all__ = ["address_chain", "cost_crossover", "page_walk", "page_walk_scene", "shadow_vs_nested",
           "tlb_curve"]

GUEST = PALETTE[0]      # guest page table
HOST = PALETTE[1]       # host table (EPT/NPT)
SHADOW = PALETTE[2]     # shadow / composed
DATA = PALETTE[3]
GREY = "#BBBBBB"
TECH_COLORS = {"native": "#555555", "shadow": SHADOW, "nested": HOST}
#: How the translation techniques are labelled (the keys are the models' values).
TECHNIQUE_LABELS = {"native": N_("native"), "shadow": N_("shadow"), "nested": N_("nested")}


def _lean(*axes, n=5):
    """Few ticks: tick layout is most of the rendering time of a small figure."""
    for ax in axes:
        ax.yaxis.set_major_locator(MaxNLocator(n))
        if ax.get_xscale() == "linear":
            ax.xaxis.set_major_locator(MaxNLocator(n + 1))


def _box(ax, x, y, w, h, text, color, *, filled=False, size=8, alpha=1.0):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=color if filled else "white", ec=color, lw=1.2,
                                alpha=alpha))
    ax.text(x, y, text, ha="center", va="center", fontsize=size,
            color="white" if filled else "black", alpha=max(alpha, 0.35))


def _arrow(ax, p, q, color, *, style="-", rad=0.0, lw=1.2):
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=9, color=color,
                                 lw=lw, linestyle=style,
                                 connectionstyle=f"arc3,rad={rad}"))


def address_chain(chain, max_links: int = 8):
    """The chain guest-virtual → guest-physical ("real") → host-physical, one row per page.

    Blue arrows: the guest's page table; orange: the host table (EPT/NPT);
    green dashed: what a shadow (or composed) table maps directly.  A guest
    frame the host does not back ends in a red "not backed" mark.

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> vm, gpt = scenario.demo_vm()
    >>> len(address_chain(scenario.address_chain(gpt, vm)).axes)
    1
    """
    check_type("chain", chain, AddressChain)
    check_int("max_links", max_links, minimum=1, maximum=32)
    links = chain.links[:max_links]
    rows = max(1, len(links))
    fig = new_figure(7.0, 1.2 + 0.45 * rows,
                     margins={"left": 0.01, "right": 0.99, "bottom": 0.01, "top": 0.99})
    ax = fig.add_subplot()
    ax.set_xlim(-0.3, 3.3)
    ax.set_ylim(-0.8, rows + 0.2)
    ax.axis("off")
    xs = (0.25, 1.5, 2.75)
    heads = (_("guest-virtual\n(virtuelle Adresse)"), _("guest-physical\n(reale Adresse)"),
             _("host-physical\n(physikalische Adresse)"))
    for x, head in zip(xs, heads):
        ax.text(x, rows - 0.05, head, ha="center", va="bottom", fontsize=8.5,
                fontweight="bold")
    for i, link in enumerate(links):
        y = rows - 0.6 - i
        perm = ("W" if link.writable else "R") + ("U" if link.user else "S")
        _box(ax, xs[0], y, 0.85, 0.34, f"{link.vaddr:#x} {perm}", GUEST)
        _box(ax, xs[1], y, 0.7, 0.34, f"gpfn {link.gpfn}", GUEST, filled=True)
        _arrow(ax, (xs[0] + 0.43, y), (xs[1] - 0.36, y), GUEST)
        if link.hpfn is None:
            ax.text(xs[2], y, "not backed", ha="center", va="center", fontsize=8,
                    color="#C00000")
        else:
            _box(ax, xs[2], y, 0.7, 0.34, f"hpfn {link.hpfn}", HOST, filled=True)
            _arrow(ax, (xs[1] + 0.36, y), (xs[2] - 0.36, y), HOST)
            _arrow(ax, (xs[0] + 0.1, y + 0.17), (xs[2] - 0.1, y + 0.17), SHADOW,
                   style="--", rad=-0.12, lw=0.9)
    ax.text(0.0, -0.55, _("guest page table"), color=GUEST, fontsize=8)
    ax.text(1.1, -0.55, _("host table (EPT / NPT)"), color=HOST, fontsize=8)
    ax.text(2.2, -0.55, _("- - shadow / composed table"), color=SHADOW, fontsize=8)
    if len(chain.links) > len(links):
        ax.text(3.2, -0.55, _("(+{n} more)").format(n=len(chain.links) - len(links)), fontsize=7,
                ha="right")
    return fig


def page_walk(steps, guest_levels: int, host_levels: int = 0, upto: int | None = None,
              title: str | None = None):
    """A page walk drawn step by step; references after ``upto`` are greyed out.

    For a nested walk (``host_levels`` > 0) the classic grid: one row per guest
    level plus the final guest-physical address, one column per host level
    plus the guest entry itself; each cell holds the reference's number.  For
    a native or shadow walk (``host_levels`` = 0) one row of ``guest_levels``
    references.  The figure draws :func:`page_walk_scene` (the widget shows
    that scene as SVG).

    Examples
    --------
    >>> from virtlab.mmu import NestedMMU, scenario
    >>> vm, gpt = scenario.demo_vm()
    >>> fig = page_walk(NestedMMU(vm, gpt).walk_steps(0x400000), 4, 4, upto=5)
    >>> fig.axes[0].get_title()
    '2D walk: 4 guest × 4 host levels = 24 references'
    """
    return page_walk_scene(steps, guest_levels, host_levels, upto, title).figure()


def page_walk_scene(steps, guest_levels: int, host_levels: int = 0, upto: int | None = None,
                    title: str | None = None) -> Scene:
    """:func:`page_walk` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    Examples
    --------
    >>> from virtlab.mmu import NestedMMU, scenario
    >>> vm, gpt = scenario.demo_vm()
    >>> scene = page_walk_scene(NestedMMU(vm, gpt).walk_steps(0x400000), 4, 4, upto=5)
    >>> sum(kind == "rect" for kind, *_ in scene.items)     # one cell per reference
    24
    """
    check_int("guest_levels", guest_levels, minimum=1, maximum=6)
    check_int("host_levels", host_levels, minimum=0, maximum=6)
    steps = list(check_sequence("steps", steps, WalkStep, max_len=64))
    total = len(steps)
    if upto is None:
        upto = total
    check_int("upto", upto, minimum=0, maximum=max(total, 0))
    if title is not None:
        check_str("title", title)
    n, m = guest_levels, host_levels
    rows = n + 1 if m else 1
    cols = m + 1 if m else n
    if not title:
        title = (_("2D walk: {n} guest × {m} host levels = {total} references") if m
                 else _("walk: {total} references")).format(n=n, m=m, total=total)
    scene = Scene(1.0 + 0.8 * cols, 1.0 + 0.5 * rows)
    ax = scene.panel(xlim=(-1.4, cols + 0.1), ylim=(-0.6, rows + 0.75),
                     box=(0.01, 0.01, 0.99, 0.9), title=title)
    pos: dict[int, tuple[float, float]] = {}
    if m:
        for r in range(rows):
            glevel = n - r if r < n else 0
            label = _("guest L{level}").format(level=glevel) if glevel else _("data gPA")
            ax.text(-0.15, rows - r - 0.5, label, ha="right")
        for c in range(cols):
            head = _("host L{level}").format(level=m - c) if c < m else _("guest\nentry")
            ax.text(c + 0.5, rows + 0.1, head, va="bottom")
        for i, s in enumerate(steps):
            r = (n - s.guest_level) if s.guest_level > 0 else n
            c = (m - s.level) if s.stage == "host" else m
            pos[i] = (c, rows - r - 1)
        ax.text(m + 0.5, 0.5, _("data\n(not a PT\nreference)"), size=6.5, color="#777777")
    else:
        for c in range(cols):
            ax.text(c + 0.5, 1.1, f"L{n - c}", va="bottom")
        for i, s in enumerate(steps):
            pos[i] = (n - s.level, 0)
    for i, s in enumerate(steps):
        c, r = pos[i]
        done = i < upto
        color = HOST if s.stage == "host" else (SHADOW if s.stage == "shadow" else GUEST)
        ax.rect(c + 0.08, r + 0.08, 0.84, 0.84, fc=color if done else "white", ec=color)
        if done:       # numbers appear as the walk proceeds
            ax.text(c + 0.5, r + 0.5, str(i + 1), size=9, color="white", weight="bold")
    if 0 < upto <= total:
        s = steps[upto - 1]
        where = _({"host": N_("host table"), "guest": N_("guest table"),
                   "shadow": N_("shadow table"), "native": N_("page table")}[s.stage])
        text = _("reference {i}/{total}: {where} level {level}, entry {entry} at {addr}")
        ax.text(-1.3, -0.45, text.format(i=upto, total=total, where=where, level=s.level,
                                            entry=f"{s.entry:#x}", addr=f"{s.addr:#x}"),
                   ha="left", va="baseline")
    return scene


def shadow_vs_nested(run):
    """Side by side: page-table references and VM exits of native, shadow and nested paging.

    (The cycle estimate per technique is in ``run.cycles``.)

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> len(shadow_vs_nested(scenario.side_by_side(100)).axes)
    2
    """
    check_type("run", run, SideBySide)
    techs = ["native", "shadow", "nested"]
    # fixed margins, bars as one PolyCollection per panel, ticks and the key
    # as plain artists: a widget redraw must stay < 50 ms
    fig = new_figure(6.4, 2.7, margins={"left": 0.09, "right": 0.99, "bottom": 0.1,
                                        "top": 0.83, "wspace": 0.3})
    ax1, ax2 = fig.subplots(1, 2)

    def bars(ax, rows, room=1.05):
        """``rows``: (x, bottom, height, colour); also sets the limits and ticks."""
        ax.add_collection(PolyCollection(
            [[(x - 0.4, b), (x - 0.4, b + h), (x + 0.4, b + h), (x + 0.4, b)]
             for x, b, h, _ in rows], facecolors=[c for *_, c in rows], linewidths=0))
        top = max([b + h for _, b, h, _ in rows] + [0]) or 1
        ax.set_xlim(-0.6, len(techs) - 0.4)
        ax.set_ylim(0, top * room)
        fast_ticks(ax, "x", range(len(techs)), [_(TECHNIQUE_LABELS[t]) for t in techs])
        fast_ticks(ax, "y", *nice_ticks(0, top * room, n=4))

    refs = [run.stats[t].pt_refs for t in techs]
    bars(ax1, [(i, 0, v, TECH_COLORS[t]) for i, (t, v) in enumerate(zip(techs, refs))])
    ax1.set_title(_("page-table references"), fontsize=9)
    kinds = [("hidden_faults", _("hidden faults")), ("pt_write_traps", _("PT-write traps")),
             ("cr3_traps", _("CR3 traps")), ("invlpg_traps", _("INVLPG traps"))]
    bottom = [0] * 3
    stack = []
    for k, (attr, label) in enumerate(kinds):
        vals = [getattr(run.stats[t], attr) for t in techs]
        stack += [(i, b, v, PALETTE[(k + 4) % 8]) for i, (b, v) in enumerate(zip(bottom, vals))
                  if v]
        bottom = [b + v for b, v in zip(bottom, vals)]
    bars(ax2, stack, room=1.4)      # headroom: the key sits above the bars
    ax2.set_title(_("VM exits (traps)"), fontsize=9)
    # the key (upper left, as the legend was): a thick line sample and a text per kind
    w_pt = ax2.get_position().width * fig.get_figwidth() * 72
    h_pt = ax2.get_position().height * fig.get_figheight() * 72
    ys = [1 - (6 + 9 * k) / h_pt for k in range(len(kinds))]
    ax2.add_collection(LineCollection(
        [[(6 / w_pt, y), (16 / w_pt, y)] for y in ys],
        colors=[PALETTE[(k + 4) % 8] for k in range(len(kinds))], linewidths=5,
        transform=ax2.transAxes), autolim=False)
    for y, (_attr, label) in zip(ys, kinds):
        ax2.text(20 / w_pt, y, label, transform=ax2.transAxes, fontsize=6.5, va="center")
    fig.suptitle(_("same workload, {n} memory accesses").format(n=run.accesses), fontsize=9)
    return fig


def cost_crossover(knob: str, values, overheads: dict, crossover: float | None = None,
                   current: float | None = None):
    """Overhead (% of a CPU) of each technique while one workload knob varies.

    Examples
    --------
    >>> from virtlab.mmu import costs
    >>> xs = [0, 50_000, 100_000]
    >>> fig = cost_crossover("pt_updates_per_s", xs, costs.sweep("pt_updates_per_s", xs),
    ...                      costs.crossover())
    >>> len(fig.axes[0].lines) >= 3
    True
    """
    check_str("knob", knob)
    values = check_sequence("values", values, (int, float), min_len=1, max_len=10_000)
    for i, v in enumerate(values):
        check_number(f"values[{i}]", v)
    check_mapping("overheads", overheads, (list, tuple))
    for t in ("native", "shadow", "nested"):
        if t not in overheads:
            raise ValueError(f"overheads must have a {t!r} entry")
        for o in check_sequence(f"overheads[{t!r}]", overheads[t], (int, float),
                                min_len=len(values), max_len=len(values)):
            check_number(f"overheads[{t!r}] item", o)
    for name, value in (("crossover", crossover), ("current", current)):
        if value is not None:
            check_number(name, value)
    fig = new_figure(6.0, 3.0,
                     margins={"left": 0.1, "right": 0.98, "bottom": 0.15, "top": 0.97})
    ax = fig.add_subplot()
    xs = [v / 1000 for v in values]
    for t in ("native", "shadow", "nested"):
        ax.plot(xs, [100 * o for o in overheads[t]], label=_(TECHNIQUE_LABELS[t]),
                color=TECH_COLORS[t], lw=2)
    if crossover is not None and values[0] <= crossover <= values[-1]:
        ax.axvline(crossover / 1000, color="#C00000", ls="--", lw=1)
        ax.text(crossover / 1000, ax.get_ylim()[1] * 0.95,
                " " + _("crossover {x} k/s").format(x=f"{crossover / 1000:.1f}"),
                color="#C00000", fontsize=8,
                va="top")
    if current is not None:
        ax.axvline(current / 1000, color="black", ls=":", lw=1)
    label = {"tlb_misses_per_s": _("TLB misses"), "pt_updates_per_s": _("page-table updates"),
             "context_switches_per_s": _("context switches"),
             "page_faults_per_s": _("guest page faults")}.get(knob, knob)
    ax.set_xlabel(_("{what} (thousands per second)").format(what=label), fontsize=9)
    ax.set_ylabel(_("overhead vs native (% CPU)"), fontsize=9)
    _lean(ax)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def tlb_curve(untagged, tagged, current=None):
    """TLB hit rate versus number of entries, flushed (untagged) vs tagged (ASID/VPID).

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> runs = [scenario.tlb_experiment(e, 32, accesses=200) for e in (8, 16)]
    >>> len(tlb_curve(runs, []).axes[0].lines)
    1
    """
    check_sequence("untagged", untagged, TLBRun, max_len=1000)
    check_sequence("tagged", tagged, TLBRun, max_len=1000)
    if current is not None:
        check_type("current", current, TLBRun)
    fig = new_figure(5.6, 3.0,
                     margins={"left": 0.11, "right": 0.98, "bottom": 0.15, "top": 0.97})
    ax = fig.add_subplot()
    for runs, label, color in ((untagged, _("untagged: flush on switch"), PALETTE[5]),
                               (tagged, _("tagged (ASID/VPID)"), PALETTE[0])):
        if runs:
            ax.plot([r.entries for r in runs], [100 * r.hit_rate for r in runs], "o-",
                    label=label, color=color, lw=1.8, ms=4)
    if current is not None:
        ax.plot([current.entries], [100 * current.hit_rate], "k*", ms=12, label=_("current"))
    ax.set_xscale("log", base=2)
    sizes = sorted({r.entries for r in list(untagged) + list(tagged)})
    # Ticks and grid as plain artists (fast_ticks): matplotlib's tick machinery
    # was half of this widget's redraw (issue 21).
    if sizes:
        ax.minorticks_off()
        fast_ticks(ax, "x", sizes, [str(v) for v in sizes], grid=0.3)
    ax.set_xlabel(_("TLB entries"), fontsize=9)
    ax.set_ylabel(_("hit rate (%)"), fontsize=9)
    ax.set_ylim(0, 102)
    fast_ticks(ax, "y", *nice_ticks(0, 100, 4), grid=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
