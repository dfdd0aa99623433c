"""virtlab.viz.scene: a picture described once, written as SVG directly or drawn by matplotlib.

The SVG writer is checked against matplotlib itself: the same scene drawn by
matplotlib (``Scene.figure``) must put every text's baseline, every box's
corners and every line's points where ``Scene.svg`` puts them, so the widget
picture and the static page agree.  matplotlib's numbers are its own
(``get_window_extent``, its SVG output), not the writer's.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import LineCollection
from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle
from matplotlib.text import Text

from virtlab.viz.base import new_figure, to_svg
from virtlab.viz.scene import Scene
from svg_text import mpl_baselines

SVG = "{http://www.w3.org/2000/svg}"
DPI = 100          # Scene.figure's dpi: matplotlib's display units are pixels at this dpi


def demo() -> Scene:
    s = Scene(4, 2.5)
    ax = s.panel(xlim=(0, 4), ylim=(0, 2), box=(0.15, 0.2, 0.95, 0.8), title="a <title>")
    ax.rect(0.1, 0.1, 0.8, 0.8, fc="#0072B2", ec="black")
    ax.rect(1.1, 0.1, 0.8, 0.8, fc="white", ec="tab:orange", rounded=True)
    ax.polygon([2, 3, 2.5], [0.1, 0.1, 0.9], fc="#009E73", alpha=0.5)
    ax.line([0, 1, 2, 4], [0, 1.2, 0.4, 2], color="#CC79A7", lw=1.5, dash="dashed")
    for va, x in zip(("top", "center", "bottom", "baseline"), (0.5, 1.5, 2.5, 3.5)):
        ax.text(x, 1.5, f"{va} gy", va=va)
    ax.text(0.5, 0.5, "two\nlines", size=6.5, ha="left", weight="bold")
    ax.text(3.0, 0.5, "R&D <ok>", ha="right", color="#777777")
    ax.text(3.9, 0.2, "MOV EAX, 1", family="monospace", size=7, ha="right")
    ax.frame(xticks=[(0, "0"), (2, "2"), (4, "4")], yticks=[(0, "0"), (1, "1.0")],
             xlabel="time (ms)", ylabel="share", grid="y")
    ax.legend([("guest", "#0072B2"), ("host", "#E69F00", "line")])
    right = s.panel(xlim=(0, 1), ylim=(0, 1), box=(0.96, 0.2, 0.99, 0.8))
    right.text(0.5, 0.5, "side", rotation=90, ha="left", va="bottom", size=7)
    return s


def svg_texts(svg: bytes) -> list[tuple[str, float, float]]:
    """(line, x, y) of every tspan, rotated texts in their own (rotated) frame."""
    root = ET.fromstring(svg)
    return [(t.text or "", float(t.get("x")), float(t.get("y")))
            for t in root.iter(f"{SVG}tspan")]


def test_data_coordinates_map_into_the_box_in_points():
    # 3 x 2 inches = 216 x 144 pt; the box's corners are where the limits go
    p = Scene(3, 2).panel(xlim=(-1, 1), ylim=(10, 20), box=(0.25, 0.5, 0.75, 1.0))
    assert p.to_points(-1, 10) == pytest.approx((54.0, 72.0))
    assert p.to_points(1, 20) == pytest.approx((162.0, 0.0))
    assert p.to_points(0, 15) == pytest.approx((108.0, 36.0))
    # axes fractions, blended coordinates and point offsets (y up, like matplotlib)
    assert p.to_points(0.5, 0.5, "axes") == pytest.approx((108.0, 36.0))
    assert p.to_points(1, 0, "xaxis") == pytest.approx((162.0, 72.0))
    assert p.to_points(0, 20, "yaxis", (-3, 2)) == pytest.approx((51.0, -2.0))


def test_svg_is_well_formed_and_holds_every_shape_and_text():
    root = ET.fromstring(demo().svg())
    assert root.get("width") == "288pt" and root.get("viewBox") == "0 0 288 180"
    rects = list(root.iter(f"{SVG}rect"))
    # background, two boxes, legend frame and swatch
    assert len(rects) == 5 and sum(bool(r.get("rx")) for r in rects) == 1
    assert len(list(root.iter(f"{SVG}polygon"))) == 1
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert texts[:6] == ["top gy", "center gy", "bottom gy", "baseline gy", "twolines",
                         "R&D <ok>"]
    assert {"0", "2", "4", "1.0", "time (ms)", "share", "guest", "host", "side",
            "a <title>"} <= set(texts)
    (mono,) = [t for t in root.iter(f"{SVG}text") if "".join(t.itertext()) == "MOV EAX, 1"]
    assert "Mono" in mono.get("font-family")
    # Scene.texts: the same texts, a multi-line one with its line break
    assert set(demo().texts()) == (set(texts) - {"twolines"}) | {"two\nlines"}


def test_shapes_are_drawn_in_matplotlibs_order():
    # grid lines first, then filled shapes, then lines, then texts (default z-orders)
    body = demo().svg().decode()
    grid = body.index('stroke="#b0b0b0"')
    box = body.index('fill="#0072b2"')
    curve = body.index('stroke="#cc79a7"')
    first_text = body.index("<text")
    assert grid < box < curve < first_text
    # a legend lies above everything else (zorder 5-6), in both renderers
    frame = body.index('stroke="#cccccc"')
    assert frame > body.rindex("<text", 0, body.index(">time (ms)<"))
    assert body.index(">guest<") > frame
    legend_frames = [p for p in demo().figure().axes[0].patches if p.get_edgecolor()[:3] ==
                     pytest.approx((0.8, 0.8, 0.8))]
    assert [p.get_zorder() for p in legend_frames] == [5]


def test_the_same_scene_gives_the_same_bytes():
    assert demo().svg() == demo().svg()


def test_text_baselines_are_where_matplotlib_puts_them():
    s = demo()
    theirs = mpl_baselines(s.figure())
    for text, x, y in svg_texts(s.svg()):
        if text == "side" or text == "share":     # rotated: compared below
            continue
        assert any(abs(y - want) < 0.05 for want in theirs[text]), (text, y, theirs[text])


def test_rotated_texts_sit_where_matplotlib_puts_them():
    s = demo()
    fig = s.figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    root = ET.fromstring(s.svg())
    rotated = fig.findobj(lambda a: isinstance(a, Text) and a.get_rotation() == 90
                          and a.get_text())
    assert sorted(t.get_text() for t in rotated) == ["share", "side"]
    for t in rotated:
        box = t.get_window_extent(renderer)            # pixels, y up
        (el,) = [e for e in root.iter(f"{SVG}text") if "".join(e.itertext()) == t.get_text()]
        span = el.find(f"{SVG}tspan")
        # rotate(-90 about (x, y)): the baseline is the vertical line x' = x + (y - y_b)
        cx = float(re.search(r"rotate\(-90 ([-\d.]+) ([-\d.]+)\)", el.get("transform"))[1])
        cy = float(re.search(r"rotate\(-90 ([-\d.]+) ([-\d.]+)\)", el.get("transform"))[2])
        baseline_x = cx + (float(span.get("y")) - cy)
        # matplotlib's box: from the descent (right edge) to the ascent (left)
        left, right = box.x0 * 72 / DPI, box.x1 * 72 / DPI
        assert left < baseline_x < right, (t.get_text(), baseline_x, left, right)
        assert right - baseline_x < 0.35 * t.get_fontsize()   # the descent side
        # along the text: anchored where matplotlib's box starts or ends
        anchor = el.get("text-anchor")
        y_pt = (fig.get_figheight() * DPI - box.y0) * 72 / DPI   # bottom edge, SVG y
        if anchor == "start":
            assert cy == pytest.approx(y_pt, abs=0.5)


def extents(fig):
    """matplotlib's boxes of the patches, in SVG points (x0, y0, x1, y1)."""
    fig.canvas.draw()
    h = fig.get_figheight() * 72
    out = []
    for p in fig.findobj(lambda a: isinstance(a, (Rectangle, FancyBboxPatch, Polygon))):
        if p is fig.patch or p in [ax.patch for ax in fig.axes]:
            continue
        e = p.get_window_extent()
        out.append((round(e.x0 * 72 / DPI, 1), round(h - e.y1 * 72 / DPI, 1),
                    round(e.x1 * 72 / DPI, 1), round(h - e.y0 * 72 / DPI, 1)))
    return out


