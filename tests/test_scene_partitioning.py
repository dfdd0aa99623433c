"""Notebook 03's pictures as scenes: the utilization plot and the resource bars.

``partition_lab`` draws :func:`virtlab.viz.partitioning.utilization_scene`
(issue 21: no matplotlib in a redraw) and shows
:func:`~virtlab.viz.partitioning.assignment_scene` as a cached second image, now
also a scene (a move of a partition's CPUs changes both pictures: two
matplotlib renders per step before).  ``utilization_figure`` and
``assignment_figure`` draw the same scenes with matplotlib for the static
pages.  Limits, ticks, the step curves and the hatch are checked against
matplotlib drawing the figure as before the port; bars and legend against the
model.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.ticker import MaxNLocator

import virtlab.widgets as w
import virtlab.widgets.base as widgets_base
from virtlab import partitioning as pt
from virtlab.i18n import _, set_language
from virtlab.viz import partitioning as viz_pt
from virtlab.viz.base import PALETTE, color_for, new_figure, scalar_ticks, to_svg
from virtlab.viz.datacenter import fixed_grid
from virtlab.viz.partitioning import (assignment_figure, assignment_scene,
                                      utilization_figure, utilization_scene)
from virtlab.viz.scene import Scene

SVG = "{http://www.w3.org/2000/svg}"


def shapes(scene: Scene, kind: str, coords: str | None = None) -> list[tuple]:
    """The arguments of every ``kind`` shape (placed in ``coords``, if given), in order."""
    return [item[4:] for item in scene.items
            if item[0] == kind and coords in (None, item[2][0])]


def texts(scene: Scene, coords: str | None = None) -> list[tuple]:
    """(x, y, text, size, colour) of the text items (placed in ``coords``, if given)."""
    return [(x, y, s, size, color) for _k, _p, (c, _o), _z, x, y, s, size, color, *_rest
            in (item for item in scene.items if item[0] == "text")
            if coords in (None, c)]


def lab(**kw):
    app = w.partition_lab(**kw)
    assert app.error is None
    return app.result


CONFIGS = [{}, {"prod_cpus": 0, "seed": 7}, {"prod_cpus": 6, "test_weight": 9},
           {"prod_memory": 40, "test_memory": 8, "dev_memory": 16, "seed": 3}]


# -- the resource bars ---------------------------------------------------------------
def shares(assignment):
    """Each row's (partition name, share of the machine), from the model."""
    m, ent = assignment.machine, pt.entitlements(assignment)
    return [[(p.name, get(p) / total) for p in assignment.partitions]
            for total, get in ((m.cpus, lambda p: ent[p.name]),
                               (m.memory_gb, lambda p: p.memory_gb),
                               (m.channels, lambda p: p.channels))]


@pytest.mark.parametrize("config", CONFIGS)
def test_assignment_bars_are_the_models_shares(config):
    assignment, _u = lab(**config)
    scene = assignment_scene(assignment)
    bars = shapes(scene, "rect")
    by_row: dict[int, list] = {}
    for x, y, bw, h, fc, ec, *_r in bars:
        assert h == 0.8 and ec == "#ffffff"
        by_row.setdefault(round(y + 0.4), []).append((x, bw, fc))
    assert sorted(by_row) == [0, 1, 2]
    for row, want in enumerate(shares(assignment)):
        got = by_row[row]
        assert sum(bw for _x, bw, _fc in got) == pytest.approx(1.0)    # the whole machine
        assert [bw for _x, bw, _fc in got[:len(want)]] == pytest.approx([s for _n, s in want])
        assert [fc for *_xb, fc in got[:len(want)]] == [color_for(i).lower()
                                                        for i in range(len(want))]
        free = 1 - sum(s for _n, s in want)
        assert (len(got) == len(want) + 1) == (free > 1e-9)
        if free > 1e-9:
            assert got[-1][2] == "#eeeeee"
    # the row names carry the machine's totals; the labels inside name the partitions
    m = assignment.machine
    assert [s for *_xy, s, _size, _c in texts(scene, "yaxis")] == [
        f"CPUs\n({m.cpus})", f"memory (GiB)\n({m.memory_gb})", f"I/O channels\n({m.channels})"]
    inside = [s for *_xy, s, _size, _c in texts(scene, "data")]
    for row in shares(assignment):
        for name, share in row:
            if share > 0.07:
                assert name in inside
    assert scene.texts()[-1] == _("{machine}: {n} partitions, shared pool {cpus} CPUs").format(
        machine=m.name, n=len(assignment.partitions), cpus=assignment.pool_cpus)


