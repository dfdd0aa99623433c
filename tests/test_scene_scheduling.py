"""The scheduling labs' picture as a scene (issue 21): it shows what the trace says.

``viz.scheduling.lab_scene`` is the picture of ``scheduler_lab`` and
``cosched_lab``: a bar per run interval on its pCPU's row, hatched boxes for
pCPUs held for a gang, the share bars beside it.  Every expectation here is
computed from the trace, not read off the picture; the static figure
(``lab_figure``) is the same scene drawn by matplotlib.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import virtlab.widgets as w
import virtlab.widgets.base as widgets_base
from virtlab.scheduler import scenarios
from virtlab.viz import scheduling as vs
from virtlab.viz.scene import Scene


def items(scene, kind, panel=None, coords=None):
    """The arguments of the scene's shapes of ``kind`` (``Scene.items``: kind, panel,
    (coords, offset), zorder, arguments), of one panel and coordinate system if given."""
    return [it[4:] for it in scene.items if it[0] == kind and panel in (None, it[1])
            and coords in (None, it[2][0])]


def texts(scene, panel):
    """``{text: (x, y)}`` of a panel's texts."""
    return {s: (x, y) for x, y, s, *_ in items(scene, "text", panel)}


def drawn_bars(scene):
    """``{(vm colour, pCPU): sorted [(start, end)]}`` from the timeline's polygons: each
    polygon outlines its bars four corners at a time."""
    out = {}
    for xs, ys, fc, ec, *_ in items(scene, "polygon", scene.panels[0]):
        assert ec == "#ffffff"                       # the white edge between bars
        for k in range(0, len(xs), 4):
            a, a2, b, b2 = xs[k:k + 4]
            assert a == a2 and b == b2
            row = (ys[k] + ys[k + 1]) / 2
            assert sorted(ys[k:k + 4]) == pytest.approx([row - 0.4] * 2 + [row + 0.4] * 2)
            out.setdefault((fc, round(row)), []).append((a, b))
    return {key: sorted(v) for key, v in out.items()}


def expected_bars(trace, window):
    """The same from the trace: every run interval inside the window, clipped to it."""
    colors = vs.vm_colors(trace)
    out = {}
    for iv in trace.intervals:
        a, b = max(iv.start / 1000, 0.0), min(iv.end / 1000, window)
        if a < b:
            out.setdefault((to_hex(colors[iv.vm]), iv.pcpu), []).append((a, b))
    return {key: sorted(v) for key, v in out.items()}


def same(got, want):
    """Equal up to float rounding: dicts of lists of number tuples (or lists of tuples)."""
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    return len(got) == len(want) and all(
        list(g) == pytest.approx(list(v), rel=1e-9, abs=1e-9) for g, v in zip(got, want))


@pytest.fixture(scope="module")
def lab_trace():
    return scenarios.lab(duration_ms=300)


@pytest.fixture(scope="module")
def strict_trace():
    return scenarios.lock_comparison(duration_ms=300)["strict"]


def test_one_bar_per_run_interval_on_its_pcpus_row(lab_trace):
    scene = vs.lab_scene(lab_trace, window_ms=150)
    assert same(drawn_bars(scene), expected_bars(lab_trace, 150.0))
    timeline = scene.panels[0]
    assert timeline.xlim == (0.0, 150.0)
    assert timeline.ylim == (lab_trace.pcpus - 0.5, -0.5)        # pCPU 0 on top


def test_bars_of_a_busy_sedf_window_are_all_drawn():
    # hundreds of short bars: each is there, in its VM's colour
    trace = scenarios.lab(scheduler="sedf", pcpus=1, duration_ms=200)
    scene = vs.lab_scene(trace, window_ms=150)
    want = expected_bars(trace, 150.0)
    assert sum(map(len, want.values())) > 100
    assert same(drawn_bars(scene), want)


def test_pcpus_held_for_a_gang_are_hatched_boxes(strict_trace):
    scene = vs.lab_scene(strict_trace, window_ms=120)
    timeline = scene.panels[0]
    held = sorted((max(s / 1000, 0), min(e / 1000, 120.0), p)
                  for p, s, e, _ in strict_trace.reservations if s / 1000 < 120)
    assert held
    boxes = sorted((x, x + w_, y + 0.4) for x, y, w_, h, fc, ec, *_ in
                   items(scene, "rect", timeline) if ec == to_hex(vs._RESERVED))
    assert same(boxes, held)
    # every box has its hatch: grey strokes inside it, rising to the right at 45 degrees
    strokes = [tuple(zip(*seg)) for segments, color, *_ in items(scene, "segments", timeline)
               if color == to_hex(vs._RESERVED) for seg in segments]
    for a, b, p in held:
        mine = [(xs, ys) for xs, ys in strokes
                if all(a - 1e-9 <= x <= b + 1e-9 for x in xs)
                and all(p - 0.4 - 1e-9 <= y <= p + 0.4 + 1e-9 for y in ys)]
        width_pt = timeline.to_points(b, 0)[0] - timeline.to_points(a, 0)[0]
        assert len(mine) >= math.floor(width_pt / 8)            # a stroke every 8 points
        for xs, ys in mine:
            (x0, y0), (x1, y1) = (timeline.to_points(x, y) for x, y in zip(xs, ys))
            assert x1 - x0 == pytest.approx(y0 - y1)           # up and right alike


