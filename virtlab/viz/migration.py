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

import math
from collections.abc import Mapping, Sequence

from matplotlib.ticker import LogLocator, MaxNLocator, ScalarFormatter

from ..errors import check_mapping, check_number, check_sequence, check_type
from ..i18n import _
from ..migration import METHODS, MigrationResult
from .base import PALETTE, new_figure
from .datacenter import fixed_grid, plain_log, set_title
from .scene import Scene

__all__ = ["METHOD_COLORS", "downtime_curve", "migration_figure", "rounds_figure",
           "rounds_scene"]

#: One colour per method (Okabe-Ito), the same in every figure.
METHOD_COLORS = {"pre-copy": PALETTE[0], "stop-and-copy": PALETTE[5], "post-copy": PALETTE[2]}
_KIND_COLORS = {"pre-copy": PALETTE[0], "stop-and-copy": PALETTE[5], "push": PALETTE[2]}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


#: matplotlib's default sizes (points): tick labels and axis labels ("medium"),
#: tick marks and their pad.
_FONT, _TICK, _PAD = 10.0, 3.5, 3.5
_SPINES = ("left", "bottom", "right", "top")


def _grid_boxes(ratios, left, bottom, right, top, wspace):
    """The cells of matplotlib's ``GridSpec(1, n, width_ratios=ratios, wspace=wspace)``
    within the margins, as ``(left, bottom, right, top)`` figure fractions.

    Examples
    --------
    >>> [[round(v, 3) for v in box] for box in _grid_boxes((1,), 0.11, 0.15, 0.98, 0.83, 0.3)]
    [[0.11, 0.15, 0.98, 0.83]]
    """
    n = len(ratios)
    cell = (right - left) / (n + wspace * (n - 1))       # the mean cell width
    boxes, x = [], left
    for r in ratios:
        width = r * n * cell / sum(ratios)
        boxes.append((x, bottom, x + width, top))
        x += width + wspace * cell
    return boxes


def _log_limits(lo: float, hi: float) -> tuple[float, float]:
    """matplotlib's autoscaled limits of positive data from ``lo`` to ``hi`` on a log
    axis: 5 % margins in decades; a single value widened to the decades around it."""
    if lo == hi:
        lo, hi = 10.0 ** math.ceil(math.log10(lo) - 1), 10.0 ** math.floor(math.log10(hi) + 1)
    a, b = math.log10(lo), math.log10(hi)
    room = (b - a) * 0.05
    return 10.0 ** (a - room), 10.0 ** (b + room)


