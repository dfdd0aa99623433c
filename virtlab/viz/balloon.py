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

from matplotlib.ticker import MaxNLocator

from ..errors import check_type
from .base import PALETTE, new_figure

__all__ = ["policy_comparison", "timeline"]


def _fixed(fig, left, right, bottom, top, hspace=0.35, wspace=0.3):
    # fixed margins: much faster PNG rendering than the constrained layout
    fig.set_layout_engine(None)
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, hspace=hspace,
                        wspace=wspace)
    return fig


def timeline(trace):
    """Host free memory, each guest's free memory and balloon, and swapping, over time.

    Top: host free frames (black), per VM the balloon size (solid) and the
    guest's free list (dotted).  Bottom: pages moved per step by the
    hypervisor's swapping (solid) and by the guests' own swapping (dashed).
    (One legend only: every text costs redraw time in a widget.)

    Examples
    --------
    >>> from virtlab.balloon import VMSpec, simulate
    >>> t = simulate(64, [VMSpec("a", 48, 30, balloon_target=8)], steps=5)
    >>> timeline(t).axes[0].get_title()
    'reclaim by balloon: 64 host frames'
    """
    from ..balloon import BalloonTrace
    check_type("trace", trace, BalloonTrace)
    from matplotlib.lines import Line2D
    fig = _fixed(new_figure(6.6, 4.2), 0.09, 0.8, 0.1, 0.93, 0.25)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    x = range(1, trace.steps + 1)
    ax1.plot(x, trace.host_free, color="black", lw=2.2)
    handles = [Line2D([], [], color="black", lw=2.2, label="host free")]
    for i, name in enumerate(trace.vms):
        c = PALETTE[i % len(PALETTE)]
        ax1.plot(x, trace.balloon[name], color=c, lw=1.8)
        ax1.plot(x, trace.guest_free[name], color=c, lw=1.2, ls=":")
        ax2.plot(x, trace.hv_swap_io[name], color=c, lw=1.6)
        ax2.plot(x, trace.guest_swap_io[name], color=c, lw=1.2, ls="--")
        handles.append(Line2D([], [], color=c, lw=3, label=name))
    grey = "#666666"
    ax1.legend(handles=handles + [Line2D([], [], color=grey, lw=1.8, label="balloon"),
                                  Line2D([], [], color=grey, ls=":", label="guest free")],
               fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax1.set_ylabel("pages", fontsize=9)
    ax1.set_title(f"reclaim by {trace.policy}: {trace.host_frames} host frames", fontsize=10)
    ax2.set_ylabel("pages swapped / step", fontsize=9)
    ax2.text(1.03, 1.0, "—— hypervisor\n- - - guest", transform=ax2.transAxes, fontsize=7,
             va="top", color="#444444")
    ax2.set_xlabel("step", fontsize=9)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(4))
    ax2.xaxis.set_major_locator(MaxNLocator(5, integer=True))
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
    kinds = [("guest swap", ("guest_swap_out", "guest_swap_in")),
             ("guest disk reads", ("disk_reads",)),
             ("hypervisor swap", ("hv_swap_out", "hv_swap_in")),
             ("double paging", ("double_paging",))]
    fig = _fixed(new_figure(6.4, 3.0), 0.1, 0.98, 0.14, 0.9)
    ax = fig.add_subplot()
    policies = list(traces)
    width = 0.8 / len(kinds)
    for k, (label, keys) in enumerate(kinds):
        vals = [sum(traces[p].totals()[key] for key in keys) for p in policies]
        bars = ax.bar([i + (k - (len(kinds) - 1) / 2) * width for i in range(len(policies))],
                      vals, width, label=label, color=PALETTE[(4, 5, 0, 7)[k]])
        ax.bar_label(bars, fontsize=6)
    ax.set_xticks(range(len(policies)), policies)
    ax.set_ylabel("pages moved", fontsize=9)
    ax.set_title("same scenario, three ways to take memory back", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return fig
