"""Figures for live migration: bytes per round, method comparison, bandwidth sweep.

Examples
--------
>>> from virtlab import migration as mig
>>> from virtlab.viz import migration as vm
>>> c = mig.compare(1024, 1000, 100, 64)
>>> fig = vm.migration_figure(c["pre-copy"], c)
>>> len(fig.axes)
2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.collections import PolyCollection
from matplotlib.ticker import MaxNLocator

from ..errors import check_mapping, check_number, check_sequence, check_type
from ..i18n import _
from ..migration import METHODS, MigrationResult
from .base import PALETTE, fast_legend, freeze_ticks, new_figure
from .datacenter import fixed_grid, plain_log, set_title

__all__ = ["METHOD_COLORS", "downtime_curve", "migration_figure", "rounds_figure"]

#: One colour per method (Okabe-Ito), the same in every figure.
METHOD_COLORS = {"pre-copy": PALETTE[0], "stop-and-copy": PALETTE[5], "post-copy": PALETTE[2]}
_KIND_COLORS = {"pre-copy": PALETTE[0], "stop-and-copy": PALETTE[5], "push": PALETTE[2]}
#: Where the bars of the log-scale rounds plot start (rounds are clamped to >= 1e-3 MiB).
_BAR_FLOOR = 1e-6


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def rounds_axes(ax, result: MigrationResult) -> None:
    """Draw MiB sent per round (log scale) on ``ax``; the paused round in orange."""
    check_type("result", result, MigrationResult)
    xs = [r.index for r in result.rounds]
    ys = [max(r.mb, 1e-3) for r in result.rounds]
    plain_log(ax)
    # One collection instead of a Rectangle per round; the limits are what
    # ax.bar gives (autoscaled on the bar tops: the bottoms are below any
    # log-scale view).
    ax.add_collection(PolyCollection(
        [[(x - 0.4, _BAR_FLOOR), (x - 0.4, y), (x + 0.4, y), (x + 0.4, _BAR_FLOOR)]
         for x, y in zip(xs, ys)],
        facecolors=[_KIND_COLORS[r.kind] for r in result.rounds], linewidths=0),
        autolim=False)
    ax.update_datalim(list(zip(xs, ys)))
    ax.autoscale_view()
    ax.set_xlabel(_("round"))
    ax.set_ylabel(_("MiB sent"))
    if result.method == "pre-copy":
        ax.axhline(50 * result.page_kb / 1024, color="#888888", lw=0.8, ls=":")
    title = _("{method}: downtime {downtime}, total {total} s\n{sent} MiB sent").format(
        method=result.method, downtime=_ms(result.downtime_s),
        total=f"{result.total_time_s:.1f}", sent=f"{result.data_sent_mb:.0f}")
    stop = _(", stop: {reason}").format(reason=result.stop_reason)
    set_title(ax, title + (stop if result.method == "pre-copy" else ""),
                 fontsize=9)
    ax.set_xlim(0.3, max(xs) + 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    # Ticks and legend as plain artists (issue 21): matplotlib's tick and legend
    # layout were two thirds of a widget redraw; the positions and labels are
    # the locators' own.
    freeze_ticks(ax)
    fast_legend(ax, [(k, c) for k, c in _KIND_COLORS.items()
                     if any(r.kind == k for r in result.rounds)])


def compare_axes(ax, results: Mapping[str, MigrationResult]) -> None:
    """Downtime and total time of each method (log scale) on ``ax``."""
    names = [m for m in METHODS if m in results]
    x = range(len(names))
    down = [max(results[m].downtime_s, 1e-4) for m in names]
    total = [max(results[m].total_time_s, 1e-4) for m in names]
    ax.bar([i - 0.2 for i in x], total, width=0.4, color="#cccccc", label=_("total time"))
    ax.bar([i + 0.2 for i in x], down, width=0.4, color=[METHOD_COLORS[m] for m in names],
           label=_("downtime"))
    for i, m in zip(x, names):
        ax.text(i + 0.2, down[i], _ms(results[m].downtime_s), ha="center", va="bottom",
                fontsize=7)
        ax.text(i - 0.2, total[i], _ms(results[m].total_time_s), ha="center", va="bottom",
                fontsize=7, color="#555555")
    plain_log(ax)
    # Room above the tallest bar for its label.  No legend: the title names the two
    # bar kinds, and a legend box would cover a bar (issue 12).
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi * 4)
    ax.set_xticks(list(x), names, fontsize=8)
    ax.set_ylabel(_("seconds"))
    set_title(ax, _("total time (grey) and downtime (coloured)"), fontsize=9)


def migration_figure(result: MigrationResult, results: Mapping[str, MigrationResult]):
    """Rounds of one migration next to the comparison of all methods."""
    check_type("result", result, MigrationResult)
    check_mapping("results", results, MigrationResult, min_len=1)
    fig = new_figure(8.5, 3.4)
    grid = fixed_grid(fig, 1, 2, width_ratios=[3, 2], left=0.075, bottom=0.14, top=0.83,
                      wspace=0.22)
    a, b = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    rounds_axes(a, result)
    compare_axes(b, results)
    return fig


def rounds_figure(result: MigrationResult):
    """Only the rounds of one migration (one axes: the widget's fast redraw)."""
    fig = new_figure(6.0, 3.0)
    rounds_axes(fig.add_subplot(fixed_grid(fig, left=0.11, bottom=0.15, top=0.83)[0]), result)
    return fig


def downtime_curve(bandwidths: Sequence[float], sweep: Mapping[str, Sequence[MigrationResult]],
                   mark: float | None = None):
    """Downtime against link bandwidth for each method (log-log)."""
    bandwidths = check_sequence("bandwidths", bandwidths, (int, float), min_len=1, max_len=1000)
    for i, b in enumerate(bandwidths):
        check_number(f"bandwidths[{i}]", b, minimum=0, strict_minimum=True)
    for m, results in check_mapping("sweep", sweep, (list, tuple), min_len=1).items():
        check_sequence(f"sweep[{m!r}]", results, MigrationResult, min_len=len(bandwidths),
                       max_len=len(bandwidths))
    if mark is not None:
        check_number("mark", mark, minimum=0, strict_minimum=True)
    fig = new_figure(5.5, 3.4)
    ax = fig.add_subplot(fixed_grid(fig, left=0.13, bottom=0.15, top=0.9)[0])
    for m, results in sweep.items():
        ax.plot(list(bandwidths), [max(r.downtime_s, 1e-4) for r in results], marker="o",
                ms=3, color=METHOD_COLORS.get(m, PALETTE[7]), label=m)
    if mark is not None:
        ax.axvline(mark, color="#888888", ls="--", lw=0.8)
        ax.text(mark, ax.get_ylim()[1], " " + _("dirty rate"), fontsize=7, va="top")
    plain_log(ax, "x")
    plain_log(ax, "y")
    ax.set_xlabel(_("link bandwidth (Mbit/s)"))
    ax.set_ylabel(_("downtime (s)"))
    set_title(ax, _("Downtime falls as bandwidth rises"), fontsize=9)
    ax.legend(fontsize=7)
    return fig
