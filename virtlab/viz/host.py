"""Figures of the real machine (:mod:`virtlab.host`): engine speeds, KVM exits.

Examples
--------
>>> fig = engine_speeds([("native", 2e9), ("KVM", 8e5), ("QEMU TCG", 4e7), ("interpreter", None)])
>>> fig.axes[0].get_xscale()
'log'
>>> exit_counts({"IO": 6, "MMIO": 2, "HLT": 1}, {"IO": 6, "MMIO": 2, "HLT": 1}).axes[0].get_ylabel()
'exits'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.ticker import NullLocator

from virtlab.errors import check_type

from ..i18n import _
from .base import PALETTE, new_figure

__all__ = ["engine_speeds", "exit_counts"]


def engine_speeds(rows: Sequence, *, title: str = ""):
    """Horizontal bars: guest instructions per second per engine (log scale).

    ``rows`` are ``(label, instructions_per_second or None)``; the first row is
    the reference the slowdowns are computed against.  A missing engine is
    drawn as "not available here".
    """
    check_type("rows", rows, (list, tuple))
    if not rows:
        raise ValueError("rows must not be empty")
    labels = [str(r[0]) for r in rows]
    values = [r[1] for r in rows]
    base = values[0]
    fig = new_figure(7.0, 0.55 * len(rows) + 1.0, margins={})
    ax = fig.add_axes((0.3, 0.22, 0.6, 0.68))
    ys = list(range(len(rows)))[::-1]
    for y, value, color in zip(ys, values, PALETTE):
        if value is None:
            ax.text(1.0, y, _("not available here"), va="center", fontsize=8, color="0.4")
            continue
        ax.barh(y, value / 1e6, color=color, height=0.6)
        note = f"{value / 1e6:,.0f} M/s" if value >= 1e9 else f"{value / 1e6:.3g} M/s"
        if base and value != base:
            note += "  " + _("({factor}x slower)").format(factor=f"{base / value:,.0f}")
        ax.text(value / 1e6 * 1.15, y, note, va="center", fontsize=8)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    present = [v for v in values if v]
    if present:
        ax.set_xlim(min(present) / 1e6 / 3, max(present) / 1e6 * 40)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlabel(_("guest instructions per second, millions (log scale)"), fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def exit_counts(real: Mapping, model: Mapping, *, labels=None):
    """Grouped bars: exits per reason of the real VMM and of the model, same guest.

    ``labels`` names the two series (default: this machine's /dev/kvm and the model).
    """
    if labels is None:
        labels = (_("/dev/kvm (this machine)"), _("virtlab.hypervisor.kvm (model)"))
    check_type("real", real, Mapping)
    check_type("model", model, Mapping)
    reasons = list(dict.fromkeys([*real, *model]))
    if not reasons:
        raise ValueError("real and model must not both be empty")
    fig = new_figure(5.0, 2.6, margins={})
    ax = fig.add_axes((0.12, 0.14, 0.84, 0.72))
    for j, (counts, label) in enumerate(((real, labels[0]), (model, labels[1]))):
        xs = [i + (j - 0.5) * 0.38 for i in range(len(reasons))]
        ax.bar(xs, [counts.get(r, 0) for r in reasons], width=0.36, color=PALETTE[j],
               label=label)
    ax.set_xticks(range(len(reasons)), [f"KVM_EXIT_{r}" for r in reasons], fontsize=8)
    ax.set_ylabel(_("exits"))
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    return fig
