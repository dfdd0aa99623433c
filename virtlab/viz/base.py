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

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import is_color_like
from matplotlib.font_manager import FontProperties
from matplotlib.figure import Figure
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from ..errors import check_bool, check_int, check_number, check_type

__all__ = ["PALETTE", "color_for", "drop_hidden_ticks", "fast_legend", "fast_ticks",
           "freeze_ticks", "measure_text", "new_figure", "nice_ticks", "plain_ticks",
           "scalar_ticks", "to_png", "to_svg"]

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


def fast_ticks(ax, which: str, locs, labels=None, *, fontsize: float = 8,
               length: float = 3.5, pad: float = 2.0, grid: float | None = None,
               label_pad: bool = True):
    """Ticks drawn as plain artists: one collection of marks plus one text per label.

    A matplotlib tick is five artists with their own layout pass; in a widget
    redraw a labelled tick cost ~1 ms, three times a text.  ``which`` is
    ``"x"`` or ``"y"``; ``locs`` are data positions (inside the limits),
    ``labels`` their texts (None: marks only, e.g. the upper of two panels
    sharing x); ``grid`` an alpha for grid lines across the axes.  Needs fixed
    margins (the axes' size is read now); with ``label_pad`` the axis label is
    moved clear of the labels.

    Examples
    --------
    >>> fig = new_figure(3, 2, margins={"left": 0.2, "bottom": 0.2})
    >>> ax = fig.add_subplot()
    >>> fast_ticks(ax, "x", [0, 0.5, 1], ["0", "0.5", "1"])
    >>> [t.get_text() for t in ax.texts], list(ax.get_xticks())
    (['0', '0.5', '1'], [])
    """
    if which not in ("x", "y"):
        raise ValueError(f"which must be 'x' or 'y', got {which!r}")
    check_type("ax", ax, Axes)
    check_type("locs", locs, (list, tuple, range))
    if len(locs) > 1000:  # a tick per pixel is already too many
        raise ValueError(f"locs must hold at most 1000 positions, got {len(locs)}")
    locs = list(locs)
    fig = ax.figure
    pos = ax.get_position()
    size_pt = (pos.height * fig.get_figheight() if which == "x"
               else pos.width * fig.get_figwidth()) * 72
    d, off = length / size_pt, (length + pad) / size_pt
    if which == "x":
        ax.set_xticks([])
        tr = ax.get_xaxis_transform()
        marks = [[(v, 0), (v, -d)] for v in locs]
        lines = [[(v, 0), (v, 1)] for v in locs]
        place = {"ha": "center", "va": "top"}
        at = [(v, -off) for v in locs]
    else:
        ax.set_yticks([])
        tr = ax.get_yaxis_transform()
        marks = [[(0, v), (-d, v)] for v in locs]
        lines = [[(0, v), (1, v)] for v in locs]
        place = {"ha": "right", "va": "center"}
        at = [(-off, v) for v in locs]
    ax.add_collection(LineCollection(marks, colors="black", linewidths=0.8, transform=tr,
                                     clip_on=False), autolim=False)
    if grid:
        ax.add_collection(LineCollection(lines, colors="#b0b0b0", linewidths=0.8,
                                         alpha=grid, transform=tr, zorder=0.5),
                          autolim=False)
    if labels is not None:
        for (x, y), text in zip(at, labels):
            ax.text(x, y, text, transform=tr, fontsize=fontsize, **place)
        if label_pad:
            extra = fontsize + 2 if which == "x" else \
                0.62 * fontsize * max((len(str(t)) for t in labels), default=0) + 2
            (ax.xaxis if which == "x" else ax.yaxis).labelpad = length + pad + extra


