"""The course map: no prerequisite edge runs under a box it does not connect."""

import numpy as np
from matplotlib.collections import LineCollection, PatchCollection

from virtlab.course import TOPICS
from virtlab.viz.course import course_map


def _boxes_and_lines(fig):
    ax = fig.axes[0]
    lines = next(c for c in ax.collections if isinstance(c, LineCollection))
    boxes = [c for c in ax.collections if isinstance(c, PatchCollection)][-1]
    extents = [p.get_extents() for p in boxes.get_paths()]
    return [np.asarray(s) for s in lines.get_segments()], extents


def test_edges_avoid_other_boxes():
    segments, extents = _boxes_and_lines(course_map("12"))
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
    a, _ = _boxes_and_lines(course_map("12"))
    b, _ = _boxes_and_lines(course_map(None))
    assert all(np.allclose(x, y) for x, y in zip(a, b))
