"""Pictures as data: panels of boxes, lines and texts, written as SVG or drawn by matplotlib.

A widget redraw through matplotlib builds a Figure, Axes and an artist per
shape, lays the texts out and serialises all of it: 15-30 ms per picture on a
slow laptop, most of a round trip whose target is 50 ms (issue 21).  A course
picture needs none of that machinery.  A :class:`Scene` is the picture as a
list of shapes; :meth:`Scene.svg` writes it as SVG text directly (about a
millisecond), and :meth:`Scene.figure` draws the *same* scene with matplotlib
for the static notebook pages (and PNG export).  A picture is described once
and has two renderers, not two drawings.

A scene has one or more :class:`Panel` s (an Axes' place: a box in the
picture and the data limits it shows).  Every shape is placed in one of four
coordinate systems, as matplotlib's transforms: ``"data"``, ``"axes"``
(fractions of the panel), ``"xaxis"`` (x data, y axes fraction: tick marks of
the x axis) and ``"yaxis"``; and may be shifted by an ``offset`` in points
(tick labels, legends).  :meth:`Panel.frame` draws spines, ticks, tick labels
and axis labels from those shapes, :meth:`Panel.legend` a legend, so both
renderers show them the same way.

Texts are placed as matplotlib places them: the SVG gives each line's
baseline, worked out from the text's measured height and descent
(matplotlib's own measurement, kept for the process by :mod:`virtlab.viz.base`).
Shapes are drawn in matplotlib's order: filled shapes, then lines, then
texts (its default z-order), each in the order added.

Examples
--------
>>> s = Scene(2, 1)
>>> ax = s.panel(xlim=(0, 2), ylim=(0, 1), title="two cells")
>>> ax.rect(0.1, 0.1, 0.8, 0.8, fc="#0072B2")
>>> ax.text(0.5, 0.5, "1", color="white")
>>> s.svg().count(b"<rect"), s.svg().count(b"<text")
(2, 2)
>>> len(s.figure().axes[0].texts)
1
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

import matplotlib.transforms as mtransforms
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import is_color_like, to_hex
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle

from ..errors import check_number, check_str
from .base import MAX_INCHES, MIN_INCHES, measure_text, new_figure

__all__ = ["Panel", "Scene", "text_box"]

#: matplotlib's default font family, as its SVG output names it.
FONT_FAMILY = "'DejaVu Sans', 'Bitstream Vera Sans', 'Arial', 'Helvetica', sans-serif"
_HA = {"left": "start", "center": "middle", "right": "end"}
_VA = ("top", "center", "bottom", "baseline", "center_baseline")
_WEIGHTS = ("normal", "bold")
#: Font families a text may ask for: matplotlib's generic names and their SVG fonts.
_FAMILIES = {"sans-serif": FONT_FAMILY,
             "monospace": "'DejaVu Sans Mono', 'Bitstream Vera Sans Mono', monospace"}
_COORDS = ("data", "axes", "xaxis", "yaxis")
_LEGEND_LOCS = ("upper right", "upper left", "lower right", "lower left")
_DASH = {"solid": None, "dashed": (3.7, 1.6), "dotted": (1.0, 1.65)}   # matplotlib's, per lw
#: Drawing order (matplotlib's default z-orders): grid, filled shapes, lines, texts.
_Z = {"grid": 0.5, "rect": 1, "rect_pt": 1, "polygon": 1, "segments": 1.5, "line": 2, "tick": 2,
      "arrow": 2,
      "dots": 2, "text": 3}
#: Points between an Axes' top and its title's baseline (matplotlib's axes.titlepad).
TITLE_PAD = 6.0
#: FancyArrowPatch's defaults: both ends shortened by 2 pt; "-|>" head at mutation scale 9.
ARROW_SHRINK, HEAD_LENGTH, HEAD_WIDTH = 2.0, 0.4 * 9, 0.2 * 9
MAX_ITEMS = 20_000


def _color(name: str, value: str) -> str:
    if value == "none":
        return "none"
    if not isinstance(value, str) or not is_color_like(value):
        raise ValueError(f"{name} must be a colour (name or #rrggbb) or 'none', got {value!r}")
    return to_hex(value)


def _finite(name: str, value: float) -> float:
    check_number(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _pair(name: str, value: Sequence[float]) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair, got {value!r:.60}")
    return _finite(f"{name}[0]", value[0]), _finite(f"{name}[1]", value[1])


def _limits(name: str, value: Sequence[float]) -> tuple[float, float]:
    lo, hi = _pair(name, value)
    if lo == hi:
        raise ValueError(f"{name} must have low != high, got {value!r}")
    return lo, hi


def _points(name: str, xs: Sequence[float], ys: Sequence[float]) -> tuple[tuple, tuple]:
    if not isinstance(xs, (list, tuple, range)) or not isinstance(ys, (list, tuple, range)):
        raise TypeError(f"{name}: xs and ys must be sequences of numbers")
    if len(xs) != len(ys) or len(xs) > MAX_ITEMS:
        raise ValueError(f"{name}: xs and ys must have the same length (at most "
                         f"{MAX_ITEMS}), got {len(xs)} and {len(ys)}")
    try:        # the common case, fast: plain numbers (a curve has hundreds of points)
        out = tuple(map(float, xs)), tuple(map(float, ys))
        ok = all(type(v) in _PLAIN for v in xs) and all(type(v) in _PLAIN for v in ys)
    except (TypeError, ValueError):
        ok = False
    if not ok:      # a bool, a string, ...: the precise message
        return (tuple(_finite(f"{name} x", v) for v in xs),
                tuple(_finite(f"{name} y", v) for v in ys))
    if not all(map(math.isfinite, out[0])) or not all(map(math.isfinite, out[1])):
        raise ValueError(f"{name}: coordinates must be finite numbers")
    return out


#: Number types taken without a check per value (numpy's floats are floats).
_PLAIN = (int, float)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


class Panel:
    """A place in a :class:`Scene` with data limits (an Axes, without the machinery).

    Made by :meth:`Scene.panel`.  Every drawing method checks its arguments
    first: a refused call raises ``ValueError``/``TypeError`` naming the
    parameter and adds nothing.
    """

    def __init__(self, scene: Scene, box, xlim, ylim, title, title_size):
        self.scene = scene
        self.box, self.xlim, self.ylim = box, xlim, ylim
        self.title, self.title_size = title, title_size

    # -- coordinates ---------------------------------------------------------
    def to_points(self, x: float, y: float, coords: str = "data",
                  offset: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
        """(x, y) in SVG user units: points right and *down* from the top left corner.

        Examples
        --------
        >>> Scene(3, 2).panel(xlim=(0, 1), ylim=(0, 1)).to_points(1, 1)
        (216.0, 0.0)
        >>> Scene(3, 2).panel(xlim=(0, 1), ylim=(0, 1)).to_points(0, 0, "axes", (5, 5))
        (5.0, 139.0)
        """
        left, bottom, right, top = self.box
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        fx = x if coords in ("axes", "yaxis") else (x - x0) / (x1 - x0)
        fy = y if coords in ("axes", "xaxis") else (y - y0) / (y1 - y0)
        px = (left + fx * (right - left)) * self.scene.width * 72.0 + offset[0]
        py = (1.0 - bottom - fy * (top - bottom)) * self.scene.height * 72.0 - offset[1]
        return px, py

    def size_points(self) -> tuple[float, float]:
        """The panel's width and height in points."""
        left, bottom, right, top = self.box
        return (right - left) * self.scene.width * 72.0, (top - bottom) * self.scene.height * 72.0

    # -- shapes --------------------------------------------------------------
    def _place(self, coords: str, offset) -> tuple[str, tuple[float, float]]:
        if coords not in _COORDS:
            raise ValueError(f"coords must be one of {list(_COORDS)}, got {coords!r}")
        return coords, _pair("offset", offset)

    def _add(self, kind: str, place, *args, zorder: float | None = None) -> None:
        if zorder is not None:
            check_number("zorder", zorder, minimum=-100, maximum=100)
        if len(self.scene.items) >= MAX_ITEMS:
            raise ValueError(f"a scene holds at most {MAX_ITEMS} shapes")
        self.scene.items.append((kind, self, place, _Z[kind] if zorder is None else float(zorder),
                                 *args))

    def rect(self, x: float, y: float, w: float, h: float, *, fc: str = "white",
             ec: str = "none", lw: float = 1.0, alpha: float = 1.0, rounded: bool = False,
             coords: str = "data", offset=(0.0, 0.0), zorder: float | None = None) -> None:
        """A box with its lower left corner at (x, y); ``rounded`` like matplotlib's
        ``FancyBboxPatch(boxstyle="round,pad=0.02")`` (data coordinates only)."""
        x, y, w, h = (_finite(n, v) for n, v in (("x", x), ("y", y), ("w", w), ("h", h)))
        if w < 0 or h < 0:
            raise ValueError(f"w and h must be >= 0, got w={w!r}, h={h!r}")
        check_number("lw", lw, minimum=0, maximum=20)
        check_number("alpha", alpha, minimum=0, maximum=1)
        if not isinstance(rounded, bool):
            raise TypeError(f"rounded must be a bool, got {type(rounded).__name__}")
        place = self._place(coords, offset)
        if rounded and coords != "data":
            raise ValueError("rounded boxes are drawn in data coordinates (coords='data')")
        self._add("rect", place, x, y, w, h, _color("fc", fc), _color("ec", ec), float(lw),
                  float(alpha), rounded, zorder=zorder)

    def polygon(self, xs: Sequence[float], ys: Sequence[float], *, fc: str = "white",
                ec: str = "none", lw: float = 1.0, alpha: float = 1.0,
                coords: str = "data", offset=(0.0, 0.0), zorder: float | None = None) -> None:
        """A closed, filled polygon through the points (xs[i], ys[i])."""
        xs, ys = _points("polygon", xs, ys)
        check_number("lw", lw, minimum=0, maximum=20)
        check_number("alpha", alpha, minimum=0, maximum=1)
        self._add("polygon", self._place(coords, offset), xs, ys, _color("fc", fc),
                  _color("ec", ec), float(lw), float(alpha), zorder=zorder)

    def line(self, xs: Sequence[float], ys: Sequence[float], *, color: str = "black",
             lw: float = 1.0, dash: str = "solid", alpha: float = 1.0, grid: bool = False,
             coords: str = "data", offset=(0.0, 0.0), zorder: float | None = None) -> None:
        """A polyline; ``grid`` lines are drawn beneath everything else."""
        xs, ys = _points("line", xs, ys)
        check_number("lw", lw, minimum=0, maximum=20)
        check_number("alpha", alpha, minimum=0, maximum=1)
        if dash not in _DASH:
            raise ValueError(f"dash must be one of {list(_DASH)}, got {dash!r}")
        if not isinstance(grid, bool):
            raise TypeError(f"grid must be a bool, got {type(grid).__name__}")
        self._add("grid" if grid else "line", self._place(coords, offset), xs, ys,
                  _color("color", color), float(lw), dash, float(alpha), zorder=zorder)

    def arrow(self, x0: float, y0: float, x1: float, y1: float, *, color: str = "black",
              lw: float = 1.2, dash: str = "solid", rad: float = 0.0,
              shrink: float = ARROW_SHRINK, coords: str = "data") -> None:
        """An arrow from (x0, y0) to (x1, y1), like ``FancyArrowPatch(arrowstyle="-|>",
        mutation_scale=9, connectionstyle=f"arc3,rad={rad}", shrinkA=shrink,
        shrinkB=shrink)``: both ends ``shrink`` points short of the points."""
        pts = [_finite(n, v) for n, v in (("x0", x0), ("y0", y0), ("x1", x1), ("y1", y1))]
        check_number("lw", lw, minimum=0, maximum=20)
        check_number("rad", rad, minimum=-5, maximum=5)
        check_number("shrink", shrink, minimum=0, maximum=100)
        if dash not in _DASH:
            raise ValueError(f"dash must be one of {list(_DASH)}, got {dash!r}")
        self._add("arrow", self._place(coords, (0.0, 0.0)), *pts, _color("color", color),
                  float(lw), dash, float(rad), float(shrink))

    def dots(self, xs: Sequence[float], ys: Sequence[float], *, color: str = "black",
             size: float = 4.0, coords: str = "data") -> None:
        """Round markers ``size`` points across at the points (a scatter plot)."""
        xs, ys = _points("dots", xs, ys)
        check_number("size", size, minimum=0.1, maximum=100)
        self._add("dots", self._place(coords, (0.0, 0.0)), xs, ys, _color("color", color),
                  float(size))

    def hatch(self, x: float, y: float, w: float, h: float, *, spacing: float,
              color: str = "black", lw: float = 1.0, alpha: float = 1.0,
              zorder: float | None = None) -> None:
        """matplotlib's ``/`` hatch over the box with its lower left corner at (x, y).

        Lines rising at 45 degrees on screen, ``spacing`` points apart along x,
        laid from the picture's top left corner as matplotlib lays its hatch
        pattern (``"/"`` is 72 pt apart, ``"//"`` 12 pt, ``"///"`` 8 pt);
        cut at the box.  One shape however many lines.
        """
        x, y, w, h = (_finite(n, v) for n, v in (("x", x), ("y", y), ("w", w), ("h", h)))
        check_number("spacing", spacing, minimum=1, maximum=1000)
        check_number("lw", lw, minimum=0, maximum=20)
        check_number("alpha", alpha, minimum=0, maximum=1)
        color = _color("color", color)
        (ax_, ay), (bx, by) = self.to_points(x, y), self.to_points(x + w, y + h)
        left, right, top, bottom = min(ax_, bx), max(ax_, bx), min(ay, by), max(ay, by)
        if right - left <= 0 or bottom - top <= 0:
            return

        def data(px: float, py: float) -> tuple[float, float]:   # points back to data
            return (x + (px - ax_) / (bx - ax_) * w, y + (py - ay) / (by - ay) * h)

        segments = []
        for k in range(math.ceil((left + top) / spacing),
                       math.floor((right + bottom) / spacing) + 1):
            c = k * spacing                          # the line x + y = c (points, y down)
            xa, xb = max(left, c - bottom), min(right, c - top)
            if xb > xa:
                segments.append((data(xa, c - xa), data(xb, c - xb)))
        if segments:
            self._add("segments", ("data", (0.0, 0.0)), tuple(segments), color, float(lw),
                      float(alpha), zorder=zorder)

    def text(self, x: float, y: float, s: str, *, size: float = 8.0, color: str = "black",
             ha: str = "center", va: str = "center", weight: str = "normal",
             rotation: int = 0, alpha: float = 1.0, family: str = "sans-serif",
             coords: str = "data", offset=(0.0, 0.0), zorder: float | None = None) -> None:
        """A text at (x, y), aligned like matplotlib's ``ax.text`` (``ha``, ``va``;
        ``rotation`` 0 or 90 degrees, aligned by the rotated box as matplotlib does;
        ``family`` ``"sans-serif"`` or ``"monospace"``)."""
        x, y = _finite("x", x), _finite("y", y)
        check_str("s", s, nonempty=False)
        check_number("size", size, minimum=1, maximum=72)
        check_number("alpha", alpha, minimum=0, maximum=1)
        if ha not in _HA:
            raise ValueError(f"ha must be one of {sorted(_HA)}, got {ha!r}")
        if va not in _VA:
            raise ValueError(f"va must be one of {list(_VA)}, got {va!r}")
        if weight not in _WEIGHTS:
            raise ValueError(f"weight must be one of {list(_WEIGHTS)}, got {weight!r}")
        if rotation not in (0, 90) or isinstance(rotation, bool):
            raise ValueError(f"rotation must be 0 or 90, got {rotation!r}")
        if family not in _FAMILIES:
            raise ValueError(f"family must be one of {list(_FAMILIES)}, got {family!r}")
        self._add("text", self._place(coords, offset), x, y, s, float(size),
                  _color("color", color), ha, va, weight, rotation, float(alpha), family,
                  zorder=zorder)

    # -- composite shapes ----------------------------------------------------
    def frame(self, *, xticks=(), yticks=(), xlabel: str = "", ylabel: str = "",
              size: float = 8.0, label_size: float | tuple[float, float] | None = None,
              spines: Sequence[str] = ("left", "bottom"), grid: str = "",
              grid_alpha: float = 1.0, length: float = 3.5, pad: float = 3.5) -> None:
        """Spines, ticks, tick labels and axis labels, as matplotlib draws them.

        ``xticks``/``yticks`` are ``(position, label)`` pairs (label ``""``: a
        mark only), their labels ``size`` points; the axis labels
        ``label_size`` (default: ``size``; a pair: x and y label); ``spines`` any
        of left, bottom, right, top; ``grid`` ``"x"``, ``"y"`` or ``"xy"`` for
        light grid lines at the ticks, ``grid_alpha`` their opacity (matplotlib's
        ``ax.grid(alpha=...)``).  May be called more than once (e.g. x and y
        separately).
        """
        check_number("size", size, minimum=1, maximum=72)
        check_number("grid_alpha", grid_alpha, minimum=0, maximum=1)
        label_size = size if label_size is None else label_size
        x_size, y_size = (label_size if isinstance(label_size, (tuple, list))
                          else (label_size, label_size))
        check_number("label_size", x_size, minimum=1, maximum=72)
        check_number("label_size", y_size, minimum=1, maximum=72)
        check_number("length", length, minimum=0, maximum=50)
        check_number("pad", pad, minimum=0, maximum=50)
        check_str("xlabel", xlabel, nonempty=False)
        check_str("ylabel", ylabel, nonempty=False)
        if (not isinstance(spines, (list, tuple))
                or set(spines) - {"left", "bottom", "right", "top"}):
            raise ValueError(f"spines must name some of left, bottom, right, top, got {spines!r}")
        if not isinstance(grid, str) or set(grid) - {"x", "y"}:
            raise ValueError(f"grid must be '', 'x', 'y' or 'xy', got {grid!r}")
        ticks = {}
        for name, value in (("xticks", xticks), ("yticks", yticks)):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{name} must be a list of (position, label) pairs")
            for i, t in enumerate(value):
                if (not isinstance(t, (list, tuple)) or len(t) != 2
                        or not isinstance(t[1], str)):
                    raise ValueError(f"{name}[{i}] must be (position, label), got {t!r:.60}")
                _finite(f"{name}[{i}]", t[0])
            ticks[name] = [(float(p), s) for p, s in value]
        edges = {"left": ((0, 0), (0, 1)), "right": ((1, 1), (0, 1)),
                 "bottom": ((0, 1), (0, 0)), "top": ((0, 1), (1, 1))}
        for name in spines:
            self.line(*edges[name], lw=0.8, coords="axes")
        # the axis labels clear the tick labels' boxes, as matplotlib lays them out
        label_h = max([text_box(s, size)[1] for _p, s in ticks["xticks"] if s], default=0)
        label_w = max([text_box(s, size)[0] for _p, s in ticks["yticks"] if s], default=0)
        for pos, label in ticks["xticks"]:
            self._add("tick", ("xaxis", (0.0, 0.0)), pos, 0.0, (0.0, -length), "#000000", 0.8)
            if label:
                self.text(pos, 0, label, size=size, va="top", coords="xaxis",
                          offset=(0, -(length + pad)))
            if "x" in grid:
                self.line([pos, pos], [0, 1], color="#b0b0b0", lw=0.8, alpha=grid_alpha,
                          coords="xaxis", grid=True)
        for pos, label in ticks["yticks"]:
            self._add("tick", ("yaxis", (0.0, 0.0)), 0.0, pos, (-length, 0.0), "#000000", 0.8)
            if label:
                self.text(0, pos, label, size=size, ha="right", va="center_baseline",
                          coords="yaxis", offset=(-(length + pad), 0))
            if "y" in grid:
                self.line([0, 1], [pos, pos], color="#b0b0b0", lw=0.8, alpha=grid_alpha,
                          coords="yaxis", grid=True)
        if xlabel:      # matplotlib: 4 pt (axes.labelpad) beyond the tick labels
            self.text(0.5, 0, xlabel, size=x_size, va="top", coords="axes",
                      offset=(0, -(length + pad + label_h + 4.0)))
        if ylabel:      # matplotlib: rotated, its box's right edge 4 pt left of the labels
            self.text(0, 0.5, ylabel, size=y_size, ha="right", rotation=90, coords="axes",
                      offset=(-(length + pad + label_w + 4.0), 0))

    def legend(self, entries, *, size: float = 7.0, loc: str = "upper right") -> None:
        """A legend of ``(label, colour)`` swatches or ``(label, colour, "line")``
        samples in a white frame in a corner of the panel (``loc``: upper or
        lower, right or left; the layout of the earlier ``fast_legend``,
        with measured label widths)."""
        check_number("size", size, minimum=1, maximum=72)
        if loc not in _LEGEND_LOCS:
            raise ValueError(f"loc must be one of {list(_LEGEND_LOCS)}, got {loc!r}")
        if not isinstance(entries, (list, tuple)):
            raise TypeError("entries must be a list of (label, colour[, kind]) tuples")
        rows = []
        for i, e in enumerate(entries):
            if (not isinstance(e, (list, tuple)) or len(e) not in (2, 3)
                    or not isinstance(e[0], str)
                    or (len(e) == 3 and e[2] not in ("patch", "line"))):
                raise ValueError(f"entries[{i}] must be (label, colour) or (label, colour, "
                                 f"'patch' | 'line'), got {e!r:.80}")
            rows.append((e[0], _color(f"entries[{i}] colour", e[1]),
                         e[2] if len(e) == 3 else "patch"))
        if not rows:
            return
        row, box, gap = 1.4 * size, 1.4 * size, 0.6 * size
        longest = max(text_box(label, size)[0] for label, _c, _k in rows)
        width = box + 0.5 * size + longest + 1.5 * gap
        x0 = gap if loc.endswith("left") else self.size_points()[0] - width
        # points from the panel's top left (upper) or bottom left (lower) corner
        corner_y = 1.0 if loc.startswith("upper") else 0.0
        first = -gap if loc.startswith("upper") else len(rows) * row + gap
        corner = ("axes", (0.0, 0.0))
        self._add("rect_pt", corner, 0.0, corner_y, (x0 - 0.5 * gap, first - len(rows) * row
                                                     - gap / 2),
                  (width, len(rows) * row + gap), "#ffffff", "#cccccc", 0.8, 0.8, zorder=5)
        for i, (label, color, kind) in enumerate(rows):
            mid = first - (i + 0.5) * row
            if kind == "line":
                self._add("tick", ("axes", (x0, mid)), 0.0, corner_y, (box, 0.0), color, 1.5,
                          zorder=5.5)
            else:
                self._add("rect_pt", corner, 0.0, corner_y, (x0, mid - 0.35 * size),
                          (box, 0.7 * size), color, "none", 0.0, 1.0, zorder=5)
            self.text(0, corner_y, label, size=size, ha="left", coords="axes",
                      offset=(x0 + box + 0.5 * size, mid), zorder=6)


