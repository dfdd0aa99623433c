"""Figures for hypervisor types, KVM, binary translation and VT-x.

Every function takes model results (from :mod:`virtlab.hypervisor`) and
returns a :class:`matplotlib.figure.Figure` built with
:func:`virtlab.viz.new_figure` — no pyplot.  The pictures the widgets redraw
(:func:`io_cost_bars`, :func:`grouped_bars`, :func:`text_panels`) are
described once as a :class:`~virtlab.viz.scene.Scene` (``*_scene``): the
widget writes it as SVG directly, the function draws it with matplotlib
(issue 21).

Examples
--------
>>> from virtlab.hypervisor.stacks import get_stack
>>> fig = stack_diagram(get_stack("type2"))
>>> fig.axes[0].get_title()
'Typ-2-Hypervisor (hosted)'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..errors import check_bool, check_int, check_mapping, check_sequence, check_str, check_type
from ..hypervisor.stacks import HypervisorStack, IoCost
from ..i18n import _, N_
from .base import PALETTE, measure_text, new_figure, nice_ticks, scalar_ticks
from .scene import TITLE_PAD, Scene, text_box

__all__ = [
    "KIND_COLORS",
    "io_cost_bars",
    "io_cost_bars_scene",
    "kvm_run_loop",
    "stack_diagram",
    "stack_overview",
    "text_panels",
    "text_panels_scene",
    "counts_bars",
    "grouped_bars",
    "grouped_bars_scene",
]

#: Fill colour per component kind (Okabe & Ito palette, light tints).
KIND_COLORS = {
    "hardware": "#BBBBBB",
    "hypervisor": "#F4C27A",      # orange: the VMM
    "host_os": "#A6CEE3",         # blue
    "interface": "#FFF3B0",       # yellow band
    "vmm_process": "#F4C27A",
    "host_app": "#DDDDDD",
    "guest_os": "#9ED9C3",        # green
    "pv_guest_os": "#E3B5D0",     # purple: modified guest
    "app": "#FFFFFF",
}


#: How io_cost_bars groups the cost categories of virtlab.hypervisor.stacks.
#: The group names are marked for the catalogue and translated where drawn.
COST_GROUPS = {
    N_("device"): ("device",),
    N_("drivers, syscalls, IRQs"): ("syscall", "driver", "interrupt"),
    N_("copies"): ("copy_kib",),
    N_("VM exits, hypercalls"): ("vm_exit", "hypercall", "event_channel", "irq_injection"),
    N_("device emulation"): ("device_emulation",),
    N_("host crossings"): ("world_switch", "context_switch", "user_exit", "host_syscall"),
}
#: How the stack kinds are labelled (the keys are virtlab.hypervisor.stacks' kinds).
KIND_LABELS = {"native": N_("native"), "type1": N_("type1"), "type2": N_("type2"),
               "paravirtual": N_("paravirtual"), "kvm": N_("kvm")}
#: The debugger's machine states (the keys are the machines' values).
_STATUS = {"running": N_("running"), "halted": N_("halted"), "fault": N_("fault")}
_GROUP_COLORS = ("#BBBBBB", "#56B4E9", "#009E73", "#E69F00", "#CC79A7", "#D55E00")


def _fixed_figure(width: float, height: float, **margins: float):
    """A Figure without constrained layout (fixed margins): redraws are ~2x faster."""
    return new_figure(width, height, margins=margins)


#: matplotlib's default tick length and label pad (points); fast_ticks' pad.
_TICK, _PAD, _FAST_PAD = 3.5, 3.5, 2.0
#: Every spine, as a default matplotlib Axes draws them.
_SPINES = ("left", "bottom", "right", "top")


def stack_layout(stack) -> dict[str, tuple[float, float, float, float]]:
    """Box ``(x, y, width, height)`` of every component of a stack.

    Built from the stack's networkx tree: a component is as wide as the
    number of leaves (top boxes) above it, so children sit side by side on
    their parent; ``interface`` components are thin bands.

    Examples
    --------
    >>> from virtlab.hypervisor.stacks import get_stack
    >>> box = stack_layout(get_stack("type1"))
    >>> box["hw"][2] == box["vmm"][2] == 4.0   # four applications on top
    True
    """

    g = stack.graph()
    # children = predecessors in the upper -> lower graph
    root = next(n for n, d in g.nodes(data=True) if d["kind"] == "hardware")
    order = {c.name: i for i, c in enumerate(stack.components)}

    def children(n):
        return sorted(g.predecessors(n), key=order.get)

    leaves: dict[str, int] = {}
    for n in reversed(list(nx.topological_sort(g.reverse()))):
        kids = children(n)
        leaves[n] = sum(leaves[k] for k in kids) if kids else 1

    heights = {n: (0.45 if g.nodes[n]["kind"] == "interface" else 1.0) for n in g}
    boxes: dict[str, tuple[float, float, float, float]] = {}

    def place(n, x, y):
        w = float(leaves[n])
        h = heights[n]
        boxes[n] = (x, y, w, h)
        cx = x
        for k in children(n):
            place(k, cx, y + h + 0.12)
            cx += leaves[k]

    place(root, 0.0, 0.0)
    return boxes


def stack_diagram(stack, *, show_io: bool = True, highlight: str | None = None,
                  width: float = 6.0, height: float = 4.2, ax=None):
    """Draw a hypervisor stack as boxes, optionally with its I/O path.

    Parameters
    ----------
    stack : virtlab.hypervisor.stacks.HypervisorStack
    show_io : bool
        Draw the numbered path of one guest I/O request (red arrows).
    highlight : str, optional
        Name of a component to outline in bold.
    width, height : float
        Figure size in inches (ignored when ``ax`` is given).
    ax : matplotlib Axes, optional
        Draw into this axes of an existing figure.

    Examples
    --------
    >>> from virtlab.hypervisor.stacks import get_stack
    >>> fig = stack_diagram(get_stack("kvm"), highlight="qemu1")
    >>> len(fig.axes[0].patches) > 5
    True
    """
    check_type("stack", stack, HypervisorStack)
    check_bool("show_io", show_io)
    if ax is not None:
        check_type("ax", ax, Axes)
    if highlight is not None:
        stack.component(highlight)
    boxes = stack_layout(stack)
    if ax is None:
        fig = _fixed_figure(width, height, left=0.01, right=0.99, bottom=0.01, top=0.93)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    by_name = {c.name: c for c in stack.components}
    labels: dict[str, list] = {}
    total_w = max(x + w for x, _, w, _ in boxes.values())
    total_h = max(y + h for _, y, _, h in boxes.values())
    ax.set_xlim(-0.05, total_w + 0.05)
    ax.set_ylim(-0.05, total_h + 0.05)
    for name, (x, y, w, h) in boxes.items():
        c = by_name[name]
        bold = name == highlight
        ax.add_patch(Rectangle((x + 0.04, y), w - 0.08, h,
                               facecolor=KIND_COLORS[c.kind],
                               edgecolor="#D55E00" if bold else "#333333",
                               linewidth=2.5 if bold else 0.8))
        if c.kind == "app":  # one text object per app box: label and ring
            ax.text(x + w / 2, y + h / 2,
                    f"{c.label}\n{c.privilege.replace('VMX non-root, ', 'nr ')}",
                    ha="center", va="center", fontsize=6.5, linespacing=1.6)
            continue
        labels[name] = [ax.text(x + w / 2, y + h * (0.62 if h > 0.5 else 0.5), c.label,
                                ha="center", va="center", fontsize=7 if w < 1.5 else 8.5,
                                fontweight="bold")]
        if h > 0.5 and c.privilege != "-":
            labels[name].append(ax.text(x + w / 2, y + 0.2, c.privilege, ha="center",
                                        va="center", fontsize=6, color="#444444",
                                        style="italic"))
    if show_io and stack.io_path:
        actors = []
        for s in stack.io_path:
            if not actors or actors[-1] != s.actor:
                actors.append(s.actor)
        pts = []
        visits: dict[str, int] = {}
        renderer = fig.canvas.get_renderer()
        to_data = ax.transData.inverted()
        for a in actors:
            x, y, w, h = boxes[a]
            # the way down enters a box left of its centre, the way back right of
            # it, so the request and the completion do not overlap; in a box with
            # centred labels the markers keep clear of the measured text, or sit
            # near the box's edge if the text is too wide
            k = visits.get(a, 0)
            visits[a] = k + 1
            if by_name[a].kind == "app":
                dx = min(0.35, 0.45 / w) * w
            else:
                half = 0.0
                for t in labels[a]:
                    (x0, _y0), (x1, _y1) = to_data.transform(t.get_window_extent(renderer))
                    half = max(half, (x1 - x0) / 2)
                dx = min(half + 0.15, 0.44 * w)
            pts.append((x + w / 2 + (-dx if k == 0 else dx), y + h / 2))
        for i, (p, q) in enumerate(zip(pts, pts[1:])):
            ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=9,
                                         color="#D55E00", linewidth=1.3,
                                         connectionstyle="arc3,rad=0.15", zorder=5))
        for i, p in enumerate(pts):
            ax.text(p[0], p[1], str(i + 1), fontsize=6, color="white", ha="center",
                    va="center", zorder=6,
                    bbox=dict(boxstyle="circle,pad=0.15", fc="#D55E00", ec="none"))
    ax.set_axis_off()
    ax.set_title(stack.title, fontsize=10)
    return fig


def io_cost_bars(costs: Mapping[str, Any], *, highlight: str | None = None,
                 width: float = 6.0, height: float = 3.0, ax=None):
    """Stacked horizontal bars: cycles per I/O request by stack and category.

    Draws :func:`io_cost_bars_scene` (the widget shows that scene as SVG).

    Parameters
    ----------
    costs : mapping of str to IoCost
        E.g. the result of :func:`virtlab.hypervisor.stacks.compare_stacks`.
    highlight : str, optional
        Stack kind whose label is drawn in bold.
    width, height : float
        Figure size in inches (ignored when ``ax`` is given).
    ax : matplotlib Axes, optional
        Draw into this axes of an existing figure (its place there is kept).

    Examples
    --------
    >>> from virtlab.hypervisor.stacks import compare_stacks
    >>> fig = io_cost_bars(compare_stacks(), highlight="type2")
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    ['type2']
    """
    if ax is not None:
        check_type("ax", ax, Axes)
        fig = ax.figure
        x0, y0, x1, y1 = ax.get_position().extents
        width, height = fig.get_size_inches()
        scene = io_cost_bars_scene(costs, highlight=highlight, width=width, height=height,
                                   box=(x0, y0, x1, y1))
        scene.draw([ax])
        return fig
    return io_cost_bars_scene(costs, highlight=highlight, width=width, height=height).figure()


def io_cost_bars_scene(costs: Mapping[str, Any], *, highlight: str | None = None,
                       width: float = 6.0, height: float = 3.0, title: str | None = None,
                       box: Sequence[float] = (0.13, 0.17, 0.74, 0.9)) -> Scene:
    """:func:`io_cost_bars` as a :class:`~virtlab.viz.scene.Scene`.

    ``title`` (9 pt) is drawn above the bars; ``box`` is the bars' place
    (left, bottom, right, top) as fractions of the picture.

    Examples
    --------
    >>> from virtlab.hypervisor.stacks import compare_stacks
    >>> scene = io_cost_bars_scene(compare_stacks(), highlight="kvm", title="one read")
    >>> [it[6] for it in scene.items if it[0] == "text" and it[11] == "bold"]
    ['kvm']
    """
    if not isinstance(costs, Mapping) or not costs:
        raise TypeError("costs must be a non-empty mapping of stack kind to IoCost")
    check_mapping("costs", costs, IoCost)
    kinds = list(costs)
    base = costs.get("native")
    left = [0.0] * len(kinds)
    bars, handles = [], []
    for j, (group, cats) in enumerate(COST_GROUPS.items()):
        vals = [sum(costs[k].by_category.get(c, 0) for c in cats) / 1000 for k in kinds]
        if not any(vals):
            continue
        bars += [(i, x0, v, _GROUP_COLORS[j]) for i, (x0, v) in enumerate(zip(left, vals)) if v]
        handles.append((_(group), _GROUP_COLORS[j]))
        left = [a + b for a, b in zip(left, vals)]
    s = Scene(width, height)
    ax = s.panel(xlim=(0, max(left) * 1.38), ylim=(len(kinds) - 0.5, -0.5), box=box,
                 title=title, title_size=9)
    for i, x0, v, color in bars:
        ax.rect(x0, i - 0.4, v, 0.8, fc=color, ec="white", lw=0.5)
    for i, k in enumerate(kinds):
        txt = f"{costs[k].total / 1000:.1f}k"
        if base is not None and base.total:
            txt += f"  ({costs[k].total / base.total:.2f}x)"
        ax.text(left[i], i, " " + txt, size=7, ha="left")
    # the stack names as fast_ticks drew them (pad 2 pt); the chosen stack's in bold
    ax.frame(spines=_SPINES, size=8, pad=_FAST_PAD,
             yticks=[(i, "") for i in range(len(kinds))])
    for i, k in enumerate(kinds):
        ax.text(0, i, _(KIND_LABELS[k]) if k in KIND_LABELS else k, size=8, ha="right",
                weight="bold" if k == highlight else "normal", coords="yaxis",
                offset=(-(_TICK + _FAST_PAD), 0))
    # a scale, not a grid: MaxNLocator(5), as the axis located it
    ax.frame(spines=(), size=8, xticks=scalar_ticks(0, max(left) * 1.38, 5),
             xlabel=_("k cycles per I/O request"), label_size=10)
    # the key right of the bars (fast_legend(outside=True)): a swatch and a text per group
    w_pt, h_pt = ax.size_points()
    fs = 6
    row, key, gap = 1.4 * fs, 1.4 * fs, 0.6 * fs
    for i, (label, color) in enumerate(handles):
        mid = -(i + 0.5) * row
        ax.rect(1, 1, key / w_pt, 0.7 * fs / h_pt, fc=color, coords="axes",
                offset=(gap, mid - 0.35 * fs), zorder=5)
        ax.text(1, 1, label, size=fs, ha="left", coords="axes",
                offset=(gap + key + 0.5 * fs, mid), zorder=6)
    return s


def stack_overview(stack, costs: Mapping[str, Any], *, width: float = 10.0,
                   height: float = 3.8):
    """A stack diagram with its I/O path (left) next to I/O costs of all stacks.

    Examples
    --------
    >>> from virtlab.hypervisor.stacks import compare_stacks, get_stack
    >>> fig = stack_overview(get_stack("type2"), compare_stacks())
    >>> len(fig.axes)
    2
    """
    fig = _fixed_figure(width, height, left=0.01, right=0.86, bottom=0.13, top=0.92,
                        wspace=0.16)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    stack_diagram(stack, ax=left)
    io_cost_bars(costs, highlight=stack.kind, ax=right)
    right.set_title(_("one 4 KiB read: cycles by step") if all(
        c.size_kib == 4 for c in costs.values()) else _("one read: cycles by step"),
        fontsize=9)
    return fig


def counts_bars(counts: Mapping[str, float], *, title: str = "", xlabel: str = "",
                width: float = 4.0, height: float = 2.4):
    """Horizontal bars for a small ``{label: value}`` mapping.

    Examples
    --------
    >>> fig = counts_bars({"IO": 3, "HLT": 1}, title="exits")
    >>> fig.axes[0].get_title()
    'exits'
    """
    if not isinstance(counts, Mapping):
        raise TypeError("counts must be a mapping of label to number")
    fig = _fixed_figure(width, height, left=0.22, right=0.95, bottom=0.2, top=0.88)
    ax = fig.add_subplot()
    labels = list(counts)
    vals = [float(counts[k]) for k in labels]
    ax.barh(range(len(labels)), vals, color=[PALETTE[i % len(PALETTE)]
                                             for i in range(len(labels))])
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:g}", va="center", fontsize=7)
    ax.set_xlim(0, (max(vals) if vals and max(vals) > 0 else 1) * 1.25)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


def grouped_bars(table: Mapping[str, Mapping[str, float]], *, title: str = "",
                 ylabel: str = "", log: bool = False, width: float = 6.0,
                 height: float = 3.0, colors: Mapping[str, str] | None = None):
    """Grouped bars: ``table[group][series] -> value``.

    With ``log=True`` the bars show ``log10(value)`` (values below 1 are drawn
    as 1) on a linear axis labelled 1, 10, 100, 1k, ...  Draws
    :func:`grouped_bars_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> fig = grouped_bars({"syscall": {"BT": 1, "VT": 2},
    ...                     "in": {"BT": 3, "VT": 1}}, title="t")
    >>> [p.get_height() for p in fig.axes[0].patches][:4]   # per series, a bar per group
    [1.0, 3.0, 2.0, 1.0]
    """
    return grouped_bars_scene(table, title=title, ylabel=ylabel, log=log, width=width,
                              height=height, colors=colors).figure()


def grouped_bars_scene(table: Mapping[str, Mapping[str, float]], *, title: str = "",
                       ylabel: str = "", log: bool = False, width: float = 6.0,
                       height: float = 3.0, colors: Mapping[str, str] | None = None,
                       xlabels: Sequence[str] | None = None) -> Scene:
    """:func:`grouped_bars` as a :class:`~virtlab.viz.scene.Scene`.

    ``xlabels``: one label per group instead of the group names.

    Examples
    --------
    >>> scene = grouped_bars_scene({"syscall": {"BT": 10, "VT": 1000}}, log=True)
    >>> [round(it[7], 6) for it in scene.items if it[0] == "rect" and it[2][0] == "data"]
    [1.0, 3.0]
    """
    if not isinstance(table, Mapping) or not table:
        raise TypeError("table must be a non-empty mapping of group to mapping")
    groups = list(table)
    if xlabels is not None:
        check_sequence("xlabels", xlabels, str, min_len=len(groups), max_len=len(groups))
    series: list[str] = []
    for g in groups:
        for s in table[g]:
            if s not in series:
                series.append(s)
    n = len(series)
    bw = 0.8 / max(n, 1)
    top = 0.0
    bars = []
    for j, s in enumerate(series):
        color = (colors or {}).get(s, PALETTE[j % len(PALETTE)])
        for i, g in enumerate(groups):
            v = float(table[g].get(s, 0.0))
            if not math.isfinite(v):
                raise ValueError(f"table[{g!r}][{s!r}] must be a finite number, got {v!r}")
            h = math.log10(max(v, 1.0)) if log else v
            top = max(top, h)
            bars.append((i - 0.4 + bw * j, h, color))
    if log:
        k = int(math.ceil(top)) + 1
        ylim = (0, k)
        yticks = [(e, _short_number(10.0 ** e)) for e in range(k + 1)]
    else:
        ylim = (0, top * 1.1 if top > 0 else 1)
        yticks = list(zip(*nice_ticks(0, ylim[1], 4)))
    sc = Scene(width, height)
    ax = sc.panel(xlim=(-0.5, len(groups) - 0.5), ylim=ylim, box=(0.1, 0.2, 0.99, 0.9),
                  title=title, title_size=9)
    for x0, h, color in bars:
        # a negative value's bar lay below the axes, where matplotlib clipped it
        ax.rect(x0, 0, bw, max(h, 0.0), fc=color)
    ax.frame(spines=_SPINES, size=7, pad=_FAST_PAD, yticks=yticks, ylabel=ylabel or "",
             label_size=8)
    # x tick labels as texts of their own: matplotlib's 3.5 pt pad below the marks,
    # where the y labels keep the 2 pt pad of the earlier fast_ticks (one frame, one pad)
    ax.frame(spines=(), xticks=[(i, "") for i in range(len(groups))])
    for i, label in enumerate(xlabels if xlabels is not None else map(str, groups)):
        ax.text(i, 0, label, size=7, va="top", coords="xaxis", offset=(0, -(_TICK + _PAD)))
    # the key as matplotlib's frameless legend (upper left, one column per series)
    w_pt, h_pt = ax.size_points()
    fs = 7
    entries = [(s, (colors or {}).get(s, PALETTE[j % len(PALETTE)]))
               for j, s in enumerate(series)]
    prop = FontProperties(size=fs)
    metrics = [measure_text(s, prop) for s, _c in entries]
    _lw, lp_h, lp_d = measure_text("lp", prop)
    # every column's baseline below the tallest ascent (matplotlib aligns them): at
    # least a line's ("lp"; in DejaVu Sans "l" reaches the font's ascent) and the
    # 0.7 em swatch that stands on the baseline
    ascent = max(0.7 * fs, *(max(h, lp_h) - max(d, lp_d) for _w, h, d in metrics))
    x, row_top = 0.9 * fs, -0.9 * fs        # border pad 0.5 em + 0.4 em
    for (label, color), (w, _h, _d) in zip(entries, metrics):
        ax.rect(0, 1, 2.0 * fs / w_pt, 0.7 * fs / h_pt, fc=color, coords="axes",
                offset=(x, row_top - ascent))
        ax.text(0, 1, label, size=fs, ha="left", va="baseline", coords="axes",
                offset=(x + 2.8 * fs, row_top - ascent))
        x += 2.8 * fs + w + 2.0 * fs        # handle, text pad, text, column spacing
    return sc


def _short_number(v: float, _pos: Any = None) -> str:
    """1, 10, 100, 1k, 10k, 100k, 1M ... for log axes."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def text_panels(panels: Sequence[tuple[str, Sequence[str]]], *,
                marks: Sequence[Sequence[bool]] | None = None, width: float = 6.4,
                height: float | None = None, title: str = ""):
    """Side-by-side monospace text columns (e.g. original vs translated code).

    Draws :func:`text_panels_scene` (the widget shows that scene as SVG).

    Parameters
    ----------
    panels : sequence of (heading, lines)
    marks : sequence of sequence of bool, optional
        Per panel, per line: highlight the line (e.g. patched instructions).

    Examples
    --------
    >>> fig = text_panels([("original", ["CLI", "ADD EAX, 1"]),
    ...                    ("translated", ["CALL vmm_cli", "ADD EAX, 1"])],
    ...                   marks=[[True, False], [True, False]])
    >>> len(fig.axes)
    2
    """
    return text_panels_scene(panels, marks=marks, width=width, height=height,
                             title=title).figure()


def text_panels_scene(panels: Sequence[tuple[str, Sequence[str]]], *,
                      marks: Sequence[Sequence[bool]] | None = None, width: float = 6.4,
                      height: float | None = None, title: str = "") -> Scene:
    """:func:`text_panels` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    Examples
    --------
    >>> scene = text_panels_scene([("original", ["CLI", "ADD EAX, 1"])], marks=[[True, False]])
    >>> [it[6] for it in scene.items if it[0] == "text"]
    ['original', 'CLI', 'ADD EAX, 1']
    >>> sum(it[0] == "rect" for it in scene.items)      # the marked line's highlight
    1
    """
    if not isinstance(panels, Sequence) or not panels:
        raise TypeError("panels must be a non-empty sequence of (heading, lines)")
    for i, panel in enumerate(check_sequence("panels", panels, tuple, max_len=8)):
        if len(panel) != 2:
            raise ValueError(f"panels[{i}] must be a (heading, lines) pair")
        check_str(f"panels[{i}] heading", panel[0], nonempty=False)
        check_sequence(f"panels[{i}] lines", panel[1], str, max_len=500)
    if marks is not None:
        for i, row in enumerate(check_sequence("marks", marks, (list, tuple), max_len=8)):
            check_sequence(f"marks[{i}]", row, bool, max_len=500)
    check_str("title", title, nonempty=False)
    nlines = max(len(lines) for _, lines in panels)
    if height is None:
        height = min(8.0, 0.6 + 0.19 * max(nlines, 2))
    top = 1 - 0.28 / height - (0.22 / height if title else 0)
    # the boxes of a 1 x n subplot grid: margins 0.01 / 0.99 / 0.02, wspace 0.04
    left, right, bottom, wspace = 0.01, 0.99, 0.02, 0.04
    cell = (right - left) / (len(panels) + wspace * (len(panels) - 1))
    s = Scene(width, height)
    for i, (heading, lines) in enumerate(panels):
        x0 = left + i * cell * (1 + wspace)
        ax = s.panel(xlim=(0, 1), ylim=(nlines + 0.2, -0.8), box=(x0, bottom, x0 + cell, top))
        if heading:     # a title on the left (matplotlib's loc="left": 6 pt above the box)
            ax.text(0, 1, heading, size=9, ha="left", va="baseline", coords="axes",
                    offset=(0, TITLE_PAD))
        for k, line in enumerate(lines):
            hot = bool(marks and i < len(marks) and k < len(marks[i]) and marks[i][k])
            if hot:
                ax.rect(0, k - 0.45, 1, 0.9, fc="#FCE3C7")
            ax.text(0.02, k, line, size=7.5, ha="left", family="monospace",
                    color="#A03000" if hot else "#000000")
    if title:           # the figure's title (suptitle): a panel spanning the picture
        s.panel(xlim=(0, 1), ylim=(0, 1)).text(0.5, 0.98, title, size=9, va="top")
    return s


def kvm_run_loop(trace: Sequence[Any], *, width: float = 6.4, height: float = 3.0,
                 max_rows: int = 14):
    """Sequence chart of a KVM run loop: guest ↔ kvm.ko ↔ QEMU per exit.

    ``trace`` is a sequence of objects with ``.reason`` (exit reason name) and
    ``.detail`` (short text), e.g. ``VmmProcess.trace`` from
    :mod:`virtlab.hypervisor.kvm`.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fig = kvm_run_loop([NS(reason="IO", detail="OUT 0x3f8 'H'"),
    ...                     NS(reason="HLT", detail="")])
    >>> fig.axes[0].get_title()
    'KVM run loop (2 exits; dashed: KVM_RUN again)'
    """
    if not isinstance(trace, Sequence):
        raise TypeError("trace must be a sequence of exits")
    fig = _fixed_figure(width, height, left=0.01, right=0.99, bottom=0.01, top=0.92)
    ax = fig.add_subplot()
    lanes = {_("guest\n(VMX non-root)"): 0, "kvm.ko\n(VMX root, ring 0)": 1,
             "QEMU\n(VMX root, ring 3)": 2}
    rows = list(trace)[:max_rows]
    n = max(len(rows), 1)
    for name, x in lanes.items():
        ax.plot([x, x], [-0.5, n], color="#999999", linewidth=1, zorder=1)
        ax.text(x, -0.7, name, ha="center", va="bottom", fontsize=7, fontweight="bold")
    for i, ev in enumerate(rows):
        reason = getattr(ev, "reason", "?")
        detail = getattr(ev, "detail", "")
        to_user = reason in ("IO", "MMIO", "HLT", "SHUTDOWN", "HYPERCALL", "DEBUG",
                             "FAIL_ENTRY", "INTERNAL_ERROR", "SYSTEM_EVENT", "UNKNOWN",
                             "EXCEPTION", "INTR", "IRQ_WINDOW_OPEN")
        color = PALETTE[["IO", "MMIO", "HLT"].index(reason)] if reason in (
            "IO", "MMIO", "HLT") else "#666666"
        ax.annotate("", xy=(1, i + 0.15), xytext=(0, i),
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=1.2))
        if to_user:
            ax.annotate("", xy=(2, i + 0.3), xytext=(1, i + 0.15),
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.2))
        ax.text(2.05, i + 0.3, f"KVM_EXIT_{reason} {detail}", fontsize=6.5,
                va="center", family="monospace")
        if i + 1 < len(rows):  # QEMU handled it: KVM_RUN again, VM entry
            ax.annotate("", xy=(0, i + 1), xytext=(2, i + 0.45),
                        arrowprops=dict(arrowstyle="-|>", color="#BBBBBB", lw=0.7,
                                        linestyle="--"))
    ax.set_xlim(-0.4, 3.6)
    ax.set_ylim(n + 0.2, -1.5)
    ax.set_axis_off()
    more = "" if len(trace) <= max_rows else _(", first {n} shown").format(n=max_rows)
    ax.set_title(_("KVM run loop ({n} exits{more}; dashed: KVM_RUN again)").format(
        n=len(trace), more=more),
                 fontsize=9)
    return fig


def debugger_view(state, *, width: float = 9.0, height: float = 3.4, window: int = 16):
    """The debugger picture: listing with EIP, registers and flags, rings.

    ``state`` is a :class:`virtlab.widgets.debugger.DebuggerState`-like
    object (``listing``, ``pc``, ``registers``, ``flags``, ``ring``,
    ``guest_ring``, ``vmx``, ``last``, ``last_exit``, ``status``,
    ``technique``).  Draws :func:`debugger_view_scene` with matplotlib (the
    widget shows that scene as SVG).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> s = NS(listing=("MOV EAX, 1", "HLT"), pc=1, registers={"EAX": 1, "EIP": 1},
    ...        flags={"IF": 0}, ring=1, guest_ring=0, vmx="-", last="", last_exit="",
    ...        status="running", technique="trap_and_emulate")
    >>> len(debugger_view(s).axes)
    1
    """
    return debugger_view_scene(state, width=width, height=height, window=window).figure()


#: The debugger's monospace lines: 7 pt, the font's own line distance (points).
_MONO_SIZE = 7.0


def debugger_view_scene(state, *, width: float = 9.0, height: float = 3.4,
                        window: int = 16) -> Scene:
    """:func:`debugger_view` as a :class:`~virtlab.viz.scene.Scene`, in inch coordinates.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> s = NS(listing=("MOV EAX, 1", "HLT"), pc=1, registers={"EAX": 1, "EIP": 1},
    ...        flags={"IF": 0}, ring=1, guest_ring=0, vmx="-", last="", last_exit="",
    ...        status="running", technique="trap_and_emulate")
    >>> scene = debugger_view_scene(s)
    >>> [t for t in scene.texts(family="monospace") if t.startswith(">")]
    ['>  1  HLT']
    """
    check_int("window", window, minimum=1, maximum=200)
    scene = Scene(width, height)
    ax = scene.panel(xlim=(0, width), ylim=(0, height))
    _w, _h, baselines = text_box("Ag\nAg", _MONO_SIZE, family="monospace")
    step = (baselines[1] - baselines[0]) / 72             # inches per line
    top = height - 0.55

    def mono(x: float, lines: Sequence[str]) -> None:
        # one text per line (each its own baseline): a multi-line text would be
        # laid out again by the browser and by matplotlib
        for i, line in enumerate(lines):
            if line:
                ax.text(x, top - i * step, line, size=_MONO_SIZE, family="monospace",
                        ha="left", va="top")

    ax.text(0.01 * width, 0.985 * height, _("{technique}: next EIP {pc}").format(
        technique=state.technique, pc=state.pc), size=9.5, ha="left", va="top", weight="bold")
    # listing, a highlight bar behind the current line
    x0, w_list = 0.08, 0.42 * width
    ax.text(x0, top + 0.2, _("guest program"), size=9, ha="left", va="baseline")
    n = len(state.listing)
    window = max(4, min(window, int((top - 0.1) / step)))
    lo = max(0, min(state.pc - window // 2, n - window))
    hi = min(n, lo + window)
    if lo <= state.pc < hi:
        k = state.pc - lo
        ax.rect(x0 - 0.04, top - (k + 1) * step - 0.01, w_list, step, fc="#FCE3C7")
    mono(x0, [f"{'>' if a == state.pc else ' '}{a:3d}  {state.listing[a]}"
              for a in range(lo, hi)])
    # registers and flags
    x1 = 0.45 * width
    ax.text(x1, top + 0.2, _("registers"), size=9, ha="left", va="baseline")
    reg_lines = [f"{k:<4s}{v:#010x} {v if v < 1 << 31 else v - (1 << 32):>6d}"
                 for k, v in state.registers.items()]
    reg_lines += ["", "  ".join(f"{k}={v}" for k, v in state.flags.items()), "",
                  _("status: {status}").format(status=_(_STATUS.get(state.status, state.status)))]
    mono(x1, reg_lines)
    # rings
    x2, w2 = 0.69 * width, 0.3 * width
    ax.text(x2, top + 0.2, _("privilege: CPU now (filled) / guest believes (hollow)"),
            size=7, ha="left", va="baseline")
    vt = state.vmx != "-"
    bar_h, gap = 0.36, 0.1
    levels = [(-1, _("VMX root (ring -1): VMM") if vt else
               (_("ring 0 of the VMM") if state.technique not in ("native", "emulation")
                else _("(no VMM)"))),
              (0, _("ring 0  kernel")), (1, _("ring {n}").format(n=1)),
              (2, _("ring {n}").format(n=2)), (3, _("ring 3  applications"))]
    ys = {}
    for i, (lvl, label) in enumerate(levels):
        y = top - (i + 1) * (bar_h + gap) + gap
        ys[lvl] = y + bar_h / 2
        ax.rect(x2, y, w2, bar_h, fc="#E8F1FA" if (vt and lvl >= 0) else "#F4F4F4",
                ec="#999999", lw=0.5)
        ax.text(x2 + 0.08, y + bar_h / 2, label, size=7, ha="left")
    if vt:
        ax.text(x2 + w2 - 0.05, (ys[0] + ys[3]) / 2, _("VMX non-root"), size=6.5, ha="right",
                color="#0072B2", rotation=90)
    real = -1 if (vt and state.vmx == "root") else state.ring
    ax.dots([x2 + w2 - 0.55], [ys[real]], color="#D55E00", size=10)
    # the guest's belief: a hollow ring 11 pt across, its line 2 pt wide (a polygon:
    # inches are the same on both axes here)
    r, cx, cy = 4.5 / 72, x2 + w2 - 0.3, ys[state.guest_ring]
    ax.polygon([cx + r * math.cos(2 * math.pi * k / 24) for k in range(24)],
               [cy + r * math.sin(2 * math.pi * k / 24) for k in range(24)],
               fc="none", ec="#0072B2", lw=2, zorder=2)
    last = state.last_exit or state.last
    if len(last) > 62:
        last = last[:59] + "..."
    if last:
        ax.text(x2, ys[3] - bar_h, _("last: {event}").format(event=last), size=6.5, ha="left",
                va="top")
    return scene
