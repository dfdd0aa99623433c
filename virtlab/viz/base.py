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

import contextlib
import functools
import hashlib
import io

import matplotlib

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.figure import Figure
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from ..errors import check_bool, check_int, check_number, check_type

__all__ = ["PALETTE", "color_for", "drop_hidden_ticks", "measure_text", "new_figure",
           "nice_ticks", "scalar_ticks", "to_png", "to_svg"]

#: Colour-blind-safe palette (Okabe & Ito 2008), used for VMs, techniques, ...
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
           "#D55E00", "#F0E442", "#000000")

#: Default resolution for widget redraws: small PNGs keep redraws fast.
WIDGET_DPI = 80

#: Figure sizes (inches) a figure may have: big enough to render, small enough
#: that no call can ask for gigabytes of pixels.
MIN_INCHES, MAX_INCHES = 0.5, 40.0

#: The largest image :func:`to_png` renders (pixels), about 100 MB of RGBA.
MAX_PIXELS = 25_000_000


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


def new_figure(width: float = 6.4, height: float = 4.0, dpi: int = 100,
               margins: dict | None = None) -> Figure:
    """A new Figure with an Agg canvas attached (no pyplot involved).

    By default the figure uses matplotlib's constrained layout, which places
    labels well but measures every artist before each draw.  Figures redrawn by
    widgets may pass fixed ``margins`` instead (``subplots_adjust`` keywords:
    left, right, bottom, top, wspace, hspace; ``{}`` for matplotlib's defaults,
    e.g. when axes are placed with ``add_axes``), which is much cheaper.

    Examples
    --------
    >>> new_figure(4, 3).get_size_inches().tolist()
    [4.0, 3.0]
    >>> new_figure(4, 3, margins={"left": 0.1}).subplotpars.left
    0.1
    >>> new_figure(4, 3, margins={}).get_layout_engine() is None
    True
    """
    check_number("width", width, minimum=MIN_INCHES, maximum=MAX_INCHES)
    check_number("height", height, minimum=MIN_INCHES, maximum=MAX_INCHES)
    check_int("dpi", dpi, minimum=10, maximum=600)
    if margins is not None:
        if not isinstance(margins, dict):
            raise TypeError(f"margins must be a dict, got {type(margins).__name__}")
        allowed = {"left", "right", "bottom", "top", "wspace", "hspace"}
        if set(margins) - allowed:
            raise ValueError(f"margins keys must be among {sorted(allowed)}, "
                             f"got {sorted(set(margins) - allowed)}")
        for key, value in margins.items():
            check_number(f"margins[{key!r}]", value, minimum=0, maximum=1)
        fig = Figure(figsize=(width, height), dpi=dpi)
        fig.subplots_adjust(**margins)
    else:
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
    w, h = fig.get_size_inches()
    if not (w * dpi >= 1 and h * dpi >= 1) or w * h * dpi * dpi > MAX_PIXELS:
        raise ValueError(f"fig size {w:g}x{h:g} in at dpi={dpi} gives "
                         f"{int(w * dpi)}x{int(h * dpi)} pixels; allowed 1 to "
                         f"{MAX_PIXELS:,} pixels")
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


#: SVG settings: text stays text (the browser renders it, which is much
#: cheaper than outlining glyphs) and element ids are salted with a constant,
#: so the same figure gives the same bytes in every run.
_SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "virtlab"}


@functools.lru_cache(maxsize=4096)
def _measure(s, prop, ismath):
    return _TEXT2PATH.get_text_width_height_descent(s, prop, ismath)


_TEXT2PATH = TextToPath()


def measure_text(s: str, prop: FontProperties) -> tuple[float, float, float]:
    """Width, height and descent of ``s`` in points, as matplotlib's SVG output measures it.

    Kept for the process (the measure is a pure function of the string and
    the font properties at SVG's fixed 72 dpi).

    Examples
    --------
    >>> w, h, d = measure_text("Hg", FontProperties(size=10))
    >>> 0 < d < h < 12 and w > 0
    True
    """
    if not isinstance(s, str):
        raise TypeError(f"s must be a string, got {type(s).__name__}")
    check_type("prop", prop, FontProperties)
    return _measure(s, prop.copy(), False)


def _svg_text_size(renderer, s, prop, ismath):
    # Placing a text (alignment, layout) measures its string with FreeType; for
    # SVG output that is a pure function of the string, the font properties and
    # the math flag (the SVG renderer works at a fixed 72 dpi and measures with
    # a TextToPath, like this).  matplotlib caches it per renderer, i.e. per
    # figure, so every widget redraw measured the same tick labels, titles and
    # legend entries again.  Here they are kept for the process.  The key holds
    # a copy of the properties: a FontProperties is mutable (matplotlib's own
    # cache does the same).
    return _measure(s, prop.copy(), ismath)


