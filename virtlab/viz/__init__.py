"""Figures drawn from model results (matplotlib, networkx).

Every function here takes model results and returns a
:class:`matplotlib.figure.Figure`.  Figures are built with the object API
(``Figure()`` + Agg canvas), never with ``pyplot``: nothing is registered
globally, nothing leaks between widget redraws, and figures can be rendered
and timed without a browser.  Submodules are imported lazily, one per topic;
:mod:`~virtlab.viz.text` is the one that returns text (fixed-width tables for
notebook cells that print model results).

Examples
--------
>>> from virtlab import viz
>>> fig = viz.new_figure(4, 3)
>>> viz.to_png(fig)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import importlib

from .base import PALETTE, color_for, new_figure, to_png, to_svg

__all__ = ["PALETTE", "color_for", "new_figure", "to_png", "to_svg"]


def __getattr__(name: str):
    # Lazy submodules: ``viz.scheduling.gantt(...)`` imports on first use.
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
    globals()[name] = module
    return module
