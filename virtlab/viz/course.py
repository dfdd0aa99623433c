"""Figures for the course itself: the topic map, and the slide-to-section table.

Examples
--------
>>> from virtlab import viz
>>> fig = viz.course.course_map(highlight="07")
>>> len(fig.axes)
1
>>> table = viz.course.slide_map_table()
>>> table.markdown.splitlines()[0]
'| # | slide (*Folie*) | taught in |'
"""

from __future__ import annotations

import math
import textwrap

import networkx as nx
import numpy as np

from ..course import course_graph, learning_path, slide_map_rows, TOPICS
from ..i18n import _, N_
from .scene import Scene

__all__ = ["SlideMapTable", "course_map", "course_map_scene", "slide_map_table"]

#: Edge routes by layout: the same for every highlight, so a widget redraw reuses them.
_ROUTES: dict = {}
#: The graph's layout (:func:`_layout`), worked out once.
_LAYOUT: dict = {}


#: The topics' titles, marked for the catalogue (``virtlab.course.TOPICS`` holds them in
#: English; a test checks that this list covers every topic).
TOPIC_TITLES = (N_("Start here"), N_("What is virtualization?"), N_("Emulation vs virtualization"),
                N_("Partitioning"), N_("Benefits and drawbacks"), N_("Containers"),
                N_("Sensitive instructions"), N_("Binary translation"), N_("Hardware support"),
                N_("Hypervisor types"), N_("Interrupts and I/O"), N_("CPU scheduling"),
                N_("Memory virtualization"), N_("Ballooning"), N_("Summary"))


