"""The ballooning timeline as a scene (issue 21): it plots what the trace says.

``viz.balloon.timeline_scene`` is ``balloon_lab``'s picture: host free
frames, each VM's balloon and free list (top), the swapping per step (bottom).
Curves that are equal are striped, one dash in each VM's colour in turn, so
none hides another.  Expectations come from the trace; limits and ticks from
matplotlib itself, as the figure had them.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import virtlab.widgets as w
from virtlab.balloon import POLICIES, VMSpec, simulate
from virtlab.viz import PALETTE
from virtlab.viz import balloon as vb


def items(scene, kind, panel=None, coords=None):
    """The arguments of the scene's shapes of ``kind`` (``Scene.items``: kind, panel,
    (coords, offset), zorder, arguments), of one panel and coordinate system if given."""
    return [it[4:] for it in scene.items if it[0] == kind and panel in (None, it[1])
            and coords in (None, it[2][0])]


def curves(scene, panel):
    """``[(ys, colour, width, dash)]`` of the panel's data polylines of more than 2 points."""
    return [(list(ys), color, lw, dash) for xs, ys, color, lw, dash, *_ in
            items(scene, "line", panel, "data") if len(xs) > 2]


def matplotlib_ylim(values):
    """The y limits matplotlib autoscales a plot of ``values`` to."""
    ax = Figure().add_subplot()
    ax.plot(range(len(values)), values)
    return ax.get_ylim()


@pytest.fixture(scope="module")
def lab():
    return w.balloon_lab()


def test_every_series_is_a_curve_of_its_vms_colour(lab):
    t = lab.result
    scene = vb.timeline_scene(t)
    top, bottom = scene.panels
    colour = {n: to_hex(PALETTE[i]) for i, n in enumerate(t.vms)}
    drawn = curves(scene, top)
    assert (list(t.host_free), "#000000", 2.2, "solid") in drawn
    for n in t.vms:                    # the default lab's balloons differ: solid curves
        assert (list(t.balloon[n]), colour[n], 1.8, "solid") in drawn
        assert (list(t.guest_free[n]), colour[n], 1.2, "dotted") in drawn
        assert (list(t.guest_swap_io[n]), colour[n], 1.2, "dashed") in curves(scene, bottom)
    xs = {tuple(xs) for xs, *_ in items(scene, "line", top, "data") if len(xs) > 2}
    assert xs == {tuple(range(1, t.steps + 1))}


def test_equal_curves_are_striped_so_every_colour_shows(lab):
    # the default lab never swaps in the hypervisor: three equal (zero) curves,
    # drawn as dashes taking turns along the line, none hidden under another
    t = lab.result
    assert all(not any(t.hv_swap_io[n]) for n in t.vms)
    scene = vb.timeline_scene(t)
    bottom = scene.panels[1]
    colour = {to_hex(PALETTE[i]): n for i, n in enumerate(t.vms)}
    pieces = {}                                   # colour -> [(from, to)] in points
    for xs, ys, color, lw, dash, *_ in items(scene, "line", bottom, "data"):
        if color in colour and lw == 1.6:
            assert dash == "solid" and set(ys) == {0}
            a, b = (bottom.to_points(x, 0)[0] for x in (xs[0], xs[-1]))
            pieces.setdefault(color, []).append((a, b))
    assert set(pieces) == set(colour)
    start, end = (bottom.to_points(x, 0)[0] for x in (1, t.steps))
    length = end - start
    everything = sorted(p for ps in pieces.values() for p in ps)
    # the dashes tile the line: no gap, no overlap, each colour a third of it
    assert everything[0][0] == pytest.approx(start) and everything[-1][1] == pytest.approx(end)
    for (_a, b), (c, _d) in zip(everything, everything[1:]):
        assert c == pytest.approx(b, abs=1e-6)
    for ps in pieces.values():
        assert sum(b - a for a, b in ps) == pytest.approx(length / 3, abs=1.6 * 5)
        assert max(b - a for a, b in ps) <= 1.6 * 5 + 1e-6     # dashes of 5 line widths
    assert "equal balloons: striped line" not in scene.texts()   # the balloons differ