def hatch_step_of_matplotlib() -> float:
    """matplotlib's "//" hatch, read from its SVG: the spacing of its lines along x + y."""
    fig = new_figure(2, 2, margins={})
    fig.add_subplot().barh(0, 0.5, hatch="//", edgecolor="white")
    pattern = re.search(r"<pattern[^>]*>(.*?)</pattern>", to_svg(fig).decode(), re.S)[1]
    starts = sorted(float(x) + float(y) for x, y in re.findall(r"M ([-\d.]+) ([-\d.]+)",
                                                               pattern))
    steps = {round(b - a, 6) for a, b in zip(starts, starts[1:])}
    assert len(steps) == 1
    return steps.pop()


@pytest.mark.parametrize("config", CONFIGS)
def test_only_shared_cpu_segments_are_hatched_as_matplotlib_hatches(config):
    assignment, _u = lab(**config)
    scene = assignment_scene(assignment)
    ax = scene.panels[0]
    step = hatch_step_of_matplotlib()
    cpu_segments = [(x, bw) for x, y, bw, *_r in shapes(scene, "rect")
                    if round(y + 0.4) == 0][:len(assignment.partitions)]
    shared = [seg for seg, p in zip(cpu_segments, assignment.partitions) if p.mode == "shared"]
    hatch = [tuple(zip(*seg)) for segments, color, lw, *_r in shapes(scene, "segments")
             if color == "#ffffff" and lw == 1.0 for seg in segments]
    assert bool(hatch) == bool(shared)
    for xs, ys in hatch:
        (x0, y0), (x1, y1) = (ax.to_points(x, y) for x, y in zip(xs, ys))
        # a "/" line (x + y constant in the SVG's frame, y down) on matplotlib's grid ...
        assert x0 + y0 == pytest.approx(x1 + y1, abs=1e-6)
        assert (x0 + y0) / step == pytest.approx(round((x0 + y0) / step), abs=1e-6)
        # ... inside a shared partition's CPU segment (row 0: y from -0.4 to 0.4)
        lo, hi = sorted((ax.to_points(0, 0.4)[1], ax.to_points(0, -0.4)[1]))
        assert all(lo - 1e-6 <= y <= hi + 1e-6 for y in (y0, y1))
        assert any(ax.to_points(x, 0)[0] - 1e-6 <= min(x0, x1)
                   and max(x0, x1) <= ax.to_points(x + bw, 0)[0] + 1e-6 for x, bw in shared)
    # every shared segment is covered: one line per step along x + y over the segment
    for x, bw in shared:
        left, right = ax.to_points(x, 0)[0], ax.to_points(x + bw, 0)[0]
        n = sum(1 for xs, _ys in hatch if left < ax.to_points(sum(xs) / 2, 0)[0] < right)
        height = abs(ax.to_points(0, -0.4)[1] - ax.to_points(0, 0.4)[1])
        assert abs(n - (right - left + height) / step) <= 1


def test_assignment_limits_are_matplotlibs():
    assignment, _u = lab()
    fig = new_figure(7, 2.6)
    ax = fig.add_subplot(fixed_grid(fig, left=0.15, bottom=0.18, top=0.88)[0])
    for y in range(3):
        ax.barh(y, 1.0)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    panel = assignment_scene(assignment).panels[0]
    assert panel.ylim == pytest.approx(ax.get_ylim()) and panel.xlim == (0, 1)
    pos = ax.get_position()
    assert panel.box == pytest.approx((pos.x0, pos.y0, pos.x1, pos.y1))


def test_assignment_figure_draws_the_same_scene():
    assignment, _u = lab(prod_cpus=0)
    fig = assignment_figure(assignment)
    scene = assignment_scene(assignment)
    assert sorted(t.get_text() for t in fig.axes[0].texts) + [fig.axes[0].get_title()] == \
        sorted(scene.texts()[:-1]) + [scene.texts()[-1]]
    widths = {}
    for patch in fig.axes[0].patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        widths[y] = widths.get(y, 0) + patch.get_width()
    assert widths == pytest.approx({0: 1.0, 1: 1.0, 2: 1.0})