def test_boxes_have_matplotlibs_corners():
    s = demo()
    root = ET.fromstring(s.svg())
    ours = []
    for r in list(root.iter(f"{SVG}rect"))[1:]:
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        ours.append((x, y, x + w, y + h))
    for poly in root.iter(f"{SVG}polygon"):
        pts = [tuple(map(float, p.split(","))) for p in poly.get("points").split()]
        xs, ys = zip(*pts)
        ours.append((min(xs), min(ys), max(xs), max(ys)))
    theirs = extents(s.figure())
    assert len(ours) == len(theirs)
    for box in ours:
        # matplotlib's extent includes half the edge line; allow a point
        assert any(all(abs(a - b) <= 1.0 for a, b in zip(box, t)) for t in theirs), box


def test_lines_and_ticks_have_matplotlibs_points():
    s = demo()
    fig = s.figure()
    fig.canvas.draw()
    h = fig.get_figheight() * 72
    theirs = []
    for c in fig.findobj(LineCollection):
        for path in c.get_paths():
            pts = c.get_transform().transform(path.vertices)
            theirs.append([(x * 72 / DPI, h - y * 72 / DPI) for x, y in pts])
    ours = [[tuple(map(float, p.split(","))) for p in pl.get("points").split()]
            for pl in ET.fromstring(s.svg()).iter(f"{SVG}polyline")]
    assert len(ours) == len(theirs)
    for line in ours:
        assert any(len(line) == len(t) and all(math.dist(a, b) < 0.5 for a, b in zip(line, t))
                   for t in theirs), line


