"""Figures for the CPU topics: overhead per technique, Popek & Goldberg sets, microbenchmarks.

Every function takes model results and returns a Figure (object API, no
pyplot).

Examples
--------
>>> from virtlab.popek_goldberg import classify
>>> from virtlab.isa import X86_32
>>> fig = classification_venn(classify(X86_32))
>>> len(fig.axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator, NullLocator

from ..errors import check_mapping, check_number, check_sequence, check_type
from ..hypervisor.vm import RunResult
from .base import PALETTE, new_figure

__all__ = ["overhead_bars", "classification_venn", "microbench_bars", "cycle_breakdown"]

_LABELS = {"native": "native", "emulation": "emulation", "trap_and_emulate": "trap & emulate",
           "binary_translation": "binary transl.", "hardware": "VT-x (EPT)",
           "paravirt": "paravirt"}
_COLORS = {"native": PALETTE[7], "emulation": PALETTE[5], "trap_and_emulate": PALETTE[3],
           "binary_translation": PALETTE[1], "hardware": PALETTE[0], "paravirt": PALETTE[2]}


def overhead_bars(relative: Mapping[str, float], *, band=(1.05, 1.10), title: str = "",
                  reuse: Figure | None = None):
    """Horizontal bars: simulated run time relative to native (log scale).

    Built for widget redraws: fixed margins instead of a layout engine, the
    bars of a panel as one collection, the technique names as plain texts (no
    tick objects) and the lecture's band named in the axis label (no legend).

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
        rows, band and title, it is updated in place and returned (a widget
        redraw then builds no axes, ticks or texts); otherwise a new figure is
        made.  Do not pass a figure you still want to show unchanged.

    Examples
    --------
    >>> fig = overhead_bars({"native": 1.0, "emulation": 40.0, "hardware": 1.07})
    >>> fig.axes[0].get_xscale(), fig.axes[1].get_xscale()
    ('log', 'linear')

    Updating a figure in place draws exactly the picture a new figure shows:

    >>> from virtlab.viz.base import to_svg
    >>> other = {"native": 1.0, "emulation": 900.0, "paravirt": 3.5}
    >>> overhead_bars(other, reuse=fig) is fig
    True
    >>> to_svg(fig) == to_svg(overhead_bars(other))
    True
    """
    check_type("relative", relative, Mapping)
    if not relative:
        raise ValueError("relative must not be empty")
    for k, v in relative.items():
        if not isinstance(v, (int, float)) or not v > 0 or v != v or v == float("inf"):
            raise ValueError(f"relative[{k!r}] must be a positive finite number, got {v!r}")
    if reuse is not None:
        check_type("reuse", reuse, Figure)
    names = list(relative)
    key = (len(names), tuple(band), title)
    parts = getattr(reuse, "_virtlab_overhead_bars", None)
    if parts is None or parts["key"] != key:
        reuse, parts = _overhead_layout(key)
    _overhead_fill(parts, names, [float(relative[k]) for k in names], band)
    return reuse


def _overhead_layout(key):
    """The data-independent part of :func:`overhead_bars`: figure, axes, artists."""
    n, band, title = key
    height = 0.42 * n + 1.4
    fig = new_figure(7.2, height, margins={
        "left": 0.15, "right": 0.98, "bottom": 0.55 / height,
        "top": 1 - (0.3 if title else 0.12) / height, "wspace": 0.08})
    ax, zx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    # left: everything, log scale (emulation is an order of magnitude away)
    ax.set_xscale("log")
    ax.set_ylim(n - 0.5, -0.5)          # first entry on top
    ax.yaxis.set_major_locator(NullLocator())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(labelsize=8)
    ax.set_xlabel("cycles relative to native (log)", fontsize=8)
    ax.axvline(1.0, color="0.3", lw=0.8)
    # right: zoom on the overhead in percent, with the lecture's band
    lo_pct, hi_pct = band[0] * 100 - 100, band[1] * 100 - 100
    zx.axvspan(lo_pct, hi_pct, color=PALETTE[2], alpha=0.2, lw=0)
    zx.set_ylim(n - 0.5, -0.5)
    zx.yaxis.set_major_locator(NullLocator())
    zx.xaxis.set_major_locator(MaxNLocator(4))
    zx.tick_params(labelsize=8)
    zx.set_xlabel(f"overhead vs native (%), shaded: lecture {lo_pct:g}-{hi_pct:g} %",
                  fontsize=8)
    names_at = ax.get_yaxis_transform()    # x in axes fraction, y in data
    parts = {
        "key": key, "ax": ax, "zx": zx,
        "bars": ax.add_collection(PolyCollection([], edgecolors="none", linewidths=0),
                                  autolim=False),
        "zbars": zx.add_collection(PolyCollection([], edgecolors="none", linewidths=0),
                                   autolim=False),
        "names": [ax.text(-0.02, y, "", transform=names_at, ha="right", va="center",
                          fontsize=8.5) for y in range(n)],
        "values": [ax.text(1, y, "", va="center", fontsize=7.5) for y in range(n)],
        "pcts": [zx.text(0, y, "", va="center", fontsize=7.5) for y in range(n)],
    }
    if title:
        fig.suptitle(title, fontsize=10)
    fig._virtlab_overhead_bars = parts
    return fig, parts


def _overhead_fill(parts, names, vals, band):
    """Put the data into the artists made by :func:`_overhead_layout`."""
    ax, zx = parts["ax"], parts["zx"]
    colors = [_COLORS.get(k, PALETTE[4]) for k in names]
    hi = max(max(vals) * 3.0, 2.0)
    x0 = 0.9
    ax.set_xlim(x0, hi)
    ticks = [t for t in (1, 10, 100, 1000, 10000, 100000) if t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{t}x" for t in ticks]))
    _set_bars(parts["bars"], vals, colors, x0)
    for y, (k, v) in enumerate(zip(names, vals)):
        parts["names"][y].set_text(_LABELS.get(k, k))
        label = parts["values"][y]
        label.set_text(f"{v:.1f}x" if v >= 1.995 else f"{v:.2f}x")
        label.set_x(v * 1.06)
    pct = [(v - 1.0) * 100 for v in vals]
    lim = max([p for p in pct if p < 100] + [12.0]) * 1.25
    zx.set_xlim(0, lim * 1.3)
    _set_bars(parts["zbars"], [min(p, lim) for p in pct], colors, 0.0)
    for y, p in enumerate(pct):
        label = parts["pcts"][y]
        if p < lim:
            label.set(text=f"+{p:.1f} %", x=p + lim * 0.02, ha="left", color="black",
                      weight="normal")
        else:   # off the scale: label inside the bar
            label.set(text=f"+{p:.0f} % →", x=lim * 0.97, ha="right", color="white",
                      weight="bold")


def _set_bars(collection, widths, colors, x0, height=0.6):
    """Make ``collection`` horizontal bars from ``x0`` (row i at y = i)."""
    h = height / 2
    collection.set_verts([((x0, y - h), (w, y - h), (w, y + h), (x0, y + h))
                          for y, w in enumerate(widths)])
    collection.set_facecolor(colors)


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
    ax.set_xticks(range(len(names)), [_LABELS.get(n, n) for n in names], fontsize=8)
    ax.set_ylabel("simulated cycles")
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
    ax.text(2.2, 5.7, f"privileged ({len(c.privileged)})", ha="center", fontsize=9,
            color=PALETTE[0], weight="bold")
    ax.text(7.6, 5.7, f"sensitive ({len(c.sensitive)})", ha="center", fontsize=9,
            color=PALETTE[5], weight="bold")
    ax.text(2.4, 3.0, f"{len(priv_only)}\nprivileged,\nnot sensitive", ha="center",
            va="center", fontsize=8)
    ax.text(4.9, 3.0, f"{len(both)}\nsensitive and\nprivileged\n(trap: OK)", ha="center",
            va="center", fontsize=8)
    crit_names = sorted(crit)
    if crit_names:
        rows = [", ".join(crit_names[i:i + 3]) for i in range(0, len(crit_names), 3)]
        ax.text(7.45, 3.0, f"{len(crit)} CRITICAL\n(sensitive, not privileged)\n"
                + "\n".join(rows), ha="center", va="center", fontsize=6.5,
                color=PALETTE[5], weight="bold")
    else:
        ax.text(7.45, 3.0, "0 critical", ha="center", va="center", fontsize=9)
    ax.text(0.2, 0.2, f"innocuous (neither): {len(c.innocuous)}", fontsize=8, color="0.3")
    ok = not crit
    verdict = ("virtualizable (Theorem 1: sensitive ⊆ privileged)" if ok else
               "NOT virtualizable by Theorem 1: critical instructions exist")
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
    ax.set_ylabel("cycles per iteration (log)")
    ax.legend(fontsize=7, ncols=min(len(cfgs), 4), frameon=False)
    return fig
