"""Figures for consolidation and availability.

The pictures the widgets redraw (:func:`placement_heatmap`, :func:`host_map`)
are described once as a :class:`~virtlab.viz.scene.Scene` (``*_scene``): the
widgets write that scene as SVG directly, the functions without the suffix
draw it with matplotlib for the static pages (issue 21).

Examples
--------
>>> from virtlab.consolidation import consolidate, make_servers
>>> from virtlab.availability import compare_measures, host_failure
>>> from virtlab.viz import consolidation as vc
>>> p = consolidate(make_servers(12))
>>> len(vc.placement_figure(p).axes)      # heat map, before/after bars
2
>>> fig = vc.host_map(p, host_failure(p, 0, spares=1, restart=True))
>>> fig = vc.availability_figure(compare_measures(make_servers(12)))
>>> len(vc.placement_heatmap(p).axes)
1
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib import colormaps
from matplotlib.colors import to_hex

from ..availability import AvailabilityReport, FailureImpact
from ..consolidation import Placement
from ..errors import check_choice, check_str, check_type
from ..i18n import N_, _
from .base import PALETTE, color_for, new_figure, scalar_ticks
from .datacenter import fixed_grid, set_title
from .scene import Panel, Scene

__all__ = ["availability_figure", "host_map", "host_map_scene", "placement_figure",
           "placement_figure_scene", "placement_heatmap", "placement_heatmap_scene"]

_BEFORE, _AFTER = "#999999", PALETTE[0]
_COLOR_BY = {"service": N_("service"), "tenant": N_("tenant")}
_LOST, _SPINES = "#d62728", ("left", "bottom", "right", "top")
_FAILED_ALPHA = 0.35               # the failed host's VMs: pale, hatched
#: viridis as imshow colours it: 256 levels, utilization u -> level min(int(256 u), 255).
_VIRIDIS = tuple(to_hex(c) for c in colormaps["viridis"](range(256)))
#: matplotlib's default tick label size, tick length and pad (points).
_TICK_SIZE, _TICK_LEN, _TICK_PAD = 10.0, 3.5, 3.5


#: matplotlib's '///' hatch: 3 x 6 (hatch density) lines across a tile of an inch
#: corner to corner, i.e. 8 pt apart along x; 1 pt wide.
_HATCH_SPACING = 72.0 / 9


def _auto_ticks(lo: float, hi: float, length: float, size: float, axis: str):
    """matplotlib's default (``AutoLocator``) ticks of an axis ``length`` points long.

    As ``MaxNLocator(nbins="auto")``: room for one label per 3 (x) or 2 (y)
    label sizes, at most 9 bins; labels as ``ScalarFormatter`` writes them.
    """
    lo, hi = sorted((lo, hi))
    bins = max(1, min(9, math.floor(length / (size * (3 if axis == "x" else 2)))))
    return scalar_ticks(lo, hi, bins, steps=[1, 2, 2.5, 5, 10])


def heat_panel(scene: Scene, box, placement: Placement) -> Panel:
    """Hosts x hours, coloured by CPU utilization: a panel of ``scene`` in ``box``.

    One box per run of equal colour in a host's day (as ``imshow`` with
    ``viridis``, nearest: host 0 on top, an hour per column).
    """
    p = placement
    n = len(p.hosts)
    title = _("{policy}: {servers} servers on {hosts} hosts, {overhead} overhead\n"
              "CPU utilization {before} before → {after} after")
    title = title.format(policy=p.policy, servers=len(p.servers), hosts=p.hosts_after,
                         overhead=f"{p.overhead:.0%}", before=f"{p.cpu_util_before:.0%}",
                         after=f"{p.cpu_util_after:.0%}")
    ax = scene.panel(xlim=(-0.5, 23.5), ylim=(n - 0.5, -0.5), box=box, title=title,
                     title_size=9)
    # Each box reaches half a point under its right and lower neighbours (drawn
    # later): boxes that only touch show a light seam where the renderer
    # smooths both edges.
    wp, hp = ax.size_points()
    over_x, over_y = 0.5 * 24 / wp, 0.5 * n / hp
    for row, host in enumerate(p.hosts):
        levels = [min(max(int(c / p.host.cpus * 256), 0), 255) for c in host.cpu]
        start, below = 0, over_y if row < n - 1 else 0.0
        for hour in range(1, 25):
            if hour == 24 or levels[hour] != levels[start]:
                ax.rect(start - 0.5, row - 0.5, hour - start + (over_x if hour < 24 else 0.0),
                        1.0 + below, fc=_VIRIDIS[levels[start]])
                start = hour
    xticks = [(h, str(h)) for h in range(0, 24, 4)]
    yticks = ([(i, str(i)) for i in range(n)] if n <= 12
              else _auto_ticks(-0.5, n - 0.5, ax.size_points()[1], _TICK_SIZE, "y"))
    ax.frame(xticks=xticks, yticks=yticks, size=_TICK_SIZE, spines=_SPINES, ylabel=_("host"),
             xlabel=_("hour of day (colour: CPU utilization, dark 0 % → yellow 100 %)"),
             label_size=(8, _TICK_SIZE))
    return ax


def placement_heatmap(placement: Placement):
    """Only the heat map (one axes: the widget's fast redraw; numbers go in its table).

    Draws :func:`placement_heatmap_scene` with matplotlib.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> placement_heatmap(consolidate(make_servers(12))).get_size_inches().tolist()
    [6.5, 3.2]
    """
    return placement_heatmap_scene(placement).figure()


def placement_heatmap_scene(placement: Placement) -> Scene:
    """:func:`placement_heatmap` as a :class:`~virtlab.viz.scene.Scene`.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> p = consolidate(make_servers(12))
    >>> scene = placement_heatmap_scene(p)
    >>> sum(kind == "rect" for kind, *_ in scene.items) >= p.hosts_after   # runs of hours
    True
    >>> placement_heatmap_scene("p")
    Traceback (most recent call last):
    ...
    TypeError: placement must be Placement, got str
    """
    check_type("placement", placement, Placement)
    scene = Scene(6.5, 3.2)
    heat_panel(scene, (0.09, 0.15, 0.98, 0.85), placement)
    return scene


def placement_figure(placement: Placement):
    """Host CPU load over the day (heat map) plus machines and energy before/after.

    Draws :func:`placement_figure_scene` with matplotlib.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> placement_figure(consolidate(make_servers(12))).axes[1].get_title()
    'before vs after'
    """
    return placement_figure_scene(placement).figure()


def placement_figure_scene(placement: Placement) -> Scene:
    """:func:`placement_figure` as a :class:`~virtlab.viz.scene.Scene`.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> len(placement_figure_scene(consolidate(make_servers(12))).panels)
    2
    """
    check_type("placement", placement, Placement)
    p = placement
    scene = Scene(8.5, 3.4)
    # the cells of fixed_grid(1, 2, width_ratios=[2.2, 1], left=0.07, right=0.98,
    # wspace=0.25): wspace is a share of the mean cell width
    cell = (0.98 - 0.07) / (2 + 0.25)
    heat_right = 0.07 + 2 * cell * 2.2 / 3.2
    heat_panel(scene, (0.07, 0.14, heat_right, 0.83), p)
    labels = [_("machines"), _("kWh/day*")]
    before = [p.hosts_before, p.energy_before_kwh]
    after = [p.hosts_after, p.energy_after_kwh]
    share = [100 * a / b if b else 0.0 for a, b in zip(after, before)]
    # barh's limits: the bars' extent plus 5 % margins, inverted (first row on top)
    bx = scene.panel(xlim=(0, 125), ylim=(1.49, -0.49), box=(heat_right + 0.25 * cell, 0.14,
                                                             0.98, 0.83),
                     title=_("before vs after"), title_size=9)
    for y, b_, a_, sh in zip((0, 1), before, after, share):
        bx.rect(0, y, 100, 0.4, fc=_BEFORE)
        bx.rect(0, y - 0.4, sh, 0.4, fc=_AFTER)
        bx.text(101, y + 0.2, f"{b_:,.0f}", ha="left", size=7)
        bx.text(sh + 1, y - 0.2, f"{a_:,.0f}", ha="left", size=7)
    xticks = _auto_ticks(0, 125, bx.size_points()[0], 7, "x")
    bx.frame(xticks=xticks, yticks=[(0, labels[0]), (1, labels[1])], size=7, spines=_SPINES,
             xlabel=_("% of before  (*incl. cooling, illustrative)"))
    bx.legend([(_("before"), _BEFORE), (_("after"), _AFTER)], size=7, loc="lower right")
    return scene


def host_map(placement: Placement, impact: FailureImpact | None = None, *,
             title: str | None = None, color_by: str = "service"):
    """Each host as a stack of its VMs at the host's busiest hour; a failure marked.

    Bar heights are each VM's CPU demand (overhead included) in the hour when
    that host's total is highest, so a stack never exceeds the capacity line.
    VMs of the failed host are hatched; restarted ones reappear (dotted) on
    the host or spare that took them; lost ones stay red.  ``color_by`` is
    ``"service"`` (replicas share a colour) or ``"tenant"`` (name prefix
    before ``":"``); ``title`` replaces the default title.  Draws
    :func:`host_map_scene` with matplotlib.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> host_map(consolidate(make_servers(12)), title="12 servers").axes[0].get_title()
    '12 servers'
    """
    return host_map_scene(placement, impact, title=title, color_by=color_by).figure()


def host_map_scene(placement: Placement, impact: FailureImpact | None = None, *,
                   title: str | None = None, color_by: str = "service") -> Scene:
    """:func:`host_map` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> p = consolidate(make_servers(12))
    >>> scene = host_map_scene(p)
    >>> sum(kind == "rect" for kind, *_ in scene.items) == len(p.servers)   # a box per VM
    True
    >>> host_map_scene(p, color_by="colour")
    Traceback (most recent call last):
    ...
    ValueError: color_by must be one of 'service', 'tenant'; got 'colour'
    """
    check_type("placement", placement, Placement)
    check_choice("color_by", color_by, ("service", "tenant"))
    if impact is not None:
        check_type("impact", impact, FailureImpact)
    if title is not None:
        check_str("title", title, nonempty=False)

    def key(vm):
        return vm.split(":")[0] if color_by == "tenant" else vm.rsplit("-", 1)[0]
    p = placement
    f = 1 + p.overhead
    cpu = {s.name: [c * f for c in s.cpu] for s in p.servers}
    columns = [(f"host {h.index}", list(h.vms)) for h in p.hosts]
    moved: dict[str, list[str]] = {}
    lost: set[str] = set()
    failed = None
    if impact is not None:
        failed = impact.failed_host
        lost = set(impact.lost)
        for name, where in impact.restarted:
            moved.setdefault(where, []).append(name)
        spares = sorted({w for _, w in impact.restarted if w.startswith("spare")})
        columns += [(s, []) for s in spares]
    if title is None and impact is None:
        title = _("VMs per host (colour: {color_by})").format(color_by=_(_COLOR_BY[color_by]))
    elif title is None:
        title = _("host {failed} fails: {down} VMs down, {restarted} restarted (dotted), "
                  "{lost} lost (red)").format(failed=failed, down=len(impact.vms_down),
                                              restarted=len(impact.restarted),
                                              lost=len(impact.lost))
    crowded = len(columns) > 10
    scene = Scene(8.5, 3.2)
    cap = p.host.cpus
    ax = scene.panel(xlim=(-0.6, len(columns) - 0.4), ylim=(0, cap * 1.12),
                     box=(0.07, 0.24 if crowded else 0.16, 0.98, 0.9), title=title, title_size=9)
    for x, (label, vms) in enumerate(columns):
        is_failed = failed is not None and label == f"host {failed}"
        extra = [] if is_failed else moved.get(label, [])
        every = vms + extra
        if not every:
            continue
        hour = max(range(24), key=lambda h: sum(cpu[v][h] for v in every))
        y = 0.0
        for vm in vms:
            dy = cpu[vm][hour]
            ax.rect(x - 0.4, y, 0.8, dy, fc=_LOST if vm in lost else color_for(key(vm)),
                    ec="white", lw=0.5, alpha=_FAILED_ALPHA if is_failed else 1.0)
            y += dy
        if is_failed:
            # as transparent as the failed host's bars (matplotlib draws a
            # hatch with its patch's alpha)
            ax.hatch(x - 0.4, 0.0, 0.8, y, spacing=_HATCH_SPACING, color="white",
                     alpha=_FAILED_ALPHA)
        for vm in extra:            # restarted or migrated here: a dotted red outline
            dy = cpu[vm][hour]
            ax.rect(x - 0.4, y, 0.8, dy, fc="white")
            ax.line([x - 0.4, x + 0.4, x + 0.4, x - 0.4, x - 0.4], [y, y, y + dy, y + dy, y],
                    color=_LOST, lw=1.2, dash="dotted")
            y += dy
    ax.line([0, 1], [cap, cap], lw=0.8, dash="dashed", coords="yaxis")
    ax.text(-0.45, cap, _("capacity"), size=7, va="bottom", ha="left")
    names = [c[0] for c in columns]
    # many columns: the names turned upright (matplotlib's figure turned them by
    # 45 degrees; a scene turns texts by 0 or 90 only)
    ax.frame(xticks=[(x, "" if crowded else s) for x, s in enumerate(names)], size=7,
             spines=_SPINES)
    if crowded:
        for x, s in enumerate(names):
            ax.text(x, 0, s, size=7, va="top", rotation=90, coords="xaxis",
                    offset=(0, -(_TICK_LEN + _TICK_PAD)))
    ax.frame(yticks=_auto_ticks(0, cap * 1.12, ax.size_points()[1], _TICK_SIZE, "y"),
             ylabel=_("cores at the host's busiest hour"), size=_TICK_SIZE, spines=())
    return scene


def availability_figure(reports: Sequence[AvailabilityReport]):
    """Expected VMs down and lost per host failure, one bar pair per measure."""
    reports = list(reports)
    for i, r in enumerate(reports):
        check_type(f"reports[{i}]", r, AvailabilityReport)
    fig = new_figure(6.5, 3.0)
    ax = fig.add_subplot(fixed_grid(fig, left=0.1, bottom=0.12, top=0.9)[0])
    x = range(len(reports))
    ax.bar([i - 0.2 for i in x], [r.vms_down for r in reports], width=0.4, color="#bbbbbb",
           label=_("VMs down at the failure"))
    ax.bar([i + 0.2 for i in x], [r.vms_lost for r in reports], width=0.4, color=PALETTE[5],
           label=_("VMs still down (lost)"))
    for i, r in enumerate(reports):
        ax.text(i + 0.2, r.vms_lost, f"{r.vms_lost:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(x), [r.label for r in reports], fontsize=8)
    ax.set_ylabel(_("expected per host failure"))
    set_title(ax, _("What one host failure costs"), fontsize=9)
    ax.legend(fontsize=7)
    return fig