def test_vertical_alignment_moves_the_baseline_by_the_texts_height():
    s = Scene(2, 2)
    ax = s.panel(xlim=(0, 1), ylim=(0, 1))
    for va in ("top", "center", "bottom", "baseline"):
        ax.text(0.5, 0.5, "Hg", size=10, va=va)
    y = {va: yy for va, (_t, _x, yy) in zip(("top", "center", "bottom", "baseline"),
                                            svg_texts(s.svg()))}
    assert y["baseline"] == pytest.approx(72.0)         # the point itself
    assert y["top"] > y["center"] > y["bottom"]           # SVG y grows downwards
    assert y["center"] == pytest.approx((y["top"] + y["bottom"]) / 2, abs=0.01)
    assert 9 < y["top"] - y["bottom"] < 13                # a 10 pt text: ascent + descent


def test_figure_draws_the_same_scene_with_matplotlib():
    fig = demo().figure()
    ax, side = fig.axes
    assert not ax.axison and ax.get_xlim() == (0, 4) and ax.get_ylim() == (0, 2)
    assert ax.get_title() == "a <title>"
    texts = [t.get_text() for t in ax.texts]
    assert texts[:6] == ["top gy", "center gy", "bottom gy", "baseline gy", "two\nlines",
                         "R&D <ok>"]
    assert [t.get_va() for t in ax.texts][:4] == ["top", "center", "bottom", "baseline"]
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 1
    assert [t.get_rotation() for t in side.texts] == [90.0]
    (mono,) = [t for t in ax.texts if t.get_text() == "MOV EAX, 1"]
    assert mono.get_fontfamily() == ["monospace"]


@pytest.mark.parametrize("rad, shrink", [(0.0, 2.0), (0.3, 2.0), (0.0, 0.0), (0.3, 0.0)])
def test_arrows_have_matplotlibs_line_and_head(rad, shrink):
    # FancyArrowPatch's own path: both ends shortened by ``shrink`` points (its
    # default 2), the tip pulled back by half the line width over the head's
    # half-angle, a 3.6 x 3.6 pt head
    s = Scene(2, 2)
    s.panel(xlim=(0, 2), ylim=(0, 2)).arrow(0, 1, 2, 1.5, color="#0072B2", lw=3, rad=rad,
                                            shrink=shrink)
    fig = s.figure()
    fig.canvas.draw()
    (arrow,) = fig.axes[0].patches
    pts = arrow.get_transform().transform(arrow.get_path().vertices) * 72 / DPI
    h = fig.get_figheight() * 72
    start, tip, left, right = ((x, h - y) for x, y in (pts[0], pts[-5], pts[-4], pts[-2]))
    root = ET.fromstring(s.svg())
    d = next(root.iter(f"{SVG}path")).get("d")
    numbers = [float(v) for v in re.findall(r"[-\d.]+", d)]
    head = [tuple(map(float, p.split(","))) for p in
            next(root.iter(f"{SVG}polygon")).get("points").split()]
    assert math.dist(numbers[:2], start) < 0.05
    assert math.dist(numbers[-2:], tip) < 0.05 and math.dist(head[0], tip) < 0.05
    assert all(min(math.dist(p, q) for q in (left, right)) < 0.1 for p in head[1:])
    assert (" Q" in d) == bool(rad)


