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

from matplotlib.ticker import MaxNLocator

from ..errors import check_type
from ..i18n import _
from ..partitioning import Assignment, Milestone, UtilizationResult, entitlements
from .base import PALETTE, color_for, fast_legend, fast_ticks, freeze_ticks, new_figure
from .datacenter import fixed_grid, set_title

__all__ = ["assignment_figure", "timeline_figure", "utilization_figure"]


def assignment_axes(ax, assignment: Assignment) -> None:
    """Three bars (CPUs, memory, I/O channels), one segment per partition."""
    check_type("assignment", assignment, Assignment)
    m = assignment.machine
    ent = entitlements(assignment)
    rows = [("CPUs", m.cpus, lambda p: ent[p.name]),
            (_("memory (GiB)"), m.memory_gb, lambda p: p.memory_gb),
            (_("I/O channels"), m.channels, lambda p: p.channels)]
    for y, (label, total, get) in enumerate(rows):
        left = 0.0
        for i, p in enumerate(assignment.partitions):
            share = get(p) / total if total else 0.0
            ax.barh(y, share, left=left, color=color_for(i), edgecolor="white",
                    hatch="//" if (label == "CPUs" and p.mode == "shared") else None)
            if share > 0.07:
                ax.text(left + share / 2, y, p.name, ha="center", va="center", fontsize=7,
                        color="white")
            left += share
        if left < 1 - 1e-9:
            ax.barh(y, 1 - left, left=left, color="#eeeeee", edgecolor="white")
            ax.text(left + (1 - left) / 2, y, _("free"), ha="center", va="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xticks([])          # the segments are labelled; ticks would only cost time
    ax.invert_yaxis()
    # row names as plain artists (a matplotlib tick is five artists and a layout pass)
    fast_ticks(ax, "y", [0, 1, 2], [f"{r[0]}\n({r[1]})" for r in rows], fontsize=8)
    ax.set_xlabel(_("share of the machine (hatched: weighted share of the shared CPU pool)"),
                  fontsize=8)


def assignment_figure(assignment: Assignment):
    """The machine's resources as the firmware assigned them."""
    fig = new_figure(7, 2.6)
    ax = fig.add_subplot(fixed_grid(fig, left=0.15, bottom=0.18, top=0.88)[0])
    assignment_axes(ax, assignment)
    title = _("{machine}: {n} partitions, shared pool {cpus} CPUs")
    set_title(ax, title.format(machine=assignment.machine.name, n=len(assignment.partitions),
                               cpus=assignment.pool_cpus), fontsize=9)
    return fig


def utilization_axes(ax, result: UtilizationResult) -> None:
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
    ax.fill_between(t, total, color=legend[0][1], step="mid")
    ax.step(t, sh, where="mid", color=PALETTE[2], lw=1.5)
    ax.step(t, st, where="mid", color=PALETTE[5], lw=1.2)
    ax.axhline(result.cpus, color="black", ls="--", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.set_xlabel(_("time step"))
    ax.set_ylabel("CPUs")
    ax.set_ylim(0, max(max(total), result.cpus) * 1.35)
    # Ticks and legend as plain artists (issue 21): matplotlib's tick and legend
    # layout were most of the partition lab's redraw.
    freeze_ticks(ax)
    fast_legend(ax, legend)


def utilization_figure(result: UtilizationResult):
    """Static partitions vs one shared pool under the same fluctuating demand."""
    fig = new_figure(7, 3.0)
    ax = fig.add_subplot(fixed_grid(fig, left=0.08, bottom=0.15, top=0.9)[0])
    utilization_axes(ax, result)
    title = _("{n} partitions on {cpus} CPUs: the same demand, served statically or from a "
              "shared pool")
    set_title(ax, title.format(n=len(result.names), cpus=f"{result.cpus:g}"), fontsize=9)
    return fig


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
