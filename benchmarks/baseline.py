"""The machine's yardstick: a naive one-line-plot widget redraw.

Every widget figure of ``make bench`` is also given as a ratio to this
baseline measured in the same run (kernel side: :func:`kernel_baseline_ms`;
browser side: ``bench_browser`` shows :class:`BaselineApp` in the page and
times it like any app), so runs on different machines, or on one machine
under different load, can be compared.

Examples
--------
>>> app = BaselineApp()
>>> app.controls["n"].value = 5
>>> app.result
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

import statistics
import time

import ipywidgets as W

from virtlab import viz
from virtlab.widgets.base import WidgetApp

__all__ = ["BaselineApp", "kernel_baseline_ms", "ratio"]


class BaselineApp(WidgetApp):
    """A one-line plot: what any redraw costs on this machine right now."""

    def __init__(self):
        super().__init__({"n": W.IntSlider(value=3, min=1, max=20)})

    def compute(self, n):
        return list(range(n))

    def draw(self, result):
        fig = viz.new_figure(6.4, 3.6)
        fig.add_subplot().plot(result)
        return fig


def kernel_baseline_ms(repeat: int = 2) -> float:
    """Median wall-clock ms of a :class:`BaselineApp` redraw, in this process."""
    base = BaselineApp()
    times = []
    for v in [4, 5, 6, 7, 8, 9] * repeat:
        t0 = time.perf_counter()
        base.controls["n"].value = v
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 2)


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline`` rounded to 3 digits, or None when either is missing.

    Examples
    --------
    >>> ratio(30.0, 120.0)
    0.25
    >>> ratio(None, 1.0) is None
    True
    """
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)
