"""Rendering ahead (WidgetApp.prefetch, issue 21): the next step is already drawn.

After a move, an app with a state cache renders the states one step of the
moved control away while the kernel is idle, so a student nudging a slider is
served from the cache.  These tests pin what is rendered (the right states,
identical to a fresh render), what is not touched (the visible picture, text,
counters), what is skipped (refused states, stale moves) and that it really
runs in the idle time of a real IPython kernel.
"""

from __future__ import annotations

import asyncio

import ipywidgets as W
import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbclient import NotebookClient

import virtlab.widgets as w
from virtlab.widgets.base import WidgetApp


class Counting(WidgetApp):
    """n → n squared; refuses n > 7; counts model runs."""

    state_cache = 16

    def __init__(self, n=3):
        self.runs = []
        super().__init__({"n": W.IntSlider(value=n, min=0, max=10),
                          "shape": W.Dropdown(options=["a", "b", "c", "d"], value="b"),
                          "on": W.Checkbox(value=False),
                          "note": W.Text(value="")})

    def compute(self, n, shape, on, note):
        self.runs.append(n)
        if n > 7:
            raise ValueError("n must be at most 7")
        return n * n

    def describe(self, result):
        return f"<b>{result}</b>"


def test_neighbours_of_each_control_kind():
    app = Counting()
    assert [v["n"] for v in app.neighbours("n")] == [4, 2]
    assert [v["n"] for v in app.neighbours("n", direction=-1)] == [2, 4]
    assert [v["shape"] for v in app.neighbours("shape")] == ["c", "a"]
    app.controls["shape"].value = "d"
    assert [v["shape"] for v in app.neighbours("shape")] == ["c"]          # the last option
    assert [v["on"] for v in app.neighbours("on")] == [True]
    assert app.neighbours("note") == []                      # a text field has no step
    # only the named control differs from the current values
    for v in app.neighbours("n") + app.neighbours("shape"):
        assert {k for k in v if v[k] != app.values()[k]} <= {"n", "shape"}
    with pytest.raises(ValueError, match="name"):
        app.neighbours("size")


@given(lo=st.integers(-50, 50), span=st.integers(0, 60), step=st.integers(1, 7),
       offset=st.integers(0, 60))
def test_slider_neighbours_stay_in_range_one_step_away(lo, span, step, offset):
    slider = W.IntSlider(min=lo, max=lo + span, step=step, value=lo + min(offset, span))

    class One(WidgetApp):
        def __init__(self):
            super().__init__({"x": slider}, auto_update=False)

    got = [v["x"] for v in One().neighbours("x")]
    assert len(got) == len(set(got)) <= 2
    for v in got:
        assert lo <= v <= lo + span and abs(v - slider.value) == step


def test_prefetch_renders_the_next_states_and_leaves_the_picture_alone():
    app = Counting()
    shown = (app.result, app.html.value, app.updates, app.error, list(app.timings))
    assert app.prefetch_neighbours("n") == 2 and app.prefetched == 2
    assert (app.result, app.html.value, app.updates, app.error, list(app.timings)) == shown
    runs = len(app.runs)
    app.controls["n"].value = 4                 # rendered ahead: no model run
    assert len(app.runs) == runs and app.result == 16 and app.html.value == "<b>16</b>"
    assert app.prefetch_neighbours("n") == 1    # 3 is cached already, 5 is new
    assert app.prefetch_neighbours("n") == 0


def test_refused_states_are_skipped_silently_and_not_cached():
    app = Counting(n=7)
    assert app.prefetch_neighbours("n") == 1          # 8 is refused, 6 is rendered
    assert app.error is None and app.message.value == ""
    assert all(dict(k[1:])["n"] != 8 for k in app._states)


def test_no_prefetch_without_a_cache():
    app = Counting()
    app.state_cache = 0
    app._states.clear()
    runs = len(app.runs)
    assert app.prefetch_neighbours("n") == 0 and app._states == {} and len(app.runs) == runs


def test_a_prefetched_picture_equals_a_fresh_render():
    app = w.tlb_lab()
    name = "entries"
    assert app.prefetch_neighbours(name) == 2
    target = app.neighbours(name)[0][name]
    app.controls[name].value = target
    fresh = w.tlb_lab()
    fresh.state_cache = 0
    fresh.controls[name].value = target
    assert bytes(app.image_bytes) == bytes(fresh.image_bytes)
    assert app.html.value == fresh.html.value


