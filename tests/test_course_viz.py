"""The course map: no prerequisite edge runs under a box it does not connect."""

import numpy as np
from matplotlib.transforms import Bbox

from virtlab.course import TOPICS
from virtlab.viz.course import course_map_scene


def _boxes_and_lines(scene):
    """The edges (arrays of points) and the topic boxes (Bbox) of the map, in data units.

    The scene is what both the widget's SVG and the static figure draw.
    """
    lines = [np.column_stack([xs, ys]) for kind, _p, _c, _z, xs, ys, *_ in scene.items
             if kind == "line"]
    extents = [Bbox.from_bounds(x, y, w, h) for kind, _p, _c, _z, x, y, w, h, *_ in scene.items
               if kind == "rect"]
    return lines, extents


def test_edges_avoid_other_boxes():
    segments, extents = _boxes_and_lines(course_map_scene("12"))
    assert len(extents) == len(TOPICS)
    for seg in segments:
        # a segment starts next to its source box and ends next to its target box
        def nearest(point):
            return min(range(len(extents)), key=lambda i: np.hypot(
                *(point - [(extents[i].x0 + extents[i].x1) / 2,
                           (extents[i].y0 + extents[i].y1) / 2])))
        ends = {nearest(seg[0]), nearest(seg[-1])}
        for i, e in enumerate(extents):
            if i in ends:
                continue
            inside = ((seg[:, 0] > e.x0) & (seg[:, 0] < e.x1)
                      & (seg[:, 1] > e.y0) & (seg[:, 1] < e.y1))
            assert not inside.any(), f"an edge runs under box {TOPICS[i].id}"


def test_routes_do_not_depend_on_the_highlight():
    a, _ = _boxes_and_lines(course_map_scene("12"))
    b, _ = _boxes_and_lines(course_map_scene(None))
    assert len(a) == len(b) and all(np.allclose(x, y) for x, y in zip(a, b))
