"""Figures for ballooning and overcommit: the time plot and the policy comparison.

Examples
--------
>>> from virtlab.balloon import VMSpec, simulate
>>> from virtlab import viz
>>> t = simulate(96, [VMSpec("a", 64, 40, balloon_target=20)], steps=10)
>>> len(viz.balloon.timeline(t).axes)
2
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import MaxNLocator

from ..balloon import BalloonTrace
from ..errors import check_mapping, check_type
from ..i18n import _, N_
from .base import PALETTE, fast_ticks, new_figure, nice_ticks

__all__ = ["POLICY_LABELS", "policy_comparison", "timeline"]

#: How the reclaim policies are labelled (the keys are the model's values).
POLICY_LABELS = {"balloon": N_("balloon"), "swap": N_("swap"), "sharing": N_("sharing")}


def _key(ax, entries, fontsize=7, step_pt=11.0, sample_pt=18.0):
    """A legend right of ``ax``: ``(label, colour, line width, line style)`` rows.

    Drawn directly (line samples in one collection per style, one text per
    row): a matplotlib legend's box packing cost ~8 ms per widget redraw.
    Needs fixed margins (the axes' size is read now).
    """
    fig = ax.figure
    pos = ax.get_position()
    w_pt = pos.width * fig.get_figwidth() * 72
    h_pt = pos.height * fig.get_figheight() * 72
    x0, x1, xt = 1.02, 1.02 + sample_pt / w_pt, 1.02 + (sample_pt + 5) / w_pt
    rows = [(1.0 - (i + 0.5) * step_pt / h_pt, e) for i, e in enumerate(entries)]
    for style in dict.fromkeys(e[3] for e in entries):
        sel = [(y, e) for y, e in rows if e[3] == style]
        ax.add_collection(LineCollection(
            [[(x0, y), (x1, y)] for y, _ in sel], colors=[e[1] for _, e in sel],
            linewidths=[e[2] for _, e in sel], linestyles=style, transform=ax.transAxes,
            clip_on=False))
    for y, (label, *_rest) in rows:
        ax.text(xt, y, label, transform=ax.transAxes, fontsize=fontsize, va="center")


def _striped(series: list) -> list:
    """Line styles for curves that may be identical: one colour would hide the others.

    Curves with equal values share a line drawn in alternating dashes of each
    curve's colour (``-`` for a curve that equals no other), so every one of
    them stays visible.

    Examples
    --------
    >>> _striped([[1, 2], [1, 2], [3, 4]])
    [(0.0, (5.0, 5.0)), (5.0, (5.0, 5.0)), '-']
    """
    styles: list = ["-"] * len(series)
    groups: list[list[int]] = []
    for i, values in enumerate(series):
        for g in groups:
            if np.array_equal(series[g[0]], values):
                g.append(i)
                break
        else:
            groups.append([i])
    dash = 5.0
    for g in groups:
        if len(g) > 1:
            for j, i in enumerate(g):
                styles[i] = (j * dash, (dash, (len(g) - 1) * dash))
    return styles


def timeline(trace):
    """Host free memory, each guest's free memory and balloon, and swapping, over time.

    Top: host free frames (black), per VM the balloon size (solid) and the
    guest's free list (dotted).  Bottom: pages moved per step by the
    hypervisor's swapping (solid) and by the guests' own swapping (dashed).
    (The keys are drawn directly: a legend costs much redraw time in a widget.)

    Examples
    --------
    >>> from virtlab.balloon import VMSpec, simulate
    >>> t = simulate(64, [VMSpec("a", 48, 30, balloon_target=8)], steps=5)
    >>> timeline(t).axes[0].get_title()
    'reclaim by balloon: 64 host frames'
    """
    check_type("trace", trace, BalloonTrace)
    # fixed margins: much faster than a layout engine
    fig = new_figure(6.6, 4.2, margins={"left": 0.09, "right": 0.8, "bottom": 0.1,
                                        "top": 0.93, "hspace": 0.25})
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    # the curves of a panel are one LineCollection per line style (thirteen
    # Line2D objects cost more to build than to draw)
    x = np.arange(1, trace.steps + 1)

    def curve(values):
        return np.column_stack([x, values])

    top = [(curve(trace.host_free), "black", 2.2, "-")]
    bottom = []
    keys = [(_("host free"), "black", 2.2, "-")]
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(trace.vms)}
    balloon_styles = _striped([trace.balloon[n] for n in trace.vms])
    hv_styles = _striped([trace.hv_swap_io[n] for n in trace.vms])
    for i, name in enumerate(trace.vms):
        c = colors[name]
        top += [(curve(trace.balloon[name]), c, 1.8, balloon_styles[i]),
                (curve(trace.guest_free[name]), c, 1.2, ":")]
        bottom += [(curve(trace.hv_swap_io[name]), c, 1.6, hv_styles[i]),
                   (curve(trace.guest_swap_io[name]), c, 1.2, "--")]
        keys.append((name, c, 3.0, "-"))
    for ax, lines in ((ax1, top), (ax2, bottom)):
        for style in dict.fromkeys(ls for *_, ls in lines):  # one collection per style
            segs, cols, widths, _styles = zip(*(ln for ln in lines if ln[3] == style))
            ax.add_collection(LineCollection(list(segs), colors=list(cols),
                                             linewidths=list(widths), linestyles=[style]))
        ax.autoscale_view()
    grey = "#666666"
    _key(ax1, keys + [(_("balloon"), grey, 1.8, "-"), (_("guest free"), grey, 1.2, ":")])
    if any(isinstance(st, tuple) for st in balloon_styles):
        ax1.text(0.99, 0.97, _("equal balloons: striped line"), transform=ax1.transAxes,
                 ha="right", va="top", fontsize=7, color=grey)
    _key(ax2, [(_("hypervisor"), grey, 1.6, "-"), (_("guest"), grey, 1.2, "--")])
    ax1.set_ylabel(_("pages"), fontsize=9)
    # an explicit y: matplotlib otherwise measures the tick labels to place the title
    title = _("reclaim by {policy}: {frames} host frames")
    policy = _(POLICY_LABELS.get(trace.policy, trace.policy))
    ax1.set_title(title.format(policy=policy, frames=trace.host_frames), fontsize=10,
                  y=1.0, pad=4)
    ax2.set_ylabel(_("pages swapped / step"), fontsize=9)
    ax2.set_xlabel(_("step"), fontsize=9)
    # ticks as plain artists (matplotlib ticks were most of the redraw)
    xlocs, xlabels = nice_ticks(*ax2.get_xlim(), n=4, integer=True)
    fast_ticks(ax1, "x", xlocs, None, grid=0.3)
    fast_ticks(ax2, "x", xlocs, xlabels, grid=0.3)
    for ax in (ax1, ax2):
        fast_ticks(ax, "y", *nice_ticks(*ax.get_ylim(), n=3), grid=0.3)
    return fig


def policy_comparison(traces: dict):
    """Page I/O of each reclaim policy on the same scenario (sum over VMs and steps).

    Examples
    --------
    >>> from virtlab.balloon import VMSpec, compare_policies
    >>> runs = compare_policies(64, [VMSpec("a", 48, 30, balloon_target=8)], steps=5)
    >>> len(policy_comparison(runs).axes)
    1
    """
    if not isinstance(traces, dict) or not traces:
        raise TypeError("traces must be a non-empty dict of policy -> BalloonTrace")
    check_mapping("traces", traces, BalloonTrace)
    kinds = [(_("guest swap"), ("guest_swap_out", "guest_swap_in")),
             (_("guest disk reads"), ("disk_reads",)),
             (_("hypervisor swap"), ("hv_swap_out", "hv_swap_in")),
             (_("double paging"), ("double_paging",))]
    fig = new_figure(6.4, 3.0, margins={"left": 0.1, "right": 0.98, "bottom": 0.14,
                                        "top": 0.9, "hspace": 0.35, "wspace": 0.3})
    ax = fig.add_subplot()
    policies = list(traces)
    width = 0.8 / len(kinds)
    for k, (label, keys) in enumerate(kinds):
        vals = [sum(traces[p].totals()[key] for key in keys) for p in policies]
        bars = ax.bar([i + (k - (len(kinds) - 1) / 2) * width for i in range(len(policies))],
                      vals, width, label=label, color=PALETTE[(4, 5, 0, 7)[k]])
        ax.bar_label(bars, fontsize=6)
    ax.set_xticks(range(len(policies)), [_(POLICY_LABELS.get(p, p)) for p in policies])
    ax.set_ylabel(_("pages moved"), fontsize=9)
    ax.set_title(_("same scenario, three ways to take memory back"), fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return fig
