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

import math

import numpy as np
from matplotlib.ticker import AutoLocator

from ..balloon import BalloonTrace
from ..errors import check_mapping, check_type
from ..i18n import _, N_
from .base import PALETTE, new_figure, nice_ticks
from .scene import Scene

__all__ = ["POLICY_LABELS", "policy_comparison", "timeline", "timeline_scene"]

#: How the reclaim policies are labelled (the keys are the model's values).
POLICY_LABELS = {"balloon": N_("balloon"), "swap": N_("swap"), "sharing": N_("sharing")}


def _key(panel, entries, fontsize=7, step_pt=11.0, sample_pt=18.0):
    """A key right of ``panel``: ``(label, colour, line width, line style)`` rows.

    A line sample and a text per row, from the panel's top edge down (not a
    framed legend: the figure had none).
    """
    w_pt, h_pt = panel.size_points()
    x0, x1, xt = 1.02, 1.02 + sample_pt / w_pt, 1.02 + (sample_pt + 5) / w_pt
    rows = [(1.0 - (i + 0.5) * step_pt / h_pt, e) for i, e in enumerate(entries)]
    for y, (_label, color, lw, style) in rows:
        panel.line([x0, x1], [y, y], color=color, lw=lw, dash=_DASHES[style], coords="axes")
    for y, (label, *_rest) in rows:
        panel.text(xt, y, label, size=fontsize, ha="left", coords="axes")


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
    The figure draws :func:`timeline_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.balloon import VMSpec, simulate
    >>> t = simulate(64, [VMSpec("a", 48, 30, balloon_target=8)], steps=5)
    >>> [t.get_text() for t in timeline(t).axes[0].texts][-1]       # the title
    'reclaim by balloon: 64 host frames'
    """
    return timeline_scene(trace).figure()


#: The figure's fixed layout: margins (figure fractions) around two panels sharing x.
_MARGINS = {"left": 0.09, "right": 0.8, "bottom": 0.1, "top": 0.93, "hspace": 0.25}
#: Points: tick marks, tick label pad, the title above the top panel.
_TICK, _PAD, _TITLE_PAD = 3.5, 2.0, 4.0
#: Line styles as the scene names them (striped curves are cut into dashes here).
_DASHES = {"-": "solid", ":": "dotted", "--": "dashed"}
_GRID_ALPHA, _GREY = 0.3, "#666666"


def _autoscale(lo: float, hi: float) -> tuple[float, float]:
    """matplotlib's autoscaled limits for data from ``lo`` to ``hi`` (5 % margins;
    a single value widened by 5 % of itself, or to +-0.05 for zero, first)."""
    lo, hi = AutoLocator().nonsingular(lo, hi)      # the axis's default locator
    room = (hi - lo) * 0.05
    return lo - room, hi + room


def timeline_scene(trace) -> Scene:
    """:func:`timeline` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    Examples
    --------
    >>> from virtlab.balloon import VMSpec, simulate
    >>> t = simulate(64, [VMSpec("a", 48, 30, balloon_target=8)], steps=5)
    >>> scene = timeline_scene(t)
    >>> [s for s in scene.texts() if s in ("host free", "a", "balloon", "guest free")]
    ['host free', 'a', 'balloon', 'guest free']
    """
    check_type("trace", trace, BalloonTrace)
    m = _MARGINS
    cell = (m["top"] - m["bottom"]) / (2 + m["hspace"])     # subplots(2, 1)'s cell height
    x = range(1, trace.steps + 1)
    top = [(trace.host_free, "black", 2.2, "-")]
    bottom = []
    keys = [(_("host free"), "black", 2.2, "-")]
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(trace.vms)}
    balloon_styles = _striped([trace.balloon[n] for n in trace.vms])
    hv_styles = _striped([trace.hv_swap_io[n] for n in trace.vms])
    for i, name in enumerate(trace.vms):
        c = colors[name]
        top += [(trace.balloon[name], c, 1.8, balloon_styles[i]),
                (trace.guest_free[name], c, 1.2, ":")]
        bottom += [(trace.hv_swap_io[name], c, 1.6, hv_styles[i]),
                   (trace.guest_swap_io[name], c, 1.2, "--")]
        keys.append((name, c, 3.0, "-"))
    scene = Scene(6.6, 4.2)
    xlim = _autoscale(1, trace.steps)
    xlocs, xlabels = nice_ticks(*xlim, n=4, integer=True)
    panels = []
    for lines, box, xticks, ylabel, xlabel in (
            (top, (m["left"], m["top"] - cell, m["right"], m["top"]), [""] * len(xlocs),
             _("pages"), ""),
            (bottom, (m["left"], m["bottom"], m["right"], m["bottom"] + cell), xlabels,
             _("pages swapped / step"), _("step"))):
        ylim = _autoscale(min(min(v) for v, *_ in lines), max(max(v) for v, *_ in lines))
        ax = scene.panel(xlim=xlim, ylim=ylim, box=box)
        # curves style by style (one collection per style in the figure before)
        for style in dict.fromkeys(ls for *_, ls in lines):
            for values, color, lw, _ls in (ln for ln in lines if ln[3] == style):
                _curve(ax, x, values, color, lw, style)
        ylocs, ylabels = nice_ticks(*ylim, n=3)
        ax.frame(xticks=list(zip(xlocs, xticks)), yticks=list(zip(ylocs, ylabels)),
                 length=_TICK, pad=_PAD, spines=("left", "bottom", "right", "top"),
                 grid="xy", grid_alpha=_GRID_ALPHA, xlabel=xlabel, ylabel=ylabel,
                 label_size=9)
        panels.append(ax)
    ax1, ax2 = panels
    _key(ax1, keys + [(_("balloon"), _GREY, 1.8, "-"), (_("guest free"), _GREY, 1.2, ":")])
    if any(isinstance(st, tuple) for st in balloon_styles):
        ax1.text(0.99, 0.97, _("equal balloons: striped line"), size=7, color=_GREY,
                 ha="right", va="top", coords="axes")
    _key(ax2, [(_("hypervisor"), _GREY, 1.6, "-"), (_("guest"), _GREY, 1.2, "--")])
    title = _("reclaim by {policy}: {frames} host frames")
    policy = _(POLICY_LABELS.get(trace.policy, trace.policy))
    ax1.text(0.5, 1, title.format(policy=policy, frames=trace.host_frames), size=10,
             va="baseline", coords="axes", offset=(0, _TITLE_PAD))
    return scene


def _curve(panel, xs, values, color, lw, style):
    """One curve: a polyline, or for a striped style (:func:`_striped`) one polyline
    per dash (a scene has no dash offsets)."""
    if not isinstance(style, tuple):
        panel.line(xs, values, color=color, lw=lw, dash=_DASHES[style])
        return
    for run in _dash_runs(panel, list(xs), list(values), style, lw):
        panel.line(*zip(*run), color=color, lw=lw)


def _dash_runs(panel, xs, ys, style, lw):
    """The dashes of the polyline (xs, ys) drawn with ``style`` = ``(offset, (on, off))``
    (in line widths, as matplotlib scales a dash pattern) on ``panel``.

    Returns one list of data points per dash: the pattern is laid along the
    polyline's length in points, a dash may turn at the curve's corners.

    Examples
    --------
    >>> from virtlab.viz.scene import Scene
    >>> p = Scene(2, 1).panel(xlim=(0, 100), ylim=(0, 1), box=(0, 0, 1, 1))   # 1.44 pt/unit
    >>> [[round(x, 2) for x, _y in run] for run in _dash_runs(p, [0, 20], [0, 0], (5, (5, 5)), 1)]
    [[3.47, 6.94], [10.42, 13.89], [17.36, 20]]
    """
    offset, (on, off) = style
    start, on, period = offset * lw, on * lw, (on + off) * lw

    def dashed(s):            # is the pattern "on" at s points along the curve?
        return (s + start) % period < on

    pts = [panel.to_points(x, y) for x, y in zip(xs, ys)]
    runs, run, done = [], None, 0.0          # done: points along the curve so far
    for i in range(len(pts) - 1):
        length = math.dist(pts[i], pts[i + 1])
        if not length:
            continue
        # the segment's pieces between the points where a dash starts or ends, as
        # fractions of the segment (0 and 1 exactly: the corners themselves)
        cuts = []
        k = math.floor((done + start) / period)
        while k * period - start < done + length:
            cuts += [(c - done) / length for c in (k * period - start, k * period - start + on)
                     if done < c < done + length]
            k += 1
        cuts = [0.0] + sorted(cuts) + [1.0]
        x0, y0, x1, y1 = xs[i], ys[i], xs[i + 1], ys[i + 1]
        for t0, t1 in zip(cuts, cuts[1:]):
            if t1 <= t0:
                continue
            if not dashed(done + (t0 + t1) / 2 * length):
                if run is not None:
                    runs.append(run)
                    run = None
                continue
            a = (x0, y0) if t0 == 0.0 else (x0 + t0 * (x1 - x0), y0 + t0 * (y1 - y0))
            b = (x1, y1) if t1 == 1.0 else (x0 + t1 * (x1 - x0), y0 + t1 * (y1 - y0))
            if run is None:
                run = [a]
            elif run[-1] != a:        # a dash goes on round a corner: one polyline
                run.append(a)
            run.append(b)
        done += length
    if run is not None:
        runs.append(run)
    return runs


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