class Scene:
    """A picture of :class:`Panel` s, for SVG (:meth:`svg`) or matplotlib (:meth:`figure`).

    Parameters
    ----------
    width, height : float
        Size in inches (as a matplotlib figure).

    Examples
    --------
    >>> s = Scene(3, 2)
    >>> s.panel(xlim=(1, 1), ylim=(0, 1))
    Traceback (most recent call last):
    ...
    ValueError: xlim must have low != high, got (1, 1)
    """

    def __init__(self, width: float, height: float):
        check_number("width", width, minimum=MIN_INCHES, maximum=MAX_INCHES)
        check_number("height", height, minimum=MIN_INCHES, maximum=MAX_INCHES)
        self.width, self.height = float(width), float(height)
        self.panels: list[Panel] = []
        #: Shapes in the order added: (kind, panel, (coords, offset), zorder, *arguments).
        self.items: list[tuple] = []

    def panel(self, *, xlim: Sequence[float], ylim: Sequence[float],
              box: Sequence[float] = (0.0, 0.0, 1.0, 1.0), title: str | None = None,
              title_size: float = 10.0) -> Panel:
        """A new panel: ``box`` (left, bottom, right, top) as fractions of the
        picture, showing ``xlim`` x ``ylim`` (y grows upwards); ``title`` centred above."""
        xlim, ylim = _limits("xlim", xlim), _limits("ylim", ylim)
        if not isinstance(box, (tuple, list)) or len(box) != 4:
            raise TypeError(f"box must be (left, bottom, right, top), got {box!r}")
        for i, v in enumerate(box):
            check_number(f"box[{i}]", v, minimum=0, maximum=1)
        if not (box[0] < box[2] and box[1] < box[3]):
            raise ValueError(f"box must have left < right and bottom < top, got {box!r}")
        if title is not None:
            check_str("title", title, nonempty=False)
        check_number("title_size", title_size, minimum=1, maximum=72)
        p = Panel(self, tuple(float(v) for v in box), xlim, ylim, title, float(title_size))
        self.panels.append(p)
        return p

    def texts(self, family: str | None = None) -> list[str]:
        """Every text the picture shows, in the order added (panel titles last);
        with ``family``, only the texts in that font family.

        Examples
        --------
        >>> s = Scene(2, 1)
        >>> p = s.panel(xlim=(0, 1), ylim=(0, 1), title="t")
        >>> p.text(0.5, 0.5, "a"); p.frame(xticks=[(0, "0")])
        >>> s.texts()
        ['a', '0', 't']
        """
        if family is not None and family not in _FAMILIES:
            raise ValueError(f"family must be one of {list(_FAMILIES)}, got {family!r}")
        return ([item[6] for item in self.items if item[0] == "text"
                 and family in (None, item[-1])]
                + [p.title for p in self.panels if p.title and family in (None, "sans-serif")])

    # -- SVG -----------------------------------------------------------------
    def svg(self) -> bytes:
        """The scene as SVG (text stays text; the same scene gives the same bytes)."""
        w, h = _num(self.width * 72), _num(self.height * 72)
        out = ['<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
               f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
               f'viewBox="0 0 {w} {h}" version="1.1">\n'
               f'<rect width="{w}" height="{h}" fill="#ffffff"/>\n'
               f'<g font-family="{FONT_FAMILY}" stroke-linejoin="round">\n']
        for kind, panel, place, _z, *args in sorted(self.items, key=lambda it: it[3]):
            out.append(getattr(self, f"_svg_{kind}")(panel, place, *args))
        for p in self.panels:
            if p.title:
                x = (p.box[0] + p.box[2]) / 2 * self.width * 72
                y = (1 - p.box[3]) * self.height * 72 - TITLE_PAD
                out.append(_svg_text_at(x, y, p.title, p.title_size, "#000000", "center",
                                        "baseline", "normal", 0, 1.0, "sans-serif"))
        out.append("</g>\n</svg>\n")
        return "".join(out).encode()

    @staticmethod
    def _paint(fc: str, ec: str, lw: float, alpha: float) -> str:
        s = f' fill="{fc}"'
        if alpha < 1:
            s += f' opacity="{_num(alpha)}"'
        if ec != "none" and lw:
            s += f' stroke="{ec}" stroke-width="{_num(lw)}"'
        return s

    def _svg_rect(self, p, place, x, y, w, h, fc, ec, lw, alpha, rounded) -> str:
        if rounded:        # matplotlib's round box: pad and corner radius 0.02 data units
            x, y, w, h = x - 0.02, y - 0.02, w + 0.04, h + 0.04
        (ax_, ay), (bx, by) = p.to_points(x, y + h, *place), p.to_points(x + w, y, *place)
        px, qx, py, qy = min(ax_, bx), max(ax_, bx), min(ay, by), max(ay, by)
        corner = ""
        if rounded:
            rx = abs(p.to_points(0.02, 0)[0] - p.to_points(0, 0)[0])
            ry = abs(p.to_points(0, 0.02)[1] - p.to_points(0, 0)[1])
            corner = f' rx="{_num(rx)}" ry="{_num(ry)}"'
        return (f'<rect x="{_num(px)}" y="{_num(py)}" width="{_num(qx - px)}" '
                f'height="{_num(qy - py)}"{self._paint(fc, ec, lw, alpha)}{corner}/>\n')

    def _svg_rect_pt(self, p, place, x, y, corner, size, fc, ec, lw, alpha) -> str:
        # a box sized in points, its lower left corner ``corner`` points from (x, y)
        px, py = p.to_points(x, y, place[0], corner)
        return (f'<rect x="{_num(px)}" y="{_num(py - size[1])}" width="{_num(size[0])}" '
                f'height="{_num(size[1])}"{self._paint(fc, ec, lw, alpha)}/>\n')

    def _svg_polygon(self, p, place, xs, ys, fc, ec, lw, alpha) -> str:
        pts = " ".join(f"{_num(a)},{_num(b)}" for a, b in
                       (p.to_points(x, y, *place) for x, y in zip(xs, ys)))
        return f'<polygon points="{pts}"{self._paint(fc, ec, lw, alpha)}/>\n'

    @staticmethod
    def _stroke(color, lw, dash, alpha) -> str:
        s = f' fill="none" stroke="{color}" stroke-width="{_num(lw)}"'
        if _DASH[dash]:
            s += ' stroke-dasharray="' + ",".join(_num(v * lw) for v in _DASH[dash]) + '"'
        if alpha < 1:
            s += f' opacity="{_num(alpha)}"'
        return s

    def _svg_line(self, p, place, xs, ys, color, lw, dash, alpha) -> str:
        pts = " ".join(f"{_num(a)},{_num(b)}" for a, b in
                       (p.to_points(x, y, *place) for x, y in zip(xs, ys)))
        return f'<polyline points="{pts}"{self._stroke(color, lw, dash, alpha)}/>\n'

    _svg_grid = _svg_line

    def _svg_segments(self, p, place, segments, color, lw, alpha) -> str:
        d = " ".join(f"M{_num(a)},{_num(b)} L{_num(c)},{_num(e)}" for (a, b), (c, e) in
                     ((p.to_points(*s0), p.to_points(*s1)) for s0, s1 in segments))
        return f'<path d="{d}"{self._stroke(color, lw, "solid", alpha)}/>\n'

    def _svg_tick(self, p, place, x, y, d, color, lw) -> str:
        # a segment from (x, y) to the same point shifted by d points (a tick mark)
        ax_, ay = p.to_points(x, y, *place)
        return (f'<polyline points="{_num(ax_)},{_num(ay)} {_num(ax_ + d[0])},{_num(ay - d[1])}"'
                f'{self._stroke(color, lw, "solid", 1.0)}/>\n')

    def _svg_arrow(self, p, place, x0, y0, x1, y1, color, lw, dash, rad, shrink) -> str:
        (ax_, ay), (bx, by) = p.to_points(x0, y0, place[0]), p.to_points(x1, y1, place[0])
        # matplotlib's arc3 (in display space, y up): control point off the midpoint
        dx, dy = bx - ax_, -(by - ay)
        cx, cy = (ax_ + bx) / 2 + rad * dy, (ay + by) / 2 + rad * dx
        # shorten both ends by ``shrink`` points along the tangents
        ta = (cx - ax_, cy - ay) if rad else (bx - ax_, by - ay)
        tb = (bx - cx, by - cy) if rad else (bx - ax_, by - ay)
        la, lb = math.hypot(*ta) or 1.0, math.hypot(*tb) or 1.0
        sx, sy = ax_ + ta[0] / la * shrink, ay + ta[1] / la * shrink
        ex, ey = bx - tb[0] / lb * shrink, by - tb[1] / lb * shrink
        ux, uy = tb[0] / lb, tb[1] / lb
        # matplotlib pulls the tip back by half the line width over the head's
        # half-angle, so the stroked outline ends at the point; the line runs to the tip
        sin_t = HEAD_WIDTH / math.hypot(HEAD_LENGTH, HEAD_WIDTH)
        tip_x, tip_y = ex - ux * 0.5 * lw / sin_t, ey - uy * 0.5 * lw / sin_t
        base_x, base_y = tip_x - ux * HEAD_LENGTH, tip_y - uy * HEAD_LENGTH
        path = (f"M{_num(sx)},{_num(sy)} Q{_num(cx)},{_num(cy)} {_num(tip_x)},{_num(tip_y)}"
                if rad else f"M{_num(sx)},{_num(sy)} L{_num(tip_x)},{_num(tip_y)}")
        head = " ".join(f"{_num(a)},{_num(b)}" for a, b in (
            (tip_x, tip_y), (base_x - uy * HEAD_WIDTH, base_y + ux * HEAD_WIDTH),
            (base_x + uy * HEAD_WIDTH, base_y - ux * HEAD_WIDTH)))
        return (f'<path d="{path}"{self._stroke(color, lw, dash, 1.0)} stroke-linecap="round"/>\n'
                f'<polygon points="{head}" fill="{color}" stroke="{color}" '
                f'stroke-width="{_num(lw)}"/>\n')

    def _svg_dots(self, p, place, xs, ys, color, size) -> str:
        return "".join(f'<circle cx="{_num(a)}" cy="{_num(b)}" r="{_num(size / 2)}" '
                       f'fill="{color}"/>\n'
                       for a, b in (p.to_points(x, y, place[0]) for x, y in zip(xs, ys)))

    def _svg_text(self, p, place, x, y, s, size, color, ha, va, weight, rotation, alpha,
                  family) -> str:
        px, py = p.to_points(x, y, *place)
        return _svg_text_at(px, py, s, size, color, ha, va, weight, rotation, alpha, family)

    # -- matplotlib ----------------------------------------------------------
    def figure(self):
        """The scene drawn by matplotlib: an Axes per panel, its axis off.

        For the static notebook pages and PNG export; the widgets show :meth:`svg`.
        """
        fig = new_figure(self.width, self.height, margins={})
        self.draw([fig.add_axes((left, bottom, right - left, top - bottom))
                   for left, bottom, right, top in (p.box for p in self.panels)])
        return fig

    def draw(self, axes: Sequence[Axes]) -> None:
        """Draw the scene with matplotlib onto existing Axes, one per panel, in order.

        For a figure a caller composes (a scene beside other drawings); the
        Axes should sit where the panels' boxes are.  :meth:`figure` uses it.

        Examples
        --------
        >>> from virtlab.viz.base import new_figure
        >>> s = Scene(3, 2)
        >>> s.panel(xlim=(0, 1), ylim=(0, 1)).text(0.5, 0.5, "hi")
        >>> fig = new_figure(3, 2)
        >>> s.draw([fig.add_subplot()])
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['hi']
        """
        if not isinstance(axes, (list, tuple)) or len(axes) != len(self.panels):
            raise ValueError(f"axes must be a list of {len(self.panels)} Axes, one per panel")
        at = {}
        for p, ax in zip(self.panels, axes):
            if not isinstance(ax, Axes):
                raise TypeError(f"axes must hold matplotlib Axes, got {type(ax).__name__}")
            ax.set_xlim(*p.xlim)
            ax.set_ylim(*p.ylim)
            ax.axis("off")
            if p.title:
                ax.set_title(p.title, fontsize=p.title_size)
            at[id(p)] = ax
        for kind, p, (coords, offset), zorder, *args in self.items:
            ax = at[id(p)]
            tr = {"data": ax.transData, "axes": ax.transAxes, "xaxis": ax.get_xaxis_transform(),
                  "yaxis": ax.get_yaxis_transform()}[coords]
            if offset != (0.0, 0.0):
                tr = tr + mtransforms.ScaledTranslation(offset[0] / 72, offset[1] / 72,
                                                        ax.figure.dpi_scale_trans)
            _MPL[kind](ax, tr, ax.figure, *args).set_zorder(zorder)


