"""Notebooks 00 and 01's widget pictures as scenes: the course map and the striped volume.

``course_map`` and ``storage_lab`` draw a :class:`~virtlab.viz.scene.Scene`
(issue 21: no matplotlib in a redraw); :func:`virtlab.viz.course.course_map`
and :func:`virtlab.viz.variants.stripe_figure` draw the same scene with
matplotlib for the static pages.  What the picture must show is worked out
here from the model (the course graph, the learning path, the stripe map),
not read back from the picture.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import virtlab.widgets as w
import virtlab.widgets.base as widgets_base
from virtlab.course import TOPICS, course_graph, learning_path
from virtlab.i18n import _, set_language
from virtlab.variants import stripe_map
from virtlab.viz.base import color_for
from virtlab.viz.course import course_map, course_map_scene
from virtlab.viz.scene import Scene
from virtlab.viz.variants import stripe_figure, stripe_scene
from svg_text import mpl_baselines, scene_baselines

SVG = "{http://www.w3.org/2000/svg}"
BLUE, GREY = "#0072b2", "#eeeeee"


# -- reading a scene -------------------------------------------------------------
def shapes(scene: Scene, kind: str) -> list[tuple]:
    """The arguments of every ``kind`` shape, in the order added (see Panel's methods)."""
    return [item[4:] for item in scene.items if item[0] == kind]


def texts(scene: Scene, coords: str | None = None) -> list[tuple]:
    """(x, y, text, size, colour) of the text items (placed in ``coords``, if given)."""
    return [(x, y, s, size, color) for kind, _p, (c, _o), _z, x, y, s, size, color, *_rest
            in scene.items if kind == "text" and coords in (None, c)]


def assert_same_picture(scene: Scene, fig) -> None:
    """The widget's SVG and matplotlib's figure of one scene show the same texts in the same
    places (one-line texts' baselines within half a point)."""
    ours, theirs = scene_baselines(scene.svg(), one_line=True), mpl_baselines(fig)
    assert ours
    for text, ys in ours.items():
        for y in ys:
            assert any(abs(y - want) < 0.5 for want in theirs.get(text, [])), (text, y)
    shown = [t.get_text() for ax in fig.axes for t in ax.texts] + [
        ax.get_title() for ax in fig.axes if ax.get_title()]
    assert sorted(shown) == sorted(scene.texts())


# -- the course map ----------------------------------------------------------------
@pytest.mark.parametrize("topic", [t.id for t in TOPICS])
def test_course_map_lights_up_exactly_the_learning_path(topic):
    scene = course_map_scene(topic)
    path = {t.id for t in learning_path(topic)}
    boxes = shapes(scene, "rect")
    labels = texts(scene)
    assert len(boxes) == len(labels) == len(TOPICS)       # a box and a label per topic
    for t, (x, y, bw, bh, fc, ec, *_r), (tx, ty, s, size, color) in zip(TOPICS, boxes, labels):
        assert (fc == BLUE) == (t.id in path) and fc in (BLUE, GREY) and ec == "#333333"
        assert color == ("#ffffff" if t.id in path else "#000000")
        # the label names the topic and sits in the middle of its box
        assert s == f"{t.id}\n" + textwrap.fill(_(t.title), 14, break_long_words=False)
        assert (tx, ty) == pytest.approx((x + bw / 2, y + bh / 2)) and size == 6.5
    assert scene.panels[0].title.endswith(f"(path to {topic} in blue)")


def test_course_map_draws_an_edge_and_a_head_per_prerequisite():
    scene = course_map_scene("12")
    g = course_graph()
    lines, heads = shapes(scene, "line"), shapes(scene, "polygon")
    assert len(lines) == len(heads) == g.number_of_edges()
    centres = {t.id: (x + bw / 2, y + bh / 2)
               for t, (x, y, bw, bh, *_r) in zip(TOPICS, shapes(scene, "rect"))}
    for (a, b), (xs, ys, color, *_r), (hx, hy, fc, *_h) in zip(g.edges, lines, heads):
        assert color == fc == "#888888"
        # from the prerequisite's box to the next topic's, the head at the line's end
        assert min(centres, key=lambda n: (centres[n][0] - xs[0]) ** 2
                   + (centres[n][1] - ys[0]) ** 2) == a
        assert min(centres, key=lambda n: (centres[n][0] - xs[-1]) ** 2
                   + (centres[n][1] - ys[-1]) ** 2) == b
        assert (hx[0], hy[0]) == pytest.approx((xs[-1], ys[-1]))
    # boxes above the edges (an edge ends at a box's border, never across its label)
    z = {kind: {item[3] for item in scene.items if item[0] == kind} for kind in ("rect", "line")}
    assert min(z["rect"]) >= max(z["line"])
    body = scene.svg().decode()
    assert body.rindex("<polyline") < body.index(f'fill="{BLUE}"')


def test_course_map_without_highlight_is_all_grey():
    scene = course_map_scene()
    assert {fc for _x, _y, _w, _h, fc, *_r in shapes(scene, "rect")} == {GREY}
    assert scene.panels[0].title == "Course map: do a topic after the ones pointing to it"


def test_course_map_figure_draws_the_same_scene():
    fig = course_map("07")
    assert len(fig.axes) == 1 and not fig.axes[0].axison
    assert fig.get_size_inches().tolist() == [10.0, 4.8]
    assert_same_picture(course_map_scene("07"), fig)


def test_course_map_refuses_an_unknown_topic_by_name():
    with pytest.raises((ValueError, TypeError), match="topic"):
        course_map_scene("99")


def test_course_map_speaks_german():
    previous = set_language("de")
    try:
        shown = course_map_scene("13").texts()
        title = (_("Course map: do a topic after the ones pointing to it")
                 + _(" (path to {topic} in blue)").format(topic="13"))
        labels = [f"{t.id}\n" + textwrap.fill(_(t.title), 14, break_long_words=False)
                  for t in TOPICS]
    finally:
        set_language(previous)
    assert shown == labels + [title]
    english = [f"{t.id}\n" + textwrap.fill(t.title, 14, break_long_words=False) for t in TOPICS]
    assert "Course map" not in title and labels != english


# -- the striped volume --------------------------------------------------------------
@pytest.mark.parametrize("blocks, disks, stripe", [(12, 3, 2), (1, 1, 1), (24, 6, 4), (7, 4, 3)])
def test_stripe_scene_puts_each_block_on_its_disk(blocks, disks, stripe):
    mapping = stripe_map(blocks, disks, stripe)
    scene = stripe_scene(mapping, disks)
    rows = 1 + max(blk for _d, blk in mapping)
    assert scene.panels[0].xlim == (0, disks) and scene.panels[0].ylim == (0, rows)
    cells = shapes(scene, "rect")
    numbers = [t for t in texts(scene, "data")]
    assert len(cells) == len(numbers) == blocks
    for logical, ((disk, blk), (x, y, cw, ch, fc, *_r), (tx, ty, s, _size, color)) in \
            enumerate(zip(mapping, cells, numbers)):
        # column = disk, row = block on that disk (block 0 at the top)
        assert (x, y, cw, ch) == pytest.approx((disk + 0.05, rows - 1 - blk + 0.05, 0.9, 0.9))
        assert fc == color_for(logical % 8).lower() and s == str(logical)
        assert (tx, ty) == pytest.approx((disk + 0.5, rows - 1 - blk + 0.5))
        light = color_for(logical % 8) in ("#F0E442", "#E69F00", "#56B4E9")
        assert color == ("#000000" if light else "#ffffff")
    # a labelled tick under each disk's column
    ticks = [(x, s) for x, _y, s, _size, _c in texts(scene, "xaxis")]
    assert ticks == [(d + 0.5, f"disk {d}") for d in range(disks)]
    assert scene.texts()[-1] == "logical block → (disk, block)"


def test_stripe_figure_draws_the_same_scene():
    mapping = stripe_map(12, 3, 2)
    fig = stripe_figure(mapping, 3)
    assert_same_picture(stripe_scene(mapping, 3), fig)
    assert sorted(p.get_x() for p in fig.axes[0].patches) == sorted(
        x for x, *_r in shapes(stripe_scene(mapping, 3), "rect"))


def test_stripe_scene_refuses_a_block_beyond_the_disks():
    with pytest.raises(ValueError, match=r"mapping\[1\]"):
        stripe_scene([(0, 0), (2, 0)], 2)
    with pytest.raises(ValueError, match="disks"):
        stripe_scene([(0, 0)], 0)


@settings(max_examples=25, deadline=None)
@given(blocks=st.integers(1, 24), disks=st.integers(1, 6), stripe=st.integers(1, 4))
def test_every_stripe_layout_is_a_well_formed_picture(blocks, disks, stripe):
    scene = stripe_scene(stripe_map(blocks, disks, stripe), disks)
    root = ET.fromstring(scene.svg())
    assert len(list(root.iter(f"{SVG}rect"))) == 1 + blocks      # background + cells
    assert sorted(int(s) for _x, _y, s, *_r in texts(scene, "data")) == list(range(blocks))


# -- the widgets redraw without matplotlib ----------------------------------------------
@pytest.mark.parametrize("name, moves", [("course_map", [{"topic": "03"}, {"topic": "14"}]),
                                         ("storage_lab", [{"disks": 5}, {"blocks": 24},
                                                          {"stripe_blocks": 4}])])
def test_widget_redraws_without_matplotlib(monkeypatch, name, moves):
    def refuse(*_a, **_k):
        raise AssertionError(f"{name} used matplotlib in a redraw")

    monkeypatch.setattr(widgets_base, "to_svg", refuse)
    monkeypatch.setattr(Scene, "figure", refuse)
    app = w.apps()[name]()
    assert isinstance(app.draw(app.result), Scene)
    for move in moves:
        before = bytes(app.image_bytes)
        app.set(**move)
        assert app.error is None and bytes(app.image_bytes) != before
        assert bytes(app.image_bytes) == app.draw(app.result).svg()


def test_storage_lab_picture_follows_the_model():
    app = w.storage_lab(disks=4, stripe_blocks=1, blocks=8)
    scene = app.draw(app.result)
    mapping, disks = app.result
    assert [(round(x - 0.05), s) for (x, *_r), (_tx, _ty, s, *_t)
            in zip(shapes(scene, "rect"), texts(scene, "data"))] == \
        [(disk, str(i)) for i, (disk, _blk) in enumerate(mapping)]
    assert len(texts(scene, "xaxis")) == disks == 4
