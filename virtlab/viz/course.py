"""Figures for the course itself: the topic map.

Examples
--------
>>> from virtlab import viz
>>> fig = viz.course.course_map(highlight="07")
>>> len(fig.axes)
1
"""

from __future__ import annotations

import textwrap

import networkx as nx

from ..course import TOPICS, course_graph, learning_path
from .base import new_figure

__all__ = ["course_map"]


def course_map(highlight: str | None = None):
    """The course's prerequisite graph, one column per depth.

    Parameters
    ----------
    highlight : str, optional
        A topic id; it and everything needed before it are drawn in colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    g = course_graph()
    path = {t.id for t in learning_path(highlight)} if highlight is not None else set()
    for depth, layer in enumerate(nx.topological_generations(g)):
        for node in layer:
            g.nodes[node]["layer"] = depth
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical")
    # Keep the numbering top-down inside each column (deterministic and readable).
    columns: dict[float, list[str]] = {}
    for node, (x, _) in sorted(pos.items()):
        columns.setdefault(round(float(x), 6), []).append(node)
    for x, nodes in columns.items():
        for i, node in enumerate(sorted(nodes)):
            pos[node] = (x, -i + (len(nodes) - 1) / 2)
    fig = new_figure(10, 4.8)
    ax = fig.add_subplot()
    nx.draw_networkx_edges(g, pos, ax=ax, edge_color="#999999", arrows=True,
                           arrowsize=9, node_size=2600, connectionstyle="arc3,rad=0.05")
    for t in TOPICS:
        x, y = pos[t.id]
        on_path = t.id in path
        ax.text(x, y, f"{t.id}\n" + textwrap.fill(t.title, 14, break_long_words=False), ha="center", va="center",
                fontsize=7, color="white" if on_path else "black",
                bbox={"boxstyle": "round,pad=0.4", "ec": "#333333",
                      "fc": "#0072B2" if on_path else "#eeeeee"})
    ax.set_title("Course map: do a topic after the ones pointing to it"
                 + (f" (path to {highlight} in blue)" if highlight else ""), fontsize=10)
    ax.set_axis_off()
    ax.margins(0.08)
    return fig