@functools.lru_cache(maxsize=256)
def _font_heights(family: str, weight: str, size: float) -> tuple[float, float, float]:
    """(ascent, descent, line gap) of the font in points, as matplotlib's Text layout reads
    them: the OS/2 table's typographic metrics, else the hhea table's."""
    font = get_font(findfont(FontProperties(family=family, weight=weight)))
    scale = size / font.get_sfnt_table("head")["unitsPerEm"]
    for table, gap, ascent, descent in (("OS/2", "sTypoLineGap", "sTypoAscender",
                                         "sTypoDescender"),
                                        ("hhea", "lineGap", "ascent", "descent")):
        t = font.get_sfnt_table(table)
        if t is not None:
            return t[ascent] * scale, -t[descent] * scale, t[gap] * scale
    raise ValueError(f"the font for family {family!r} has no height metrics")


def text_box(s: str, size: float, weight: str = "normal",
           family: str = "sans-serif") -> tuple[float, float, list[float]]:
    """Width, height and the lines' baselines (down from the top) of a text's box.

    matplotlib's Text layout (3.11, linespacing "normal"): every line at
    least as tall as the font's ascent and descent, plus half the line gap
    above and below when there are several lines; the measure is matplotlib's.

    Examples
    --------
    >>> w, h, baselines = text_box("one\\ntwo", 10)
    >>> len(baselines), baselines[0] < baselines[1] < h, w > 0
    (2, True, True)
    """
    check_str("s", s, nonempty=False)
    check_number("size", size, minimum=1, maximum=72)
    if weight not in _WEIGHTS:
        raise ValueError(f"weight must be one of {list(_WEIGHTS)}, got {weight!r}")
    if family not in _FAMILIES:
        raise ValueError(f"family must be one of {list(_FAMILIES)}, got {family!r}")
    prop = FontProperties(family=family, size=size, weight=weight)
    min_a, min_d, gap = _font_heights(family, weight, size)
    lines = s.split("\n")
    if len(lines) == 1:
        gap = 0.0
    baselines, y, descent, width = [], 0.0, 0.0, 0.0
    for line in lines:
        w, h, d = measure_text(line, prop) if line else (0.0, 0.0, 0.0)
        a, d = max(h - d, min_a) + gap / 2, max(d, min_d) + gap / 2
        y += descent + a
        baselines.append(y)
        descent, width = d, max(width, w)
    return width, y + descent, baselines


