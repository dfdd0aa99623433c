"""The memory-virtualization plots as scenes: tlb_curve, shadow_vs_nested, cost_crossover.

The widgets ``tlb_lab``, ``shadow_vs_nested`` and ``memory_costs`` show a
:class:`~virtlab.viz.scene.Scene` written as SVG without matplotlib (issue
21); the static figures are the same scene drawn by matplotlib.  What a scene
must hold is computed here from the model's result, and where the picture
follows matplotlib's rules (autoscaled limits, tick positions and labels,
``loc="best"``) from matplotlib itself, drawing the same data on a real Axes.
"""

from __future__ import annotations

import html
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axis import Tick
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

import virtlab.widgets as w
from virtlab.mmu import costs
from virtlab.mmu.scenario import side_by_side, tlb_experiment
from virtlab.viz import mmu as viz_mmu
from virtlab.viz.base import PALETTE, new_figure, nice_ticks, to_svg
from virtlab.viz.scene import Scene

APPS = ["tlb_lab", "shadow_vs_nested", "memory_costs"]
TECHS = ("native", "shadow", "nested")


def items(scene: Scene, kind: str, panel=None) -> list[tuple]:
    """The scene's shapes of ``kind`` (optionally of one panel): (coords, offset, *args)."""
    return [(place[0], place[1], *args) for k, p, place, _z, *args in scene.items
            if k == kind and (panel is None or p is panel)]


def tick_labels(scene: Scene, axis: str, panel=None) -> list[tuple[float, str]]:
    """(position, label) of the texts placed on the x or y axis (tick labels)."""
    coords = "xaxis" if axis == "x" else "yaxis"
    return [(a[2] if axis == "x" else a[3], a[4]) for a in items(scene, "text", panel)
            if a[0] == coords]


def texts(scene: Scene) -> list[str]:
    return [a[4] for a in items(scene, "text")]


def legend_frame(scene: Scene):
    """The legend frame: the white box drawn above everything (axes fractions)."""
    (frame,) = [(args[0], args[1], args[2], args[3]) for k, _p, place, z, *args in scene.items
                if k == "rect" and z == 5]
    return frame


