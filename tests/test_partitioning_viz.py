"""Partitioning figures: resource bars, static vs shared, timeline."""

from virtlab import partitioning as pt
from virtlab.viz import partitioning as vp
from virtlab.viz import to_png


def test_assignment_bars_cover_the_machine():
    a = pt.assign(pt.Machine(), [pt.Partition("a", 16, 4, dedicated_cpus=2),
                                 pt.Partition("b", 8, 2, weight=1)])
    fig = vp.assignment_figure(a)
    ax = fig.axes[0]
    widths = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        widths[y] = widths.get(y, 0) + patch.get_width()
    assert all(abs(w - 1) < 1e-9 for w in widths.values())      # each bar = whole machine
    assert to_png(fig)


def test_utilization_and_timeline_draw():
    r = pt.compare_static_shared(2, {"a": [0.0, 2.0], "b": [2.0, 0.0]})
    fig = vp.utilization_figure(r)
    assert "100% used" in " ".join(t.get_text() for t in fig.axes[0].texts)   # the legend
    fig = vp.timeline_figure(pt.TIMELINE)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "CTSS" in texts and "z/VM" in texts
    assert to_png(fig)