# -- the utilization plot --------------------------------------------------------------
def reference_utilization(result):
    """The plot as matplotlib laid it out before the port (same data, locators, limits)."""
    steps = len(next(iter(result.demand.values())))
    t = range(steps)
    total = [sum(result.demand[n][i] for n in result.names) for i in t]
    fig = new_figure(7, 3.0)
    ax = fig.add_subplot(fixed_grid(fig, left=0.08, bottom=0.15, top=0.9)[0])
    area = ax.fill_between(t, total, step="mid")
    lines = [ax.step(t, [sum(getattr(result, kind)[n][i] for n in result.names) for i in t],
                     where="mid")[0] for kind in ("shared", "static")]
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.set_ylim(0, max(max(total), result.cpus) * 1.35)
    to_svg(fig)
    return ax, area, lines


def ticks_of(axis, lo, hi):
    eps = (hi - lo) * 1e-9
    return [(float(v), t.get_text()) for v, t in zip(axis.get_ticklocs(), axis.get_ticklabels())
            if lo - eps <= v <= hi + eps]


RESULTS = [lab()[1], lab(prod_cpus=0, seed=7)[1],
           pt.compare_static_shared(4, {"a": [1, 3], "b": [3, 1]}),
           pt.compare_static_shared(2, {"a": [0.5], "b": [0.25]}),
           pt.compare_static_shared(16, {"a": [float(i % 7) for i in range(400)]})]


@pytest.mark.parametrize("result", RESULTS)
def test_utilization_limits_ticks_and_curves_are_matplotlibs(result):
    ax, area, (shared, static) = reference_utilization(result)
    scene = utilization_scene(result)
    panel = scene.panels[0]
    assert panel.xlim == pytest.approx(ax.get_xlim()) and panel.ylim == pytest.approx(ax.get_ylim())
    x = [(pos, s) for pos, _y, s, *_r in texts(scene, "xaxis") if s != _("time step")]
    y = [(pos, s) for _x, pos, s, *_r in texts(scene, "yaxis")]
    assert x == ticks_of(ax.xaxis, *ax.get_xlim())
    assert y == ticks_of(ax.yaxis, *ax.get_ylim())
    # the demand area and both step curves through matplotlib's own vertices
    (poly,) = shapes(scene, "polygon")
    theirs = {(round(a, 9), round(b, 9)) for a, b in area.get_paths()[0].vertices}
    ours = {(round(a, 9), round(b, 9)) for a, b in zip(poly[0], poly[1])}
    # the same outline: matplotlib's path also walks back along the baseline
    assert ours <= theirs
    assert all(b == 0 and min(poly[0]) <= a <= max(poly[0]) for a, b in theirs - ours)
    curves = [(xs, ys, color, lw) for xs, ys, color, lw, *_r in shapes(scene, "line", "data")]
    for (xs, ys, color, lw), line, want_color, want_lw in zip(
            curves, (shared, static), (PALETTE[2], PALETTE[5]), (1.5, 1.2)):
        vertices = line.get_path().vertices
        assert list(xs) == pytest.approx(vertices[:, 0].tolist())
        assert list(ys) == pytest.approx(vertices[:, 1].tolist())
        assert color == want_color.lower() and lw == want_lw
    # the machine's CPUs: a dashed line across the plot
    (cpus,) = [(xs, ys) for xs, ys, color, lw, dash, *_r in shapes(scene, "line", "yaxis")
               if dash == "dashed"]
    assert cpus == ((0.0, 1.0), (result.cpus, result.cpus))


@pytest.mark.parametrize("result", RESULTS[:3])
def test_utilization_legend_reports_the_models_shares(result):
    scene = utilization_scene(result)
    legend = [s for _x, _y, s, size, _c in texts(scene, "axes") if size == 7]
    assert legend == [
        _("demand"),
        _("shared pool: {used} used, {unmet} unmet").format(
            used=f"{result.shared_util:.0%}", unmet=f"{result.shared_unmet:.0%}"),
        _("static: {used} used, {unmet} unmet").format(
            used=f"{result.static_util:.0%}", unmet=f"{result.static_unmet:.0%}")]
    assert scene.texts()[-1] == _("{n} partitions on {cpus} CPUs: the same demand, served "
                                  "statically or from a shared pool").format(
        n=len(result.names), cpus=f"{result.cpus:g}")


