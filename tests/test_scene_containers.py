"""Notebook 05's pictures as scenes: the density bars, the two stacks and both together.

``container_lab`` draws :func:`virtlab.viz.containers.density_scene` (issue 21:
no matplotlib in a redraw) and shows :func:`~virtlab.viz.containers.stacks_scene`
as a cached second image; ``density_figure``, ``stacks_figure`` and
``comparison_figure`` draw the same scenes with matplotlib for the static pages.
Limits, ticks and the title's place are checked against a matplotlib Axes drawn
as the figure was before the port (bars, ``margins(y=0.2)``, its own locator and
formatter), the bars against the model.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import virtlab.widgets as w
import virtlab.widgets.base as widgets_base
from virtlab.containers import compare
from virtlab.i18n import _, set_language
from virtlab.viz import containers as viz_ct
from virtlab.viz.base import PALETTE, new_figure, to_svg
from virtlab.viz.containers import (comparison_figure, comparison_scene, density_figure,
                                    density_scene, stacks_figure, stacks_scene)
from virtlab.viz.datacenter import fixed_grid, set_title
from virtlab.viz.scene import Scene
from svg_text import mpl_baselines, scene_baselines

SVG = "{http://www.w3.org/2000/svg}"
COMPARISONS = [compare(), compare(200, 4096, 1024), compare(1, 10, 4), compare(4, 4096, 4),
               compare(50, 700, 16), compare(1, 3070, 8)]


def shapes(scene: Scene, kind: str, panel=None) -> list[tuple]:
    """The arguments of every ``kind`` shape (of ``panel``, if given), in the order added."""
    return [item[4:] for item in scene.items
            if item[0] == kind and panel in (None, item[1])]


def texts(scene: Scene, coords: str | None = None) -> list[tuple]:
    """(x, y, text, size) of the text items (placed in ``coords``, if given)."""
    return [(x, y, s, size) for kind, _p, (c, _o), _z, x, y, s, size, *_rest in scene.items
            if kind == "text" and coords in (None, c)]


def reference_density(comparison):
    """The density bars as matplotlib lays them out (the figure before the port)."""
    c, v = comparison.container, comparison.vm
    fig = new_figure(3.2, 2.8)
    ax = fig.add_subplot(fixed_grid(fig, left=0.2, right=0.96, bottom=0.1, top=0.82)[0])
    ax.bar([_("containers"), "VMs"], [c.density, v.density])
    ax.tick_params(labelsize=8)
    ax.margins(y=0.2)
    title = _("instances that fit in {gib} GiB\n({container} vs {vm} MiB each)").format(
        gib=f"{comparison.host_memory_gb:g}", container=f"{c.per_instance_mb:.0f}",
        vm=f"{v.per_instance_mb:.0f}")
    set_title(ax, title, fontsize=8)
    return fig, ax, title


def shown_ticks(axis, lo, hi):
    eps = (hi - lo) * 1e-9
    return [(float(loc), t.get_text()) for loc, t in zip(axis.get_ticklocs(),
                                                         axis.get_ticklabels())
            if lo - eps <= loc <= hi + eps]


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_density_bars_come_from_the_model(comparison):
    scene = density_scene(comparison)
    c, v = comparison.container, comparison.vm
    bars = shapes(scene, "rect")
    assert [(x, y, bw, h, fc) for x, y, bw, h, fc, *_r in bars] == [
        (-0.4, 0.0, 0.8, float(c.density), PALETTE[1].lower()),
        (0.6, 0.0, 0.8, float(v.density), PALETTE[4].lower())]
    # each bar's count stands on it
    values = [(x, y, s) for x, y, s, _size in texts(scene, "data")]
    assert values == [(0.0, float(c.density), str(c.density)),
                      (1.0, float(v.density), str(v.density))]


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_density_limits_and_ticks_are_matplotlibs(comparison):
    fig, ax, _title = reference_density(comparison)
    to_svg(fig)                                  # the ticks matplotlib draws, laid out
    panel = density_scene(comparison).panels[0]
    assert panel.xlim == pytest.approx(ax.get_xlim())
    assert panel.ylim == pytest.approx(ax.get_ylim())
    scene = density_scene(comparison)
    y = [(pos, s) for _x, pos, s, _size in texts(scene, "yaxis")]
    want = shown_ticks(ax.yaxis, *ax.get_ylim())
    assert [s for _p, s in y] == [s for _p, s in want]
    assert [p for p, _s in y] == pytest.approx([p for p, _s in want])
    assert [(pos, s) for pos, _y, s, _size in texts(scene, "xaxis")] == \
        shown_ticks(ax.xaxis, *ax.get_xlim())


@pytest.mark.parametrize("comparison", COMPARISONS[:2])
def test_density_title_sits_where_matplotlib_puts_it(comparison):
    # two lines, the last one's baseline 6 pt above the axes: in the widget's SVG and
    # in the static figure as in matplotlib's own title
    fig, _ax, title = reference_density(comparison)
    theirs = mpl_baselines(fig)
    scene = density_scene(comparison)
    ours = scene_baselines(scene.svg(), rotated=True)
    static = mpl_baselines(density_figure(comparison))
    for line in title.split("\n"):
        (want,) = theirs[line]
        assert ours[line] == [pytest.approx(want, abs=0.05)]
        assert static[line] == [pytest.approx(want, abs=0.05)]


def test_density_figure_draws_the_same_scene():
    comparison = compare()
    fig = density_figure(comparison)
    scene = density_scene(comparison)
    assert fig.get_size_inches().tolist() == [3.2, 2.8] and len(fig.axes) == 1
    assert sorted([t.get_text() for t in fig.axes[0].texts] + [fig.axes[0].get_title()]) == \
        sorted(scene.texts())
    ours, theirs = scene_baselines(scene.svg(), rotated=True), mpl_baselines(fig)
    for text, ys in ours.items():
        for y in ys:
            assert any(abs(y - want) < 1.0 for want in theirs[text]), (text, y)


@pytest.mark.parametrize("instances", [1, 2, 3, 4, 5, 200])
def test_stacks_show_up_to_four_instances_per_side(instances):
    scene = stacks_scene(instances)
    shown = min(instances, 4)
    labels = [s for _x, _y, s, _size in texts(scene)]
    assert labels.count(_("app")) == 2 * shown               # containers and VMs
    assert labels.count(_("guest\nOS")) == shown             # a guest OS per VM only
    assert labels.count(_("hardware")) == 2
    assert {_("host OS (one kernel)"), _("hypervisor"), _("containers"),
            _("virtual machines")} <= set(labels)
    assert len(shapes(scene, "rect")) == 2 + 2 + shown + 2 * shown    # hw, host, boxes


def test_stacks_figure_draws_the_same_scene():
    fig, scene = stacks_figure(3), stacks_scene(3)
    assert fig.get_size_inches().tolist() == [5.5, 2.8] and len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].texts] == scene.texts()
    ours, theirs = scene_baselines(scene.svg(), rotated=True), mpl_baselines(fig)
    for text in (_("containers"), _("virtual machines"), _("hardware"), _("app")):
        assert ours[text] == pytest.approx(theirs[text], abs=0.5)


def test_stacks_refuse_a_count_that_is_no_integer():
    with pytest.raises(TypeError, match="instances"):
        stacks_scene("3")


def test_comparison_shows_both_parts_and_the_figures_title():
    comparison = compare(instances=3)
    scene = comparison_scene(comparison)
    stacks, bars = scene.panels
    # the same pictures as the widget's two images, side by side
    assert shapes(scene, "rect", stacks) == shapes(stacks_scene(3), "rect")
    assert shapes(scene, "rect", bars) == shapes(density_scene(comparison), "rect")
    fig = comparison_figure(comparison)
    assert len(fig.axes) == 2
    top = mpl_baselines(fig)[_("Illustrative costs (parameters, not measurements)")]
    ours = scene_baselines(scene.svg(),
                           rotated=True)[_("Illustrative costs (parameters, not measurements)")]
    assert ours == [pytest.approx(top[0], abs=0.5)]
    # centred at the top of the picture, as fig.suptitle(y=0.98, va="top") puts it
    ref = new_figure(8.5, 3.0)
    ref.suptitle(_("Illustrative costs (parameters, not measurements)"), fontsize=8)
    want = mpl_baselines(ref)[_("Illustrative costs (parameters, not measurements)")][0]
    assert ours[0] == pytest.approx(want, abs=0.05)
    # the grid: 2.4 : 1, as matplotlib's GridSpec places it
    ref = new_figure(8.5, 3.0)
    grid = fixed_grid(ref, 1, 2, width_ratios=[2.4, 1], left=0.01, bottom=0.1, top=0.8,
                      wspace=0.15)
    for panel, cell in zip(scene.panels, grid):
        box = cell.get_position(ref)
        assert panel.box == pytest.approx((box.x0, box.y0, box.x1, box.y1))


def test_the_pictures_speak_german():
    previous = set_language("de")
    try:
        comparison = compare()
        shown = comparison_scene(comparison).texts()
        want = [_("hardware"), _("Illustrative costs (parameters, not measurements)"),
                _("instances that fit in {gib} GiB\n({container} vs {vm} MiB each)").format(
                    gib="64", container="204", vm="488")]
    finally:
        set_language(previous)
    assert all(t in shown for t in want)
    assert "hardware" not in shown


@settings(max_examples=25, deadline=None)
@given(instances=st.integers(1, 200), app_mb=st.integers(1, 409).map(lambda v: 10 * v),
       host=st.integers(1, 256).map(lambda v: 4 * v))
def test_every_density_picture_is_well_formed(instances, app_mb, host):
    comparison = compare(instances, app_mb, host)
    scene = density_scene(comparison)
    root = ET.fromstring(scene.svg())
    assert len(list(root.iter(f"{SVG}rect"))) == 3               # background + two bars
    lo, hi = scene.panels[0].ylim
    assert lo <= 0 <= max(comparison.container.density, comparison.vm.density) < hi
    eps = (hi - lo) * 1e-9                  # matplotlib keeps a tick a rounding error out
    assert all(lo - eps <= pos <= hi + eps for _x, pos, _s, _size in texts(scene, "yaxis"))


# -- the widget redraws without matplotlib ----------------------------------------------
def test_container_lab_redraws_without_matplotlib(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("container_lab used matplotlib in a redraw")

    monkeypatch.setattr(widgets_base, "to_svg", refuse)
    monkeypatch.setattr(Scene, "figure", refuse)
    app = w.container_lab(instances=1)
    assert isinstance(app.draw(app.result), Scene)
    stacks = bytes(app.diagram.value)
    # the bars change with memory; the number of instances changes the stacks only
    for move, bars_change in (({"host_memory_gb": 128}, True), ({"instances": 3}, False),
                              ({"app_mb": 1000}, True)):
        before = bytes(app.image_bytes)
        app.set(**move)
        assert app.error is None and (bytes(app.image_bytes) != before) == bars_change
        assert bytes(app.image_bytes) == app.draw(app.result).svg()
    # three instances: three boxes a side, the stacks' own (cached) picture
    assert bytes(app.diagram.value) == stacks_scene(3).svg() != stacks


def test_container_lab_keeps_its_stacks_while_other_controls_move(monkeypatch):
    app = w.container_lab()
    calls = []
    real = viz_ct.stacks_scene
    monkeypatch.setattr(viz_ct, "stacks_scene", lambda *a: calls.append(a) or real(*a))
    app.controls["app_mb"].value = 400
    app.controls["incident"].value = "kernel bug"
    assert calls == [] and app.error is None
    w.container_lab(instances=2)
    assert calls == [(2,)]                # the layer is drawn by stacks_scene