@pytest.mark.parametrize("call, name", [
    (lambda p: p.rect(math.nan, 0, 1, 1), "x"),
    (lambda p: p.rect(0, 0, -1, 1), "w"),
    (lambda p: p.rect(0, 0, 1, 1, fc="no-such-colour"), "fc"),
    (lambda p: p.rect(0, 0, 1, 1, rounded=1), "rounded"),
    (lambda p: p.rect(0, 0, 1, 1, coords="figure"), "coords"),
    (lambda p: p.text(0, 0, "x", ha="middle"), "ha"),
    (lambda p: p.text(0, 0, "x", va="centre"), "va"),
    (lambda p: p.text(0, 0, "x", weight="heavy"), "weight"),
    (lambda p: p.text(0, 0, "x", rotation=45), "rotation"),
    (lambda p: p.text(0, 0, "x", family="serif"), "family"),
    (lambda p: p.text(0, 0, 5), "s"),
    (lambda p: p.text(0, math.inf, "x"), "y"),
    (lambda p: p.line([0, 1], [0]), "line"),
    (lambda p: p.line([0, 1], [0, 1], dash="dashdot"), "dash"),
    (lambda p: p.polygon([0, 1], [0, "a"]), "polygon"),
    (lambda p: p.dots([0], [0], size=0), "size"),
    (lambda p: p.arrow(0, 0, 1, 1, rad=9), "rad"),
    (lambda p: p.frame(xticks=[(0, 1)]), "xticks"),
    (lambda p: p.frame(spines=("middle",)), "spines"),
    (lambda p: p.legend([("a", "nocolour")]), "colour"),
    (lambda p: p.legend([("a", "red", "bar")]), "entries"),
])
def test_bad_shapes_are_refused_by_name_and_leave_the_scene_unchanged(call, name):
    s = demo()
    before = list(s.items)
    with pytest.raises((ValueError, TypeError), match=name):
        call(s.panels[0])
    assert s.items == before


@pytest.mark.parametrize("kwargs, name", [
    ({"xlim": (1, 1)}, "xlim"), ({"ylim": (0,)}, "ylim"),
    ({"box": (0.5, 0, 0.4, 1)}, "box"), ({"title": 3}, "title"),
])
def test_bad_panels_are_refused_by_name(kwargs, name):
    args = {"xlim": (0, 1), "ylim": (0, 1), **kwargs}
    with pytest.raises((ValueError, TypeError), match=name):
        Scene(2, 1).panel(**args)


def test_bad_scene_sizes_are_refused_by_name():
    with pytest.raises(ValueError, match="width"):
        Scene(0.1, 1)
    with pytest.raises(ValueError, match="height"):
        Scene(1, 1e6)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(x0=finite, span=st.floats(1e-3, 1e6), fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_a_point_inside_the_limits_lands_inside_the_panel(x0, span, fx, fy):
    p = Scene(3, 2).panel(xlim=(x0, x0 + span), ylim=(x0, x0 + span), box=(0.1, 0.2, 0.9, 0.8))
    px, py = p.to_points(x0 + fx * span, x0 + fy * span)
    assert 0.1 * 216 - 1e-6 <= px <= 0.9 * 216 + 1e-6
    assert 0.2 * 144 - 1e-6 <= py <= 0.8 * 144 + 1e-6


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"),
                                  max_codepoint=0x24FF), max_size=30))
def test_any_printable_text_round_trips_through_the_svg(text):
    s = Scene(2, 1)
    s.panel(xlim=(0, 1), ylim=(0, 1)).text(0.5, 0.5, text)
    (t,) = ET.fromstring(s.svg()).iter(f"{SVG}text")
    assert "".join(t.itertext()) == text


def test_frame_draws_what_a_matplotlib_axis_draws():
    # the reference: a real Axes with the same ticks and labels (its own layout)
    box = (0.2, 0.25, 0.95, 0.85)
    xt, yt = [(0, "0"), (5, "5"), (10, "10")], [(0, "0"), (50, "50"), (100, "100")]
    s = Scene(4, 3)
    s.panel(xlim=(0, 10), ylim=(0, 100), box=box).frame(
        xticks=xt, yticks=yt, xlabel="time (ms)", ylabel="share (%)", size=8)
    fig = new_figure(4, 3, margins={})
    ax = fig.add_axes((box[0], box[1], box[2] - box[0], box[3] - box[1]))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 100)
    ax.set_xticks([v for v, _ in xt], [label for _, label in xt])
    ax.set_yticks([v for v, _ in yt], [label for _, label in yt])
    ax.tick_params(labelsize=8)
    ax.set_xlabel("time (ms)", fontsize=8)
    ax.set_ylabel("share (%)", fontsize=8)
    theirs = {}
    for m in re.finditer(r'<text [^>]*?x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>',
                         to_svg(fig).decode()):
        theirs.setdefault(m[3], []).append((float(m[1]), float(m[2])))
    root = ET.fromstring(s.svg())
    for el in root.iter(f"{SVG}text"):
        text, span = "".join(el.itertext()), el.find(f"{SVG}tspan")
        x, y = float(span.get("x")), float(span.get("y"))
        if el.get("transform"):
            # rotate(-90 about (cx, cy)): matplotlib writes the rotated baseline's centre
            cx, cy = map(float, re.search(r"rotate\(-90 ([-\d.]+) ([-\d.]+)\)",
                                          el.get("transform")).groups())
            assert el.get("text-anchor") == "middle"
            x, y = cx + (y - cy), cy
        assert any(math.dist((x, y), p) < 0.05 for p in theirs[text]), (text, x, y, theirs[text])


