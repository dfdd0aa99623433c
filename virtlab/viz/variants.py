"""Figures for notebook 01: the variants of virtualization.

Examples
--------
>>> from virtlab import viz
>>> from virtlab.variants import vlan_domains, stripe_map
>>> fig = viz.variants.vlan_graph({"a": 1, "b": 2})
>>> fig2 = viz.variants.stripe_figure(stripe_map(8, 2), disks=2)
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from ..errors import check_int
from ..i18n import _
from ..variants import vlan_domains
from .base import color_for, new_figure
from .scene import Scene

__all__ = ["stripe_figure", "stripe_scene", "vlan_graph"]


def vlan_graph(ports: Mapping[str, int]):
    """One physical switch, hosts coloured by VLAN, edges = who can talk to whom."""
    domains = vlan_domains(ports)
    g = nx.Graph()
    g.add_node("switch")
    for vlan, hosts in domains.items():
        for h in hosts:
            g.add_node(h, vlan=vlan)
            g.add_edge("switch", h, kind="cable")
        for i, a in enumerate(hosts):
            for b in hosts[i + 1:]:
                g.add_edge(a, b, kind="reach")
    hosts = sorted(ports)
    pos = nx.circular_layout(hosts) if hosts else {}
    pos["switch"] = (0.0, 0.0)
    fig = new_figure(5, 4, margins={"left": 0.02, "right": 0.98, "bottom": 0.02,
                                    "top": 0.92})
    ax = fig.add_subplot()
    cables = [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == "cable"]
    reach = [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == "reach"]
    nx.draw_networkx_edges(g, pos, edgelist=cables, ax=ax, edge_color="#bbbbbb", width=1)
    nx.draw_networkx_edges(g, pos, edgelist=reach, ax=ax, width=2.5,
                           edge_color=[color_for(g.nodes[u]["vlan"]) for u, _ in reach])
    nx.draw_networkx_nodes(g, pos, nodelist=["switch"], ax=ax, node_shape="s",
                           node_color="#bbbbbb", node_size=900)
    nx.draw_networkx_nodes(g, pos, nodelist=hosts, ax=ax, node_size=900,
                           node_color=[color_for(ports[h]) for h in hosts])
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=8, font_color="black")
    title = _("{n} VLAN(s) on one switch: coloured lines = same broadcast domain")
    ax.set_title(title.format(n=len(domains)), fontsize=9)
    ax.set_axis_off()
    ax.margins(0.15)
    return fig


def stripe_figure(mapping: list[tuple[int, int]], disks: int):
    """Logical blocks (numbers) placed on the physical disks (columns).

    Draws :func:`stripe_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.variants import stripe_map
    >>> [t.get_text() for t in stripe_figure(stripe_map(4, 2), 2).axes[0].texts][:4]
    ['0', '1', '2', '3']
    """
    return stripe_scene(mapping, disks).figure()


def stripe_scene(mapping: list[tuple[int, int]], disks: int) -> Scene:
    """:func:`stripe_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    Examples
    --------
    >>> from virtlab.variants import stripe_map
    >>> scene = stripe_scene(stripe_map(6, 3), 3)
    >>> sum(kind == "rect" for kind, *_ in scene.items)      # one cell per logical block
    6
    """
    check_int("disks", disks, minimum=1, maximum=64)
    rows = 1 + max((blk for _, blk in mapping), default=0)
    height = 0.9 + 0.35 * rows
    scene = Scene(1.2 + 1.1 * disks, height)
    ax = scene.panel(xlim=(0, disks), ylim=(0, rows),
                     box=(0.03, 0.25 / height, 0.97, 1 - 0.35 / height),
                     title=_("logical block → (disk, block)"), title_size=9)
    for logical, (disk, blk) in enumerate(mapping):
        if disk >= disks:
            raise ValueError(f"mapping[{logical}] names disk {disk}, but disks={disks}")
        color = color_for(logical % 8)
        ax.rect(disk + 0.05, rows - 1 - blk + 0.05, 0.9, 0.9, fc=color)
        light = color in ("#F0E442", "#E69F00", "#56B4E9")   # dark text on light fill
        ax.text(disk + 0.5, rows - 1 - blk + 0.5, str(logical), size=8,
                color="black" if light else "white")
    disk = _("disk {d}")
    # matplotlib's axes: four spines, tick labels at its default 10 pt
    ax.frame(xticks=[(d + 0.5, disk.format(d=d)) for d in range(disks)], size=10,
             spines=("left", "bottom", "right", "top"))
    return scene
