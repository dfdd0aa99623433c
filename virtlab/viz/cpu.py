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

from matplotlib.patches import Circle
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator, NullLocator

from ..errors import check_type
from .base import PALETTE, new_figure

__all__ = ["overhead_bars", "classification_venn", "microbench_bars", "cycle_breakdown"]

_LABELS = {"native": "native", "emulation": "emulation", "trap_and_emulate": "trap & emulate",
           "binary_translation": "binary transl.", "hardware": "VT-x (EPT)",
           "paravirt": "paravirt"}
_COLORS = {"native": PALETTE[7], "emulation": PALETTE[5], "trap_and_emulate": PALETTE[3],
           "binary_translation": PALETTE[1], "hardware": PALETTE[0], "paravirt": PALETTE[2]}


def overhead_bars(relative: Mapping[str, float], *, band=(1.05, 1.10), title: str = ""):
    """Horizontal bars: simulated run time relative to native (log scale).

    Parameters
    ----------
    relative : mapping mode -> float
        Cycles relative to native (native = 1.0), e.g. ``1 + overhead``.
    band : (float, float)
        The lecture's "5 to 10 %" band, shaded.

    Examples
    --------
    >>> fig = overhead_bars({"native": 1.0, "emulation": 40.0, "hardware": 1.07})
    >>> fig.axes[0].get_xscale(), fig.axes[1].get_xscale()
    ('log', 'linear')
    """
    check_type("relative", relative, Mapping)
    if not relative:
        raise ValueError("relative must not be empty")
    for k, v in relative.items():
        if not isinstance(v, (int, float)) or not v > 0 or v != v or v == float("inf"):
            raise ValueError(f"relative[{k!r}] must be a positive finite number, got {v!r}")
    fig = new_figure(7.2, 0.42 * len(relative) + 1.4)
    fig.set_layout_engine("none")       # fixed margins: much faster than constrained
    ax, zx = fig.subplots(1, 2, gridspec_kw={
        "width_ratios": [1.15, 1], "left": 0.15, "right": 0.98, "bottom": 0.14,
        "top": 0.92 if title else 0.97, "wspace": 0.08})
    names = list(relative)
    ys = list(range(len(names)))
    vals = [relative[n] for n in names]
    colors = [_COLORS.get(n, PALETTE[4]) for n in names]
    # left: everything, log scale (emulation is an order of magnitude away)
    ax.barh(ys, vals, color=colors, height=0.6)
    for y, v in zip(ys, vals):
        ax.text(v * 1.06, y, f"{v:.1f}x" if v >= 1.995 else f"{v:.2f}x", va="center",
                fontsize=7.5)
    ax.set_yticks(ys, [_LABELS.get(n, n) for n in names], fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xscale("log")
    hi = max(max(vals) * 3.0, 2.0)
    ax.set_xlim(0.9, hi)
    ax.xaxis.set_major_locator(FixedLocator([t for t in (1, 10, 100, 1000) if t <= hi]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FixedFormatter([]))
    ax.set_xticks([t for t in (1, 10, 100, 1000) if t <= hi],
                  [f"{t}x" for t in (1, 10, 100, 1000) if t <= hi], fontsize=8)
    ax.set_xlabel("cycles relative to native (log)", fontsize=8)
    ax.axvline(1.0, color="0.3", lw=0.8)
    # right: zoom on the overhead in percent, with the lecture's band
    pct = [(v - 1.0) * 100 for v in vals]
    lim = max([p for p in pct if p < 100] + [12.0]) * 1.25
    zx.axvspan(band[0] * 100 - 100, band[1] * 100 - 100, color=PALETTE[2], alpha=0.2, lw=0,
               label="lecture: 5-10 %")
    zx.barh(ys, [min(p, lim) for p in pct], color=colors, height=0.6)
    for y, p in zip(ys, pct):
        if p < lim:
            zx.text(p + lim * 0.02, y, f"+{p:.1f} %", va="center", fontsize=7.5)
        else:   # off the scale: label inside the bar
            zx.text(lim * 0.97, y, f"+{p:.0f} % →", va="center", ha="right", fontsize=7.5,
                    color="white", weight="bold")
    zx.set_yticks(ys, [""] * len(ys))
    zx.invert_yaxis()
    zx.set_xlim(0, lim * 1.3)
    zx.xaxis.set_major_locator(MaxNLocator(4))
    zx.tick_params(labelsize=8)
    zx.set_xlabel("overhead vs native (%)", fontsize=8)
    zx.legend(loc="lower right", fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


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
    fig = new_figure(6.4, 3.0)
    ax = fig.add_subplot()
    items = sorted({k for r in results.values() for k, v in r.cycle_breakdown.items() if v})
    bottoms = [0.0] * len(results)
    names = list(results)
    for i, item in enumerate(items):
        vals = [results[n].cycle_breakdown.get(item, 0.0) for n in names]
        ax.bar(range(len(names)), vals, bottom=bottoms, color=PALETTE[i % len(PALETTE)],
               label=item, width=0.6)
        bottoms = [b + v for b, v in zip(bottoms, vals)]
    ax.set_xticks(range(len(names)), [_LABELS.get(n, n) for n in names], fontsize=8)
    ax.set_ylabel("simulated cycles")
    ax.legend(fontsize=7, ncols=3, frameon=False)
    return fig


def classification_venn(classification, *, title: str | None = None):
    """Two circles — privileged and sensitive — with the critical names in the gap.

    Popek & Goldberg's Theorem 1 holds when the sensitive circle lies inside
    the privileged one, i.e. when the "critical" region is empty.

    Examples
    --------
    >>> from virtlab.popek_goldberg import classify
    >>> from virtlab.isa import TOY
    >>> fig = classification_venn(classify(TOY))
    >>> "virtualizable" in fig.axes[0].get_title()
    True
    """
    for attr in ("privileged", "sensitive", "innocuous", "critical", "isa"):
        if not hasattr(classification, attr):
            raise TypeError("classification must be a popek_goldberg.Classification, "
                            f"got {type(classification).__name__}")
    c = classification
    fig = new_figure(6.4, 3.6)
    fig.set_layout_engine("none")
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.91))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.set_aspect("equal")
    ax.axis("off")
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
    ax.set_title(title if title is not None else f"{c.isa}: {verdict}", fontsize=10,
                 color=PALETTE[2] if ok else PALETTE[5])
    return fig


def microbench_bars(table: Mapping[str, Mapping[str, float]], *, configs=None):
    """Grouped bars: cycles per iteration of each microbenchmark per configuration.

    ``table`` maps benchmark → {configuration → cycles} (e.g. from
    :func:`virtlab.hypervisor.microbench.run_all` or the ``cycles`` of
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
    names = list(table)
    cfgs = list(configs) if configs is not None else list(next(iter(table.values())))
    fig = new_figure(7.0, 3.2)
    fig.set_layout_engine("none")
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