def _svg_text_at(px, py, s, size, color, ha, va, weight, rotation, alpha, family) -> str:
    # matplotlib aligns the block of lines by its box; SVG places baselines, so
    # each line's baseline comes from the same layout (_block)
    lines = s.split("\n")
    _width, block, baselines = text_box(s, size, weight, family)
    if rotation == 90:
        # the rotated box: screen ha picks the text's top/bottom, screen va its start/end
        text_va = {"left": "top", "center": "center", "right": "bottom"}[ha]
        anchor = {"bottom": "start", "center": "middle", "top": "end", "baseline": "start",
                  "center_baseline": "middle"}[va]
    else:
        text_va, anchor = va, _HA[ha]
    # matplotlib: "baseline" is the last line's; "center_baseline" half its depth
    shift = {"top": 0.0, "center": -block / 2, "bottom": -block, "baseline": -baselines[-1],
             "center_baseline": -baselines[-1] / 2}[text_va]
    attrs = (f'font-size="{_num(size)}" fill="{color}" text-anchor="{anchor}"'
             + (' font-weight="bold"' if weight == "bold" else "")
             + (f' opacity="{_num(alpha)}"' if alpha < 1 else "")
             + (f' font-family="{_FAMILIES[family]}"' if family != "sans-serif" else "")
             + (f' transform="rotate(-90 {_num(px)} {_num(py)})"' if rotation else ""))
    spans = "".join(f'<tspan x="{_num(px)}" y="{_num(py + shift + b)}">{escape(line)}</tspan>'
                    for b, line in zip(baselines, lines))
    return f"<text {attrs}>{spans}</text>\n"