@contextlib.contextmanager
def _measured_text():
    # Only while our SVG is drawn: other SVG output in the process is untouched.
    own = RendererSVG.get_text_width_height_descent
    RendererSVG.get_text_width_height_descent = _svg_text_size
    try:
        yield
    finally:
        RendererSVG.get_text_width_height_descent = own


def to_svg(fig: Figure) -> bytes:
    """Render ``fig`` to SVG bytes (deterministic: no date, fixed ids).

    Widgets use SVG: a vector image costs no rasterisation, so a redraw is
    markedly cheaper than a PNG, and it stays sharp when the page is zoomed.

    Examples
    --------
    >>> to_svg(new_figure(2, 1)).startswith(b"<?xml")
    True
    >>> to_svg(new_figure(2, 1)) == to_svg(new_figure(2, 1))
    True
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context(_SVG_RC), _measured_text():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def drop_hidden_ticks(fig: Figure) -> Figure:
    """Remove the ticks of every axis that draws none (axes off, axis hidden); returns ``fig``.

    matplotlib still locates, formats and lays out the ticks of an axis it
    does not draw (the diagrams drawn on an Axes with ``set_axis_off``: the
    page walk, the course map, translated code); that was 2–8 ms of such a
    widget redraw on the development machine.  The SVG is byte for byte the
    same (tested for every app).

    Examples
    --------
    >>> fig = new_figure(3, 2, margins={})
    >>> ax = fig.add_subplot()
    >>> ax.set_axis_off()
    >>> len(drop_hidden_ticks(fig).axes[0].get_xticks())
    0
    """
    check_type("fig", fig, Figure)
    for ax in fig.axes:
        for axis, set_ticks in ((ax.xaxis, ax.set_xticks), (ax.yaxis, ax.set_yticks)):
            if not (ax.axison and axis.get_visible()):
                set_ticks([])
                set_ticks([], minor=True)
    return fig


def scalar_ticks(lo: float, hi: float, n: int, steps=None) -> list[tuple[float, str]]:
    """Ticks as a matplotlib axis showing [lo, hi] draws them, without an Axes.

    Positions from ``MaxNLocator(n, steps=steps)`` inside the limits, labels
    from a ``ScalarFormatter`` (which sees every position, as the axis's does,
    then those outside the view are dropped as ``Axis._update_ticks`` does);
    as :meth:`virtlab.viz.scene.Panel.frame` takes them.  Labels are written
    out in full (no offset or power of ten beside the axis).

    Examples
    --------
    >>> scalar_ticks(0, 82.4, 5)
    [(0.0, '0'), (20.0, '20'), (40.0, '40'), (60.0, '60'), (80.0, '80')]
    >>> scalar_ticks(0, 5.4, 4)
    [(0.0, '0.0'), (1.5, '1.5'), (3.0, '3.0'), (4.5, '4.5')]
    >>> scalar_ticks(-4.75, 99.75, 5)
    [(0.0, '0'), (25.0, '25'), (50.0, '50'), (75.0, '75')]
    """
    check_number("lo", lo)
    check_number("hi", hi)
    check_int("n", n, minimum=1, maximum=100)
    if lo == hi:
        raise ValueError(f"lo and hi must differ, got {lo!r} and {hi!r}")
    if steps is not None:
        check_type("steps", steps, (list, tuple))
        for i, v in enumerate(steps):
            check_number(f"steps[{i}]", v, minimum=1, maximum=10)
        if not steps or list(steps) != sorted(set(steps)):
            raise ValueError(f"steps must be increasing numbers from 1 to 10, got {steps!r}")
    lo, hi = sorted((float(lo), float(hi)))
    every = [float(v) for v in MaxNLocator(n, steps=steps).tick_values(lo, hi)]
    fmt = ScalarFormatter(useOffset=False)
    fmt.set_scientific(False)
    fmt.create_dummy_axis()
    fmt.axis.set_view_interval(lo, hi)
    eps = (hi - lo) * 1e-9
    return [(v, t) for v, t in zip(every, fmt.format_ticks(every)) if lo - eps <= v <= hi + eps]


def nice_ticks(lo: float, hi: float, n: int = 4, integer: bool = False):
    """Up to ``n + 1`` round tick positions inside ``[lo, hi]`` and their labels.

    Examples
    --------
    >>> nice_ticks(0, 100, 4)
    ([0.0, 25.0, 50.0, 75.0, 100.0], ['0', '25', '50', '75', '100'])
    """
    check_number("lo", lo)
    check_number("hi", hi)
    check_int("n", n, minimum=1, maximum=100)
    check_bool("integer", integer)
    lo, hi = sorted((float(lo), float(hi)))
    eps = (hi - lo) * 1e-9
    locs = [float(v) for v in MaxNLocator(n, integer=integer).tick_values(lo, hi)
            if lo - eps <= v <= hi + eps]
    return locs, [f"{v:g}" for v in locs]
