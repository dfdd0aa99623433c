"""virtlab.viz.scene: a diagram described once, written as SVG directly or drawn by matplotlib.

The SVG writer is checked against matplotlib itself: the same scene drawn by
matplotlib (``Scene.figure``) and written by matplotlib's SVG backend must put
every text's baseline where ``Scene.svg`` puts it, so the widget picture and
the static page agree.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import PatchCollection
from matplotlib.patches import FancyBboxPatch

from virtlab.viz.base import to_svg
from virtlab.viz.scene import Scene

SVG = "{http://www.w3.org/2000/svg}"


def demo() -> Scene:
    s = Scene(4, 2, xlim=(0, 4), ylim=(0, 2), box=(0.1, 0.1, 0.9, 0.8), title="a <title>")
    s.rect(0.1, 0.1, 0.8, 0.8, fc="#0072B2", ec="black")
    s.rect(1.1, 0.1, 0.8, 0.8, fc="white", ec="tab:orange", rounded=True)
    for va, x in zip(("top", "center", "bottom", "baseline"), (0.5, 1.5, 2.5, 3.5)):
        s.text(x, 1.5, f"{va} gy", va=va)
    s.text(0.5, 0.5, "two\nlines", size=6.5, ha="left", weight="bold")
    s.text(3.0, 0.5, "R&D <ok>", ha="right", color="#777777")
    return s


def tspans(svg: bytes) -> list[tuple[str, float, float]]:
    root = ET.fromstring(svg)
    return [(t.text or "", float(t.get("x")), float(t.get("y")))
            for t in root.iter(f"{SVG}tspan")]


def test_data_coordinates_map_into_the_box_in_points():
    # 3 x 2 inches = 216 x 144 pt; the box's corners are where the limits go
    s = Scene(3, 2, xlim=(-1, 1), ylim=(10, 20), box=(0.25, 0.5, 0.75, 1.0))
    assert s.point(-1, 10) == pytest.approx((54.0, 72.0))
    assert s.point(1, 20) == pytest.approx((162.0, 0.0))
    assert s.point(0, 15) == pytest.approx((108.0, 36.0))


def test_svg_is_well_formed_and_holds_every_shape_and_text():
    s = demo()
    root = ET.fromstring(s.svg())
    assert root.get("width") == "288pt" and root.get("viewBox") == "0 0 288 144"
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 1 + 2                       # background + two boxes
    assert rects[2].get("rx") and not rects[1].get("rx")
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert texts == ["top gy", "center gy", "bottom gy", "baseline gy", "twolines",
                     "R&D <ok>", "a <title>"]
    anchors = [t.get("text-anchor") for t in root.iter(f"{SVG}text")]
    assert anchors[4:6] == ["start", "end"]


def test_the_same_scene_gives_the_same_bytes():
    assert demo().svg() == demo().svg()


def test_text_baselines_are_where_matplotlib_puts_them():
    # the reference is matplotlib's own layout of the same scene (its SVG writes
    # each line's baseline as the text's y)
    s = demo()
    ours = [(t, round(y, 1)) for t, _x, y in tspans(s.svg())]
    mpl = to_svg(s.figure()).decode()
    theirs = {}
    # one-line texts carry y="..."; lines of a multi-line text a translate(x y)
    for m in re.finditer(r'<text [^>]*?(?:\by="([\d.]+)"|translate\([\d.]+ ([\d.]+)\))'
                         r'[^>]*>([^<]*)</text>', mpl):
        theirs.setdefault(m.group(3).replace("&amp;", "&").replace("&lt;", "<")
                          .replace("&gt;", ">"), []).append(float(m.group(1) or m.group(2)))
    for text, y in ours:
        assert any(abs(y - want) < 0.5 for want in theirs[text]), (text, y, theirs[text])


def test_vertical_alignment_moves_the_baseline_by_the_texts_height():
    s = Scene(2, 2, xlim=(0, 1), ylim=(0, 1))
    for va in ("top", "center", "bottom", "baseline"):
        s.text(0.5, 0.5, "Hg", size=10, va=va)
    y = {va: yy for va, (_t, _x, yy) in zip(("top", "center", "bottom", "baseline"),
                                            tspans(s.svg()))}
    assert y["baseline"] == pytest.approx(72.0)         # the point itself
    assert y["top"] > y["center"] > y["bottom"]           # SVG y grows downwards
    assert y["center"] == pytest.approx((y["top"] + y["bottom"]) / 2, abs=0.01)
    # a 10 pt text is about 10 pt tall: ascent + descent between top and bottom
    assert 9 < y["top"] - y["bottom"] < 13


def test_figure_draws_the_same_scene_with_matplotlib():
    s = demo()
    fig = s.figure()
    (ax,) = fig.axes
    assert not ax.axison and ax.get_xlim() == (0, 4) and ax.get_ylim() == (0, 2)
    assert ax.get_title() == "a <title>"
    assert [t.get_text() for t in ax.texts] == ["top gy", "center gy", "bottom gy",
                                                "baseline gy", "two\nlines", "R&D <ok>"]
    assert [t.get_va() for t in ax.texts][:4] == ["top", "center", "bottom", "baseline"]
    (cells,) = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(cells.get_paths()) == 1
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 1


@pytest.mark.parametrize("call, name", [
    (lambda s: s.rect(math.nan, 0, 1, 1), "x"),
    (lambda s: s.rect(0, 0, -1, 1), "w"),
    (lambda s: s.rect(0, 0, 1, 1, fc="no-such-colour"), "fc"),
    (lambda s: s.rect(0, 0, 1, 1, rounded=1), "rounded"),
    (lambda s: s.text(0, 0, "x", ha="middle"), "ha"),
    (lambda s: s.text(0, 0, "x", va="centre"), "va"),
    (lambda s: s.text(0, 0, "x", weight="heavy"), "weight"),
    (lambda s: s.text(0, 0, 5), "s"),
    (lambda s: s.text(0, math.inf, "x"), "y"),
])
def test_bad_shapes_are_refused_by_name_and_leave_the_scene_unchanged(call, name):
    s = demo()
    before = list(s.items)
    with pytest.raises((ValueError, TypeError), match=name):
        call(s)
    assert s.items == before


@pytest.mark.parametrize("kwargs, name", [
    ({"xlim": (1, 1)}, "xlim"), ({"ylim": (0,)}, "ylim"), ({"width": 0.1}, "width"),
    ({"box": (0.5, 0, 0.4, 1)}, "box"), ({"title": 3}, "title"),
])
def test_bad_scenes_are_refused_by_name(kwargs, name):
    args = {"width": 2, "height": 1, "xlim": (0, 1), "ylim": (0, 1), **kwargs}
    with pytest.raises((ValueError, TypeError), match=name):
        Scene(**args)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(x0=finite, span=st.floats(1e-3, 1e6), fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_a_point_inside_the_limits_lands_inside_the_picture(x0, span, fx, fy):
    s = Scene(3, 2, xlim=(x0, x0 + span), ylim=(x0, x0 + span), box=(0.1, 0.2, 0.9, 0.8))
    px, py = s.point(x0 + fx * span, x0 + fy * span)
    assert 0.1 * 216 - 1e-6 <= px <= 0.9 * 216 + 1e-6
    assert 0.2 * 144 - 1e-6 <= py <= 0.8 * 144 + 1e-6


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"), max_codepoint=0x24FF), max_size=30))
def test_any_printable_text_round_trips_through_the_svg(text):
    s = Scene(2, 1, xlim=(0, 1), ylim=(0, 1))
    s.text(0.5, 0.5, text)
    root = ET.fromstring(s.svg())
    (t,) = root.iter(f"{SVG}text")
    assert "".join(t.itertext()) == text.replace("\n", "")
