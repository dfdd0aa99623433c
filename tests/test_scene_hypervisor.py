"""The hypervisor and CPU widget pictures as scenes (issue 21): hardware_lab,
hypervisor_types_lab, binary_translation_lab and emulation_lab.

Each picture is a :class:`virtlab.viz.scene.Scene`: the widget writes it as SVG
without matplotlib, the viz function draws the same scene with matplotlib for
the notebooks.  The checks read the scene's shapes and compare them with the
model's result (bar lengths, labels, the highlighted state), computed here from
the result, not copied from the picture.
"""

from __future__ import annotations

import math

import pytest

import virtlab.widgets as w
from virtlab.hypervisor.stacks import compare_stacks, get_stack
from virtlab.i18n import _
from virtlab.viz.base import new_figure, to_svg
from virtlab.viz.cpu import overhead_bars, overhead_bars_scene
from virtlab.viz.hypervisor import (COST_GROUPS, grouped_bars, grouped_bars_scene, io_cost_bars,
                                    io_cost_bars_scene, stack_overview, text_panels,
                                    text_panels_scene)
from virtlab.viz.scene import Scene

APPS = ["hardware_lab", "hypervisor_types_lab", "binary_translation_lab", "emulation_lab"]


def bars(scene: Scene, panel: int = 0) -> list[tuple]:
    """(x, y, w, h, colour) of the boxes drawn in data coordinates of one panel."""
    p = scene.panels[panel]
    return [(it[4], it[5], it[6], it[7], it[8]) for it in scene.items
            if it[0] == "rect" and it[1] is p and it[2][0] == "data"]


def texts(scene: Scene, panel: int | None = None) -> list[dict]:
    """The texts of a panel (or all) with their size, colour, weight and family."""
    keys = ("x", "y", "s", "size", "color", "ha", "va", "weight", "rotation", "alpha", "family")
    return [dict(zip(keys, it[4:]), coords=it[2][0]) for it in scene.items
            if it[0] == "text" and (panel is None or it[1] is scene.panels[panel])]


def figure_texts(fig) -> list[str]:
    """Every text a matplotlib figure shows: its Axes' texts and titles."""
    out = []
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [t for t in (ax.get_title(), ax.get_title("left")) if t]
    return out


# -- every app: a scene, drawn without matplotlib ---------------------------------------------

# -- hardware_lab: grouped bars on a log scale ---------------------------------------------------

@pytest.mark.parametrize("vm_exit, ept", [(4000, False), (2000, True), (200, False)])
def test_hardware_lab_bars_are_the_cycles_per_iteration(vm_exit, ept):
    app = w.hardware_lab(vm_exit=vm_exit, ept=ept)
    scene = app.draw(app.result)
    table, names = app.result.table, list(app.result.table)
    columns = ("native", "binary_translation", "hardware")
    drawn = bars(scene)
    assert len(drawn) == len(names) * len(columns)      # a bar per benchmark and technique
    for j, col in enumerate(columns):                   # drawn series by series
        for i, name in enumerate(names):
            x, y, bw, h, colour = drawn[j * len(names) + i]
            assert x + bw / 2 == pytest.approx(i - 0.4 + (j + 0.5) * 0.8 / 3)
            assert y == 0 and h == pytest.approx(math.log10(max(table[name][col], 1.0)))
            assert colour == {"native": "#bbbbbb", "binary_translation": "#e69f00",
                              "hardware": "#0072b2"}[col]
    # the y scale reaches past the tallest bar: a labelled decade per unit
    top = max(math.log10(max(v, 1.0)) for row in table.values() for v in row.values())
    assert scene.panels[0].ylim == (0, math.ceil(top) + 1)
    shown = scene.texts()
    assert ["1", "10", "100", "1k"] == [t for t in shown if t in ("1", "10", "100", "1k")]
    # under each group the benchmark and its winner (the model's verdict)
    short = {"binary_translation": "BT wins", "hardware": "VT wins", "tie": "tie"}
    for name in names:
        assert f"{name}\n{short[app.result.winners[name]]}" in shown
    state = "EPT on" if ept else "EPT off"
    assert scene.panels[0].title == f"VM exit = {vm_exit} cycles, {state}"
    assert {"native", "BT", "VT", "cycles per iteration (log)"} <= set(shown)