def browser_move(control, value):
    """What ipywidgets does with a value the browser sends (comm message "update").

    A selection (dropdown, toggle buttons) sends its ``index``, a slider or a
    checkbox its ``value``.
    """
    if isinstance(control, (W.Dropdown, W.ToggleButtons)):
        control.set_state({"index": control.options.index(value)})
    else:
        control.set_state({"value": value})


def test_moves_schedule_prefetch_in_the_event_loop_and_a_new_move_cancels_the_old():
    async def session():
        app = Counting()
        app.prefetch_delay = 0.01
        browser_move(app.controls["n"], 4)   # neighbours 5 (the direction moved) and 3
        browser_move(app.controls["n"], 5)   # before the delay: 4's neighbours are stale
        assert app.prefetched == 0           # nothing runs inside the move itself
        await asyncio.sleep(0.2)
        return app

    app = asyncio.run(session())
    cached = sorted(dict(k[1:])["n"] for k in app._states)
    assert cached == [3, 4, 5, 6]            # 6 rendered ahead; 4's neighbour 5 was shown anyway
    assert app.prefetched == 1


def test_a_selection_moved_in_the_browser_renders_its_neighbours():
    async def session():
        app = Counting()
        app.prefetch_delay = 0.01
        browser_move(app.controls["shape"], "c")     # the browser sends index 2
        await asyncio.sleep(0.2)
        return app

    app = asyncio.run(session())
    assert app.values()["shape"] == "c" and app.prefetched == 1      # "b" was shown before
    assert sorted(dict(k[1:])["shape"] for k in app._states) == ["b", "c", "d"]


def test_without_an_event_loop_a_move_renders_nothing_ahead():
    app = Counting()
    browser_move(app.controls["n"], 4)
    assert app.prefetched == 0 and app.result == 16


def test_a_value_set_by_code_renders_nothing_ahead():
    async def session():
        app = Counting()
        app.prefetch_delay = 0.01
        app.controls["n"].value = 4          # a notebook cell or a test, not a student's move
        await asyncio.sleep(0.1)
        return app

    app = asyncio.run(session())
    assert app.result == 16 and app.prefetched == 0


def test_prefetch_runs_in_the_idle_time_of_a_real_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import asyncio, virtlab.widgets as w\n"
            "app = w.tlb_lab()\n"
            "c = app.controls['entries']\n"
            "c.set_state({'value': c.value + 1})   # as a comm message from the browser\n"
            "before = app.prefetched"),
        nbformat.v4.new_code_cell(
            "for _ in range(100):          # the kernel is idle between these sleeps\n"
            "    await asyncio.sleep(0.05)\n"
            "    if app.prefetched:\n"
            "        break\n"
            "print(before, app.prefetched)"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    before, after = map(int, nb.cells[1].outputs[0]["text"].split())
    assert before == 0 and after >= 1


def test_prefetch_renders_the_static_layers_too(monkeypatch):
    from virtlab.viz import partitioning as viz_pt

    app = w.partition_lab()
    target = app.neighbours("prod_cpus")[0]["prod_cpus"]
    assert app.prefetch_neighbours("prod_cpus") >= 1
    calls = []
    real = viz_pt.assignment_scene            # what the bars' layer renders (a Scene)
    monkeypatch.setattr(viz_pt, "assignment_scene",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    app.controls["prod_cpus"].value = target
    assert calls == [] and app.error is None            # bars and picture: rendered ahead
    fresh = w.partition_lab(prod_cpus=target)
    assert calls, "a new app renders its bars through assignment_scene"
    assert bytes(app.bars.value) == bytes(fresh.bars.value)


def test_static_layers_are_kept_per_language():
    from virtlab import set_language

    app = w.partition_lab()
    english = bytes(app.bars.value)
    previous = set_language("de")
    try:
        app.controls["seed"].value += 1          # same partitions: the bars' own key
        german = bytes(app.bars.value)
    finally:
        set_language(previous)
    assert b"Hauptspeicher (GiB)" in german and b"Hauptspeicher" not in english
