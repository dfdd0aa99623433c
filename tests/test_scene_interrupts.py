"""Notebook 10's widget pictures as scenes: routing graph and device-model comparison.

``interrupt_lab`` and ``io_models_lab`` draw a :class:`~virtlab.viz.scene.Scene`
(issue 21: no matplotlib in a redraw); :func:`virtlab.viz.interrupts.routing`
and :func:`~virtlab.viz.interrupts.io_comparison` draw the same scene with
matplotlib for the static pages.  The checks here recompute what the picture
must show from the model (routing graph, trace summary, device results), not
from the picture.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import virtlab.widgets as w
from virtlab.devices import compare_io
from virtlab.i18n import _
from virtlab.interrupts import HYPERVISOR, Platform, routing_graph, simulate_interrupts
from virtlab.viz.base import PALETTE, nice_ticks
from virtlab.viz.interrupts import (MODE_COLORS, ROUTING_TITLE, io_comparison,
                                    io_comparison_scene, routing, routing_scene)
from virtlab.viz.scene import Scene
from virtlab.widgets.interrupts import InterruptLabApp
from svg_text import mpl_baselines, scene_baselines

SVG = "{http://www.w3.org/2000/svg}"
RED = "#d55e00"          # passthrough edges


# -- reading a scene -------------------------------------------------------------
def shapes(scene: Scene, kind: str) -> list[tuple]:
    """The arguments of every ``kind`` shape, in the order added (see Panel's methods)."""
    return [item[4:] for item in scene.items if item[0] == kind]


def boxes(scene):
    """Rounded rects as (centre x, centre y, fill, edge)."""
    return [(x + w_ / 2, y + h / 2, fc, ec) for x, y, w_, h, fc, ec, _lw, _a, rounded
            in shapes(scene, "rect") if rounded]


def texts(scene):
    """(x, y, text, size, ha, va, rotation) of every text item."""
    return [(x, y, s, size, ha, va, rot) for x, y, s, size, _c, ha, va, _wt, rot, *_rest
            in shapes(scene, "text")]


def trace_of(**kw):
    return w.interrupt_lab(**kw).result.trace


# -- routing ---------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"nic_owner": "domU1", "packet_target": "domU1"},
                                {"disk_owner": "domU2", "packets": 40, "shared_pcpu": True},
                                {"packets": 0, "disk_reqs": 0}])
def test_routing_scene_has_a_box_per_node_and_an_arrow_per_edge(kw):
    trace = trace_of(**kw)
    g = routing_graph(trace)
    scene = routing_scene(trace)
    got = boxes(scene)
    assert len(got) == g.number_of_nodes()
    # each node's box stands in its layer's column; domains framed in their colour
    by_label = {}
    for x, y, s, *_rest in texts(scene):
        by_label.setdefault(s.split("\n")[0], (x, y))
    for node, data in g.nodes(data=True):
        x, y = by_label[node]
        assert x == data["layer"]
        (box,) = [b for b in got if b[:2] == pytest.approx((x, y))]
        if data["kind"] == "domain":
            assert box[3] == PALETTE[trace.domains.index(node) % len(PALETTE)].lower()
    arrows = shapes(scene, "arrow")
    assert len(arrows) == g.number_of_edges()
    # wider arrows for busier edges; idle edges dotted
    events = [d["events"] for _u, _v, d in g.edges(data=True)]
    widths = [a[5] for a in arrows]
    for (e1, w1), (e2, w2) in itertools.combinations(zip(events, widths), 2):
        assert (e1 < e2) == (w1 < w2) and (e1 == e2) == (w1 == w2)
    assert [a[6] for a in arrows] == ["solid" if e else "dotted" for e in events]
    # passthrough edges (hypervisor straight to a domU) red and curved, the rest straight
    for (u, v, _d), a in zip(g.edges(data=True), arrows):
        through = u == HYPERVISOR and g.nodes[v]["layer"] == 5
        assert (a[4] == RED) == through and (a[7] != 0) == through


def test_routing_scene_labels_come_from_the_trace():
    trace = trace_of(nic_owner="domU1", packet_target="domU1", disk_reqs=3)
    g = routing_graph(trace)
    scene = routing_scene(trace)
    shown = [s for _x, _y, s, *_rest in texts(scene)]
    # the count on every edge that carried events, nothing on idle edges
    counts = Counter(s for s in shown if s.isdigit())
    assert counts == Counter(str(d["events"]) for *_e, d in g.edges(data=True) if d["events"])
    # each domain: its virtual IRQs, and the mean latency of what it handled
    for dom, handled, virqs, mean, _mx in trace.summary():
        (label,) = [s for s in shown if s.split("\n")[0] == dom]
        assert label.split("\n")[1] == f"{virqs} vIRQ"
        assert (f"{mean:.0f} µs" in label.split("\n")) == bool(handled)
    for node, data in g.nodes(data=True):
        if data["kind"] == "device":
            assert f"{node}\nIRQ {data['irq']}" in shown
    assert scene.texts()[-1] == _(ROUTING_TITLE)