def test_hardware_lab_key_has_a_swatch_per_technique_in_its_colour():
    app = w.hardware_lab()
    scene = app.draw(app.result)
    swatches = [it[8] for it in scene.items if it[0] == "rect" and it[2][0] == "axes"]
    assert swatches == ["#bbbbbb", "#e69f00", "#0072b2"]
    key = [t["s"] for t in texts(scene) if t["coords"] == "axes" and t["va"] == "baseline"]
    assert key == ["native", "BT", "VT"]


def test_hardware_lab_ept_switch_moves_the_bars():
    app = w.hardware_lab(vm_exit=4000, ept=False)
    before = bars(app.draw(app.result))
    app.controls["ept"].value = True
    after = bars(app.draw(app.result))
    assert before != after and len(before) == len(after)
    vt = list(app.result.table).index("ptemod") + 2 * len(app.result.table)
    assert after[vt][3] == pytest.approx(math.log10(app.result.table["ptemod"]["hardware"]))


def test_grouped_bars_static_figure_draws_the_same_scene():
    table = {"syscall": {"BT": 1200, "VT": 2500}, "in": {"BT": 3000, "VT": 900}}
    for log in (False, True):
        scene = grouped_bars_scene(table, title="t", ylabel="cycles", log=log)
        fig = grouped_bars(table, title="t", ylabel="cycles", log=log)
        assert sorted(figure_texts(fig)) == sorted(scene.texts())
        heights = [p.get_height() for p in fig.axes[0].patches][:4]
        assert heights == pytest.approx([math.log10(v) if log else v
                                         for v in (1200, 3000, 2500, 900)])


def test_grouped_bars_clips_negative_bars_and_refuses_nan():
    scene = grouped_bars_scene({"a": {"x": -3.0, "y": 2.0}})
    assert [h for *_xyw, h, _c in bars(scene)] == [0.0, 2.0]
    with pytest.raises(ValueError, match="table"):
        grouped_bars_scene({"a": {"x": math.nan}})
    with pytest.raises(TypeError, match="table"):
        grouped_bars({})
    with pytest.raises(ValueError, match="xlabels"):
        grouped_bars_scene({"a": {"x": 1.0}}, xlabels=["one", "two"])


# -- hypervisor_types_lab: stacked I/O cost bars -----------------------------------------------

def test_io_cost_bars_end_at_each_stacks_total_and_highlight_the_chosen_stack():
    app = w.hypervisor_types_lab(stack="kvm", size_kib=16)
    scene = app.draw(app.result)
    costs = app.result.costs
    kinds = list(costs)
    drawn = bars(scene)
    for i, k in enumerate(kinds):
        row = sorted((x, bw) for x, y, bw, _h, _c in drawn if y == pytest.approx(i - 0.4))
        # the segments follow each other and end at the stack's total cycles (in k)
        assert all(a + wa == pytest.approx(b) for (a, wa), (b, _) in zip(row, row[1:]))
        assert row[0][0] == 0 and sum(bw for _x, bw in row) == pytest.approx(
            costs[k].total / 1000)
        # a segment per cost group the stack pays for
        groups = sum(1 for cats in COST_GROUPS.values()
                     if sum(costs[k].by_category.get(c, 0) for c in cats))
        assert len(row) == groups
        ratio = costs[k].total / costs["native"].total
        assert f" {costs[k].total / 1000:.1f}k  ({ratio:.2f}x)" in scene.texts()
    bold = [t["s"] for t in texts(scene) if t["weight"] == "bold"]
    assert bold == [_("kvm")]
    assert scene.panels[0].title == "one 16 KiB read: cycles by step, every stack"
    assert "k cycles per I/O request" in scene.texts()


def test_io_cost_bars_key_lists_the_groups_in_their_colours():
    app = w.hypervisor_types_lab()
    scene = app.draw(app.result)
    paid = [g for g, cats in COST_GROUPS.items()
            if any(c.by_category.get(cat, 0) for c in app.result.costs.values() for cat in cats)]
    key = [t["s"] for t in texts(scene) if t["coords"] == "axes" and t["size"] == 6]
    assert key == [_(g) for g in paid]


