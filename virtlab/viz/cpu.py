"""Figures for the CPU topics: overhead per technique, Popek & Goldberg sets, microbenchmarks.

Every function takes model results and returns a Figure (object API, no
pyplot).  The overhead bars, which a widget redraws, are described once as a
:class:`~virtlab.viz.scene.Scene` (:func:`overhead_bars_scene`): the widget
writes it as SVG directly, :func:`overhead_bars` draws it with matplotlib.

Examples
--------
>>> from virtlab.popek_goldberg import classify
>>> from virtlab.isa import X86_32
>>> fig = classification_venn(classify(X86_32))
>>> len(fig.axes)
1
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.ticker import NullLocator

from ..errors import check_mapping, check_number, check_sequence, check_type
from ..hypervisor.vm import RunResult
from ..i18n import _, N_
from .base import PALETTE, new_figure, scalar_ticks
from .scene import Scene

__all__ = ["overhead_bars", "overhead_bars_scene", "classification_venn", "microbench_bars",
           "cycle_breakdown"]

#: How the techniques are labelled (the keys are the models' mode names).
_LABELS = {"native": N_("native"), "emulation": N_("emulation"),
           "trap_and_emulate": N_("trap & emulate"), "binary_translation": N_("binary transl."),
           "hardware": N_("VT-x (EPT)"), "paravirt": N_("paravirt")}
_COLORS = {"native": PALETTE[7], "emulation": PALETTE[5], "trap_and_emulate": PALETTE[3],
           "binary_translation": PALETTE[1], "hardware": PALETTE[0], "paravirt": PALETTE[2]}


def overhead_bars(relative: Mapping[str, float], *, band=(1.05, 1.10), title: str = "",
                  reuse: Figure | None = None):
    """Horizontal bars: simulated run time relative to native (log scale).

    Draws :func:`overhead_bars_scene` (the widget shows that scene as SVG):
    on the left every technique on a log scale, on the right the overhead in
    percent with the lecture's band shaded (named in the axis label, no
    legend).

    Parameters
    ----------
    relative : mapping mode -> float
        Cycles relative to native (native = 1.0), e.g. ``1 + overhead``.
    band : (float, float)
        The lecture's "5 to 10 %" band, shaded.
    title : str
        Optional title above both panels.
    reuse : Figure, optional
        A figure returned by an earlier call.  If it has the same number of
        rows, band and title, the new picture is drawn into it and it is
        returned; otherwise a new figure is made.  Do not pass a figure you
        still want to show unchanged.

    Examples
    --------
    >>> fig = overhead_bars({"native": 1.0, "emulation": 40.0, "hardware": 1.07})
    >>> [t.get_text() for t in fig.axes[0].texts][-4:]     # the log scale, labelled
    ['1x', '10x', '100x', 'cycles relative to native (log)']

    Drawing into an earlier figure draws exactly the picture a new figure shows:

    >>> from virtlab.viz.base import to_svg
    >>> other = {"native": 1.0, "emulation": 900.0, "paravirt": 3.5}
    >>> overhead_bars(other, reuse=fig) is fig
    True
    >>> to_svg(fig) == to_svg(overhead_bars(other))
    True
    """
    scene = overhead_bars_scene(relative, band=band, title=title)
    if reuse is not None:
        check_type("reuse", reuse, Figure)
    key = (len(relative), tuple(band), title)
    if reuse is not None and getattr(reuse, "_virtlab_overhead_bars", None) == key:
        reuse.clear()
        scene.draw([reuse.add_axes((x0, y0, x1 - x0, y1 - y0))
                    for x0, y0, x1, y1 in (p.box for p in scene.panels)])
        return reuse
    fig = scene.figure()
    fig._virtlab_overhead_bars = key
    return fig


def overhead_bars_scene(relative: Mapping[str, float], *, band=(1.05, 1.10),
                        title: str = "") -> Scene:
    """:func:`overhead_bars` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    The log scale is drawn on a linear panel: positions are ``log10`` of the
    values, the ticks labelled 1x, 10x, ...

    Examples
    --------
    >>> scene = overhead_bars_scene({"native": 1.0, "emulation": 40.0})
    >>> [it[6] for it in scene.items if it[0] == "text" and it[6].endswith(".0x")]
    ['40.0x']
    """
    check_type("relative", relative, Mapping)
    if not relative:
        raise ValueError("relative must not be empty")
    for k, v in relative.items():
        if not isinstance(v, (int, float)) or not v > 0 or v != v or v == float("inf"):
            raise ValueError(f"relative[{k!r}] must be a positive finite number, got {v!r}")
    names = list(relative)
    vals = [float(relative[k]) for k in names]
    colors = [_COLORS.get(k, PALETTE[4]) for k in names]
    n = len(names)
    height = 0.42 * n + 1.4
    s = Scene(7.2, height)
    # the boxes of a 1 x 2 subplot grid (width ratios 1.15 : 1, wspace 0.08)
    left, right, wspace, ratios = 0.15, 0.98, 0.08, (1.15, 1.0)
    bottom, top = 0.55 / height, 1 - (0.3 if title else 0.12) / height
    cell = (right - left) / (2 + wspace)
    split = left + ratios[0] * cell * 2 / sum(ratios)
    # left: everything, log scale (emulation is an order of magnitude away)
    x0, hi = 0.9, max(max(vals) * 3.0, 2.0)
    ax = s.panel(xlim=(math.log10(x0), math.log10(hi)), ylim=(n - 0.5, -0.5),
                 box=(left, bottom, split, top))
    for y, (v, color) in enumerate(zip(vals, colors)):
        # a bar shorter than the left edge lay outside the axes, where matplotlib clipped it
        ax.rect(math.log10(x0), y - 0.3, max(math.log10(v / x0), 0.0), 0.6, fc=color)
    ax.line([0, 0], [0, 1], color="#4d4d4d", lw=0.8, coords="xaxis")     # 1x: native
    for y, (k, v) in enumerate(zip(names, vals)):
        ax.text(-0.02, y, _(_LABELS[k]) if k in _LABELS else k, size=8.5, ha="right",
                coords="yaxis")
        ax.text(math.log10(v * 1.06), y, f"{v:.1f}x" if v >= 1.995 else f"{v:.2f}x",
                size=7.5, ha="left")
    ax.frame(spines=("left", "bottom", "right", "top"), size=8,
             xticks=[(math.log10(t), f"{t}x") for t in (1, 10, 100, 1000, 10000, 100000)
                     if t <= hi],
             xlabel=_("cycles relative to native (log)"))
    # right: zoom on the overhead in percent, with the lecture's band
    lo_pct, hi_pct = band[0] * 100 - 100, band[1] * 100 - 100
    pct = [(v - 1.0) * 100 for v in vals]
    lim = max([p for p in pct if p < 100] + [12.0]) * 1.25
    zx = s.panel(xlim=(0, lim * 1.3), ylim=(n - 0.5, -0.5),
                 box=(split + wspace * cell, bottom, right, top))
    zx.rect(lo_pct, 0, hi_pct - lo_pct, 1, fc=PALETTE[2], alpha=0.2, coords="xaxis")
    for y, (p, color) in enumerate(zip(pct, colors)):
        zx.rect(0, y - 0.3, max(min(p, lim), 0.0), 0.6, fc=color)
    for y, p in enumerate(pct):
        if p < lim:
            zx.text(p + lim * 0.02, y, f"+{p:.1f} %", size=7.5, ha="left")
        else:   # off the scale: label inside the bar
            zx.text(lim * 0.97, y, f"+{p:.0f} % →", size=7.5, ha="right", color="white",
                    weight="bold")
    zx.frame(spines=("left", "bottom", "right", "top"), size=8,
             xticks=scalar_ticks(0, lim * 1.3, 4),
             xlabel=_("overhead vs native (%), shaded: lecture {lo}-{hi} %").format(
                 lo=f"{lo_pct:g}", hi=f"{hi_pct:g}"))
    if title:           # the figure's title (suptitle): a panel spanning the picture
        s.panel(xlim=(0, 1), ylim=(0, 1)).text(0.5, 0.98, title, size=10, va="top")
    return s


def cycle_breakdown(results: Mapping[str, object]):
    """Stacked bars of each run's cycle breakdown (direct, exits, traps, ...).

    ``results`` maps mode → :class:`virtlab.hypervisor.RunResult`.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> from virtlab.hypervisor import run_all
    >>> fig = cycle_breakdown(run_all(assemble("CLI\\nHLT"), ("native", "hardware")))
    >>> len(fig.axes[0].patches) > 0
    True
    """
    check_type("results", results, Mapping)
    if not results:
        raise ValueError("results must not be empty")
    check_mapping("results", results, RunResult)
    fig = new_figure(7.6, 3.0)
    ax = fig.add_subplot()
    found = {k for r in results.values() for k, v in r.cycle_breakdown.items() if v}
    # Directly executed work first, in grey (the base every technique shares); every
    # other item gets a colour of its own (the palette plus two, so none repeats).
    items = (["direct"] if "direct" in found else []) + sorted(found - {"direct"})
    colours = iter(PALETTE + ("#882255", "#999933", "#44AA99", "#AA4499"))
    bottoms = [0.0] * len(results)
    names = list(results)
    for item in items:
        vals = [results[n].cycle_breakdown.get(item, 0.0) for n in names]
        colour = "#cccccc" if item == "direct" else next(colours, "#777777")
        ax.bar(range(len(names)), vals, bottom=bottoms, color=colour, label=item, width=0.6)
        bottoms = [b + v for b, v in zip(bottoms, vals)]
    ax.set_xticks(range(len(names)), [_(_LABELS[n]) if n in _LABELS else n for n in names],
                  fontsize=8)
    ax.set_ylabel(_("simulated cycles"))
    # Outside the axes: inside, the legend would cover the bars.  Reversed, so the
    # legend lists the items in the order they are stacked (top first).
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], fontsize=7, frameon=False,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def classification_venn(classification, *, title: str | None = None,
                        reuse: Figure | None = None):
    """Two circles — privileged and sensitive — with the critical names in the gap.

    Popek & Goldberg's Theorem 1 holds when the sensitive circle lies inside
    the privileged one, i.e. when the "critical" region is empty.

    ``reuse`` may be a figure returned by an earlier call: its axes are kept
    and only the circles and texts are drawn anew (a widget redraw then
    builds no axes); the same figure is returned.  Do not pass a figure you
    still want to show unchanged.

    Examples
    --------
    >>> from virtlab.popek_goldberg import classify
    >>> from virtlab.isa import TOY
    >>> fig = classification_venn(classify(TOY))
    >>> "virtualizable" in fig.axes[0].get_title()
    True

    Redrawing into the same figure gives exactly the picture of a new one:

    >>> from virtlab.isa import X86_32
    >>> from virtlab.viz.base import to_svg
    >>> classification_venn(classify(X86_32), reuse=fig) is fig
    True
    >>> to_svg(fig) == to_svg(classification_venn(classify(X86_32)))
    True
    """
    for attr in ("privileged", "sensitive", "innocuous", "critical", "isa"):
        if not hasattr(classification, attr):
            raise TypeError("classification must be a popek_goldberg.Classification, "
                            f"got {type(classification).__name__}")
    if reuse is not None:
        check_type("reuse", reuse, Figure)
    c = classification
    ax = getattr(reuse, "_virtlab_venn_axes", None)
    if ax is not None:
        fig = reuse
        for artist in [*ax.patches, *ax.texts]:
            artist.remove()
    else:
        # fixed margins: no layout engine (which would draw the figure twice)
        fig = new_figure(6.4, 3.6, margins={"left": 0.01, "right": 0.99, "bottom": 0.01,
                                            "top": 0.92})
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.91))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.xaxis.set_major_locator(NullLocator())     # no tick objects to build or measure
        ax.yaxis.set_major_locator(NullLocator())
        fig._virtlab_venn_axes = ax
    priv_only = c.privileged - c.sensitive
    both = c.privileged & c.sensitive
    crit = c.critical
    ax.add_patch(Circle((3.7, 3.0), 2.5, color=PALETTE[0], alpha=0.25, lw=0))
    ax.add_patch(Circle((6.1, 3.0), 2.5, color=PALETTE[5], alpha=0.25, lw=0))
    ax.text(2.2, 5.7, _("privileged ({n})").format(n=len(c.privileged)), ha="center", fontsize=9,
            color=PALETTE[0], weight="bold")
    ax.text(7.6, 5.7, _("sensitive ({n})").format(n=len(c.sensitive)), ha="center", fontsize=9,
            color=PALETTE[5], weight="bold")
    ax.text(2.4, 3.0, _("{n}\nprivileged,\nnot sensitive").format(n=len(priv_only)), ha="center",
            va="center", fontsize=8)
    ax.text(4.9, 3.0, _("{n}\nsensitive and\nprivileged\n(trap: OK)").format(n=len(both)),
            ha="center",
            va="center", fontsize=8)
    crit_names = sorted(crit)
    if crit_names:
        rows = [", ".join(crit_names[i:i + 3]) for i in range(0, len(crit_names), 3)]
        critical = _("{n} CRITICAL\n(sensitive, not privileged)").format(n=len(crit))
        ax.text(7.45, 3.0, critical + "\n"
                + "\n".join(rows), ha="center", va="center", fontsize=6.5,
                color=PALETTE[5], weight="bold")
    else:
        ax.text(7.45, 3.0, _("0 critical"), ha="center", va="center", fontsize=9)
    ax.text(0.2, 0.2, _("innocuous (neither): {n}").format(n=len(c.innocuous)), fontsize=8,
            color="0.3")
    ok = not crit
    verdict = (_("virtualizable (Theorem 1: sensitive ⊆ privileged)") if ok else
               _("NOT virtualizable by Theorem 1: critical instructions exist"))
    # a fixed title position (y=1): matplotlib need not measure the axes to place it
    ax.set_title(title if title is not None else f"{c.isa}: {verdict}", fontsize=10,
                 color=PALETTE[2] if ok else PALETTE[5], y=1.0)
    return fig


def microbench_bars(table: Mapping[str, Mapping[str, float]], *, configs=None):
    """Grouped bars: cycles per iteration of each microbenchmark per configuration.

    ``table`` maps benchmark → {configuration → cycles} (e.g. from
    :func:`virtlab.hypervisor.microbench.cycles_table` or the ``cycles`` of
    :func:`~virtlab.hypervisor.microbench.compare_bt_vt` rows).

    Examples
    --------
    >>> fig = microbench_bars({"in": {"native": 3, "hardware": 2300},
    ...                        "syscall": {"native": 210, "hardware": 210}})
    >>> fig.axes[0].get_yscale()
    'log'
    """
    check_type("table", table, Mapping)
    if not table:
        raise ValueError("table must not be empty")
    for name, row in check_mapping("table", table, Mapping).items():
        for cfg, value in check_mapping(f"table[{name!r}]", row).items():
            check_number(f"table[{name!r}][{cfg!r}]", value)
    if configs is not None:
        check_sequence("configs", configs, str, max_len=20)
    names = list(table)
    cfgs = list(configs) if configs is not None else list(next(iter(table.values())))
    fig = new_figure(7.0, 3.2, margins={})  # fixed axes, no layout solver
    ax = fig.add_axes((0.1, 0.1, 0.88, 0.87))
    w = 0.8 / max(len(cfgs), 1)
    for j, cfg in enumerate(cfgs):
        vals = [max(float(table[n].get(cfg, 0.0)), 0.5) for n in names]
        ax.bar([i + (j - (len(cfgs) - 1) / 2) * w for i in range(len(names))], vals,
               width=w, color=PALETTE[j % len(PALETTE)], label=cfg.replace("_", " "))
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel(_("cycles per iteration (log)"))
    ax.legend(fontsize=7, ncols=min(len(cfgs), 4), frameon=False)
    return fig
