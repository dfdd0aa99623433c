"""Pictures as data: a scene of boxes, lines and texts, written as SVG or drawn by matplotlib.

A widget redraw through matplotlib builds a Figure, an Axes and an artist per
shape, lays the texts out and serialises all of it: 15-30 ms per picture on a
slow laptop, most of a round trip whose target is 50 ms (issue 21).  A
diagram does not need any of that machinery.  A :class:`Scene` is the picture
as a list of shapes in data coordinates; :meth:`Scene.svg` writes it as SVG
text directly (about a millisecond; the browser lays the texts out), and
:meth:`Scene.figure` draws the *same* scene with matplotlib for the static
notebook pages (and PNG export), so a diagram is described once and has two
renderers, not two drawings.

Texts are placed as matplotlib places them: the SVG gives the baseline, found
from the text's measured height and descent (matplotlib's own measurement,
kept for the process by :mod:`virtlab.viz.base`).

Examples
--------
>>> s = Scene(2, 1, xlim=(0, 2), ylim=(0, 1), title="two cells")
>>> s.rect(0.1, 0.1, 0.8, 0.8, fc="#0072B2")
>>> s.text(0.5, 0.5, "1", color="white")
>>> s.svg().count(b"<rect"), s.svg().count(b"<text")
(2, 2)
>>> len(s.figure().axes[0].texts)
1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

from matplotlib.collections import PatchCollection
from matplotlib.colors import is_color_like, to_hex
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyBboxPatch, Rectangle

from ..errors import check_number, check_str
from .base import MAX_INCHES, MIN_INCHES, measure_text, new_figure

__all__ = ["Scene"]

#: The font of every text: matplotlib's default family, so the SVG and the
#: static figure measure and show the same glyphs where the font is installed.
FONT_FAMILY = ("'DejaVu Sans', 'Bitstream Vera Sans', 'Arial', 'Helvetica', sans-serif")
_HA = {"left": "start", "center": "middle", "right": "end"}
_VA = ("top", "center", "bottom", "baseline")
_WEIGHTS = ("normal", "bold")
#: Points between the Axes top and the title's baseline (matplotlib's axes.titlepad).
TITLE_PAD = 6.0
#: Line spacing of multi-line texts, in font sizes (matplotlib's Text linespacing).
LINE_SPACING = 1.2


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


def _limits(name: str, value: Sequence[float]) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {value!r}")
    lo, hi = (_finite(f"{name}[{i}]", v) for i, v in enumerate(value))
    if not lo < hi:
        raise ValueError(f"{name} must have low < high, got {value!r}")
    return lo, hi


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


class Scene:
    """A picture of boxes and texts in data coordinates, for SVG or matplotlib.

    Parameters
    ----------
    width, height : float
        Size in inches (as a matplotlib figure).
    xlim, ylim : (float, float)
        The data range shown, like an Axes' limits (y grows upwards).
    box : (left, bottom, right, top)
        Where that range sits in the picture, as fractions (an Axes' position).
    title : str, optional
        Centred above ``box``, like an Axes title.
    title_size : float
        The title's font size in points.

    Examples
    --------
    >>> Scene(3, 2, xlim=(0, 1), ylim=(0, 1)).point(1, 1)    # top right, in points
    (216.0, 0.0)
    >>> Scene(3, 2, xlim=(1, 1), ylim=(0, 1))
    Traceback (most recent call last):
    ...
    ValueError: xlim must have low < high, got (1, 1)
    """

    def __init__(self, width: float, height: float, *, xlim: Sequence[float],
                 ylim: Sequence[float], box: Sequence[float] = (0.0, 0.0, 1.0, 1.0),
                 title: str | None = None, title_size: float = 10.0):
        check_number("width", width, minimum=MIN_INCHES, maximum=MAX_INCHES)
        check_number("height", height, minimum=MIN_INCHES, maximum=MAX_INCHES)
        self.xlim = _limits("xlim", xlim)
        self.ylim = _limits("ylim", ylim)
        if not isinstance(box, (tuple, list)) or len(box) != 4:
            raise TypeError(f"box must be (left, bottom, right, top), got {box!r}")
        for i, v in enumerate(box):
            check_number(f"box[{i}]", v, minimum=0, maximum=1)
        if not (box[0] < box[2] and box[1] < box[3]):
            raise ValueError(f"box must have left < right and bottom < top, got {box!r}")
        if title is not None:
            check_str("title", title)
        check_number("title_size", title_size, minimum=1, maximum=72)
        self.width, self.height = float(width), float(height)
        self.box = tuple(float(v) for v in box)
        self.title, self.title_size = title, float(title_size)
        #: The shapes in drawing order: ("rect", x, y, w, h, fc, ec, lw, rounded)
        #: and ("text", x, y, s, size, color, ha, va, weight).
        self.items: list[tuple] = []

    # -- building ------------------------------------------------------------
    def rect(self, x: float, y: float, w: float, h: float, *, fc: str = "white",
             ec: str = "none", lw: float = 1.0, rounded: bool = False) -> None:
        """A box with its lower left corner at (x, y); ``rounded`` corners like
        matplotlib's ``FancyBboxPatch(boxstyle="round,pad=0.02")``."""
        x, y = _finite("x", x), _finite("y", y)
        w, h = _finite("w", w), _finite("h", h)
        if w < 0 or h < 0:
            raise ValueError(f"w and h must be >= 0, got w={w!r}, h={h!r}")
        check_number("lw", lw, minimum=0, maximum=20)
        if not isinstance(rounded, bool):
            raise TypeError(f"rounded must be a bool, got {type(rounded).__name__}")
        self.items.append(("rect", x, y, w, h, _color("fc", fc), _color("ec", ec),
                           float(lw), rounded))

    def text(self, x: float, y: float, s: str, *, size: float = 8.0, color: str = "black",
             ha: str = "center", va: str = "center", weight: str = "normal") -> None:
        """A text at (x, y), aligned like matplotlib's ``ax.text`` (``ha``, ``va``)."""
        x, y = _finite("x", x), _finite("y", y)
        check_str("s", s, nonempty=False)
        check_number("size", size, minimum=1, maximum=72)
        if ha not in _HA:
            raise ValueError(f"ha must be one of {sorted(_HA)}, got {ha!r}")
        if va not in _VA:
            raise ValueError(f"va must be one of {list(_VA)}, got {va!r}")
        if weight not in _WEIGHTS:
            raise ValueError(f"weight must be one of {list(_WEIGHTS)}, got {weight!r}")
        self.items.append(("text", x, y, s, float(size), _color("color", color), ha, va,
                           weight))

    # -- geometry ------------------------------------------------------------
    def point(self, x: float, y: float) -> tuple[float, float]:
        """Data (x, y) in SVG user units: points from the top left corner."""
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        left, bottom, right, top = self.box
        fx = left + (x - x0) / (x1 - x0) * (right - left)
        fy = bottom + (y - y0) / (y1 - y0) * (top - bottom)
        return fx * self.width * 72.0, (1.0 - fy) * self.height * 72.0

    # -- SVG -----------------------------------------------------------------
    def svg(self) -> bytes:
        """The scene as SVG (text stays text; the same scene gives the same bytes)."""
        w, h = _num(self.width * 72), _num(self.height * 72)
        out = ['<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
               f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
               f'viewBox="0 0 {w} {h}" version="1.1">\n'
               f'<rect width="{w}" height="{h}" fill="#ffffff"/>\n'
               f'<g font-family="{FONT_FAMILY}">\n']
        for item in self.items:
            out.append(self._svg_rect(*item[1:]) if item[0] == "rect"
                       else self._svg_text(*item[1:]))
        if self.title:
            x = (self.box[0] + self.box[2]) / 2 * self.width * 72
            y = (1 - self.box[3]) * self.height * 72 - TITLE_PAD
            out.append(self._svg_lines(x, y, self.title, self.title_size, "#000000",
                                       "center", "baseline", "normal"))
        out.append("</g>\n</svg>\n")
        return "".join(out).encode()

    def _svg_rect(self, x, y, w, h, fc, ec, lw, rounded) -> str:
        (px, py), (qx, qy) = self.point(x, y + h), self.point(x + w, y)
        if rounded:        # matplotlib's round box: pad and corner radius 0.02 data units
            pad = 0.02
            (px, py), (qx, qy) = self.point(x - pad, y + h + pad), self.point(x + w + pad, y - pad)
            rx = abs(self.point(pad, 0)[0] - self.point(0, 0)[0])
            ry = abs(self.point(0, pad)[1] - self.point(0, 0)[1])
            corner = f' rx="{_num(rx)}" ry="{_num(ry)}"'
        else:
            corner = ""
        stroke = f' stroke="{ec}" stroke-width="{_num(lw)}"' if ec != "none" and lw else ""
        return (f'<rect x="{_num(px)}" y="{_num(py)}" width="{_num(qx - px)}" '
                f'height="{_num(qy - py)}" fill="{fc}"{stroke}{corner}/>\n')

    def _svg_text(self, x, y, s, size, color, ha, va, weight) -> str:
        px, py = self.point(x, y)
        return self._svg_lines(px, py, s, size, color, ha, va, weight)

    @staticmethod
    def _svg_lines(px, py, s, size, color, ha, va, weight) -> str:
        # matplotlib aligns the block of lines by its box; SVG places baselines,
        # so each line's baseline is worked out here as matplotlib's Text layout
        # does it, from the same measurement (every line at least as tall as "lp")
        prop = FontProperties(size=size, weight=weight)
        _w, lp_h, lp_d = measure_text("lp", prop)
        baselines, y, descent = [], 0.0, 0.0      # downwards from the block's top
        for i, line in enumerate(s.split("\n")):
            _w, h, d = measure_text(line or " ", prop)
            h, d = max(h, lp_h), max(d, lp_d)
            y += (h - d) if i == 0 else descent + max((lp_h - lp_d), h - d) * LINE_SPACING
            baselines.append(y)
            descent = d
        block = y + descent
        shift = {"top": 0.0, "center": -block / 2, "bottom": -block,
                 "baseline": -baselines[0]}[va]
        attrs = (f'font-size="{_num(size)}" fill="{color}" text-anchor="{_HA[ha]}"'
                 + (' font-weight="bold"' if weight == "bold" else ""))
        spans = "".join(f'<tspan x="{_num(px)}" y="{_num(py + shift + b)}">{escape(line)}</tspan>'
                        for b, line in zip(baselines, s.split("\n")))
        return f"<text {attrs}>{spans}</text>\n"

    # -- matplotlib ----------------------------------------------------------
    def figure(self):
        """The scene drawn by matplotlib: one Axes at ``box``, its axis off.

        For the static notebook pages and PNG export; the widgets show :meth:`svg`.
        """
        left, bottom, right, top = self.box
        fig = new_figure(self.width, self.height,
                         margins={"left": left, "bottom": bottom, "right": right, "top": top})
        ax = fig.add_subplot()
        ax.set_xlim(*self.xlim)
        ax.set_ylim(*self.ylim)
        ax.axis("off")
        plain, faces, edges, widths = [], [], [], []
        for kind, *args in self.items:
            if kind == "rect":
                x, y, w, h, fc, ec, lw, rounded = args
                if rounded:
                    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02",
                                                fc=fc, ec=ec, lw=lw))
                else:
                    plain.append(Rectangle((x, y), w, h))
                    faces.append(fc)
                    edges.append(ec)
                    widths.append(lw)
            else:
                x, y, s, size, color, ha, va, weight = args
                ax.text(x, y, s, fontsize=size, color=color, ha=ha, va=va, fontweight=weight)
        if plain:       # one collection: the many cells of a diagram are one artist
            ax.add_collection(PatchCollection(plain, facecolors=faces, edgecolors=edges,
                                              linewidths=widths))
        if self.title:
            ax.set_title(self.title, fontsize=self.title_size)
        return fig
