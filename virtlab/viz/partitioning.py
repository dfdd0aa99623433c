"""Figures for partitioning: resource bars, static vs shared use, the timeline.

Examples
--------
>>> from virtlab import partitioning as pt
>>> from virtlab.viz import partitioning as vp
>>> a = pt.assign(pt.Machine(), [pt.Partition("a", 8, 2, dedicated_cpus=2),
...                              pt.Partition("b", 8, 2, weight=1)])
>>> fig = vp.assignment_figure(a)
>>> fig = vp.utilization_figure(pt.compare_static_shared(4, {"a": [1, 3], "b": [3, 1]}))
>>> fig = vp.timeline_figure(pt.TIMELINE)
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import check_type
from ..i18n import _
from ..partitioning import Assignment, Milestone, UtilizationResult, entitlements
from .base import PALETTE, color_for, new_figure, scalar_ticks
from .datacenter import fixed_grid, set_title
from .scene import Panel, Scene

__all__ = ["assignment_figure", "assignment_scene", "timeline_figure", "utilization_figure",
           "utilization_scene"]


#: Points between the lines of matplotlib's "//" hatch, along x + y (its pattern: 12 lines
#: per 72 pt tile, laid from the picture's top left corner; Panel.hatch lays them so).
HATCH_STEP = 12.0


def _assignment_panel(scene: Scene, box, assignment: Assignment) -> Panel:
    """Three bars (CPUs, memory, I/O channels), one segment per partition."""
    check_type("assignment", assignment, Assignment)
    m = assignment.machine
    ent = entitlements(assignment)
    rows = [("CPUs", m.cpus, lambda p: ent[p.name]),
            (_("memory (GiB)"), m.memory_gb, lambda p: p.memory_gb),
            (_("I/O channels"), m.channels, lambda p: p.channels)]
    title = _("{machine}: {n} partitions, shared pool {cpus} CPUs")
    # rows top-down: matplotlib's limits for bars 0.8 high at y = 0, 1, 2 (5 % margins),
    # inverted
    ax = scene.panel(xlim=(0, 1), ylim=(2.54, -0.54), box=box, title_size=9,
                     title=title.format(machine=m.name, n=len(assignment.partitions),
                                        cpus=assignment.pool_cpus))
    for y, (label, total, get) in enumerate(rows):
        left = 0.0
        for i, p in enumerate(assignment.partitions):
            share = get(p) / total if total else 0.0
            ax.rect(left, y - 0.4, share, 0.8, fc=color_for(i), ec="white")
            if label == "CPUs" and p.mode == "shared":
                ax.hatch(left, y - 0.4, share, 0.8, spacing=HATCH_STEP, color="white")
            if share > 0.07:
                ax.text(left + share / 2, y, p.name, size=7, color="white")
            left += share
        if left < 1 - 1e-9:
            ax.rect(left, y - 0.4, 1 - left, 0.8, fc="#eeeeee", ec="white")
            ax.text(left + (1 - left) / 2, y, _("free"), size=7)
    # the segments are labelled: no x ticks; the x label 4 pt (matplotlib's labelpad)
    # below the axes, as matplotlib places it on an axis without tick labels
    ax.frame(yticks=[(y, "") for y in range(len(rows))],
             spines=("left", "bottom", "right", "top"))
    for y, (label, total, _get) in enumerate(rows):
        # the row names, 3.5 pt mark + 2 pt pad left of the axis and centred on the
        # row, as the widget's plain ticks had them (frame() sets a y tick label on
        # matplotlib's center_baseline)
        ax.text(0, y, f"{label}\n({total})", size=8, ha="right", coords="yaxis",
                offset=(-5.5, 0))
    ax.text(0.5, 0, _("share of the machine (hatched: weighted share of the shared CPU pool)"),
            size=8, va="top", coords="axes", offset=(0, -4))
    return ax


def assignment_figure(assignment: Assignment):
    """The machine's resources as the firmware assigned them.

    Draws :func:`assignment_scene` (the widget shows that scene as SVG).
    """
    return assignment_scene(assignment).figure()


def assignment_scene(assignment: Assignment) -> Scene:
    """:func:`assignment_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Examples
    --------
    >>> from virtlab import partitioning as pt
    >>> a = pt.assign(pt.Machine(), [pt.Partition("a", 8, 2, dedicated_cpus=2)])
    >>> [item[6] for item in assignment_scene(a).items if item[0] == "text"][:4]
    ['a', 'free', 'a', 'free']
    """
    scene = Scene(7, 2.6)
    _assignment_panel(scene, (0.15, 0.18, 0.98, 0.88), assignment)
    return scene


def _utilization_panel(scene: Scene, box, result: UtilizationResult) -> Panel:
    """Total demand and what static partitions vs a shared pool served."""
    check_type("result", result, UtilizationResult)
    steps = len(next(iter(result.demand.values())))
    t = range(steps)
    total = [sum(result.demand[n][i] for n in result.names) for i in t]
    st = [sum(result.static[n][i] for n in result.names) for i in t]
    sh = [sum(result.shared[n][i] for n in result.names) for i in t]
    legend = [(_("demand"), "#dddddd"),
              (_("shared pool: {used} used, {unmet} unmet").format(
                  used=f"{result.shared_util:.0%}", unmet=f"{result.shared_unmet:.0%}"),
               PALETTE[2], "line"),
              (_("static: {used} used, {unmet} unmet").format(
                  used=f"{result.static_util:.0%}", unmet=f"{result.static_unmet:.0%}"),
               PALETTE[5], "line")]
    # matplotlib's x limits: the steps and 5 % on either side (a single step: the
    # empty range widened to +-0.05, then 5 %)
    xlim = (-0.05 * (steps - 1), 1.05 * (steps - 1)) if steps > 1 else (-0.055, 0.055)
    ylim = (0.0, max(max(total), result.cpus) * 1.35)
    title = _("{n} partitions on {cpus} CPUs: the same demand, served statically or from a "
              "shared pool")
    ax = scene.panel(xlim=xlim, ylim=ylim, box=box, title_size=9,
                     title=title.format(n=len(result.names), cpus=f"{result.cpus:g}"))

    def mid_steps(ys):
        # matplotlib's "steps-mid": each value held from half a step before to half after
        xs = [0.0] + [i + 0.5 for i in range(steps - 1) for _ in (0, 1)] + [steps - 1.0]
        return xs, [float(v) for v in ys for _ in (0, 1)]

    xs, ys = mid_steps(total)
    # fill_between(color=...) fills and edges the area in that colour
    ax.polygon([xs[0], *xs, xs[-1]], [0.0, *ys, 0.0], fc=legend[0][1], ec=legend[0][1])
    ax.line(*mid_steps(sh), color=PALETTE[2], lw=1.5)
    ax.line(*mid_steps(st), color=PALETTE[5], lw=1.2)
    ax.line([0, 1], [result.cpus, result.cpus], color="black", dash="dashed", lw=0.8,
            coords="yaxis")
    ax.frame(xticks=scalar_ticks(*xlim, 5), yticks=scalar_ticks(*ylim, 4), xlabel=_("time step"),
             ylabel="CPUs", size=10, spines=("left", "bottom", "right", "top"))
    ax.legend(legend, size=7)
    return ax


def utilization_figure(result: UtilizationResult):
    """Static partitions vs one shared pool under the same fluctuating demand.

    Draws :func:`utilization_scene` (the widget shows that scene as SVG).
    """
    return utilization_scene(result).figure()


def utilization_scene(result: UtilizationResult) -> Scene:
    """:func:`utilization_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Examples
    --------
    >>> from virtlab import partitioning as pt
    >>> r = pt.compare_static_shared(4, {"a": [1, 3], "b": [3, 1]})
    >>> [item[4] for item in utilization_scene(r).items if item[0] == "polygon"][0]
    (0.0, 0.0, 0.5, 0.5, 1.0, 1.0)
    """
    scene = Scene(7, 3.0)
    _utilization_panel(scene, (0.08, 0.15, 0.98, 0.9), result)
    return scene


def timeline_figure(milestones: Sequence[Milestone]):
    """The mainframe line as a timeline."""
    ms = list(milestones)
    for i, m in enumerate(ms):
        check_type(f"milestones[{i}]", m, Milestone)
    fig = new_figure(8, 2.6)
    ax = fig.add_subplot(fixed_grid(fig, left=0.02, right=0.98, bottom=0.12, top=0.9)[0])
    years = [m.year for m in ms]
    ax.axhline(0, color="#888888", lw=1)
    levels = (0.5, -0.5, 1.1, -1.1)
    for i, m in enumerate(ms):
        up = levels[i % len(levels)]
        ax.plot([m.year, m.year], [0, up], color="#888888", lw=0.8)
        ax.plot(m.year, 0, "o", color=color_for(i), ms=7)
        ax.text(m.year, up * 1.05, f"{m.year} {m.name}", ha="center",
                va="bottom" if up > 0 else "top", fontsize=8, fontweight="bold")
    ax.set_ylim(-1.7, 1.7)
    ax.set_xlim(min(years) - 4, max(years) + 4)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    set_title(ax, _("From time-sharing to virtual machines to partitions (dates: secondary "
                    "sources)"), fontsize=9)
    return fig