def where(cx: float, cy: float) -> tuple[str, str]:
    """A box centre (axes fractions) as (left/center/right, lower/center/upper)."""
    return (("left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "center"),
            ("lower" if cy < 1 / 3 else "upper" if cy > 2 / 3 else "center"))


# -- the widgets redraw without matplotlib ----------------------------------------

@pytest.mark.parametrize("name", APPS)
def test_widget_and_static_figure_show_the_same_texts(name):
    app = w.apps()[name]()
    scene = app.draw(app.result)
    fig = scene.figure()
    shown = sorted(t.get_text() for ax in fig.axes for t in ax.texts)
    assert shown == sorted(texts(scene))
    assert sorted(ax.get_title() for ax in fig.axes if ax.get_title()) == \
        sorted(p.title for p in scene.panels if p.title)
    body = scene.svg().decode()
    assert all(t.replace("&", "&amp;").replace("<", "&lt;") in body for t in texts(scene))


# -- tlb_curve ---------------------------------------------------------------------

def reference_log2_xlim(runs) -> tuple[float, float]:
    """matplotlib's x limits (log2) for the runs on a base-2 log axis."""
    fig = new_figure(5.6, 3.0, margins={"left": 0.11, "right": 0.98, "bottom": 0.15,
                                        "top": 0.97})
    ax = fig.add_subplot()
    if runs:
        ax.plot([r.entries for r in runs], [100 * r.hit_rate for r in runs], "o")
    ax.set_xscale("log", base=2)
    lo, hi = ax.get_xlim()
    return math.log2(lo), math.log2(hi)


@pytest.mark.parametrize("kw", [{}, {"entries": 128, "tagged": True, "switch_every": 0},
                                {"entries": 1, "pages": 3}])
def test_tlb_curve_holds_a_dot_per_run_and_the_current_star(kw):
    app = w.tlb_lab(**kw)
    r = app.result
    scene = app.draw(r)
    ax = scene.panels[0]
    dots = items(scene, "dots")
    assert len(dots) == 2
    for (_c, _o, xs, ys, color, _size), runs, want in zip(dots, (r["untagged"], r["tagged"]),
                                                           (PALETTE[5], PALETTE[0])):
        assert xs == pytest.approx([math.log2(run.entries) for run in runs])
        assert ys == pytest.approx([100 * run.hit_rate for run in runs])
        assert color == want.lower()
    curves = [a for a in items(scene, "line") if a[0] == "data"]
    assert [a[3] for a in curves] == [a[3] for a in dots]          # a line through the dots
    # the star: a black polygon centred on the current run
    stars = [a for a in items(scene, "polygon") if a[0] == "data"]
    assert len(stars) == 1
    xs, ys = stars[0][2], stars[0][3]
    cur = r["current"]
    assert sum(xs) / len(xs) == pytest.approx(math.log2(cur.entries), abs=1e-9)
    assert sum(ys) / len(ys) == pytest.approx(100 * cur.hit_rate, abs=1e-9)
    assert stars[0][4] == "#000000"
    # matplotlib's limits for the same data on a base-2 log axis; y as before
    runs = list(r["untagged"]) + list(r["tagged"]) + [cur]
    assert ax.xlim == pytest.approx(reference_log2_xlim(runs), abs=1e-9)
    assert ax.ylim == (0, 102)
    # ticks at the TLB sizes, labelled with the sizes; hit rate every 25 %
    assert tick_labels(scene, "x") == [(pytest.approx(math.log2(s)), str(s))
                                       for s in app.SIZES]
    assert tick_labels(scene, "y") == [(v, f"{v:g}") for v in (0, 25, 50, 75, 100)]
    assert {"TLB entries", "hit rate (%)"} <= set(texts(scene))


def test_tlb_curve_legend_sits_lower_right_with_an_entry_per_curve():
    app = w.tlb_lab()
    scene = app.draw(app.result)
    x, y, fw, fh = legend_frame(scene)
    assert where(x + fw / 2, y + fh / 2) == ("right", "lower")
    assert 0.95 < x + fw <= 1 and 0 <= y < 0.05
    labels = texts(scene)[-3:]
    assert labels == ["untagged: flush on switch", "tagged (ASID/VPID)", "current"]


@pytest.mark.parametrize("args", [
    ([], []),
    ([], [tlb_experiment(16, 32, accesses=200, tagged=True)]),
    ([tlb_experiment(6, 32, accesses=200)], [], tlb_experiment(6, 32, accesses=200)),
])
def test_tlb_curve_limits_for_few_or_no_runs_are_matplotlibs(args):
    runs = list(args[0]) + list(args[1]) + list(args[2:])
    scene = viz_mmu.tlb_curve_scene(*args)
    assert scene.panels[0].xlim == pytest.approx(reference_log2_xlim(runs), abs=1e-9)
    if not runs:        # no entries: no legend (matplotlib drew an empty frame), 2^k ticks
        assert not [a for a in items(scene, "rect")]
        assert [s for _p, s in tick_labels(scene, "x")] == ["2⁰", "2¹", "2²", "2³"]


def test_tlb_curve_figure_draws_no_matplotlib_ticks():
    # the static page: the scene drawn by matplotlib, its tick labels plain texts
    app = w.tlb_lab()
    r = app.result
    fig = viz_mmu.tlb_curve(r["untagged"], r["tagged"], r["current"])
    to_svg(fig)
    assert not [t for t in fig.findobj(Tick) if t.get_visible() and t.label1.get_text()
                and t.axes.axison]
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert all(str(s) in shown for s in app.SIZES)


# -- shadow_vs_nested ---------------------------------------------------------------

EXITS = ("hidden_faults", "pt_write_traps", "cr3_traps", "invlpg_traps")


@pytest.mark.parametrize("kw", [{}, {"update_every": 0, "switch_every": 0},
                                {"update_every": 5, "switch_every": 10, "tlb_entries": 4}])
def test_shadow_vs_nested_bars_are_the_models_counts(kw):
    app = w.shadow_vs_nested(**kw)
    run = app.result
    scene = app.draw(run)
    refs_panel, exits_panel = scene.panels
    assert (refs_panel.title, exits_panel.title) == ("page-table references", "VM exits (traps)")
    # one bar per technique, as tall as its page-table references, in its colour
    refs = items(scene, "rect", refs_panel)
    assert [(a[2] + 0.4, a[5], a[6]) for a in refs] == [
        (pytest.approx(i), run.stats[t].pt_refs, viz_mmu.TECH_COLORS[t].lower())
        for i, t in enumerate(TECHS)]
    # the exits stacked: per technique the segments touch and add up to every exit
    stacks = {}
    for a in items(scene, "rect", exits_panel):
        stacks.setdefault(round(a[2] + 0.4), []).append((a[3], a[5]))
    for i, t in enumerate(TECHS):
        want = [getattr(run.stats[t], k) for k in EXITS]
        segs = stacks.get(i, [])
        assert [h for _b, h in segs] == [v for v in want if v]
        assert [b for b, _h in segs] == [sum(want[:k]) for k, v in enumerate(want) if v]
    # headroom for the key; y ticks at nice positions
    top = max([sum(getattr(run.stats[t], k) for k in EXITS) for t in TECHS]) or 1
    assert exits_panel.ylim == pytest.approx((0, top * 1.4))
    locs, labels = nice_ticks(0, top * 1.4, n=4)
    assert tick_labels(scene, "y", exits_panel) == list(zip(locs, labels))
    assert [s for _p, s in tick_labels(scene, "x", refs_panel)] == list(TECHS)
    assert f"same workload, {run.accesses} memory accesses" in texts(scene)
    assert {"hidden faults", "PT-write traps", "CR3 traps", "INVLPG traps"} <= set(texts(scene))


def test_shadow_vs_nested_figure_has_two_axes_with_the_bars():
    run = side_by_side(100, seed=3)
    fig = viz_mmu.shadow_vs_nested(run)
    assert len(fig.axes) == 2
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert [p.get_height() for p in bars] == [run.stats[t].pt_refs for t in TECHS]


# -- cost_crossover -----------------------------------------------------------------

def reference_axes(knob, values, overheads, crossover=None, current=None, labels=("", "")):
    """The plot drawn by matplotlib's own Axes (its autoscaling, locators, best legend)."""
    fig = new_figure(6.0, 3.0, margins={"left": 0.1, "right": 0.98, "bottom": 0.15,
                                        "top": 0.97})
    ax = fig.add_subplot()
    xs = [v / 1000 for v in values]
    for t in TECHS:
        ax.plot(xs, [100 * o for o in overheads[t]], label=t, lw=2)
    if crossover is not None and values[0] <= crossover <= values[-1]:
        ax.axvline(crossover / 1000)
        ax.text(crossover / 1000, ax.get_ylim()[1] * 0.95, " " + f"crossover "
                f"{crossover / 1000:.1f} k/s", fontsize=8, va="top")
    if current is not None:
        ax.axvline(current / 1000)
    ax.set_xlabel(labels[0], fontsize=9)
    ax.set_ylabel(labels[1], fontsize=9)
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.legend(fontsize=8)
    fig.canvas.draw()
    return ax


def shown_ticks(ax, axis: str) -> list[tuple[float, str]]:
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    eps = (hi - lo) * 1e-9
    ticks = ax.xaxis.get_major_ticks() if axis == "x" else ax.yaxis.get_major_ticks()
    return [(t.get_loc(), t.label1.get_text()) for t in ticks
            if lo - eps <= t.get_loc() <= hi + eps]


STATES = [{}, {"tlb_misses": 0}, {"sweep_knob": "TLB misses", "tlb_misses": 3000, "pt_updates": 0},
          {"tlb_misses": 500, "pt_updates": 3, "context_switches": 0, "page_faults": 11,
           "sweep_knob": "TLB misses"},
          {"context_switches": 50, "sweep_knob": "context switches"},
          {"page_faults": 100, "sweep_knob": "guest page faults"}]


@pytest.mark.parametrize("kw", STATES)
def test_cost_crossover_curves_lines_ticks_and_legend(kw):
    app = w.memory_costs(**kw)
    r = app.result
    scene = app.draw(r)
    ax = scene.panels[0]
    current = getattr(r["workload"], r["knob"])
    # a curve per technique: x in thousands per second, y in % CPU, in its colour
    curves = [a for a in items(scene, "line") if a[0] == "data"]
    assert [(a[2], a[3], a[4]) for a in curves] == [
        (pytest.approx([v / 1000 for v in r["values"]]),
         pytest.approx([100 * o for o in r["overheads"][t]]),
         viz_mmu.TECH_COLORS[t].lower()) for t in TECHS]
    # vertical lines: the crossover (dashed red, if within the sweep), the current value
    vertical = [(a[2][0], a[4], a[6]) for a in items(scene, "line") if a[0] == "xaxis"
                and a[3] == (0.0, 1.0) and a[4] != "#b0b0b0"]
    x = r["crossover"]
    want = []
    if x is not None and r["values"][0] <= x <= r["values"][-1]:
        want.append((pytest.approx(x / 1000), "#c00000", "dashed"))
        assert f" crossover {x / 1000:.1f} k/s" in texts(scene)
    want.append((pytest.approx(current / 1000), "#000000", "dotted"))
    assert vertical == want
    # limits, ticks and legend place as matplotlib's Axes has them for the same data
    ref = reference_axes(r["knob"], r["values"], r["overheads"], x, current)
    assert ax.xlim == pytest.approx(ref.get_xlim()) and ax.ylim == pytest.approx(ref.get_ylim())
    assert tick_labels(scene, "x") == [(pytest.approx(p), s) for p, s in shown_ticks(ref, "x")]
    assert tick_labels(scene, "y") == [(pytest.approx(p), s) for p, s in shown_ticks(ref, "y")]
    legend = ref.get_legend().get_window_extent()
    box = ref.get_window_extent()
    theirs = where((legend.x0 + legend.x1) / 2 / box.width - box.x0 / box.width,
                   (legend.y0 + legend.y1) / 2 / box.height - box.y0 / box.height)
    fx, fy, fw, fh = legend_frame(scene)
    assert where(fx + fw / 2, fy + fh / 2) == theirs
    assert texts(scene)[-3:] == list(TECHS)
    assert "overhead vs native (% CPU)" in texts(scene)


def mpl_text_places(svg: bytes) -> dict[str, list[tuple[float, float]]]:
    """matplotlib's SVG: each text's (baseline x if rotated else anchor x, baseline y)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for m in re.finditer(r'<text [^>]*?x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>',
                         svg.decode()):
        out.setdefault(html.unescape(m.group(3)), []).append((float(m.group(1)),
                                                               float(m.group(2))))
    return out


def scene_text_places(svg: bytes) -> dict[str, list[tuple[float, float]]]:
    """The scene's SVG, the same way (a rotated text's baseline from its rotation)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for m in re.finditer(r'<text ([^>]*)>(.*?)</text>', svg.decode()):
        rot = re.search(r"rotate\(-90 ([-\d.]+) ([-\d.]+)\)", m.group(1))
        for t in re.finditer(r'<tspan x="([-\d.]+)" y="([-\d.]+)">([^<]*)</tspan>',
                             m.group(2)):
            x, y = float(t.group(1)), float(t.group(2))
            if rot:
                x, y = float(rot.group(1)) + y - float(rot.group(2)), float(rot.group(2))
            out.setdefault(html.unescape(t.group(3)), []).append((x, y))
    return out


