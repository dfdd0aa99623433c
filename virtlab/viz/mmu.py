"""Figures for memory virtualization: address chain, page walks, shadow vs nested, costs, TLB.

Every function takes results of :mod:`virtlab.mmu` and returns a Figure; a
``*_scene`` function describes the same picture as a
:class:`~virtlab.viz.scene.Scene` (the widgets write it as SVG directly, the
Figure is that scene drawn by matplotlib).

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

import math

import matplotlib.transforms as mtransforms
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from ..errors import check_int, check_mapping, check_number, check_sequence, check_str, check_type
from ..mmu.page_table import WalkStep
from ..mmu.scenario import AddressChain, SideBySide, TLBRun
from ..i18n import _, N_
from .base import PALETTE, new_figure, nice_ticks
from .scene import Scene, text_box

__all__ = ["address_chain", "cost_crossover", "cost_crossover_scene", "page_walk",
           "page_walk_scene", "shadow_vs_nested", "shadow_vs_nested_scene", "tlb_curve",
           "tlb_curve_scene"]

GUEST = PALETTE[0]      # guest page table
HOST = PALETTE[1]       # host table (EPT/NPT)
SHADOW = PALETTE[2]     # shadow / composed
DATA = PALETTE[3]
GREY = "#BBBBBB"
TECH_COLORS = {"native": "#555555", "shadow": SHADOW, "nested": HOST}
#: How the translation techniques are labelled (the keys are the models' values).
TECHNIQUE_LABELS = {"native": N_("native"), "shadow": N_("shadow"), "nested": N_("nested")}


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


# -- plots as scenes ------------------------------------------------------------
# The plots below are described once as a Scene (the widgets write it as SVG,
# the static pages draw it with matplotlib), laid out as the matplotlib figures
# they replace: the same boxes, matplotlib's autoscaled limits (5 % margins),
# its tick positions and labels, and its axis-label and legend placement.

#: matplotlib's legend locations in the order ``loc="best"`` tries them (codes 1-10).
LEGEND_LOCS = ("upper right", "upper left", "lower left", "lower right", "right", "center left",
               "center right", "lower center", "upper center", "center")
#: matplotlib's default tick labels: 10 pt, ticks 3.5 pt long, labels 3.5 pt beyond them.
TICK_SIZE, TICK_LENGTH, TICK_PAD = 10.0, 3.5, 3.5
#: the earlier ``fast_ticks``' labels (the figures used it): 8 pt, 2 pt beyond the tick.
FAST_TICK_SIZE, FAST_TICK_PAD = 8.0, 2.0
#: Grid lines as ``ax.grid(alpha=0.3)`` draws them.
GRID_ALPHA = 0.3
_ALL_SPINES = ("left", "bottom", "right", "top")


def _autoscale(lo: float, hi: float) -> tuple[float, float]:
    """matplotlib's autoscaled limits of a linear axis holding data in [lo, hi].

    Examples
    --------
    >>> _autoscale(0, 60)
    (-3.0, 63.0)
    """
    lo, hi = MaxNLocator().nonsingular(lo, hi)     # the axis locator's: a point widened 5 %
    pad = (hi - lo) * 0.05          # axes.xmargin / ymargin
    return float(lo - pad), float(hi + pad)


def _linear_ticks(lo: float, hi: float, n: int) -> tuple[list[tuple[float, str]], str]:
    """``MaxNLocator(n)`` positions inside [lo, hi] with ``ScalarFormatter`` labels, and
    the formatter's offset text (``""`` if none), as a matplotlib axis shows them.

    Examples
    --------
    >>> _linear_ticks(-0.5, 10.5, 5)[0][:3]
    [(0.0, '0.0'), (2.5, '2.5'), (5.0, '5.0')]
    """
    fmt = ScalarFormatter()
    fmt.create_dummy_axis()
    fmt.axis.set_view_interval(lo, hi)
    every = [float(v) for v in MaxNLocator(n).tick_values(lo, hi)]
    labels = fmt.format_ticks(every)        # as Axis: every location formatted, then clipped
    eps = (hi - lo) * 1e-9
    return ([(v, s) for v, s in zip(every, labels) if lo - eps <= v <= hi + eps],
            fmt.get_offset())


def _label_width(labels, size: float) -> float:
    return max((text_box(s, size)[0] for s in labels if s), default=0.0)


def _marker_outline(marker: str, ms: float) -> list[tuple[float, float]]:
    """A marker's outline in points around its centre: ``"o"`` a circle ``ms`` + 1 points
    across (matplotlib's marker with its 1 pt edge), ``"*"`` matplotlib's star."""
    if marker == "o":
        r = (ms + 1) / 2
        return [(r * math.cos(2 * math.pi * k / 16), r * math.sin(2 * math.pi * k / 16))
                for k in range(16)]
    # Path.unit_regular_star(5, innerCircle=0.381966) scaled by ms / 2, point up
    radii = [ms / 2 * (1 if k % 2 == 0 else 0.381966) for k in range(10)]
    angles = [math.pi / 2 + math.pi * k / 5 for k in range(10)]
    return [(r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, angles)]


def _marker(ax, x: float, y: float, marker: str, ms: float, color: str, *,
            coords: str = "data", zorder: float = 2) -> None:
    """A marker polygon centred at (x, y) in ``coords`` ("data" or "axes")."""
    w, h = ax.size_points()
    sx = (ax.xlim[1] - ax.xlim[0]) / w if coords == "data" else 1 / w
    sy = (ax.ylim[1] - ax.ylim[0]) / h if coords == "data" else 1 / h
    pts = _marker_outline(marker, ms)
    ax.polygon([x + dx * sx for dx, _dy in pts], [y + dy * sy for _dx, dy in pts], fc=color,
               ec=color if marker == "*" else "none", lw=1.0, coords=coords, zorder=zorder)


def _legend_frame(ax, width: float, height: float, inset: float,
                  loc: str) -> tuple[float, float, float, float]:
    """(left, bottom, width, height) in points from the panel's lower left corner of a
    legend box ``width`` x ``height`` points at ``loc``, ``inset`` points from the edges."""
    w, h = ax.size_points()
    x = (inset if "left" in loc else w - inset - width if "right" in loc else (w - width) / 2)
    y = (h - inset - height if "upper" in loc else inset if "lower" in loc
         else (h - height) / 2)
    return x, y, width, height


def _legend_row(rows, size: float) -> float:
    # Panel.legend's row height, or taller for a large marker (the star)
    return max([1.4 * size] + [r[4] + 1 for r in rows if r[3]])


def _legend_size(rows, size: float) -> tuple[float, float]:
    """Width and height in points of :func:`_legend`'s frame (Panel.legend's layout)."""
    row, box, gap = _legend_row(rows, size), 1.4 * size, 0.6 * size
    return (box + 0.5 * size + _label_width([r[0] for r in rows], size) + 1.5 * gap,
            len(rows) * row + gap)


def _best_legend_loc(ax, rows, size: float, paths, boxes) -> str:
    """matplotlib's ``loc="best"`` for its legend of ``rows``: the first location whose
    box covers the fewest line vertices, crossed lines and text boxes (``paths``: lists
    of points, ``boxes``: :class:`~matplotlib.transforms.Bbox`, in points from the
    panel's lower left).  The box is matplotlib's (``ax.legend(fontsize=size)``: label
    width + 3.6 font sizes wide, 1.05 font sizes a row and 0.5 between rows, 0.8 of
    border, 0.5 from the axes), so the choice is the one the figure made."""
    width = _label_width([r[0] for r in rows], size) + 3.6 * size
    height = (0.8 + 1.05 * len(rows) + 0.5 * (len(rows) - 1)) * size
    best = None
    for i, loc in enumerate(LEGEND_LOCS):
        frame = mtransforms.Bbox.from_bounds(*_legend_frame(ax, width, height, 0.5 * size, loc))
        badness = (sum(frame.count_contains(p) for p in paths) + frame.count_overlaps(boxes)
                   + sum(Path(p).intersects_bbox(frame, filled=False) for p in paths))
        if best is None or (badness, i) < best:
            best = (badness, i)
        if badness == 0:
            break
    return LEGEND_LOCS[best[1]]


def _legend(ax, rows, *, size: float, loc: str) -> None:
    """A legend in a white frame at ``loc``: rows ``(label, colour, line width, marker,
    marker size)`` (width 0: no line; marker ``None``, ``"o"`` or ``"*"``).

    The layout and look of :meth:`~virtlab.viz.scene.Panel.legend`, which offers the
    upper corners and plain swatches only; these plots need matplotlib's other
    locations and marker samples.
    """
    if not rows:            # matplotlib draws an empty frame (and warns): nothing here
        return
    w, h = ax.size_points()
    row, box, gap = _legend_row(rows, size), 1.4 * size, 0.6 * size
    x, y, fw, fh = _legend_frame(ax, *_legend_size(rows, size), 0.5 * gap, loc)
    ax.rect(x / w, y / h, fw / w, fh / h, fc="white", ec="#cccccc", lw=0.8, alpha=0.8,
            coords="axes", zorder=5)
    left = x + 0.5 * gap
    for i, (label, color, lw, marker, ms) in enumerate(rows):
        mid = (y + fh - 0.5 * gap - (i + 0.5) * row) / h
        if lw:
            ax.line([left / w, (left + box) / w], [mid, mid], color=color, lw=lw,
                    coords="axes", zorder=5.5)
        if marker:
            _marker(ax, (left + box / 2) / w, mid, marker, ms, color, coords="axes",
                    zorder=5.6)
        ax.text((left + box + 0.5 * size) / w, mid, label, size=size, ha="left",
                coords="axes", zorder=6)


def _panel_points(ax, xs, ys) -> list[tuple[float, float]]:
    """Data points as points from the panel's lower left corner (y up)."""
    w, h = ax.size_points()
    (x0, x1), (y0, y1) = ax.xlim, ax.ylim
    return [((x - x0) / (x1 - x0) * w, (y - y0) / (y1 - y0) * h) for x, y in zip(xs, ys)]


def shadow_vs_nested(run):
    """Side by side: page-table references and VM exits of native, shadow and nested paging.

    (The cycle estimate per technique is in ``run.cycles``.)  The figure draws
    :func:`shadow_vs_nested_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> len(shadow_vs_nested(scenario.side_by_side(100)).axes)
    2
    """
    return shadow_vs_nested_scene(run).figure()


def shadow_vs_nested_scene(run) -> Scene:
    """:func:`shadow_vs_nested` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Two panels: one bar per technique of page-table references, and the VM
    exits of each technique stacked by kind, with their key.

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> scene = shadow_vs_nested_scene(scenario.side_by_side(100))
    >>> [p.title for p in scene.panels]
    ['page-table references', 'VM exits (traps)']
    """
    check_type("run", run, SideBySide)
    techs = ["native", "shadow", "nested"]
    scene = Scene(6.4, 2.7)
    # the figure's subplots: left 0.09, right 0.99, bottom 0.1, top 0.83, wspace 0.3
    cell = (0.99 - 0.09) / (2 + 0.3)

    def bars(box, title, rows, room=1.05):
        """``rows``: (x, bottom, height, colour); a panel with its limits and ticks."""
        top = max([b + h for _, b, h, _ in rows] + [0]) or 1
        ax = scene.panel(xlim=(-0.6, len(techs) - 0.4), ylim=(0, top * room), box=box,
                         title=title, title_size=9)
        for x, b, h, color in rows:
            ax.rect(x - 0.4, b, 0.8, h, fc=color)
        locs, labels = nice_ticks(0, top * room, n=4)
        ax.frame(xticks=[(i, _(TECHNIQUE_LABELS[t])) for i, t in enumerate(techs)],
                 yticks=list(zip(locs, labels)), size=FAST_TICK_SIZE, pad=FAST_TICK_PAD,
                 spines=_ALL_SPINES)
        return ax

    refs = [run.stats[t].pt_refs for t in techs]
    bars((0.09, 0.1, 0.09 + cell, 0.83), _("page-table references"),
         [(i, 0, v, TECH_COLORS[t]) for i, (t, v) in enumerate(zip(techs, refs))])
    kinds = [("hidden_faults", _("hidden faults")), ("pt_write_traps", _("PT-write traps")),
             ("cr3_traps", _("CR3 traps")), ("invlpg_traps", _("INVLPG traps"))]
    bottom = [0] * 3
    stack = []
    for k, (attr, _label) in enumerate(kinds):
        vals = [getattr(run.stats[t], attr) for t in techs]
        stack += [(i, b, v, PALETTE[(k + 4) % 8]) for i, (b, v) in enumerate(zip(bottom, vals))
                  if v]
        bottom = [b + v for b, v in zip(bottom, vals)]
    # headroom: the key sits above the bars
    ax2 = bars((0.99 - cell, 0.1, 0.99, 0.83), _("VM exits (traps)"), stack, room=1.4)
    # the key (upper left): a thick line sample and a text per kind, 9 pt apart
    w_pt, h_pt = ax2.size_points()
    for k, (_attr, label) in enumerate(kinds):
        y = 1 - (6 + 9 * k) / h_pt
        ax2.line([6 / w_pt, 16 / w_pt], [y, y], color=PALETTE[(k + 4) % 8], lw=5, coords="axes")
        ax2.text(20 / w_pt, y, label, size=6.5, ha="left", coords="axes")
    # the figure's title (suptitle: x 0.5, y 0.98 of the figure), placed through the
    # first panel's axes fractions: the figure keeps its two Axes
    ax1 = scene.panels[0]
    ax1.text((0.5 - 0.09) / cell, (0.98 - 0.1) / (0.83 - 0.1),
             _("same workload, {n} memory accesses").format(n=run.accesses), size=9, va="top",
             coords="axes")
    return scene


def cost_crossover(knob: str, values, overheads: dict, crossover: float | None = None,
                   current: float | None = None):
    """Overhead (% of a CPU) of each technique while one workload knob varies.

    The figure draws :func:`cost_crossover_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.mmu import costs
    >>> xs = [0, 50_000, 100_000]
    >>> fig = cost_crossover("pt_updates_per_s", xs, costs.sweep("pt_updates_per_s", xs),
    ...                      costs.crossover())
    >>> len(fig.axes[0].collections) >= 3
    True
    """
    return cost_crossover_scene(knob, values, overheads, crossover, current).figure()


def cost_crossover_scene(knob: str, values, overheads: dict, crossover: float | None = None,
                         current: float | None = None) -> Scene:
    """:func:`cost_crossover` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    A curve per technique (x in thousands per second, y in % of a CPU), a
    dashed red line at the crossover (when it lies within ``values``), a dotted
    black line at the ``current`` value, and the legend where matplotlib's
    ``loc="best"`` puts it.

    Examples
    --------
    >>> from virtlab.mmu import costs
    >>> xs = [0, 50_000, 100_000]
    >>> scene = cost_crossover_scene("pt_updates_per_s", xs,
    ...                              costs.sweep("pt_updates_per_s", xs), costs.crossover())
    >>> sum(kind == "line" and len(item[3]) == len(xs) for kind, *item in scene.items)
    3
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
    techs = ("native", "shadow", "nested")
    xs = [v / 1000 for v in values]
    curves = {t: [100 * o for o in overheads[t]] for t in techs}
    show_crossover = crossover is not None and values[0] <= crossover <= values[-1]
    # limits as matplotlib autoscales them: the curves and the vertical lines' x; the
    # current value's line widens them only if it lies outside (axvline's rule)
    data_x = xs + ([crossover / 1000] if show_crossover else [])
    xlim = _autoscale(min(data_x), max(data_x))
    if current is not None and not xlim[0] <= current / 1000 <= xlim[1]:
        xlim = _autoscale(min(data_x + [current / 1000]), max(data_x + [current / 1000]))
    every_y = [y for t in techs for y in curves[t]]
    ylim = _autoscale(min(every_y), max(every_y))
    scene = Scene(6.0, 3.0)
    ax = scene.panel(xlim=xlim, ylim=ylim, box=(0.1, 0.15, 0.98, 0.97))
    xticks, xoffset = _linear_ticks(*xlim, 6)
    yticks, yoffset = _linear_ticks(*ylim, 5)
    for t in techs:
        ax.line(xs, curves[t], color=TECH_COLORS[t], lw=2)
    paths = [_panel_points(ax, xs, curves[t]) for t in techs]
    boxes = []         # paths and text boxes in points, for the legend's "best" place
    h_pt = ax.size_points()[1]
    if show_crossover:
        ax.line([crossover / 1000] * 2, [0, 1], color="#C00000", dash="dashed", lw=1,
                coords="xaxis")
        text = " " + _("crossover {x} k/s").format(x=f"{crossover / 1000:.1f}")
        ax.text(crossover / 1000, ylim[1] * 0.95, text, color="#C00000", size=8, ha="left",
                va="top")
        (px, py), = _panel_points(ax, [crossover / 1000], [ylim[1] * 0.95])
        paths.append([(px, 0.0), (px, h_pt)])
        width, height, _baselines = text_box(text, 8)
        boxes.append(mtransforms.Bbox.from_bounds(px, py - height, width, height))
    if current is not None:
        ax.line([current / 1000] * 2, [0, 1], color="black", dash="dotted", lw=1,
                coords="xaxis")
        px = _panel_points(ax, [current / 1000], [ylim[0]])[0][0]
        paths.append([(px, 0.0), (px, h_pt)])
    label = {"tlb_misses_per_s": _("TLB misses"), "pt_updates_per_s": _("page-table updates"),
             "context_switches_per_s": _("context switches"),
             "page_faults_per_s": _("guest page faults")}.get(knob, knob)
    ax.frame(xticks=xticks, yticks=yticks, size=TICK_SIZE, length=TICK_LENGTH, pad=TICK_PAD,
             spines=_ALL_SPINES, grid="xy", grid_alpha=GRID_ALPHA, xlabel=_("{what} (thousands per second)").format(what=label),
             ylabel=_("overhead vs native (% CPU)"), label_size=9)
    _offset_texts(ax, xoffset, yoffset)
    rows = [(_(TECHNIQUE_LABELS[t]), TECH_COLORS[t], 2.0, None, 0.0) for t in techs]
    _legend(ax, rows, size=8, loc=_best_legend_loc(ax, rows, 8, paths, boxes))
    return scene


def _offset_texts(ax, xoffset: str, yoffset: str) -> None:
    # ScalarFormatter's offset ("1e6", "+1e3") where matplotlib writes it: above the
    # y axis, right under the x tick labels
    if yoffset:
        ax.text(0, 1, yoffset, size=TICK_SIZE, ha="left", va="baseline", coords="axes",
                offset=(0, 3))
    if xoffset:
        ax.text(1, 0, xoffset, size=TICK_SIZE, ha="right", va="top", coords="axes",
                offset=(0, -(TICK_LENGTH + TICK_PAD + text_box("0", TICK_SIZE)[1] + 3)))


def tlb_curve(untagged, tagged, current=None):
    """TLB hit rate versus number of entries, flushed (untagged) vs tagged (ASID/VPID).

    The figure draws :func:`tlb_curve_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> runs = [scenario.tlb_experiment(e, 32, accesses=200) for e in (8, 16)]
    >>> len(tlb_curve(runs, []).axes[0].lines)
    1
    """
    return tlb_curve_scene(untagged, tagged, current).figure()


def _superscript(n: int) -> str:
    return str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def tlb_curve_scene(untagged, tagged, current=None) -> Scene:
    """:func:`tlb_curve` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    The x axis is logarithmic (base 2, ticks at the TLB sizes of the runs),
    each curve a line with a dot per run, ``current`` a black star; the
    legend at the lower right.

    Examples
    --------
    >>> from virtlab.mmu import scenario
    >>> runs = [scenario.tlb_experiment(e, 32, accesses=200) for e in (8, 16)]
    >>> scene = tlb_curve_scene(runs, [])
    >>> [item[4] for item in scene.items if item[0] == "dots"]        # log2 of the sizes
    [(3.0, 4.0)]
    """
    check_sequence("untagged", untagged, TLBRun, max_len=1000)
    check_sequence("tagged", tagged, TLBRun, max_len=1000)
    if current is not None:
        check_type("current", current, TLBRun)
    # a log axis shows positive values only (matplotlib masks the others)
    untagged = [r for r in untagged if r.entries > 0]
    tagged = [r for r in tagged if r.entries > 0]
    if current is not None and current.entries <= 0:
        current = None
    shown = untagged + tagged + ([current] if current is not None else [])
    # limits (log2 of the entries) as matplotlib autoscales a base-2 log axis: the
    # data (1 to 10 when there is none), widened to the neighbouring powers of two
    # if it is one value, plus 5 % margins in log space
    if not shown:
        lo, hi = 0.0, math.log2(10)
    else:
        lo = math.log2(min(r.entries for r in shown))
        hi = math.log2(max(r.entries for r in shown))
        if lo == hi:            # the powers of two just below and above (LogLocator's)
            lo, hi = math.ceil(lo) - 1.0, math.floor(hi) + 1.0
    pad = (hi - lo) * 0.05
    scene = Scene(5.6, 3.0)
    ax = scene.panel(xlim=(lo - pad, hi + pad), ylim=(0, 102), box=(0.11, 0.15, 0.98, 0.97))
    sizes = sorted({r.entries for r in untagged + tagged})
    ylocs, ylabels = nice_ticks(0, 100, 4)
    rows = []
    for runs, label, color in ((untagged, _("untagged: flush on switch"), PALETTE[5]),
                               (tagged, _("tagged (ASID/VPID)"), PALETTE[0])):
        if runs:
            xs = [math.log2(r.entries) for r in runs]
            ys = [100 * r.hit_rate for r in runs]
            ax.line(xs, ys, color=color, lw=1.8)
            ax.dots(xs, ys, color=color, size=5)      # matplotlib's ms=4 with its 1 pt edge
            rows.append((label, color, 1.8, "o", 4.0))
    if current is not None:
        _marker(ax, math.log2(current.entries), 100 * current.hit_rate, "*", 12, "#000000")
        rows.append((_("current"), "#000000", 0.0, "*", 12.0))
    if sizes:
        xticks = [(math.log2(v), str(v)) for v in sizes]
        xsize, xpad = FAST_TICK_SIZE, FAST_TICK_PAD
    else:       # matplotlib's own log ticks: 2^k in its default 10 pt labels
        first, last = math.ceil(lo - pad - 1e-9), math.floor(hi + pad + 1e-9)
        step = max(1, math.ceil((last - first + 1) / 9))
        xticks = [(float(k), "2" + _superscript(k)) for k in range(first, last + 1, step)]
        xsize, xpad = TICK_SIZE, TICK_PAD
    # grid lines at the TLB sizes (none on matplotlib's own log ticks) and the y ticks;
    # the axis labels clear of the tick labels' boxes
    ax.frame(xticks=xticks, size=xsize, pad=xpad, spines=(), grid="x" if sizes else "",
             grid_alpha=GRID_ALPHA, xlabel=_("TLB entries"), label_size=9)
    ax.frame(yticks=list(zip(ylocs, ylabels)), size=FAST_TICK_SIZE, pad=FAST_TICK_PAD,
             spines=_ALL_SPINES, grid="y", grid_alpha=GRID_ALPHA, ylabel=_("hit rate (%)"),
             label_size=9)
    _legend(ax, rows, size=8, loc="lower right")
    return scene