def freeze_ticks(ax, which: str = "xy", *, fontsize: float | str | None = None,
                 grid: float | None = None, length: float | None = None,
                 pad: float | None = None) -> None:
    """Replace ``ax``'s matplotlib ticks by :func:`fast_ticks` at the same places.

    The positions and labels are the ones matplotlib would draw: the axis's
    own locator and formatter (log scales, ``MaxNLocator``, fixed labels set
    with ``set_xticks(locs, labels)``) evaluated for the final limits — so
    call it after the limits are set.  Label size, tick length, pad and grid
    lines default to the axis's own settings (``tick_params``, ``ax.grid``);
    minor ticks become unlabelled marks.  The picture is the same; the ticks
    cost a collection plus one text per label instead of five artists and a
    layout pass each.  An axis that is hidden draws nothing; one whose
    formatter needs an offset text (``1e6`` beside the axis) keeps
    matplotlib's ticks.  Needs fixed margins, like :func:`fast_ticks`.

    Examples
    --------
    >>> fig = new_figure(3, 2, margins={"left": 0.2, "bottom": 0.2})
    >>> ax = fig.add_subplot()
    >>> _ = ax.plot([0, 10], [0, 1])
    >>> freeze_ticks(ax, "x")
    >>> [t.get_text() for t in ax.texts]
    ['0.0', '2.5', '5.0', '7.5', '10.0']
    """
    check_type("which", which, str)
    if not which or set(which) - {"x", "y"}:
        raise ValueError(f"which must be 'x', 'y' or 'xy', got {which!r}")
    check_type("ax", ax, Axes)
    for name, value, top in (("grid", grid, 1), ("length", length, 50), ("pad", pad, 50)):
        if value is not None:
            check_number(name, value, minimum=0, maximum=top)
    if fontsize is not None and not isinstance(fontsize, str):
        check_number("fontsize", fontsize, minimum=1, maximum=100)
    for w in dict.fromkeys(which):
        axis = ax.xaxis if w == "x" else ax.yaxis
        lo, hi = sorted(ax.get_xlim() if w == "x" else ax.get_ylim())
        eps = (hi - lo) * 1e-9
        # as Axis._update_ticks: the formatter sees every location, then the
        # ones outside the view are dropped
        every = [float(v) for v in axis.get_major_locator()()]
        fmt = axis.get_major_formatter()
        labels = fmt.format_ticks(every)
        if isinstance(fmt, ScalarFormatter) and fmt.get_offset():
            continue
        shown = [(v, t) for v, t in zip(every, labels) if lo - eps <= v <= hi + eps]
        minor = [float(v) for v in axis.get_minor_locator()() if lo - eps <= v <= hi + eps]
        # the axis's own look, from its template ticks (matplotlib keeps one of
        # each, updated by tick_params and grid)
        major = axis.majorTicks[0]
        visible = ax.axison and axis.get_visible()
        if visible and shown:
            line = major.gridline
            fast_ticks(ax, w, [v for v, _ in shown],
                       [t for _, t in shown] if major.label1.get_visible() else None,
                       fontsize=_points(fontsize) if fontsize is not None
                       else major.label1.get_fontsize(),
                       length=(length if length is not None else major.get_tick_padding()
                               if major.tick1line.get_visible() else 0.0),
                       pad=pad if pad is not None else major.get_pad(),
                       grid=grid if grid is not None else
                       ((line.get_alpha() or 1.0) if line.get_visible() else None))
        if visible and minor:
            fast_ticks(ax, w, minor, None, length=axis.minorTicks[0].get_tick_padding())
        (ax.set_xticks if w == "x" else ax.set_yticks)([])
        (ax.set_xticks if w == "x" else ax.set_yticks)([], minor=True)


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


def plain_ticks(fig: Figure) -> Figure:
    """:func:`freeze_ticks` on every axes of ``fig``; returns ``fig`` (for widget redraws).

    Examples
    --------
    >>> fig = new_figure(3, 2, margins={"left": 0.2, "bottom": 0.2})
    >>> _ = fig.add_subplot().plot([0, 10], [0, 1])
    >>> len(plain_ticks(fig).axes[0].get_xticks())
    0
    """
    check_type("fig", fig, Figure)
    for ax in fig.axes:
        freeze_ticks(ax)
    return fig


def _points(size: float | str) -> float:
    # a font size in points ("small" -> 8.33 with the default 10 pt font)
    return FontProperties(size=size).get_size_in_points()