# -- the matplotlib renderer: one function per shape kind ----------------------
def _mpl_rect(ax, tr, fig, x, y, w, h, fc, ec, lw, alpha, rounded):
    cls = (lambda xy, w, h, **k: FancyBboxPatch(xy, w, h, boxstyle="round,pad=0.02", **k)) \
        if rounded else Rectangle
    return ax.add_patch(cls((x, y), w, h, fc=fc, ec=ec, lw=lw if ec != "none" else 0, alpha=alpha,
                     transform=tr, clip_on=False))


def _mpl_rect_pt(ax, tr, fig, x, y, corner, size, fc, ec, lw, alpha):
    # a box sized in points, its lower left corner ``corner`` points from (x, y)
    at = tr + mtransforms.ScaledTranslation(corner[0] / 72, corner[1] / 72, fig.dpi_scale_trans)
    return ax.add_patch(Rectangle((0, 0), size[0] / 72, size[1] / 72, fc=fc, ec=ec,
                           lw=lw if ec != "none" else 0, alpha=alpha, clip_on=False,
                           transform=fig.dpi_scale_trans
                           + mtransforms.ScaledTranslation(x, y, at)))


def _mpl_polygon(ax, tr, fig, xs, ys, fc, ec, lw, alpha):
    return ax.add_patch(Polygon(list(zip(xs, ys)), closed=True, fc=fc, ec=ec,
                         lw=lw if ec != "none" else 0, alpha=alpha, transform=tr, clip_on=False))