def test_share_bars_are_the_traces_shares(lab_trace):
    scene = vs.lab_scene(lab_trace)
    shares = scene.panels[1]
    names = list(lab_trace.vm_names)
    want = [lab_trace.share(n) for n in names]
    bars = [(x, y, w_, fc) for x, y, w_, h, fc, ec, *_ in items(scene, "rect", shares)
            if ec == "none"]
    assert [w_ for *_, w_, _fc in bars] == pytest.approx(want)
    assert [y + 0.4 for _x, y, *_ in bars] == pytest.approx(range(len(names)))
    assert [fc for *_, fc in bars] == [to_hex(vs.vm_colors(lab_trace)[n]) for n in names]
    assert shares.xlim == (0.0, max(1.0, max(want) * 1.25))
    labels = texts(scene, shares)
    for i, (name, share) in enumerate(zip(names, want)):
        assert labels[f" {share:.2f}"] == pytest.approx((share, i))    # at the bar's end
        assert labels[name][1] == i
    assert "share of one pCPU" in labels


def test_title_ticks_and_row_names(lab_trace):
    scene = vs.lab_scene(lab_trace, window_ms=150)
    shown = texts(scene, scene.panels[0])
    assert f"{lab_trace.scheduler}: first 150 ms" in shown
    assert {"pCPU", "time (ms)"} <= set(shown)
    rows = [(s, y) for _x, y, s, *_ in items(scene, "text", scene.panels[0], "yaxis")]
    assert rows == [(str(p), p) for p in range(lab_trace.pcpus)]          # row names
    ticks = [v for v in MaxNLocator(5).tick_values(0, 150) if 0 <= v <= 150]
    assert [(x, s) for x, _y, s, *_ in items(scene, "text", scene.panels[0], "xaxis")] == [
        (v, f"{v:g}") for v in ticks]


def test_boxes_are_the_gridspec_cells_the_figure_had():
    for height in (1.86, 2.82, 3.46):
        fig = Figure(figsize=(7.5, height))
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.5 / height,
                            top=1 - 0.3 / height, wspace=0.18)
        gs = fig.add_gridspec(1, 2, width_ratios=[3.2, 1])
        for box, cell in zip(vs._lab_boxes(height), (gs[0, 0], gs[0, 1])):
            pos = cell.get_position(fig)
            assert box == pytest.approx((pos.x0, pos.y0, pos.x1, pos.y1))


def test_the_static_figure_draws_the_same_scene(strict_trace):
    scene = vs.lab_scene(strict_trace, window_ms=120)
    fig = vs.lab_figure(strict_trace, window_ms=120)
    assert [ax.get_xlim() for ax in fig.axes] == [p.xlim for p in scene.panels]
    assert [ax.get_ylim() for ax in fig.axes] == [p.ylim for p in scene.panels]
    assert sorted(t.get_text() for ax in fig.axes for t in ax.texts) == sorted(scene.texts())


@settings(max_examples=12, deadline=None)
@given(scheduler=st.sampled_from(["credit", "sedf", "rr"]),
       cosched=st.sampled_from(["none", "relaxed", "strict"]), pcpus=st.integers(2, 5),
       window=st.floats(1.0, 400.0))
def test_any_lab_run_is_drawn_as_the_trace_says(scheduler, cosched, pcpus, window):
    trace = scenarios.lab(scheduler=scheduler, cosched=cosched, pcpus=pcpus, duration_ms=200)
    scene = vs.lab_scene(trace, window_ms=window)
    end = min(window, 200.0)
    assert scene.panels[0].xlim == (0.0, end)
    assert same(drawn_bars(scene), expected_bars(trace, end))
    svg = scene.svg()
    assert svg.startswith(b"<?xml") and svg.count(b"<polygon") == len(
        items(scene, "polygon"))


@pytest.mark.parametrize("name", ["scheduler_lab", "cosched_lab"])
def test_the_labs_redraw_a_scene_without_matplotlib(monkeypatch, name):
    def refuse(fig):
        raise AssertionError(f"{name} rendered a matplotlib figure")

    monkeypatch.setattr(widgets_base, "to_svg", refuse)
    app = w.apps()[name]()
    scene = app.draw(app.result)
    assert isinstance(scene, Scene)
    # the share bars' labels are the model's shares (what the picture is for)
    labels = [s for s in scene.texts() if s.startswith(" ")]
    assert labels == [f" {app.result.share(n):.2f}" for n in app.result.vm_names]
    move = next(app.neighbours(n) for n in app.controls if app.neighbours(n))[0]
    app.set(**move)
    assert app.error is None and app.image_bytes == app.draw(app.result).svg()