def test_multi_line_titles_and_baseline_texts_stand_on_their_last_line():
    # matplotlib aligns va="baseline" (titles too) by the last line's baseline
    s = Scene(3, 2)
    p = s.panel(xlim=(0, 1), ylim=(0, 1), box=(0.1, 0.1, 0.9, 0.7), title="first\nsecond")
    p.text(0.5, 0.5, "upper\nlower", va="baseline")
    p.text(0.2, 0.2, "a\nb", va="center_baseline", ha="left")
    theirs = mpl_baselines(s.figure())
    for text, _x, y in svg_texts(s.svg()):
        assert any(abs(y - want) < 0.05 for want in theirs[text]), (text, y, theirs[text])


def test_dots_are_as_large_in_both_renderers():
    s = Scene(2, 2)
    s.panel(xlim=(0, 1), ylim=(0, 1)).dots([0.5], [0.5], size=10, color="#D55E00")
    (circle,) = ET.fromstring(s.svg()).iter(f"{SVG}circle")
    assert float(circle.get("r")) * 2 == pytest.approx(10)
    fig = s.figure()
    fig.canvas.draw()
    (marker,) = fig.axes[0].lines
    box = marker.get_window_extent(fig.canvas.get_renderer())
    assert box.width * 72 / DPI == pytest.approx(10, abs=0.1)


def test_hatch_lines_lie_on_matplotlibs_hatch_grid_inside_the_box():
    # matplotlib's "//" pattern, read from its SVG: lines where x + y (points, y down)
    # is a multiple of its spacing
    fig = new_figure(2, 2, margins={})
    fig.add_subplot().barh(0, 0.5, hatch="//", edgecolor="white")
    pattern = re.search(r"<pattern[^>]*>(.*?)</pattern>", to_svg(fig).decode(), re.S)[1]
    starts = sorted(float(x) + float(y) for x, y in re.findall(r"M ([-\d.]+) ([-\d.]+)", pattern))
    (spacing,) = {round(b - a, 6) for a, b in zip(starts, starts[1:])}
    s = Scene(3, 2)
    p = s.panel(xlim=(0, 10), ylim=(0, 5), box=(0.1, 0.1, 0.9, 0.9))
    p.hatch(2, 1, 5, 2, spacing=spacing, color="#0072B2")
    (path,) = ET.fromstring(s.svg()).iter(f"{SVG}path")
    lines = re.findall(r"M([-\d.]+),([-\d.]+) L([-\d.]+),([-\d.]+)", path.get("d"))
    (left, top), (right, bottom) = p.to_points(2, 3), p.to_points(7, 1)
    # one line per multiple of the spacing that crosses the box, each inside it
    assert abs(len(lines) - (right - left + bottom - top) / spacing) <= 1
    for x0, y0, x1, y1 in (map(float, line) for line in lines):
        assert x0 + y0 == pytest.approx(x1 + y1, abs=0.02)
        assert (x0 + y0) / spacing == pytest.approx(round((x0 + y0) / spacing), abs=0.01)
        assert all(left - 0.01 <= x <= right + 0.01 for x in (x0, x1))
        assert all(top - 0.01 <= y <= bottom + 0.01 for y in (y0, y1))
    # matplotlib draws the same lines
    (lc,) = [c for c in s.figure().axes[0].collections]
    assert len(lc.get_segments()) == len(lines)
    with pytest.raises(ValueError, match="spacing"):
        p.hatch(0, 0, 1, 1, spacing=0)


def test_grid_lines_take_the_frames_alpha_in_both_renderers():
    s = Scene(2, 2)
    p = s.panel(xlim=(0, 1), ylim=(0, 1))
    p.frame(yticks=[(0.5, "0.5")], grid="y", grid_alpha=0.3)
    grid = [pl for pl in ET.fromstring(s.svg()).iter(f"{SVG}polyline")
            if pl.get("stroke") == "#b0b0b0"]
    assert [g.get("opacity") for g in grid] == ["0.3"]
    (line,) = [c for c in s.figure().axes[0].collections if c.get_zorder() == 0.5]
    assert line.get_alpha() == 0.3
    with pytest.raises(ValueError, match="grid_alpha"):
        p.frame(grid="x", grid_alpha=2)
