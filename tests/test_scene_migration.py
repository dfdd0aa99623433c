"""The live-migration pictures as scenes (issue 21): they show what the model says.

``viz.migration.rounds_scene`` is ``migration_lab``'s picture (MiB sent per
round on a log scale); ``migration_figure`` (notebook 04) draws the same rounds
panel next to the comparison of the methods.  A scene has linear panels, so
a log axis is drawn in decades (``log10`` of the value); the limits must be
the ones matplotlib's log axis chose for the figure before, and the tick labels
the plain numbers it showed.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import virtlab.widgets as w
import virtlab.widgets.base as widgets_base
from virtlab import migration as mig
from virtlab.viz import migration as vm
from virtlab.viz.scene import Scene

KIND_COLORS = {k: to_hex(c) for k, c in vm._KIND_COLORS.items()}


def items(scene, kind, panel=None, coords=None):
    """The arguments of the scene's shapes of ``kind`` (``Scene.items``: kind, panel,
    (coords, offset), zorder, arguments), of one panel and coordinate system if given."""
    return [it[4:] for it in scene.items if it[0] == kind and panel in (None, it[1])
            and coords in (None, it[2][0])]


def matplotlib_log_ylim(result):
    """The y limits of the rounds plot as matplotlib's log axis autoscaled them: on the
    bars' tops, widened to the pre-copy stop line if that lay outside."""
    ax = Figure().add_subplot()
    ax.set_yscale("log")
    ax.update_datalim([(r.index, max(r.mb, 1e-3)) for r in result.rounds])
    ax.autoscale_view()
    if result.method == "pre-copy":
        ax.axhline(50 * result.page_kb / 1024)
    return ax.get_ylim()


@pytest.fixture(scope="module")
def results():
    return mig.compare(2048, 1000, 200, 256)


@pytest.mark.parametrize("method", mig.METHODS)
def test_one_bar_per_round_as_high_as_the_mib_it_sent(results, method):
    r = results[method]
    scene = vm.rounds_scene(r)
    (panel,) = scene.panels
    bars = items(scene, "rect", panel, "data")
    assert len(bars) == len(r.rounds)
    for (x, y, width, height, fc, *_), rnd in zip(bars, r.rounds):
        assert x + width / 2 == pytest.approx(rnd.index)
        assert y == panel.ylim[0]                            # from the bottom edge
        assert y + height == pytest.approx(math.log10(max(rnd.mb, 1e-3)))
        assert fc == KIND_COLORS[rnd.kind]
    assert 10 ** panel.ylim[0] == pytest.approx(matplotlib_log_ylim(r)[0])
    assert 10 ** panel.ylim[1] == pytest.approx(matplotlib_log_ylim(r)[1])
    assert panel.xlim == (0.3, max(rnd.index for rnd in r.rounds) + 0.7)


@settings(max_examples=25, deadline=None)
@given(memory=st.sampled_from([128, 1024, 4096, 16384]),
       bandwidth=st.sampled_from([10, 100, 1000, 10000]),
       dirty=st.sampled_from([0, 50, 400, 5000]), wws=st.sampled_from([1, 64, 1024]),
       method=st.sampled_from(mig.METHODS))
def test_log_limits_and_ticks_are_matplotlibs_for_any_migration(memory, bandwidth, dirty, wws,
                                                                 method):
    r = mig.compare(memory, bandwidth, dirty, min(wws, memory))[method]
    scene = vm.rounds_scene(r)
    (panel,) = scene.panels
    lo, hi = matplotlib_log_ylim(r)
    assert 10 ** panel.ylim[0] == pytest.approx(lo) and 10 ** panel.ylim[1] == pytest.approx(hi)
    # y tick labels: plain numbers at their decade, inside the view
    yticks = [(y, s) for _x, y, s, *_ in items(scene, "text", panel, "yaxis")]
    assert yticks
    for y, s in yticks:
        assert math.log10(float(s)) == pytest.approx(y) and float(s) == 10 ** round(y)
        assert panel.ylim[0] <= y <= panel.ylim[1]
    # x tick labels: round numbers inside the view, at their value
    for x, _y, s, *_ in items(scene, "text", panel, "xaxis"):
        assert float(s) == pytest.approx(x) and panel.xlim[0] <= x <= panel.xlim[1]


def test_stop_line_legend_and_title(results):
    pre = results["pre-copy"]
    scene = vm.rounds_scene(pre)
    (panel,) = scene.panels
    stop = [ys for xs, ys, color, lw, dash, *_ in items(scene, "line", panel, "yaxis")
            if dash == "dotted"]
    assert stop == [(math.log10(50 * pre.page_kb / 1024),) * 2]
    # the legend names the kinds of round there are, in the same order as the colours
    kinds = [k for k in vm._KIND_COLORS if any(r.kind == k for r in pre.rounds)]
    assert [s for x, y, s, *_ in items(scene, "text", panel, "axes") if (x, y) == (0, 1)] == kinds
    assert panel.title.startswith(f"pre-copy: downtime {pre.downtime_s * 1000:.0f} ms")
    assert panel.title.endswith(f", stop: {pre.stop_reason}") and "\n" in panel.title
    post = vm.rounds_scene(results["post-copy"])
    assert not [1 for *_, dash, _a in items(post, "line", post.panels[0], "yaxis")
                if dash == "dotted"]                 # no stop line: no pre-copy rounds
    assert "stop" not in post.panels[0].title


def test_the_comparison_shows_each_methods_times(results):
    fig = vm.migration_figure(results["pre-copy"], results)
    rounds_ax, compare_ax = fig.axes
    assert "pre-copy" in rounds_ax.get_title()
    assert compare_ax.get_title() == "total time (grey) and downtime (coloured)"
    lo, _hi = compare_ax.get_ylim()
    tops = sorted(p.get_y() + p.get_height() for p in compare_ax.patches)
    want = sorted(math.log10(max(v, 1e-4)) for m in mig.METHODS
                  for v in (results[m].downtime_s, results[m].total_time_s))
    assert tops == pytest.approx(want)
    assert all(p.get_y() == lo for p in compare_ax.patches)
    names = [t.get_text() for t in compare_ax.texts if t.get_fontsize() == 8]
    assert names == list(mig.METHODS)


def test_the_lab_redraws_a_scene_without_matplotlib(monkeypatch):
    def refuse(fig):
        raise AssertionError("migration_lab rendered a matplotlib figure")

    monkeypatch.setattr(widgets_base, "to_svg", refuse)
    app = w.migration_lab()
    assert isinstance(app.draw(app.result), Scene)
    app.controls["method"].value = "post-copy"
    assert app.error is None
    assert app.image_bytes == vm.rounds_scene(app.result["post-copy"]).svg()
    app.controls["bandwidth_mbit"].value = 100
    assert app.error is None
    assert app.image_bytes == vm.rounds_scene(app.result["post-copy"]).svg()