def test_utilization_figure_draws_the_same_scene():
    result = RESULTS[0]
    fig, scene = utilization_figure(result), utilization_scene(result)
    assert fig.get_size_inches().tolist() == [7.0, 3.0] and len(fig.axes) == 1
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(scene.texts()[:-1])
    assert fig.axes[0].get_title() == scene.texts()[-1]
    ours = {t.text: float(t.get("y")) for t in ET.fromstring(scene.svg()).iter(f"{SVG}tspan")}
    theirs = {text: float(y) for y, text in re.findall(
        r'<text [^>]*?\by="([-\d.]+)"[^>]*>([^<]*)</text>', to_svg(fig).decode())}
    for text in (_("demand"), "0", "25", _("time step")):
        assert ours[text] == pytest.approx(theirs[text], abs=1.0)


def test_the_pictures_speak_german():
    previous = set_language("de")
    try:
        assignment, result = lab()
        bars, plot = assignment_scene(assignment).texts(), utilization_scene(result).texts()
        want = [_("memory (GiB)"), _("free"), _("time step"), _("demand")]
    finally:
        set_language(previous)
    assert any(t.startswith(want[0]) for t in bars) and want[1] in bars
    assert want[2] in plot and want[3] in plot and "demand" not in plot


@pytest.mark.parametrize("call, name", [
    (lambda: assignment_scene("mainframe"), "assignment"),
    (lambda: utilization_scene(None), "result"),
    (lambda: scalar_ticks(math.nan, 1, 4), "lo"),
    (lambda: scalar_ticks(0, 1, 0), "n"),
])
def test_bad_input_is_refused_by_name(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(-1e4, 1e4), span=st.floats(1e-2, 1e5), nbins=st.integers(1, 9))
def test_axis_ticks_are_a_matplotlib_scalar_ticks(lo, span, nbins):
    fig = new_figure(4, 3, margins={})
    ax = fig.add_subplot()
    ax.set_xlim(lo, lo + span)
    ax.xaxis.set_major_locator(MaxNLocator(nbins))
    to_svg(fig)
    if ax.xaxis.get_major_formatter().get_offset():
        return                           # matplotlib writes an offset beside the axis
    want = ticks_of(ax.xaxis, lo, lo + span)
    got = scalar_ticks(lo, lo + span, nbins)
    assert [s for _v, s in got] == [s for _v, s in want]
    assert [v for v, _s in got] == pytest.approx([v for v, _s in want])


# -- the widget redraws without matplotlib ----------------------------------------------
def test_partition_lab_redraws_both_pictures_without_matplotlib(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("partition_lab used matplotlib in a redraw")

    monkeypatch.setattr(widgets_base, "to_svg", refuse)
    monkeypatch.setattr(Scene, "figure", refuse)
    app = w.partition_lab()
    assert isinstance(app.draw(app.result), Scene)
    # (control, value, the plot changes, the bars change): the demand moves the plot only,
    # memory the bars only, CPUs and weights both
    for name, value, plot, bars in (("seed", 3, True, False), ("prod_cpus", 4, True, True),
                                    ("test_weight", 5, True, True),
                                    ("dev_memory", 4, False, True)):
        before = bytes(app.image_bytes), bytes(app.bars.value)
        app.set(**{name: value})
        assert app.error is None and (bytes(app.image_bytes) != before[0]) == plot, name
        assert bytes(app.image_bytes) == app.draw(app.result).svg()
        # the bars: what the configuration assigns
        assert bytes(app.bars.value) == assignment_scene(app.result[0]).svg()
        assert (bytes(app.bars.value) != before[1]) == bars, name


def test_partition_lab_keeps_its_bars_while_the_demand_moves(monkeypatch):
    app = w.partition_lab()
    calls = []
    real = viz_pt.assignment_scene
    monkeypatch.setattr(viz_pt, "assignment_scene", lambda *a: calls.append(a) or real(*a))
    app.controls["seed"].value = 9
    assert calls == [] and app.error is None
    app.controls["prod_cpus"].value = 2
    assert len(calls) == 1                  # the layer is drawn by assignment_scene