def _log_ticks(lo: float, hi: float, length_pt: float) -> list[tuple[float, str]]:
    """The major ticks of a log axis from ``lo`` to ``hi`` that is ``length_pt`` long
    (matplotlib's ``LogLocator`` with as many ticks as fit), labelled as
    :func:`~virtlab.viz.datacenter.plain_log` labels them, at their decade."""
    numticks = min(9, max(2, int(length_pt // (2 * _FONT))))    # Axis.get_tick_space
    eps = (hi - lo) * 1e-9
    return [(math.log10(v), f"{v:g}") for v in LogLocator(numticks=numticks).tick_values(lo, hi)
            if lo - eps <= v <= hi + eps]


def _int_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """The round numbers matplotlib's ``MaxNLocator(6, integer=True)`` puts on a linear
    axis from ``lo`` to ``hi``, labelled by its default ``ScalarFormatter``."""
    locs = [float(v) for v in MaxNLocator(6, integer=True).tick_values(lo, hi)]
    fmt = ScalarFormatter()
    fmt.create_dummy_axis()
    fmt.axis.set_view_interval(lo, hi)
    eps = (hi - lo) * 1e-9
    return [(v, s) for v, s in zip(locs, fmt.format_ticks(locs)) if lo - eps <= v <= hi + eps]


def _rounds_panel(scene, box, result: MigrationResult) -> None:
    """MiB sent per round (log scale) in ``box``; the paused round in orange."""
    xs = [r.index for r in result.rounds]
    ys = [max(r.mb, 1e-3) for r in result.rounds]
    lo, hi = _log_limits(min(ys), max(ys))
    threshold = 50 * result.page_kb / 1024 if result.method == "pre-copy" else None
    if threshold is not None and not lo <= threshold <= hi:
        # matplotlib widens the view to a horizontal line drawn outside it
        lo, hi = _log_limits(min(min(ys), threshold), max(max(ys), threshold))
    xlim = (0.3, max(xs) + 0.7)
    log = math.log10
    title = _("{method}: downtime {downtime}, total {total} s\n{sent} MiB sent").format(
        method=result.method, downtime=_ms(result.downtime_s),
        total=f"{result.total_time_s:.1f}", sent=f"{result.data_sent_mb:.0f}")
    stop = _(", stop: {reason}").format(reason=result.stop_reason)
    ax = scene.panel(xlim=xlim, ylim=(log(lo), log(hi)), box=box, title_size=9,
                     title=title + (stop if result.method == "pre-copy" else ""))
    # bars from the bottom edge (a log axis has no zero)
    for x, y, r in zip(xs, ys, result.rounds):
        ax.rect(x - 0.4, log(lo), 0.8, log(y) - log(lo), fc=_KIND_COLORS[r.kind])
    if threshold is not None:
        ax.line([0, 1], [log(threshold)] * 2, color="#888888", lw=0.8, dash="dotted",
                coords="yaxis")
    yticks = _log_ticks(lo, hi, ax.size_points()[1])
    ax.frame(xticks=_int_ticks(*xlim), yticks=yticks, size=_FONT, length=_TICK, pad=_PAD,
             spines=_SPINES, xlabel=_("round"), ylabel=_("MiB sent"))
    ax.legend([(k, c) for k, c in _KIND_COLORS.items()
               if any(r.kind == k for r in result.rounds)], size=7, loc="upper right")


def _compare_panel(scene, box, results: Mapping[str, MigrationResult]) -> None:
    """Downtime and total time of each method (log scale) in ``box``."""
    names = [m for m in METHODS if m in results]
    down = [max(results[m].downtime_s, 1e-4) for m in names]
    total = [max(results[m].total_time_s, 1e-4) for m in names]
    lo, hi = _log_limits(min(down + total), max(down + total))
    hi *= 4             # room above the tallest bar for its label
    # the bars' x range (i - 0.4 to i + 0.4) with matplotlib's 5 % margins
    room = (len(names) - 0.2) * 0.05
    log = math.log10
    ax = scene.panel(xlim=(-0.4 - room, len(names) - 0.6 + room), ylim=(log(lo), log(hi)),
                     box=box, title=_("total time (grey) and downtime (coloured)"), title_size=9)
    for i in range(len(names)):
        ax.rect(i - 0.4, log(lo), 0.4, log(total[i]) - log(lo), fc="#cccccc")
    for i, m in enumerate(names):
        ax.rect(i, log(lo), 0.4, log(down[i]) - log(lo), fc=METHOD_COLORS[m])
    for i, m in enumerate(names):
        ax.text(i + 0.2, log(down[i]), _ms(results[m].downtime_s), size=7, va="bottom")
        ax.text(i - 0.2, log(total[i]), _ms(results[m].total_time_s), size=7, va="bottom",
                color="#555555")
    # matplotlib's own ticks here (the figure's were not frozen): the method names
    # smaller (8 pt) than the numbers, the axis label 4 pt beyond the numbers
    ax.frame(xticks=[(i, "") for i in range(len(names))],
             yticks=_log_ticks(lo, hi, ax.size_points()[1]), ylabel=_("seconds"), size=_FONT,
             length=_TICK, pad=_PAD, spines=_SPINES)
    for i, m in enumerate(names):
        ax.text(i, 0, m, size=8, va="top", coords="xaxis", offset=(0, -(_TICK + _PAD)))
    # No legend: the title names the two bar kinds, and a legend box would cover a
    # bar (issue 12).


def migration_figure(result: MigrationResult, results: Mapping[str, MigrationResult]):
    """Rounds of one migration next to the comparison of all methods.

    Examples
    --------
    >>> from virtlab import migration as mig
    >>> c = mig.compare(1024, 1000, 100, 64)
    >>> fig = migration_figure(c["pre-copy"], c)
    >>> len(fig.axes), len(fig.axes[0].patches) >= len(c["pre-copy"].rounds)
    (2, True)
    """
    check_type("result", result, MigrationResult)
    check_mapping("results", results, MigrationResult, min_len=1)
    scene = Scene(8.5, 3.4)
    rounds_box, compare_box = _grid_boxes((3, 2), left=0.075, bottom=0.14, right=0.98,
                                          top=0.83, wspace=0.22)
    _rounds_panel(scene, rounds_box, result)
    _compare_panel(scene, compare_box, results)
    return scene.figure()


def rounds_figure(result: MigrationResult):
    """Only the rounds of one migration (the widget's picture).

    The figure draws :func:`rounds_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab import migration as mig
    >>> fig = rounds_figure(mig.compare(1024, 1000, 100, 64)["stop-and-copy"])
    >>> [t.get_text() for t in fig.axes[0].texts][-1]       # the legend
    'stop-and-copy'
    """
    return rounds_scene(result).figure()


def rounds_scene(result: MigrationResult) -> Scene:
    """:func:`rounds_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    One bar per round, as high as the MiB it sent (log scale), coloured by
    kind; the title says the method's downtime, total time and data sent.

    Examples
    --------
    >>> from virtlab import migration as mig
    >>> r = mig.compare(1024, 1000, 100, 64)["pre-copy"]
    >>> scene = rounds_scene(r)
    >>> sum(kind == "rect" for kind, *_ in scene.items) == len(r.rounds)
    True
    """
    check_type("result", result, MigrationResult)
    scene = Scene(6.0, 3.0)
    _rounds_panel(scene, (0.11, 0.15, 0.98, 0.83), result)
    return scene


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