def fast_legend(ax, entries, *, fontsize: float = 7, loc: str = "upper right",
                outside: bool = False) -> None:
    """A legend as plain artists: one collection of colour swatches and a text per entry.

    matplotlib's ``Legend`` lays its entries out in a tree of offset boxes on
    every draw (a tenth of a widget redraw); this places them once, from the
    font size.  ``entries`` are ``(label, colour)`` pairs (a filled swatch) or
    ``(label, colour, "line")`` (a short line, for plotted lines); ``loc`` is
    ``"upper right"`` or ``"upper left"`` inside the axes, or with
    ``outside`` the entries start right of the axes' top edge (like
    ``loc="upper left", bbox_to_anchor=(1, 1)``).  Needs fixed margins.

    Examples
    --------
    >>> fig = new_figure(3, 2, margins={"left": 0.2, "bottom": 0.2})
    >>> ax = fig.add_subplot()
    >>> fast_legend(ax, [("pre-copy", "#0072B2"), ("push", "#009E73")])
    >>> [t.get_text() for t in ax.texts], len(ax.collections)
    (['pre-copy', 'push'], 1)
    """
    check_type("ax", ax, Axes)
    if loc not in ("upper right", "upper left"):
        raise ValueError(f"loc must be 'upper right' or 'upper left', got {loc!r}")
    check_number("fontsize", fontsize, minimum=1, maximum=100)
    check_bool("outside", outside)
    check_type("entries", entries, (list, tuple))
    if len(entries) > 100:
        raise ValueError(f"entries must hold at most 100 rows, got {len(entries)}")
    for i, e in enumerate(entries):
        check_type(f"entries[{i}]", e, (list, tuple))
        if len(e) not in (2, 3) or not isinstance(e[0], str) or (len(e) == 3 and
                                                                 e[2] not in ("patch", "line")):
            raise ValueError(f"entries[{i}] must be (label, colour) or (label, colour, "
                             f"'patch' | 'line') with a str label, got {e!r:.80}")
        if not is_color_like(e[1]):
            raise ValueError(f"entries[{i}] colour must be a matplotlib colour, got {e[1]!r:.40}")
    entries = [(e[0], e[1], e[2] if len(e) > 2 else "patch") for e in entries]
    if not entries:
        return
    fig = ax.figure
    pos = ax.get_position()
    w_pt, h_pt = pos.width * fig.get_figwidth() * 72, pos.height * fig.get_figheight() * 72
    row, box, gap = 1.4 * fontsize, 1.4 * fontsize, 0.6 * fontsize
    longest = max(0.6 * fontsize * len(label) for label, _, _ in entries)
    if outside:
        x0 = 1.0 + gap / w_pt
    elif loc == "upper left":
        x0 = gap / w_pt
    else:
        x0 = 1.0 - (1.5 * gap + box + 0.5 * fontsize + longest) / w_pt
    y0 = 1.0 - (0 if outside else gap) / h_pt
    swatches, faces, edges = [], [], []
    if not outside:   # matplotlib's legend frame: white at 80 %, light grey edge
        right = x0 + (box + 0.5 * fontsize + longest + gap) / w_pt
        bottom = y0 - (len(entries) * row + gap / 2) / h_pt
        x_f, y_f = x0 - 0.5 * gap / w_pt, y0 + 0.5 * gap / h_pt
        swatches.append([(x_f, bottom), (x_f, y_f), (right, y_f), (right, bottom)])
        faces.append((1, 1, 1, 0.8))
        edges.append("#cccccc")
    lines, line_colors = [], []
    for i, (label, color, kind) in enumerate(entries):
        top = y0 - i * row / h_pt
        mid = top - 0.5 * row / h_pt
        half = 0.35 * fontsize / h_pt
        if kind == "line":
            lines.append([(x0, mid), (x0 + box / w_pt, mid)])
            line_colors.append(color)
        else:
            swatches.append([(x0, mid - half), (x0, mid + half), (x0 + box / w_pt, mid + half),
                             (x0 + box / w_pt, mid - half)])
            faces.append(color)
            edges.append("none")
        ax.text(x0 + (box + 0.5 * fontsize) / w_pt, mid, label, transform=ax.transAxes,
                fontsize=fontsize, va="center", ha="left", clip_on=False, zorder=6)
    ax.add_collection(PolyCollection(swatches, facecolors=faces, edgecolors=edges,
                                     linewidths=0.8, transform=ax.transAxes, clip_on=False,
                                     zorder=5),
                      autolim=False)
    if lines:
        ax.add_collection(LineCollection(lines, colors=line_colors, linewidths=1.5,
                                         transform=ax.transAxes, clip_on=False, zorder=5.5),
                          autolim=False)


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
