"""Layout helpers shared by the data-centre figures (partitioning, containers,
consolidation, migration).

Widget redraws must stay within about 50 ms.  Two matplotlib features cost
most of that budget on these small figures: constrained layout (it lays out
every tick label twice) and log axes with mathtext labels such as
``$10^{2}$`` (parsed by pyparsing on every draw).  A third is the automatic
title placement, which measures every tick label to dodge them.  These figures
therefore use fixed margins, plain tick labels and fixed title positions.

Examples
--------
>>> from virtlab.viz import new_figure
>>> fig = new_figure(4, 3)
>>> ax = fig.add_subplot(fixed_grid(fig)[0])
>>> plain_log(ax)
>>> ax.get_yscale()
'log'
"""

from __future__ import annotations

from matplotlib.ticker import FuncFormatter, NullLocator

__all__: list[str] = []  # layout helpers for the other viz modules, not public


def fixed_grid(fig, nrows: int = 1, ncols: int = 1, **params):
    """Turn off the figure's layout engine and return a GridSpec with fixed margins.

    Keyword arguments override the margins (``left``, ``right``, ``bottom``,
    ``top``, ``wspace``, ``hspace``, ``width_ratios``, ``height_ratios``).
    """
    fig.set_layout_engine(None)
    kw = {"left": 0.08, "right": 0.98, "bottom": 0.16, "top": 0.84, "wspace": 0.3,
          "hspace": 0.5}
    kw.update(params)
    return fig.add_gridspec(nrows, ncols, **kw)


def _plain(value, _pos):
    return f"{value:g}"


def plain_log(ax, axis: str = "y") -> None:
    """Log scale on ``axis`` with plain labels (1, 10, 100) and no minor ticks."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target.set_minor_locator(NullLocator())
    target.set_major_formatter(FuncFormatter(_plain))


def set_title(ax, label: str, **kwargs) -> None:
    """``ax.set_title`` at a fixed height (skips matplotlib's costly title placement)."""
    ax.set_title(label, y=1.0, **kwargs)