def test_cost_crossover_tick_and_axis_labels_sit_where_matplotlib_puts_them():
    # the widget's SVG against matplotlib's own figure of the same data: every tick
    # label and both axis labels within half a point (matplotlib centres y tick
    # labels on their ascent, "center_baseline", not on their box)
    app = w.memory_costs()
    r = app.result
    scene = app.draw(r)
    labels = ("page-table updates (thousands per second)", "overhead vs native (% CPU)")
    ref = reference_axes(r["knob"], r["values"], r["overheads"], r["crossover"],
                         getattr(r["workload"], r["knob"]), labels)
    theirs = mpl_text_places(to_svg(ref.figure))
    ours = scene_text_places(scene.svg())
    shown = [s for _p, s in tick_labels(scene, "x") + tick_labels(scene, "y")] + list(labels)
    assert len(shown) > 8
    for text in shown:
        (x, y), = ours[text]
        assert any(math.dist((x, y), place) < 0.5 for place in theirs[text]), \
            (text, (x, y), theirs[text])


def test_cost_crossover_names_the_knob_on_the_x_axis():
    for knob, label in (("pt_updates_per_s", "page-table updates"),
                        ("tlb_misses_per_s", "TLB misses"), ("some_knob", "some_knob")):
        scene = viz_mmu.cost_crossover_scene(knob, [0, 10_000], {t: [0.0, 0.01] for t in TECHS})
        assert f"{label} (thousands per second)" in texts(scene)