def _mpl_line(ax, tr, fig, xs, ys, color, lw, dash, alpha):
    return ax.add_collection(LineCollection([list(zip(xs, ys))], colors=color, linewidths=lw,
                                     linestyles=dash, alpha=alpha, transform=tr,
                                     clip_on=False), autolim=False)


def _mpl_segments(ax, tr, fig, segments, color, lw, alpha):
    return ax.add_collection(LineCollection([list(seg) for seg in segments], colors=color,
                                            linewidths=lw, alpha=alpha, transform=tr,
                                            clip_on=False), autolim=False)


def _mpl_tick(ax, tr, fig, x, y, d, color, lw):
    # from (x, y) in ``tr`` to d points beyond: a path in points, placed at (x, y)
    at = fig.dpi_scale_trans + mtransforms.ScaledTranslation(x, y, tr)
    return ax.add_collection(LineCollection([[(0, 0), (d[0] / 72, d[1] / 72)]], colors=color,
                                     linewidths=lw, transform=at, clip_on=False),
                      autolim=False)


def _mpl_arrow(ax, tr, fig, x0, y0, x1, y1, color, lw, dash, rad, shrink):
    return ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=9,
                                        color=color, lw=lw, linestyle=dash, transform=tr,
                                        connectionstyle=f"arc3,rad={rad}", shrinkA=shrink,
                                        shrinkB=shrink))


def _mpl_dots(ax, tr, fig, xs, ys, color, size):
    # no marker edge: the SVG's dots are ``size`` across, matplotlib's would add 1 pt
    return ax.plot(xs, ys, "o", color=color, markersize=size, markeredgewidth=0, transform=tr,
                   clip_on=False)[0]


def _mpl_text(ax, tr, fig, x, y, s, size, color, ha, va, weight, rotation, alpha, family):
    return ax.text(x, y, s, fontsize=size, color=color, ha=ha, va=va, fontweight=weight,
                   fontfamily=family,
            rotation=rotation, alpha=alpha, transform=tr, clip_on=False)


_MPL = {"rect": _mpl_rect, "rect_pt": _mpl_rect_pt, "polygon": _mpl_polygon, "line": _mpl_line,
        "grid": _mpl_line, "segments": _mpl_segments, "tick": _mpl_tick, "arrow": _mpl_arrow,
        "dots": _mpl_dots, "text": _mpl_text}