def test_routing_arrows_start_at_the_box_edge():
    # the scene shortens arrows by 2 pt at each end; routing moves its ends out by
    # that much, so every line starts where the old figure's did: on a box's edge
    scene = routing_scene(trace_of(disk_owner="domU2"))
    ax = scene.panels[0]
    right_edges = [ax.to_points(x + 0.27, y) for x, y, *_rest in boxes(scene)]
    starts = [tuple(map(float, re.match(r"M([-\d.]+),([-\d.]+)", p.get("d")).groups()))
              for p in ET.fromstring(scene.svg()).iter(f"{SVG}path")]
    assert len(starts) == len(shapes(scene, "arrow"))
    for sx, sy in starts:
        assert min(abs(sx - ex) + abs(sy - ey) for ex, ey in right_edges) < 0.05


def test_routing_figure_draws_the_same_scene():
    trace = trace_of()
    scene = routing_scene(trace)
    fig = routing(trace)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == scene.texts()
    assert fig.get_size_inches().tolist() == [7.0, 3.0]
    assert ax.get_position().bounds == pytest.approx((0.0, 0.0, 1.0, 0.92))
    g = routing_graph(trace)
    assert ax.get_xlim() == (-0.35, 5.35)
    assert len(ax.patches) == g.number_of_nodes() + g.number_of_edges()
    # one-line texts sit where matplotlib puts them (labels, counts, title)
    theirs, ours = mpl_baselines(fig), scene_baselines(scene.svg(), one_line=True)
    assert ours
    for text, ys in ours.items():
        for y in ys:
            assert min(abs(y - t) for t in theirs[text]) < 0.5, text


def test_routing_refuses_bad_arguments_by_name():
    with pytest.raises(TypeError, match="trace"):
        routing_scene("trace")
    with pytest.raises(ValueError, match="width"):
        routing_scene(simulate_interrupts(Platform(), []), width=0)


settings_small = settings(max_examples=20, deadline=None)


@settings_small
@given(nic=st.sampled_from(["dom0", "domU1", "domU2"]),
       disk=st.sampled_from(["dom0", "domU1", "domU2"]),
       packets=st.integers(0, 64), disk_reqs=st.integers(0, 32), gap=st.integers(0, 50),
       shared=st.booleans())
def test_every_routing_state_is_drawn_whole(nic, disk, packets, disk_reqs, gap, shared):
    target = {"dom0": "domU1"}.get(nic, nic)
    dtarget = {"dom0": "domU2"}.get(disk, disk)
    trace = trace_of(nic_owner=nic, disk_owner=disk, packets=packets, packet_target=target,
                     disk_reqs=disk_reqs, disk_target=dtarget, gap_us=gap, shared_pcpu=shared)
    g = routing_graph(trace)
    scene = routing_scene(trace)
    assert len(boxes(scene)) == g.number_of_nodes()
    assert len(shapes(scene, "arrow")) == g.number_of_edges()
    root = ET.fromstring(scene.svg())
    assert len(list(root.iter(f"{SVG}path"))) == g.number_of_edges()
    # within the shared budget table's line for interrupt_lab (50)
    assert len(scene.items) <= 50


# -- io_comparison ---------------------------------------------------------------
def panel_values(cmp):
    """Per panel: values, top of its y axis, value format (as io_comparison's docstring)."""
    maxlat = [r.max_latency_us for r in cmp.results]
    groups = [([r.exits_per_request for r in cmp.results], []),
              ([r.mean_latency_us for r in cmp.results], maxlat),
              ([r.throughput_kops for r in cmp.results], [])]
    return [(vals, max(vals + extra + [1e-9]) * 1.15) for vals, extra in groups]


@pytest.mark.parametrize("kw", [{}, {"kind": "disk", "requests": 3, "coalesce": 16},
                                {"requests": 1, "batch": 32, "gap_us": 100}])
def test_io_comparison_scene_has_a_bar_per_model_and_panel(kw):
    cmp = w.io_models_lab(**kw).result
    scene = io_comparison_scene(cmp)
    bars = [(x + w_ / 2, h, fc) for x, y, w_, h, fc, *_rest in shapes(scene, "rect")]
    modes = [r.mode for r in cmp.results]
    assert len(bars) == 3 * len(modes)
    for g, (values, top) in enumerate(panel_values(cmp)):
        got = bars[g * len(modes):(g + 1) * len(modes)]
        assert [h for _x, h, _c in got] == pytest.approx([v / top for v in values])
        assert [c for *_xh, c in got] == [MODE_COLORS[m].lower() for m in modes]
        assert [x for x, *_rest in got] == sorted(x for x, *_rest in got)
    shown = [s for _x, _y, s, *_rest in texts(scene)]
    r = cmp.results
    # numbers on the exits and throughput bars (7 pt, standing on the bar: the
    # panel titles stand on nothing at 8 pt); mean / max under the latency bars
    on_bars = [(x, y, s) for x, y, s, size, _ha, va, _rot in texts(scene)
               if va == "bottom" and size == 7]
    assert [s for *_xy, s in on_bars] == [f"{v.exits_per_request:.2f}" for v in r] + \
        [f"{v.throughput_kops:.0f}" for v in r]
    tops = [(x, h) for x, h, _c in bars[:len(modes)] + bars[2 * len(modes):]]
    assert [c for x, y, _s in on_bars for c in (x, y)] == \
        pytest.approx([c for x, h in tops for c in (x, h + 0.02)])
    for v in r:
        assert any(s.endswith(f"\n{v.mean_latency_us:.0f} / {v.max_latency_us:.0f}")
                   for s in shown)
    # the max ticks: one thick line per model at its max latency
    _vals, top = panel_values(cmp)[1]
    ticks = [ys[0] for xs, ys, _c, lw, *_rest in shapes(scene, "line") if lw == 2]
    assert ticks == pytest.approx([v.max_latency_us / top for v in r])