def test_cost_crossover_speaks_german(german):
    app = w.memory_costs()
    shown = texts(app.draw(app.result))
    assert "overhead vs native (% CPU)" not in shown and "native" not in shown


overhead = st.floats(min_value=0, max_value=5, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=6, unique=True),
       st.data())
def test_cost_crossover_limits_and_ticks_are_matplotlibs_for_any_sweep(values, data):
    values = sorted(values)
    overheads = {t: data.draw(st.lists(overhead, min_size=len(values), max_size=len(values)))
                 for t in TECHS}
    scene = viz_mmu.cost_crossover_scene("pt_updates_per_s", values, overheads)
    ref = reference_axes("pt_updates_per_s", values, overheads)
    ax = scene.panels[0]
    assert ax.xlim == pytest.approx(ref.get_xlim()) and ax.ylim == pytest.approx(ref.get_ylim())
    assert tick_labels(scene, "x") == [(pytest.approx(p), s) for p, s in shown_ticks(ref, "x")]
    assert tick_labels(scene, "y") == [(pytest.approx(p), s) for p, s in shown_ticks(ref, "y")]


# -- argument checks stay ------------------------------------------------------------

@pytest.mark.parametrize("call, exc, name", [
    (lambda: viz_mmu.tlb_curve("runs", []), TypeError, "untagged"),
    (lambda: viz_mmu.tlb_curve([], [], current=3), TypeError, "current"),
    (lambda: viz_mmu.shadow_vs_nested(None), TypeError, "run"),
    (lambda: viz_mmu.cost_crossover("k", [0, 1], {"native": [0, 0], "shadow": [0, 0]}),
     ValueError, "nested"),
    (lambda: viz_mmu.cost_crossover("k", [0, 1], {t: [0, 0] for t in TECHS}, crossover=math.nan),
     ValueError, "crossover"),
    (lambda: viz_mmu.cost_crossover_scene("k", [], {t: [] for t in TECHS}), ValueError,
     "values"),
])
def test_bad_arguments_are_refused_naming_the_parameter(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


def test_figures_come_from_the_same_scene():
    xs = [0, 50_000, 100_000]
    ov = costs.sweep("pt_updates_per_s", xs)
    fig = viz_mmu.cost_crossover("pt_updates_per_s", xs, ov, costs.crossover())
    scene = viz_mmu.cost_crossover_scene("pt_updates_per_s", xs, ov, costs.crossover())
    assert to_svg(fig) == to_svg(scene.figure())
