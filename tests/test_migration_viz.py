"""Migration figures: they draw every method and edge case, and show what they claim."""

import math

import pytest
from matplotlib.patches import Rectangle

from virtlab import migration as mig
from virtlab.viz import migration as vm
from virtlab.viz import to_png


def bars(ax):
    """The boxes ``ax`` draws in data coordinates: (centre x, top) of each bar.

    The figure is a drawn scene: a log axis is mapped by the scene, so a
    bar's top is log10 of its value; legend swatches are placed in points,
    not in data coordinates.
    """
    return [(p.get_x() + p.get_width() / 2, p.get_y() + p.get_height()) for p in ax.patches
            if isinstance(p, Rectangle) and p.get_data_transform() is ax.transData]


@pytest.mark.parametrize("method", mig.METHODS)
def test_migration_figure_for_each_method(method):
    c = mig.compare(512, 1000, 50, 32)
    fig = vm.migration_figure(c[method], c)
    assert len(fig.axes) == 2
    title = fig.axes[0].get_title()
    assert method in title and "downtime" in title
    # one bar per round, as high as the MiB it sent (log scale: a decade per unit)
    drawn = bars(fig.axes[0])
    assert len(drawn) == len(c[method].rounds)
    assert [top for _x, top in drawn] == pytest.approx(
        [math.log10(max(r.mb, 1e-3)) for r in c[method].rounds])
    assert [x for x, _top in drawn] == pytest.approx([r.index for r in c[method].rounds])
    assert to_png(fig)[:4] == b"\x89PNG"


def test_single_round_and_tiny_values_draw():
    r = mig.precopy(0.001, 10000, 0, state_kb=0)          # one page, nothing to pause for
    fig = vm.migration_figure(r, {"pre-copy": r})
    assert to_png(fig)


def test_downtime_curve_has_one_line_per_method():
    bws = [100, 1000, 10000]
    fig = vm.downtime_curve(bws, mig.sweep(bws, 1024, 100, 64), mark=100)
    lines = [l for l in fig.axes[0].get_lines() if len(l.get_xdata()) == 3]
    assert len(lines) == 3
    assert fig.axes[0].get_xscale() == "log"


def test_comparison_has_no_legend_over_the_bars_and_labels_every_bar():
    # issue 12: the legend box hid the pre-copy total-time bar; the title names the
    # two bar kinds instead and every bar carries its value
    from virtlab import migration as mig
    from virtlab.viz import migration as vm
    c = mig.compare(2048, 1000, 200, 256)
    fig = vm.migration_figure(c["pre-copy"], c)
    ax = fig.axes[1]
    assert ax.get_legend() is None
    # no legend box either: every box drawn is a bar (a legend adds a frame and swatches)
    assert len(bars(ax)) == len(ax.patches) == 6
    labels = [t.get_text() for t in ax.texts if t.get_transform() is ax.transData]
    assert "19.3 s" in labels and labels.count("17.2 s") == 3     # totals + stop-and-copy
    assert len(labels) == 6