def _simplify(line, sx, sy, tol=0.0015):
    """The points of ``line`` a polyline needs to stay within ``tol`` inches of it.

    A route is sampled at 401 points: as a polyline, a few kilobytes of SVG per
    edge (matplotlib's SVG output simplified its paths).  Douglas-Peucker keeps
    the points the curve needs; a route's points are the sampled ones, fewer.
    """
    pts = np.asarray(line) * [sx, sy]                    # in inches
    keep = np.zeros(len(pts), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = pts[i], pts[j]
        ab = b - a
        rel = pts[i + 1:j] - a
        length = math.hypot(*ab)
        dist = (np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / length if length
                else np.hypot(rel[:, 0], rel[:, 1]))
        k = int(np.argmax(dist))
        if dist[k] > tol:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return np.asarray(line)[keep]


def _routes(g, pos, box_w, box_h, sx, sy):
    """Edge polylines and arrow-head triangles (data coordinates) for the layout."""
    key = (tuple(sorted(pos.items())), box_w, box_h, sx, sy)
    if key in _ROUTES:
        return _ROUTES[key]
    segments, heads = [], []
    names = list(pos)
    centres = np.array([pos[n] for n in names])
    half = np.array([box_w / 2 + 0.08 / sx, box_h / 2 + 0.08 / sy])   # box + margin
    ts = np.linspace(0.0, 1.0, 401)[:, None]
    # Waypoints to try, nearest first: the straight line, then the midpoint moved up or
    # down (and along).  An edge that would run under another topic's box bends just
    # enough to pass it (issue 12: an edge through a box reads as an arrow to that box).
    offsets = sorted(((fx, dy) for fx in (0.5, 0.35, 0.65, 0.2, 0.8)
                      for dy in np.arange(-3.0, 3.01, 0.25)),
                     key=lambda o: (abs(o[1]), abs(o[0] - 0.5)))

    for a, b in g.edges:
        p0, p2 = np.array(pos[a]), np.array(pos[b])
        others = np.array([n not in (a, b) for n in names])
        for fx, dy in offsets:
            way = p0 + fx * (p2 - p0) + np.array([0.0, dy])
            ctrl = 2 * way - (p0 + p2) / 2          # the curve passes through `way`
            curve = (1 - ts) ** 2 * p0 + 2 * (1 - ts) * ts * ctrl + ts ** 2 * p2
            hit = (np.abs(curve[:, None, :] - centres[None, :, :]) <= half).all(axis=2)
            if not hit[:, others].any():
                break
        # leave each box where the curve crosses its border
        own = (np.abs(curve[:, None, :] - np.array([p0, p2])[None, :, :])
               <= half - np.array([0.08 / sx, 0.08 / sy])).all(axis=2).any(axis=1)
        line = curve[~own]
        segments.append(_simplify(line, sx, sy))
        (px, py), (ex, ey) = line[-2], line[-1]
        dx, dy_ = (ex - px) * sx, (ey - py) * sy            # in inches
        norm = math.hypot(dx, dy_) or 1.0
        ux, uy = dx / norm, dy_ / norm
        end = (ex, ey)
        back = (end[0] - ux * 0.09 / sx, end[1] - uy * 0.09 / sy)
        side = (-uy * 0.035 / sx, ux * 0.035 / sy)
        heads.append((end, (back[0] + side[0], back[1] + side[1]),
                      (back[0] - side[0], back[1] - side[1])))
    _ROUTES[key] = (segments, heads)
    return segments, heads


def _layout():
    """The course graph and its node positions: one column per depth, numbered top-down.

    The same for every highlight, so it is worked out once per process.
    """
    if "layout" not in _LAYOUT:
        g = course_graph()
        for depth, layer in enumerate(nx.topological_generations(g)):
            for node in layer:
                g.nodes[node]["layer"] = depth
        pos = nx.multipartite_layout(g, subset_key="layer", align="vertical")
        # Keep the numbering top-down inside each column (deterministic and readable).
        columns: dict[float, list[str]] = {}
        for node, (x, _y) in sorted(pos.items()):
            columns.setdefault(round(float(x), 6), []).append(node)
        for x, nodes in columns.items():
            for i, node in enumerate(sorted(nodes)):
                pos[node] = (x, -i + (len(nodes) - 1) / 2)
        _LAYOUT["layout"] = (g, pos)
    return _LAYOUT["layout"]


def course_map(highlight: str | None = None):
    """The course's prerequisite graph, one column per depth.

    Draws :func:`course_map_scene` (the widget shows that scene as SVG).

    Parameters
    ----------
    highlight : str, optional
        A topic id; it and everything needed before it are drawn in colour.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> course_map("03").axes[0].get_title()
    'Course map: do a topic after the ones pointing to it (path to 03 in blue)'
    """
    return course_map_scene(highlight).figure()


def course_map_scene(highlight: str | None = None) -> Scene:
    """:func:`course_map` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Examples
    --------
    >>> scene = course_map_scene("03")
    >>> sum(kind == "rect" for kind, *_ in scene.items) == len(TOPICS)   # a box per topic
    True
    """
    path = {t.id for t in learning_path(highlight)} if highlight is not None else set()
    g, pos = _layout()
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    xlim = (min(xs) - 0.12, max(xs) + 0.12)
    ylim = (min(ys) - 0.5, max(ys) + 0.5)
    width, height = 10.0, 4.8
    title = _("Course map: do a topic after the ones pointing to it")
    if highlight:
        title += _(" (path to {topic} in blue)").format(topic=highlight)
    scene = Scene(width, height)
    ax = scene.panel(xlim=xlim, ylim=ylim, box=(0.02, 0.04, 0.98, 0.92), title=title)
    # inches per data unit, so boxes and arrow heads can be sized in inches
    sx = width * 0.96 / (xlim[1] - xlim[0])
    sy = height * 0.88 / (ylim[1] - ylim[0])
    box_w, box_h = 0.95 / sx, 0.48 / sy                  # a 0.95 x 0.48 inch box
    segments, heads = _routes(g, pos, box_w, box_h, sx, sy)
    for line in segments:
        ax.line(line[:, 0].tolist(), line[:, 1].tolist(), color="#888888", lw=1)
    for head in heads:
        ax.polygon([p[0] for p in head], [p[1] for p in head], fc="#888888")
    for t in TOPICS:
        x, y = pos[t.id]
        on_path = t.id in path
        # above the edges (zorder 2, added after them), so an edge ends at the box's border
        ax.rect(x - box_w / 2, y - box_h / 2, box_w, box_h,
                fc="#0072B2" if on_path else "#eeeeee", ec="#333333", lw=0.8, zorder=2)
        ax.text(x, y, f"{t.id}\n" + textwrap.fill(_(t.title), 14, break_long_words=False),
                size=6.5, color="white" if on_path else "black")
    return scene


class SlideMapTable:
    """The slide map as a table that Jupyter shows as markdown with links.

    Attributes
    ----------
    markdown : str
        A markdown table, one row per slide; links point to
        ``notebook.ipynb#heading`` relative to ``notebooks/``.
    text : str
        The same rows as plain text (what a terminal or nbval sees).
    """

    def __init__(self, markdown: str, text: str):
        self.markdown = markdown
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.text


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def slide_map_table(cell_ids: dict | None = None) -> SlideMapTable:
    """Every lecture slide, in slide order, with links to the sections that teach it.

    Parameters
    ----------
    cell_ids : dict, optional
        Passed to :func:`virtlab.course.slide_map_rows`: link to the heading's
        cell (``#cell-id=...``) so that JupyterLab scrolls to it.

    Returns
    -------
    SlideMapTable
        Displayed as a markdown table in a notebook; ``repr`` is plain text.
    """
    rows = slide_map_rows(cell_ids)
    md = ["| # | slide (*Folie*) | taught in |", "|---:|---|---|"]
    text = []
    for row in rows:
        links = "<br>".join(f"[{_md_cell(label)}]({link})" for label, link in row["sections"])
        md.append(f"| {row['number']} | {_md_cell(row['title'])} | {links} |")
        where = "; ".join(label for label, _ in row["sections"])
        text.append(f"{row['number']:2d}  {row['title']}  ->  {where}")
    return SlideMapTable("\n".join(md), "\n".join(text))