def test_world_switch_slider_lengthens_the_type2_bar_only():
    app = w.hypervisor_types_lab(stack="type2")

    def ends():     # row -> where its bar ends
        out: dict[int, float] = {}
        for x, y, bw, _h, _c in bars(app.draw(app.result)):
            out[round(y + 0.4)] = max(out.get(round(y + 0.4), 0.0), x + bw)
        return out

    before = ends()
    app.controls["world_switch"].value = 12_000          # two world switches per read
    after = ends()
    t2 = list(app.result.costs).index("type2")
    assert after[t2] - before[t2] == pytest.approx(2 * (12_000 - 6000) / 1000)
    assert all(after[i] == pytest.approx(before[i]) for i in before if i != t2)


def test_io_cost_bars_figure_and_axes_draw_the_same_scene():
    costs = compare_stacks()
    scene = io_cost_bars_scene(costs, highlight="type2")
    fig = io_cost_bars(costs, highlight="type2")
    assert figure_texts(fig) == scene.texts()
    assert [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"] == ["type2"]
    # into an Axes of the caller's figure: the same picture where that Axes sits
    own = new_figure(6.0, 3.0, margins={})
    io_cost_bars(costs, highlight="type2", ax=own.add_axes((0.13, 0.17, 0.61, 0.73)))
    assert to_svg(own) == to_svg(fig)
    # the overview draws the bars beside the (matplotlib) stack diagram
    overview = stack_overview(get_stack("type2"), costs)
    assert set(scene.texts()) <= set(figure_texts(overview))


def test_io_cost_bars_refuses_bad_input_by_name():
    with pytest.raises(TypeError, match="costs"):
        io_cost_bars({})
    with pytest.raises(TypeError, match="costs"):
        io_cost_bars_scene({"type2": 5})
    with pytest.raises(TypeError, match="ax"):
        io_cost_bars(compare_stacks(), ax="left")


# -- binary_translation_lab: original vs translated block ---------------------------------------

@pytest.mark.parametrize("block", [0, 1, 2])
def test_bt_lab_shows_both_blocks_and_marks_the_patched_instructions(block):
    app = w.binary_translation_lab(block=block, iterations=7)
    r = app.result
    tb = r.selected
    scene = app.draw(r)
    assert len(scene.panels) == 3                       # two columns and the title
    patched = [o != t for o, t in zip(tb.original, tb.translated)]
    for panel, lines in ((0, tb.original), (1, [t.split(";")[0].rstrip() for t in tb.translated])):
        code = [t for t in texts(scene, panel) if t["family"] == "monospace"]
        assert [t["s"] for t in code] == [f"{tb.start + i:3d}  {line}"
                                          for i, line in enumerate(lines)]
        # the patched lines in orange on a highlight, the others black
        assert [t["color"] for t in code] == ["#a03000" if p else "#000000" for p in patched]
        marks = [y + h / 2 for _x, y, _w, h, _c in bars(scene, panel)]
        assert marks == pytest.approx([k for k, p in enumerate(patched) if p])
    title = texts(scene, 2)[0]["s"]
    assert title == (f"{tb.callouts} callout(s) in this block; translation cache: "
                     f"{r.bt.cache_misses} misses (blocks translated), {r.bt.cache_hits} hits")
    assert texts(scene, 0)[0]["s"] == f"guest kernel block {tb.start}-{tb.end - 1} (original)"


def test_text_panels_figure_draws_the_same_scene_in_monospace():
    panels = [("original", ["CLI", "ADD EAX, 1"]), ("translated", ["CALL vmm_cli", "ADD EAX, 1"])]
    marks = [[True, False], [True, False]]
    scene = text_panels_scene(panels, marks=marks, title="two")
    fig = text_panels(panels, marks=marks, title="two")
    assert figure_texts(fig) == scene.texts()
    code = [t for ax in fig.axes for t in ax.texts if "monospace" in t.get_fontfamily()]
    assert [t.get_text() for t in code] == scene.texts(family="monospace") == [
        "CLI", "ADD EAX, 1", "CALL vmm_cli", "ADD EAX, 1"]
    assert len(text_panels(panels).axes) == 2           # no title, no title panel


@pytest.mark.parametrize("kwargs, name", [
    ({"panels": []}, "panels"), ({"panels": [("a", "b")]}, "panels"),
    ({"panels": [("a", ["x"])], "marks": [[1]]}, "marks"),
    ({"panels": [("a", ["x"])], "title": 3}, "title"),
])
def test_text_panels_refuses_bad_input_by_name(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        text_panels(**kwargs)


# -- emulation_lab: overhead per technique ------------------------------------------------------

def test_emulation_lab_bars_are_the_relative_cycles():
    app = w.emulation_lab(io=4, compute=3000)
    rel = dict(app.result.relative)
    scene = app.draw(app.result)
    names = list(rel)
    # left: a log scale from 0.9x; each bar ends at log10 of its technique's cycles
    left = bars(scene, 0)
    assert len(left) == len(names)
    for i, (k, (x, y, bw, h, _c)) in enumerate(zip(names, left)):
        assert x == pytest.approx(math.log10(0.9)) and y + h / 2 == pytest.approx(i)
        assert x + bw == pytest.approx(math.log10(rel[k]))
    values = [t["s"] for t in texts(scene, 0) if t["size"] == 7.5]
    assert values == [f"{v:.1f}x" if v >= 1.995 else f"{v:.2f}x" for v in rel.values()]
    ticks = [t["s"] for t in texts(scene, 0) if t["s"].endswith("x") and t["va"] == "top"]
    assert ticks == [f"{t}x" for t in (1, 10, 100, 1000) if t <= max(rel.values()) * 3]
    # right: the overhead in percent, off-scale bars cut and labelled inside
    pct = {k: (v - 1) * 100 for k, v in rel.items()}
    lim = max([p for p in pct.values() if p < 100] + [12.0]) * 1.25
    (band,) = [it for it in scene.items if it[0] == "rect" and it[2][0] == "xaxis"]
    assert (band[4], band[6], band[5], band[7]) == pytest.approx((5.0, 5.0, 0, 1))  # 5-10 %
    assert [bw for _x, _y, bw, _h, _c in bars(scene, 1)] == pytest.approx(
        [max(min(p, lim), 0) for p in pct.values()])
    labels = {t["s"]: t for t in texts(scene, 1) if t["size"] == 7.5}
    for k, p in pct.items():
        if p < lim:
            assert labels[f"+{p:.1f} %"]["weight"] == "normal"
        else:
            assert labels[f"+{p:.0f} % →"]["color"] == "#ffffff"
    assert _("emulation") in scene.texts() and "VT-x (EPT)" in scene.texts()


def test_emulation_lab_io_slider_lengthens_the_exit_bound_bars():
    app = w.emulation_lab(compute=3000, io=0)
    before = bars(app.draw(app.result), 0)
    app.controls["io"].value = 8
    after = bars(app.draw(app.result), 0)
    hardware = list(app.result.relative).index("hardware")
    assert after[hardware][2] > before[hardware][2]
    native = list(app.result.relative).index("native")
    assert after[native] == before[native]


def test_overhead_bars_figure_draws_the_same_scene_and_reuses_its_figure():
    rel = {"native": 1.0, "emulation": 40.0, "hardware": 1.07, "paravirt": 3.5}
    scene = overhead_bars_scene(rel, title="a title")
    fig = overhead_bars(rel, title="a title")
    assert sorted(figure_texts(fig)) == sorted(scene.texts())
    other = {"native": 1.0, "emulation": 900.0, "hardware": 1.2, "paravirt": 1.01}
    assert overhead_bars(other, reuse=fig, title="a title") is fig
    assert to_svg(fig) == to_svg(overhead_bars(other, title="a title"))
    # another layout (rows, band or title): a new figure, the old one untouched
    before = to_svg(fig)
    assert overhead_bars({"native": 1.0}, reuse=fig) is not fig
    assert to_svg(fig) == before


def test_overhead_bars_refuses_bad_input_by_name():
    for bad, exc in (({}, ValueError), ([1.0], TypeError), ({"native": math.nan}, ValueError),
                     ({"native": -1.0}, ValueError)):
        with pytest.raises(exc, match="relative"):
            overhead_bars_scene(bad)
    with pytest.raises(TypeError, match="reuse"):
        overhead_bars({"native": 1.0}, reuse="fig")