def test_io_comparison_y_axes_are_in_each_panels_unit():
    cmp = compare_io(requests=16)
    scene = io_comparison_scene(cmp)
    right = [(y, s) for _x, y, s, _size, ha, *_rest in texts(scene) if ha == "right"]
    want = []
    for _values, top in panel_values(cmp):
        locs, labels = nice_ticks(0, top, n=4)
        want += [(loc / top, label) for loc, label in zip(locs, labels)]
    assert [s for _y, s in right] == [s for _y, s in want]
    assert [y for y, _s in right] == pytest.approx([y for y, _s in want])
    assert [s for *_xy, s, _sz, _ha, _va, rot in texts(scene) if rot == 90] == \
        [_("VM exits per request"), _("latency (µs)"), _("k requests/s")]


def test_io_comparison_keeps_the_old_figures_geometry():
    # bars' area where the old Axes was (0.2 .. 0.86 of 2.6 in, y 0 .. 1.2), the
    # title's baseline 10 pt above it (set_title(pad=10)) in both renderers
    scene = io_comparison_scene(compare_io(requests=16))
    ax = scene.panels[0]
    h = 2.6 * 72
    assert ax.to_points(0, 0)[1] == pytest.approx(0.8 * h)
    assert ax.to_points(0, 1.2)[1] == pytest.approx(0.14 * h)
    want = 0.14 * h - 10
    title = _("emulated vs paravirtual vs passthrough")
    assert scene_baselines(scene.svg(), one_line=True)[title] == pytest.approx([want], abs=0.05)
    fig = scene.figure()
    assert mpl_baselines(fig)[_("emulated vs paravirtual vs passthrough")] == \
        pytest.approx([want], abs=0.5)


def test_io_comparison_figure_draws_the_same_scene():
    cmp = compare_io(requests=16)
    scene = io_comparison_scene(cmp)
    fig = io_comparison(cmp)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and fig.get_size_inches().tolist() == [8.0, 2.6]
    assert ax.get_title() == _("emulated vs paravirtual vs passthrough")
    assert [t.get_text() for t in ax.texts] + [ax.get_title()] == scene.texts()
    assert len(ax.patches) == 9
    theirs, ours = mpl_baselines(fig), scene_baselines(scene.svg(), one_line=True)
    for text, ys in ours.items():
        for y in ys:
            assert min(abs(y - t) for t in theirs[text]) < 0.5, text


def test_io_comparison_speaks_german(german):
    scene = io_comparison_scene(compare_io(requests=4))
    assert scene.texts()[-1] == _("emulated vs paravirtual vs passthrough")
    assert "emulated vs paravirtual vs passthrough" not in scene.texts()
    assert _("latency (µs)") in scene.texts()


def test_io_comparison_refuses_bad_arguments_by_name():
    with pytest.raises(TypeError, match="cmp"):
        io_comparison_scene([1, 2])
    with pytest.raises(ValueError, match="height"):
        io_comparison_scene(compare_io(requests=2), height=-1)


# -- the widgets -----------------------------------------------------------------
def test_interrupt_lab_picture_follows_passthrough():
    app = w.interrupt_lab(packets=12, disk_reqs=0)
    assert not [a for a in shapes(app.draw(app.result), "arrow") if a[4] == RED]
    app.controls["nic_owner"].value = "domU1"           # the NIC passed through
    scene = app.draw(app.result)
    (red,) = [a for a in shapes(scene, "arrow") if a[4] == RED and a[6] == "solid"]
    counts = [s for _x, _y, s, _sz, color, *_rest in shapes(scene, "text") if color == RED]
    events = routing_graph(app.result.trace).edges[HYPERVISOR, "domU1"]["events"]
    assert counts == [str(events)] and events == 12


def test_interrupt_lab_scene_stays_small_in_every_configuration():
    # the budget line for interrupt_lab: the largest routing picture any
    # owner/target combination draws (the burst size changes counts, not shapes)
    most = 0
    owners, targets = ["dom0", "domU1", "domU2"], ["domU1", "domU2", "dom0"]
    for nic, disk, pt, dt in itertools.product(owners, owners, targets, targets):
        app = InterruptLabApp(nic_owner=nic, disk_owner=disk, packet_target=pt,
                              disk_target=dt, packets=64, disk_reqs=32)
        if app.error is None:
            scene = app.draw(app.result)
            most = max(most, len(scene.items) + sum(bool(p.title) for p in scene.panels))
    assert most <= 50