def test_equal_balloons_are_striped_and_said_so():
    vms = [VMSpec(f"vm{i}", 64, 30, balloon_target=20) for i in (1, 2)]
    t = simulate(200, vms, steps=20)
    assert t.balloon["vm1"] == t.balloon["vm2"]
    scene = vb.timeline_scene(t)
    top = scene.panels[0]
    lines = [(color, lw) for _xs, _ys, color, lw, *_ in items(scene, "line", top, "data")]
    for i in (0, 1):       # no solid balloon curve: dashes of both colours
        assert (to_hex(PALETTE[i]), 1.8) in lines
        assert not any(ys == list(t.balloon["vm1"]) and color == to_hex(PALETTE[i])
                       for ys, color, *_ in curves(scene, top))
    assert "equal balloons: striped line" in scene.texts()


def test_limits_and_ticks_are_matplotlibs(lab):
    t = lab.result
    scene = vb.timeline_scene(t)
    top, bottom = scene.panels
    assert top.xlim == bottom.xlim == pytest.approx(
        tuple(v + 1 for v in matplotlib_ylim(range(t.steps))))
    top_values = [v for s in [t.host_free, *t.balloon.values(), *t.guest_free.values()]
                  for v in s]
    assert top.ylim == pytest.approx(matplotlib_ylim(top_values))
    bottom_values = [v for s in [*t.hv_swap_io.values(), *t.guest_swap_io.values()] for v in s]
    assert bottom.ylim == pytest.approx(matplotlib_ylim(bottom_values))
    # the x tick labels under the bottom panel only; the y labels inside the limits
    assert not items(scene, "text", top, "xaxis")
    xlabels = [s for _x, _y, s, *_ in items(scene, "text", bottom, "xaxis")]
    assert xlabels and all(s.isdigit() for s in xlabels)
    for panel in (top, bottom):
        ys = [y for _x, y, *_ in items(scene, "text", panel, "yaxis")]
        assert len(ys) >= 2 and all(panel.ylim[0] <= y <= panel.ylim[1] for y in ys)


def test_keys_title_and_labels(lab):
    t = lab.result
    scene = vb.timeline_scene(t)
    top, bottom = scene.panels
    keys_top = [s for x, _y, s, *_ in items(scene, "text", top, "axes") if x > 1]
    assert keys_top == ["host free", *t.vms, "balloon", "guest free"]
    assert [s for x, _y, s, *_ in items(scene, "text", bottom, "axes") if x > 1] == [
        "hypervisor", "guest"]
    assert f"reclaim by balloon: {t.host_frames} host frames" in scene.texts()
    assert {"pages", "pages swapped / step", "step"} <= set(scene.texts())


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), steps=st.integers(1, 30), policy=st.sampled_from(POLICIES),
       targets=st.lists(st.sampled_from([0, 8, 20]), min_size=4, max_size=4))
def test_any_run_draws_and_both_renderers_agree(n, steps, policy, targets):
    vms = [VMSpec(f"vm{i + 1}", 64, 30, balloon_target=targets[i]) for i in range(n)]
    t = simulate(160, vms, policy=policy, steps=steps)
    scene = vb.timeline_scene(t)
    svg = scene.svg()
    assert svg.count(b"<polyline") == len(items(scene, "line")) + len(items(scene, "tick")) \
        + len(items(scene, "grid"))
    fig = vb.timeline(t)
    assert sorted(x.get_text() for ax in fig.axes for x in ax.texts) == sorted(scene.texts())
    for panel in scene.panels:
        assert all(math.isfinite(v) for v in panel.ylim) and panel.ylim[0] < panel.ylim[1]


