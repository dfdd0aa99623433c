"""Shared figure helpers: one style, one palette, PNG rendering.

Examples
--------
>>> fig = new_figure(3, 2)
>>> ax = fig.add_subplot()
>>> _ = ax.plot([0, 1], [0, 1], color=color_for("vm1"))
>>> len(to_png(fig)) > 100
True
"""

from __future__ import annotations

import hashlib
import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import check_int, check_number

__all__ = ["PALETTE", "color_for", "new_figure", "to_png"]

#: Colour-blind-safe palette (Okabe & Ito 2008), used for VMs, techniques, ...
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
           "#D55E00", "#F0E442", "#000000")

#: Default resolution for widget redraws: small PNGs keep redraws fast.
WIDGET_DPI = 80


def color_for(key: str | int) -> str:
    """A stable palette colour for a name or index.

    Integers index the palette; strings are hashed (SHA-256, so the colour of
    ``"vm1"`` is the same in every run and on every machine).

    Examples
    --------
    >>> color_for(0)
    '#0072B2'
    >>> color_for("dom0") == color_for("dom0")
    True
    """
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise TypeError(f"key must be int or str, got {type(key).__name__}")
    if isinstance(key, int):
        return PALETTE[key % len(PALETTE)]
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    return PALETTE[h % len(PALETTE)]


def new_figure(width: float = 6.4, height: float = 4.0, dpi: int = 100) -> Figure:
    """A new Figure with an Agg canvas attached (no pyplot involved).

    Examples
    --------
    >>> new_figure(4, 3).get_size_inches().tolist()
    [4.0, 3.0]
    """
    check_number("width", width, minimum=0, strict_minimum=True, maximum=100)
    check_number("height", height, minimum=0, strict_minimum=True, maximum=100)
    check_int("dpi", dpi, minimum=10, maximum=600)
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, dpi: int = WIDGET_DPI) -> bytes:
    """Render ``fig`` to PNG bytes (deterministic: no timestamp metadata).

    Examples
    --------
    >>> to_png(new_figure())[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
    True
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    check_int("dpi", dpi, minimum=10, maximum=600)
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
